package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

const smsToken = "tok_0123456789abcdef"

// smsProvider is an SMS provider's API on loopback: it records each request and answers
// with the status respond gives (204 by default).
type smsProvider struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []smsRequest
	respond  func(w http.ResponseWriter) int
}

type smsRequest struct {
	header http.Header
	body   string
}

func newSMSProvider(t *testing.T) *smsProvider {
	t.Helper()
	p := &smsProvider{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.requests = append(p.requests, smsRequest{header: r.Header.Clone(), body: string(b)})
		respond := p.respond
		p.mu.Unlock()
		code := http.StatusAccepted
		if respond != nil {
			code = respond(w)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *smsProvider) got() []smsRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]smsRequest(nil), p.requests...)
}

func gateway(t *testing.T, cfg notify.SMSGatewayConfig) *notify.SMSGateway {
	t.Helper()
	cfg.InsecureAllowHTTP = true
	g, err := notify.NewSMSGateway(cfg)
	require.NoError(t, err)
	return g
}

// TestSMSDelivered: a text message goes through the outbox and a dispatcher to the provider
// as JSON with a bearer token, the number, the rendered text, the notification's ID (also
// as the Idempotency-Key) and the reference.
func TestSMSDelivered(t *testing.T) {
	p := newSMSProvider(t)
	ch, err := notify.NewSMS(notify.SMSConfig{Provider: gateway(t, notify.SMSGatewayConfig{URL: p.srv.URL + "/v1/sms", BearerToken: smsToken, From: "AGENCY"})})
	require.NoError(t, err)
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{ch}})
	require.NoError(t, err)
	tmpl, err := notify.ParseTemplate(notify.SMSTemplate, "Olá ((name)), o seu pedido ((ref)) foi ((decision)). €5")
	require.NoError(t, err)
	id, err := o.Send(ctx, notify.Message{Channel: "sms", To: "+5511987654321", Template: tmpl, Reference: "A-42",
		Personalisation: map[string]any{"name": "Ana", "ref": "A-42", "decision": "aprovado"}})
	require.NoError(t, err)
	_, err = o.Send(ctx, notify.Message{Channel: "sms", To: "5511987654321", Template: tmpl,
		Personalisation: map[string]any{"name": "Ana", "ref": "A-42", "decision": "aprovado"}})
	assert.ErrorIs(t, err, notify.ErrInput, "a number without + is refused when the message is created")
	require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))

	n, err := o.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, notify.Delivered, n.Status, n.Reason)
	reqs := p.got()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "Bearer "+smsToken, r.header.Get("Authorization"))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, id, r.header.Get("Idempotency-Key"))
	var body map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.body), &body))
	assert.Equal(t, map[string]string{"to": "+5511987654321", "text": "Olá Ana, o seu pedido A-42 foi aprovado. €5",
		"id": id, "reference": "A-42", "from": "AGENCY"}, body)
}

// TestSMSGatewayForm: a form body with basic authentication and the provider's own field
// names; a field named "-" is not sent.
func TestSMSGatewayForm(t *testing.T) {
	p := newSMSProvider(t)
	g := gateway(t, notify.SMSGatewayConfig{URL: p.srv.URL, Format: notify.SMSForm, Username: "AC123", Password: "api-secret-xyz",
		Fields: notify.SMSFields{To: "To", Text: "Body", ID: "-", Reference: "-"}, From: "+15005550006"})
	require.NoError(t, g.SendSMS(context.Background(), &notify.SMSMessage{ID: "ntf_1", To: "+5511987654321", Text: "Olá & adeus", Reference: "A-1"}))
	reqs := p.got()
	require.Len(t, reqs, 1)
	user, pass, ok := (&http.Request{Header: reqs[0].header}).BasicAuth()
	require.True(t, ok)
	assert.Equal(t, "AC123", user)
	assert.Equal(t, "api-secret-xyz", pass)
	assert.Equal(t, "application/x-www-form-urlencoded", reqs[0].header.Get("Content-Type"))
	form, err := url.ParseQuery(reqs[0].body)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"To": {"+5511987654321"}, "Body": {"Olá & adeus"}, "from": {"+15005550006"}}, form)
}

// TestSMSGatewayStatus: what the provider answers decides the outcome, as for a webhook,
// except that 410 refuses the message without disabling the number.
func TestSMSGatewayStatus(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		code       int
		retryAfter string
		want       error // nil: delivered
		after      time.Duration
	}{
		{code: 200}, {code: 201}, {code: 202}, {code: 204},
		{code: 400, want: notify.ErrPermanent},
		{code: 401, want: notify.ErrPermanent},
		{code: 403, want: notify.ErrPermanent},
		{code: 404, want: notify.ErrPermanent},
		{code: 410, want: notify.ErrPermanent},
		{code: 422, want: notify.ErrPermanent},
		{code: 302, want: notify.ErrPermanent},
		{code: 408, want: notify.ErrTemporary},
		{code: 429, retryAfter: "120", want: notify.ErrTemporary, after: 2 * time.Minute},
		{code: 429, retryAfter: now.Add(time.Hour).Format(http.TimeFormat), want: notify.ErrTemporary, after: time.Hour},
		{code: 500, want: notify.ErrTemporary},
		{code: 503, retryAfter: "30", want: notify.ErrTemporary, after: 30 * time.Second},
	}
	p := newSMSProvider(t)
	g := gateway(t, notify.SMSGatewayConfig{URL: p.srv.URL, BearerToken: smsToken, Now: func() time.Time { return now }})
	for _, tc := range tests {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			p.mu.Lock()
			p.respond = func(w http.ResponseWriter) int {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				if tc.code == 302 {
					w.Header().Set("Location", "https://elsewhere.example/")
				}
				return tc.code
			}
			p.mu.Unlock()
			err := g.SendSMS(context.Background(), &notify.SMSMessage{ID: "ntf_s", To: "+5511987654321", Text: "x"})
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.False(t, errors.Is(err, notify.ErrEndpointGone), "a number is never disabled")
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.after, e.RetryAfter)
			assert.NotContains(t, err.Error(), smsToken)
		})
	}
}

