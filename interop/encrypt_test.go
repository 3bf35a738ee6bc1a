package interop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/interop"
)

func newP256Key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

func opener(t testing.TB, cfg interop.OpenerConfig) *interop.Opener {
	o, err := interop.NewOpener(cfg)
	require.NoError(t, err)
	return o
}

// TestSealOpen seals to one and to several recipients of both kinds; each opens the
// message with its own key, in the general JSON serialization, and nobody else does.
func TestSealOpen(t *testing.T) {
	ec1, ec2, rs := newP256Key(t), newP256Key(t), newRSAKey(t)
	plaintext := []byte("{\"person\":\"EE38001085718\"}\n\x00binary")
	tests := []struct {
		name  string
		to    []interop.Recipient
		keys  []any
		other any
	}{
		{"one P-256", []interop.Recipient{{Key: &ec1.PublicKey, KeyID: "a"}}, []any{ec1}, ec2},
		{"one RSA", []interop.Recipient{{Key: &rs.PublicKey}}, []any{rs}, ec1},
		{"three of both kinds", []interop.Recipient{{Key: &ec1.PublicKey}, {Key: &rs.PublicKey, KeyID: "r"}, {Key: &ec2.PublicKey}}, []any{ec1, rs, ec2}, newP256Key(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			jwe, err := interop.Seal(plaintext, "dpi-message+jws", tc.to...)
			require.NoError(t, err)
			var form map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(jwe, &form))
			assert.ElementsMatch(t, []string{"protected", "recipients", "iv", "ciphertext", "tag"}, jsonKeys(form))
			var rcpts []map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(form["recipients"], &rcpts))
			assert.Len(t, rcpts, len(tc.to))
			for _, k := range tc.keys {
				got, cty, err := opener(t, interop.OpenerConfig{Key: k}).Open(jwe)
				require.NoError(t, err)
				assert.Equal(t, plaintext, got)
				assert.Equal(t, "dpi-message+jws", cty)
			}
			_, _, err = opener(t, interop.OpenerConfig{Key: tc.other}).Open(jwe)
			assert.ErrorIs(t, err, interop.ErrDecrypt)
			assert.ErrorIs(t, err, interop.ErrRejected)
		})
	}
}

func jsonKeys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// editJSON decodes jwe, lets f change it, and encodes it again.
func editJSON(t *testing.T, jwe []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(jwe, &m))
	f(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func b64JSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return base64URL.EncodeToString(b)
}

