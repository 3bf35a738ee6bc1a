package notify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
)

type vectorFile struct {
	Vectors []struct {
		Name      string `json:"name"`
		Secret    string `json:"secret"`
		Public    []byte `json:"ed25519PublicKey"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Body      string `json:"body"`
		Signature string `json:"signature"`
	} `json:"vectors"`
}

func readVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/webhook-vectors.json")
	require.NoError(t, err)
	var vs vectorFile
	require.NoError(t, json.Unmarshal(b, &vs))
	return vs
}

var vectorTime = time.Unix(1614265330, 0)

func TestVerifyVectors(t *testing.T) {
	for _, v := range readVectors(t).Vectors {
		t.Run(v.Name, func(t *testing.T) {
			cfg := notify.WebhookVerifierConfig{Now: func() time.Time { return vectorTime.Add(10 * time.Second) }}
			if v.Secret != "" {
				cfg.Secrets = []string{v.Secret}
			} else {
				cfg.PublicKeys = []ed25519.PublicKey{v.Public}
			}
			ver, err := notify.NewWebhookVerifier(cfg)
			require.NoError(t, err)
			h := func(id, ts, sig string) http.Header {
				return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}}
			}
			require.NoError(t, ver.Verify(h(v.ID, v.Timestamp, v.Signature), []byte(v.Body)))
			require.NoError(t, ver.Verify(h(v.ID, v.Timestamp, "v2,abc "+v.Signature+" v1,AAAA"), []byte(v.Body)), "unknown and other signatures are skipped")

			for _, tc := range []struct {
				name       string
				id, ts, sg string
				body       string
				check      string
			}{
				{"body changed", v.ID, v.Timestamp, v.Signature, v.Body + " ", "signature"},
				{"other id", "msg_other", v.Timestamp, v.Signature, v.Body, "signature"},
				{"other timestamp", v.ID, "1614265331", v.Signature, v.Body, "signature"},
				{"signature of another version", v.ID, v.Timestamp, "v9" + v.Signature[strings.Index(v.Signature, ","):], v.Body, "signature"},
				{"no id", "", v.Timestamp, v.Signature, v.Body, "headers"},
				{"no timestamp", v.ID, "", v.Signature, v.Body, "headers"},
				{"no signature", v.ID, v.Timestamp, "", v.Body, "headers"},
				{"id with a dot", "msg.1", v.Timestamp, v.Signature, v.Body, "webhook-id"},
				{"id with a space", "msg 1", v.Timestamp, v.Signature, v.Body, "webhook-id"},
				{"signed timestamp", v.ID, "+" + v.Timestamp, v.Signature, v.Body, "timestamp"},
				{"fractional timestamp", v.ID, v.Timestamp + ".0", v.Signature, v.Body, "timestamp"},
				{"huge timestamp", v.ID, strings.Repeat("9", 30), v.Signature, v.Body, "timestamp"},
				{"leading zero", v.ID, "0" + v.Timestamp, v.Signature, v.Body, "timestamp"},
				{"too many signatures", v.ID, v.Timestamp, strings.Repeat("v1,AAAA ", 16) + v.Signature, v.Body, "signature"},
				{"header too long", v.ID, v.Timestamp, strings.Repeat(" ", 8<<10) + v.Signature, v.Body, "headers"},
			} {
				err := ver.Verify(h(tc.id, tc.ts, tc.sg), []byte(tc.body))
				require.ErrorIs(t, err, notify.ErrSignature, tc.name)
				var e *notify.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.check, e.Check, tc.name)
			}
		})
	}
}

func TestVerifyTimestampTolerance(t *testing.T) {
	v := readVectors(t).Vectors[0]
	for _, tc := range []struct {
		name      string
		now       time.Time
		tolerance time.Duration
		ok        bool
	}{
		{"on time", vectorTime, 0, true},
		{"five minutes late", vectorTime.Add(5 * time.Minute), 0, true},
		{"five minutes and a second late", vectorTime.Add(5*time.Minute + time.Second), 0, false},
		{"five minutes early", vectorTime.Add(-5 * time.Minute), 0, true},
		{"too early", vectorTime.Add(-5*time.Minute - time.Second), 0, false},
		{"a day late", vectorTime.Add(24 * time.Hour), 0, false},
		{"within a wider tolerance", vectorTime.Add(30 * time.Minute), time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ver, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{v.Secret}, Tolerance: tc.tolerance, Now: func() time.Time { return tc.now }})
			require.NoError(t, err)
			err = ver.Verify(http.Header{"Webhook-Id": {v.ID}, "Webhook-Timestamp": {v.Timestamp}, "Webhook-Signature": {v.Signature}}, []byte(v.Body))
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "timestamp", e.Check)
		})
	}
}

func TestWebhookConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  notify.WebhookConfig
	}{
		{"no key", notify.WebhookConfig{}},
		{"secret too short", notify.WebhookConfig{Secrets: []string{"whsec_c2hvcnQ="}}},
		{"secret too long", notify.WebhookConfig{Secrets: []string{"whsec_" + strings.Repeat("QUFB", 22)}}},
		{"secret not base64", notify.WebhookConfig{Secrets: []string{"whsec_not base64!"}}},
		{"Ed25519 key of the wrong size", notify.WebhookConfig{Keys: []ed25519.PrivateKey{make([]byte, 32)}}},
		{"bad name", notify.WebhookConfig{Name: "Web Hook", Secrets: []string{testSecret}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.NewWebhook(tc.cfg)
			assert.ErrorIs(t, err, notify.ErrConfig)
		})
	}
	for _, cfg := range []notify.WebhookVerifierConfig{
		{},
		{Secrets: []string{"whsec_c2hvcnQ="}},
		{PublicKeys: []ed25519.PublicKey{make([]byte, 31)}},
		{Secrets: []string{testSecret}, Tolerance: 2 * time.Hour},
		{Secrets: []string{testSecret}, Tolerance: -time.Second},
	} {
		_, err := notify.NewWebhookVerifier(cfg)
		assert.ErrorIs(t, err, notify.ErrConfig)
	}
	s, err := notify.NewWebhookSecret()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(s, "whsec_"))
	_, err = notify.NewWebhook(notify.WebhookConfig{Secrets: []string{s}})
	assert.NoError(t, err)
}

// capture is a receiver that keeps the last request as it came.
type capture struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
	code   int
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.header, c.body = r.Header.Clone(), b
	code := c.code
	c.mu.Unlock()
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
}

func TestWebhookDeliver(t *testing.T) {
	ctx := context.Background()
	c := &capture{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	other, err := notify.NewWebhookSecret()
	require.NoError(t, err)
	w, err := notify.NewWebhook(notify.WebhookConfig{Name: "agency-b", Secrets: []string{testSecret, other}, Keys: []ed25519.PrivateKey{key}, InsecureAllowHTTP: true})
	require.NoError(t, err)
	assert.Equal(t, "agency-b", w.Name())
	created := time.Date(2026, 3, 1, 9, 0, 0, 123, time.UTC)
	d := &notify.Delivery{ID: "ntf_abc", Attempt: 1, To: srv.URL + "/hook?x=1", Reference: "case-42", Created: created,
		Content: notify.Content{Subject: "Decision", Text: "Approved ✓"}}
	require.NoError(t, w.Deliver(ctx, d))

	c.mu.Lock()
	header, body := c.header, c.body
	c.mu.Unlock()
	assert.Equal(t, "application/json", header.Get("Content-Type"))
	assert.Equal(t, "ntf_abc", header.Get(notify.HeaderWebhookID))
	assert.Len(t, strings.Fields(header.Get(notify.HeaderWebhookSignature)), 3)
	assert.JSONEq(t, `{"type":"notification.sent","timestamp":"2026-03-01T09:00:00.000000123Z",
		"data":{"id":"ntf_abc","reference":"case-42","subject":"Decision","text":"Approved ✓"}}`, string(body))

	// Each secret and the public key verify the request on their own.
	for _, cfg := range []notify.WebhookVerifierConfig{
		{Secrets: []string{testSecret}},
		{Secrets: []string{other}},
		{PublicKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}},
	} {
		v, err := notify.NewWebhookVerifier(cfg)
		require.NoError(t, err)
		assert.NoError(t, v.Verify(header, body))
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(body)))
		r.Header = header
		p, err := v.Receive(r)
		require.NoError(t, err)
		assert.Equal(t, notify.WebhookPayload{Type: notify.WebhookEventType, Timestamp: created,
			Data: notify.WebhookData{ID: "ntf_abc", Reference: "case-42", Subject: "Decision", Text: "Approved ✓"}}, *p)
	}
	unknown, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})
	require.NoError(t, err)
	assert.ErrorIs(t, unknown.Verify(header, body), notify.ErrSignature)

	// A payload whose ID is not the webhook-id is refused by Receive.
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{testSecret}})
	require.NoError(t, err)
	h := header.Clone()
	h.Set(notify.HeaderWebhookID, "ntf_other")
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(body)))
	r.Header = h
	_, err = v.Receive(r)
	assert.Error(t, err)
}

func TestWebhookOutcomes(t *testing.T) {
	ctx := context.Background()
	w := newHook(t, "")
	for _, tc := range []struct {
		code       int
		retryAfter string
		want       error
		after      time.Duration
	}{
		{200, "", nil, 0},
		{204, "", nil, 0},
		{410, "", notify.ErrEndpointGone, 0},
		{429, "120", notify.ErrTemporary, 2 * time.Minute},
		{429, "999999999", notify.ErrTemporary, 24 * time.Hour},
		{503, "Wed, 21 Oct 2015 07:28:00 GMT", notify.ErrTemporary, 0},
		{500, "soon", notify.ErrTemporary, 0},
		{502, "", notify.ErrTemporary, 0},
		{408, "", notify.ErrTemporary, 0},
		{400, "", notify.ErrPermanent, 0},
		{403, "", notify.ErrPermanent, 0},
		{302, "", notify.ErrPermanent, 0},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				rw.Header().Set("Retry-After", tc.retryAfter)
			}
			rw.Header().Set("Location", "/elsewhere")
			rw.WriteHeader(tc.code)
			_, _ = rw.Write([]byte(strings.Repeat("x", 100<<10)))
		}))
		err := w.Deliver(ctx, &notify.Delivery{ID: "ntf_1", To: srv.URL, Content: notify.Content{Text: "t"}})
		srv.Close()
		if tc.want == nil {
			assert.NoError(t, err, tc.code)
			continue
		}
		require.ErrorIs(t, err, tc.want, tc.code)
		var e *notify.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "http status", e.Check)
		assert.Equal(t, tc.after, e.RetryAfter, tc.code)
	}

	// A network error names neither the URL nor its query.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := w.Deliver(ctx, &notify.Delivery{ID: "ntf_1", To: srv.URL + "/?token=s3cret", Content: notify.Content{Text: "t"}})
	require.Error(t, err)
	var e *notify.Error
	assert.False(t, errors.As(err, &e), "a network error is neither permanent nor temporary: technical")
	assert.NotContains(t, err.Error(), "s3cret")
}
