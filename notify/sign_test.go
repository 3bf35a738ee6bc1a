package notify

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webhookVectors are the signatures of testdata/webhook-vectors.json.
type webhookVectors struct {
	Vectors []struct {
		Name      string `json:"name"`
		Secret    string `json:"secret"`
		Seed      []byte `json:"ed25519Seed"`
		Public    []byte `json:"ed25519PublicKey"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Body      string `json:"body"`
		Signature string `json:"signature"`
	} `json:"vectors"`
}

// The signer reproduces the specification's vector and an Ed25519 vector made by another
// implementation.
func TestSignVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/webhook-vectors.json")
	require.NoError(t, err)
	var vs webhookVectors
	require.NoError(t, json.Unmarshal(b, &vs))
	require.Len(t, vs.Vectors, 2)
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			cfg := WebhookConfig{}
			if v.Secret != "" {
				cfg.Secrets = []string{v.Secret}
			} else {
				key := ed25519.NewKeyFromSeed(v.Seed)
				require.Equal(t, v.Public, []byte(key.Public().(ed25519.PublicKey)))
				cfg.Keys = []ed25519.PrivateKey{key}
			}
			w, err := NewWebhook(cfg)
			require.NoError(t, err)
			ts, err := strconv.ParseInt(v.Timestamp, 10, 64)
			require.NoError(t, err)
			assert.Equal(t, v.Signature, w.sign(v.ID, ts, []byte(v.Body)))
		})
	}
}

func TestSignRotation(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	w, err := NewWebhook(WebhookConfig{Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, Keys: []ed25519.PrivateKey{k}})
	require.NoError(t, err)
	got := w.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	sigs, err := parseSignatures(got)
	require.NoError(t, err)
	require.Len(t, sigs, 3)
	assert.Equal(t, "v1", sigs[0].version)
	assert.Equal(t, sigs[0], sigs[1], "the prefix may be left out of a secret")
	assert.Equal(t, "v1a", sigs[2].version)
	assert.Len(t, sigs[2].sig, ed25519.SignatureSize)
	assert.Equal(t, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", base64.StdEncoding.EncodeToString(sigs[0].sig))
}

func TestParseSignatures(t *testing.T) {
	mac := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		header string
		want   []string // versions kept
		err    bool
	}{
		{"v1," + mac, []string{"v1"}, false},
		{"v1," + mac + "  v1a," + mac + " v2,xyz", []string{"v1", "v1a"}, false},
		{"v1," + mac + "\tv1," + mac, []string{"v1", "v1"}, false},
		{"v1", nil, false},
		{",abc=", nil, false},
		{"v1,", nil, false},
		{"v1,not base64!", nil, false},
		{"v1," + mac[:len(mac)-1], nil, false},
		{"v1,AB==", nil, false}, // non-canonical: the strict decoder refuses it
		{"", nil, false},
		{"a b c d e f g h i j k l m n o p q", nil, true},
	} {
		sigs, err := parseSignatures(tc.header)
		if tc.err {
			assert.ErrorIs(t, err, ErrSignature, tc.header)
			continue
		}
		require.NoError(t, err, tc.header)
		var got []string
		for _, s := range sigs {
			got = append(got, s.version)
		}
		assert.Equal(t, tc.want, got, tc.header)
	}
}