// TestOpenRefuses refuses, with a typed error and before any key is used where it can,
// every JWE that is not exactly what Seal writes or another implementation may write in
// the same form.
func TestOpenRefuses(t *testing.T) {
	ec1, rs := newP256Key(t), newRSAKey(t)
	multi, err := interop.Seal([]byte("body"), "", interop.Recipient{Key: &ec1.PublicKey}, interop.Recipient{Key: &rs.PublicKey})
	require.NoError(t, err)
	single, err := interop.Seal([]byte("body"), "", interop.Recipient{Key: &ec1.PublicKey})
	require.NoError(t, err)
	o := opener(t, interop.OpenerConfig{Key: ec1})

	// One bit of the ciphertext flipped, and the ciphertext re-encoded: flipping a bit of
	// its base64url text may make a character that is not base64url at all.
	flipped := editJSON(t, multi, func(m map[string]any) {
		ct, err := base64URL.DecodeString(m["ciphertext"].(string))
		require.NoError(t, err)
		ct[0] ^= 1
		m["ciphertext"] = base64URL.EncodeToString(ct)
	})
	tests := []struct {
		name string
		jwe  []byte
		want error
	}{
		{"empty", nil, interop.ErrMalformed},
		{"not JSON", []byte("eyJhbGciOiJkaXIifQ..a.b.c"), interop.ErrMalformed},
		{"oversize", []byte(`{"protected":"` + strings.Repeat("A", limits.MaxInteropJWE) + `"}`), interop.ErrMalformed},
		{"trailing data", append(append([]byte{}, multi...), multi...), interop.ErrMalformed},
		{"flattened", editJSON(t, single, func(m map[string]any) {
			r := m["recipients"].([]any)[0].(map[string]any)
			m["encrypted_key"] = r["encrypted_key"]
			delete(m, "recipients")
		}), interop.ErrMalformed},
		{"unprotected shared header", editJSON(t, multi, func(m map[string]any) { m["unprotected"] = map[string]any{"jku": "https://x"} }), interop.ErrMalformed},
		{"aad", editJSON(t, multi, func(m map[string]any) { m["aad"] = "eA" }), interop.ErrMalformed},
		{"no recipients", editJSON(t, multi, func(m map[string]any) { m["recipients"] = []any{} }), interop.ErrMalformed},
		{"too many recipients", editJSON(t, multi, func(m map[string]any) {
			r := m["recipients"].([]any)
			for len(r) <= limits.MaxInteropRecipients {
				r = append(r, r[0])
			}
			m["recipients"] = r
		}), interop.ErrMalformed},
		{"zip", editJSON(t, multi, func(m map[string]any) { m["protected"] = b64JSON(t, map[string]any{"enc": "A256GCM", "zip": "DEF"}) }), interop.ErrMalformed},
		{"crit", editJSON(t, multi, func(m map[string]any) {
			m["protected"] = b64JSON(t, map[string]any{"enc": "A256GCM", "crit": []string{"x"}, "x": 1})
		}), interop.ErrMalformed},
		{"no enc", editJSON(t, multi, func(m map[string]any) { m["protected"] = b64JSON(t, map[string]any{"cty": "x"}) }), interop.ErrMalformed},
		{"A128GCM", editJSON(t, multi, func(m map[string]any) { m["protected"] = b64JSON(t, map[string]any{"enc": "A128GCM"}) }), interop.ErrAlgorithm},
		{"RSA1_5", editJSON(t, multi, func(m map[string]any) {
			m["recipients"].([]any)[1].(map[string]any)["header"] = map[string]any{"alg": "RSA1_5"}
		}), interop.ErrAlgorithm},
		{"dir", editJSON(t, multi, func(m map[string]any) {
			m["recipients"].([]any)[1].(map[string]any)["header"] = map[string]any{"alg": "dir"}
		}), interop.ErrAlgorithm},
		{"PBES2", editJSON(t, multi, func(m map[string]any) {
			m["recipients"].([]any)[1].(map[string]any)["header"] = map[string]any{"alg": "PBES2-HS512+A256KW", "p2c": 1 << 30, "p2s": "AAAA"}
		}), interop.ErrMalformed},
		{"jwk in a recipient header", editJSON(t, multi, func(m map[string]any) {
			m["recipients"].([]any)[1].(map[string]any)["header"] = map[string]any{"alg": "RSA-OAEP-256", "jwk": map[string]any{}}
		}), interop.ErrMalformed},
		{"epk with RSA", editJSON(t, multi, func(m map[string]any) {
			m["recipients"].([]any)[1].(map[string]any)["header"] = map[string]any{"alg": "RSA-OAEP-256", "epk": map[string]any{}}
		}), interop.ErrMalformed},
		{"alg both protected and not", editJSON(t, single, func(m map[string]any) {
			m["recipients"].([]any)[0].(map[string]any)["header"] = map[string]any{"alg": "ECDH-ES+A256KW"}
		}), interop.ErrMalformed},
		{"protected not base64url", editJSON(t, multi, func(m map[string]any) { m["protected"] = "eyJ+" }), interop.ErrMalformed},
		{"ciphertext altered", flipped, interop.ErrDecrypt},
		{"protected header altered", editJSON(t, multi, func(m map[string]any) {
			m["protected"] = b64JSON(t, map[string]any{"enc": "A256GCM", "cty": "text/plain"})
		}), interop.ErrDecrypt},
		{"tag removed", editJSON(t, multi, func(m map[string]any) { m["tag"] = "" }), interop.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := o.Open(tc.jwe)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, interop.ErrRejected)
			var e *interop.Error
			assert.ErrorAs(t, err, &e)
		})
	}

	ecOnly := opener(t, interop.OpenerConfig{Key: ec1, KeyAlgorithms: []string{interop.ECDHESA256KW}})
	_, _, err = ecOnly.Open(multi)
	assert.ErrorIs(t, err, interop.ErrAlgorithm, "an opener that allows ECDH-ES only refuses a message that also uses RSA-OAEP-256")
	got, _, err := ecOnly.Open(single)
	require.NoError(t, err)
	assert.Equal(t, "body", string(got))
}

func TestEncryptConfig(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ec1 := newP256Key(t)
	for name, cfg := range map[string]interop.OpenerConfig{
		"no key":           {},
		"P-384":            {Key: p384},
		"RSA 1024":         {Key: small},
		"public key":       {Key: &ec1.PublicKey},
		"own alg excluded": {Key: ec1, KeyAlgorithms: []string{interop.RSAOAEP256}},
		"RSA1_5":           {Key: ec1, KeyAlgorithms: []string{"RSA1_5", interop.ECDHESA256KW}},
		"A128GCM":          {Key: ec1, ContentAlgorithms: []string{"A128GCM"}},
	} {
		_, err := interop.NewOpener(cfg)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
	for name, to := range map[string][]interop.Recipient{
		"none":     nil,
		"P-384":    {{Key: &p384.PublicKey}},
		"RSA 1024": {{Key: &small.PublicKey}},
		"private":  {{Key: ec1}},
		"too many": make([]interop.Recipient, limits.MaxInteropRecipients+1),
	} {
		_, err := interop.Seal([]byte("x"), "", to...)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}

	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048} {
		cred, err := pki.Issue(dpitest.CertOptions{KeyType: kt})
		require.NoError(t, err)
		r, err := interop.RecipientFromCertificate(cred.Cert)
		require.NoError(t, err)
		assert.Len(t, r.KeyID, 43, "the certificate's SHA-256 thumbprint")
		jwe, err := interop.Seal([]byte("to a certificate"), "", r)
		require.NoError(t, err)
		got, _, err := opener(t, interop.OpenerConfig{Key: cred.Key}).Open(jwe)
		require.NoError(t, err)
		assert.Equal(t, "to a certificate", string(got))
	}
	ed, err := pki.Issue(dpitest.CertOptions{KeyType: dpitest.Ed25519})
	require.NoError(t, err)
	_, err = interop.RecipientFromCertificate(ed.Cert)
	assert.ErrorIs(t, err, interop.ErrConfig, "an Ed25519 key cannot be encrypted to")
}