// TestSMSGatewayNetwork: a provider nobody answers for is tried again, and the error holds
// neither the token nor the URL's query.
func TestSMSGatewayNetwork(t *testing.T) {
	p := newSMSProvider(t)
	u := p.srv.URL + "/send?api_key=k-secret"
	p.srv.Close()
	g := gateway(t, notify.SMSGatewayConfig{URL: u, BearerToken: smsToken})
	err := g.SendSMS(context.Background(), &notify.SMSMessage{ID: "ntf_n", To: "+5511987654321", Text: "x"})
	require.Error(t, err)
	assert.False(t, errors.Is(err, notify.ErrPermanent) || errors.Is(err, notify.ErrTemporary))
	assert.NotContains(t, err.Error(), "k-secret")
	assert.NotContains(t, err.Error(), smsToken)
}

// TestSMSChannelRefuses: a number not in E.164 form, or a text longer than a text message
// may be, is a permanent failure at delivery (and the first is refused when the message is
// created).
func TestSMSChannelRefuses(t *testing.T) {
	p := newSMSProvider(t)
	ch, err := notify.NewSMS(notify.SMSConfig{Name: "sms-br", Provider: gateway(t, notify.SMSGatewayConfig{URL: p.srv.URL, BearerToken: smsToken})})
	require.NoError(t, err)
	assert.Equal(t, "sms-br", ch.Name())
	ctx := context.Background()
	err = ch.Deliver(ctx, &notify.Delivery{ID: "ntf_a", To: "011987654321", Content: notify.Content{Text: "x"}})
	assert.ErrorIs(t, err, notify.ErrPermanent)
	err = ch.Deliver(ctx, &notify.Delivery{ID: "ntf_b", To: "+5511987654321", Content: notify.Content{Text: strings.Repeat("€", 460)}})
	assert.ErrorIs(t, err, notify.ErrPermanent)
	assert.Empty(t, p.got())
}

func TestCheckE164(t *testing.T) {
	for _, n := range []string{"+5511987654321", "+14155552671", "+6834001", "+598912345678", "+123456789012345"} {
		assert.NoError(t, notify.CheckE164(n), n)
	}
	for _, n := range []string{"", "+", "5511987654321", "+05511987654321", "+55 11 98765-4321", "+55-11-987654321",
		"+1234567890123456", "+123456", "++5511987654321", "+5511987654321 ", "+551198765432１", "tel:+5511987654321"} {
		assert.ErrorIs(t, notify.CheckE164(n), notify.ErrInput, "%q", n)
	}
}

func TestSMSConfigRefused(t *testing.T) {
	_, err := notify.NewSMS(notify.SMSConfig{})
	assert.ErrorIs(t, err, notify.ErrConfig, "no provider")
	ok := notify.SMSGatewayConfig{URL: "https://sms.example/v1/messages", BearerToken: smsToken}
	tests := []struct {
		name string
		edit func(*notify.SMSGatewayConfig)
	}{
		{"no URL", func(c *notify.SMSGatewayConfig) { c.URL = "" }},
		{"relative URL", func(c *notify.SMSGatewayConfig) { c.URL = "/v1/messages" }},
		{"http", func(c *notify.SMSGatewayConfig) { c.URL = "http://sms.example/" }},
		{"credentials in the URL", func(c *notify.SMSGatewayConfig) { c.URL = "https://user:" + smsToken + "@sms.example/" }},
		{"no authentication", func(c *notify.SMSGatewayConfig) { c.BearerToken = "" }},
		{"both authentications", func(c *notify.SMSGatewayConfig) { c.Username, c.Password = "u", "p-secret" }},
		{"username without password", func(c *notify.SMSGatewayConfig) { c.BearerToken, c.Username = "", "u" }},
		{"username with a colon", func(c *notify.SMSGatewayConfig) { c.BearerToken, c.Username, c.Password = "", "u:v", "p-secret" }},
		{"token with a line break", func(c *notify.SMSGatewayConfig) { c.BearerToken = "tok\r\nX-Evil: 1" }},
		{"unknown format", func(c *notify.SMSGatewayConfig) { c.Format = "xml" }},
		{"number not sent", func(c *notify.SMSGatewayConfig) { c.Fields.To = "-" }},
		{"text not sent", func(c *notify.SMSGatewayConfig) { c.Fields.Text = "-" }},
		{"two fields of one name", func(c *notify.SMSGatewayConfig) { c.Fields.ID = "to" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			_, err := notify.NewSMSGateway(c)
			require.ErrorIs(t, err, notify.ErrConfig)
			assert.NotContains(t, err.Error(), smsToken)
			assert.NotContains(t, err.Error(), "p-secret")
		})
	}
}
