package notify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// The Standard Webhooks headers (Standard Webhooks 1.0.0, "Webhook headers").
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookEventType is the type of the payload a webhook channel sends.
const WebhookEventType = "notification.sent"

// DefaultWebhookTolerance is how far a webhook's timestamp may be from the verifier's clock
// when WebhookVerifierConfig.Tolerance is zero: five minutes, as the reference libraries
// of Standard Webhooks allow.
const DefaultWebhookTolerance = 5 * time.Minute

// Secret sizes of Standard Webhooks' symmetric scheme: at least 24 bytes, at most 512 bits.
const (
	minSecret = 24
	maxSecret = 64
)

const secretPrefix = "whsec_"

// WebhookPayload is the JSON body of a webhook: the shape Standard Webhooks recommends
// ("Payload structure": type, timestamp, data), in lowerCamelCase.
type WebhookPayload struct {
	// Type is WebhookEventType.
	Type string `json:"type"`
	// Timestamp is when the notification was created, not when this attempt was made.
	Timestamp time.Time `json:"timestamp"`
	// Data is the notification.
	Data WebhookData `json:"data"`
}

// WebhookData is the notification a webhook carries.
type WebhookData struct {
	// ID is the notification's ID, also sent as the webhook-id header: a receiver that has
	// seen it before drops the request.
	ID string `json:"id"`
	// Reference is the sending service's own reference, when it gave one.
	Reference string `json:"reference,omitempty"`
	// Subject is the subject of an email template.
	Subject string `json:"subject,omitempty"`
	// Text is the rendered message.
	Text string `json:"text"`
}

// WebhookConfig configures a webhook channel. At least one secret or key is required.
type WebhookConfig struct {
	// Name is the channel's name in Message.Channel; empty means "webhook". Give each
	// receiver that has its own secret a channel of its own name.
	Name string
	// Secrets sign every request with HMAC-SHA256 ("v1,"): each a "whsec_" secret, base64
	// of 24 to 64 random bytes (NewWebhookSecret makes one). While a secret is rotated, list
	// the new and the old one: the request carries a signature by each.
	Secrets []string
	// Keys sign every request with Ed25519 ("v1a,"), which receivers check with the public
	// key alone: Standard Webhooks prefers it when the receiver is not trusted with a secret.
	Keys []ed25519.PrivateKey
	// Client sends the requests; nil means a client with a timeout of
	// limits.WebhookHTTPTimeout. Redirects are never followed, whatever the client says:
	// Standard Webhooks treats a 3xx as a failure, the URL to be updated.
	Client *http.Client
	// Now stamps webhook-timestamp; nil means time.Now. Receivers compare it with their own
	// clock.
	Now func() time.Time
	// InsecureAllowHTTP lets the channel send to http:// URLs, whose content anyone on the
	// path reads. Only for tests and loopback receivers.
	InsecureAllowHTTP bool
}

// Webhook is a channel that POSTs each notification as JSON (WebhookPayload) to the URL in
// Message.To, signed as Standard Webhooks specifies. It is immutable and safe for
// concurrent use.
//
// A 2xx answer is a delivery. 410 Gone disables the endpoint (ErrEndpointGone); 429, 408 and
// 5xx are tried again later, after the receiver's Retry-After when it sends one
// (ErrTemporary); a redirect and any other 4xx are permanent failures (ErrPermanent); an
// error of the network is tried again.
type Webhook struct {
	name      string
	secrets   [][]byte
	keys      []ed25519.PrivateKey
	client    *http.Client
	now       func() time.Time
	allowHTTP bool
}

var (
	_ Channel        = (*Webhook)(nil)
	_ AddressChecker = (*Webhook)(nil)
)

// NewWebhook returns a webhook channel.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	w := &Webhook{name: cfg.Name, now: cfg.Now, allowHTTP: cfg.InsecureAllowHTTP}
	if w.name == "" {
		w.name = "webhook"
	}
	if err := checkChannelName(w.name); err != nil {
		return nil, err
	}
	if len(cfg.Secrets)+len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("%w: a webhook channel needs a secret or an Ed25519 key", ErrConfig)
	}
	if len(cfg.Secrets)+len(cfg.Keys) > limits.MaxWebhookSignatures {
		return nil, fmt.Errorf("%w: more than %d webhook keys", ErrConfig, limits.MaxWebhookSignatures)
	}
	for _, s := range cfg.Secrets {
		k, err := parseSecret(s)
		if err != nil {
			return nil, err
		}
		w.secrets = append(w.secrets, k)
	}
	for _, k := range cfg.Keys {
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: an Ed25519 webhook key is %d bytes, not %d", ErrConfig, ed25519.PrivateKeySize, len(k))
		}
		w.keys = append(w.keys, k)
	}
	c := &http.Client{Timeout: limits.WebhookHTTPTimeout}
	if cfg.Client != nil {
		cc := *cfg.Client
		c = &cc
		if c.Timeout == 0 {
			c.Timeout = limits.WebhookHTTPTimeout
		}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = c
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// NewWebhookSecret returns a new random secret for the HMAC scheme: "whsec_" and the
// base64 of 32 bytes.
func NewWebhookSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// parseSecret decodes a "whsec_" secret (the prefix may be left out, as the reference
// libraries allow).
func parseSecret(s string) ([]byte, error) {
	b64 := strings.TrimPrefix(s, secretPrefix)
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if k, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return nil, fmt.Errorf("%w: a webhook secret is not base64 after its whsec_ prefix", ErrConfig)
		}
	}
	if len(k) < minSecret || len(k) > maxSecret {
		return nil, fmt.Errorf("%w: a webhook secret is %d bytes, not %d to %d", ErrConfig, len(k), minSecret, maxSecret)
	}
	return k, nil
}

// Name returns the channel's name.
func (w *Webhook) Name() string { return w.name }

// CheckAddress accepts an absolute https URL (http too with InsecureAllowHTTP) without
// credentials in it, which would be stored with every notification.
func (w *Webhook) CheckAddress(to string) error {
	if len(to) > limits.MaxNotifyAddress {
		return fail(ErrInput, "address", "a webhook URL longer than %d bytes", limits.MaxNotifyAddress)
	}
	u, err := url.Parse(to)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fail(ErrInput, "address", "not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && w.allowHTTP:
	default:
		return fail(ErrInput, "address", "a webhook URL must be https")
	}
	if u.User != nil {
		return fail(ErrInput, "address", "credentials in a webhook URL")
	}
	return nil
}

// Deliver POSTs the notification to d.To.
func (w *Webhook) Deliver(ctx context.Context, d *Delivery) error {
	if err := w.CheckAddress(d.To); err != nil {
		reason := "not a webhook URL"
		var e *Error
		if errors.As(err, &e) {
			reason = e.Reason
		}
		return &Error{Check: "address", Reason: reason, Err: ErrPermanent}
	}
	body, err := json.Marshal(WebhookPayload{
		Type:      WebhookEventType,
		Timestamp: d.Created.UTC(),
		Data:      WebhookData{ID: d.ID, Reference: d.Reference, Subject: d.Content.Subject, Text: d.Content.Text},
	})
	if err != nil {
		return err
	}
	return w.post(ctx, d.ID, d.To, body)
}

// post sends body to url as webhook id, signed, and reads the answer.
func (w *Webhook) post(ctx context.Context, id, to string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return &Error{Check: "address", Reason: "not a URL a request can be sent to", Err: ErrPermanent}
	}
	ts := w.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dpi-notify")
	req.Header.Set(HeaderWebhookID, id)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderWebhookSignature, w.sign(id, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// url.Error repeats the URL, which may hold a token: keep what went wrong only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: webhook request: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limits.MaxWebhookResponse))
	resp.Body.Close()
	return classify(resp, w.now())
}

// classify turns a receiver's answer into a delivery outcome ("Delivery success and
// failure" in Standard Webhooks).
func classify(resp *http.Response, now time.Time) error {
	code := resp.StatusCode
	status := strconv.Itoa(code)
	if t := http.StatusText(code); t != "" {
		status += " " + t
	}
	switch {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusGone:
		return &Error{Check: "http status", Reason: status, Err: ErrEndpointGone}
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return &Error{Check: "http status", Reason: status, Err: ErrTemporary, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	case code >= 300 && code <= 399:
		return &Error{Check: "http status", Reason: status + ": redirects are not followed, update the webhook URL", Err: ErrPermanent}
	case code >= 400:
		return &Error{Check: "http status", Reason: status, Err: ErrPermanent}
	}
	return &Error{Check: "http status", Reason: status, Err: ErrTemporary}
}

// retryAfter reads a Retry-After header (RFC 9110 §10.2.3): seconds or an HTTP date, capped.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(h, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), limits.MaxNotifyRetryAfter)
}

// sign returns the webhook-signature header: a "v1," signature for each secret and a "v1a,"
// one for each key, over "{id}.{timestamp}.{body}".
func (w *Webhook) sign(id string, ts int64, body []byte) string {
	msg := signedContent(id, ts, body)
	var sigs []string
	for _, k := range w.secrets {
		m := hmac.New(sha256.New, k)
		m.Write(msg)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	for _, k := range w.keys {
		sigs = append(sigs, "v1a,"+base64.StdEncoding.EncodeToString(ed25519.Sign(k, msg)))
	}
	return strings.Join(sigs, " ")
}

// signedContent is what Standard Webhooks signs: "{msg_id}.{timestamp}.{payload}".
func signedContent(id string, ts int64, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(body)+24)
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = strconv.AppendInt(msg, ts, 10)
	msg = append(msg, '.')
	return append(msg, body...)
}

// WebhookVerifierConfig says which webhooks a receiver trusts. At least one secret or
// public key is required: there is no verifier that trusts by default.
type WebhookVerifierConfig struct {
	// Secrets are the "whsec_" secrets whose HMAC-SHA256 ("v1,") signatures are accepted.
	Secrets []string
	// PublicKeys are the Ed25519 keys whose "v1a," signatures are accepted.
	PublicKeys []ed25519.PublicKey
	// Tolerance is how far webhook-timestamp may be from Now, either way; zero means
	// DefaultWebhookTolerance, and it may not exceed limits.MaxWebhookTolerance.
	Tolerance time.Duration
	// Now is the receiver's clock; nil means time.Now.
	Now func() time.Time
}

// WebhookVerifier checks the Standard Webhooks signature of requests a receiver gets. It is
// immutable and safe for concurrent use.
type WebhookVerifier struct {
	secrets   [][]byte
	pubs      []ed25519.PublicKey
	tolerance time.Duration
	now       func() time.Time
}

// NewWebhookVerifier returns a verifier that accepts webhooks signed by one of cfg's secrets
// or keys.
func NewWebhookVerifier(cfg WebhookVerifierConfig) (*WebhookVerifier, error) {
	if len(cfg.Secrets)+len(cfg.PublicKeys) == 0 {
		return nil, fmt.Errorf("%w: a webhook verifier needs a secret or a public key", ErrConfig)
	}
	v := &WebhookVerifier{tolerance: cfg.Tolerance, now: cfg.Now}
	for _, s := range cfg.Secrets {
		k, err := parseSecret(s)
		if err != nil {
			return nil, err
		}
		v.secrets = append(v.secrets, k)
	}
	for _, p := range cfg.PublicKeys {
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: an Ed25519 public key is %d bytes, not %d", ErrConfig, ed25519.PublicKeySize, len(p))
		}
		v.pubs = append(v.pubs, p)
	}
	if v.tolerance < 0 || v.tolerance > limits.MaxWebhookTolerance {
		return nil, fmt.Errorf("%w: webhook tolerance out of range (0 to %v)", ErrConfig, limits.MaxWebhookTolerance)
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultWebhookTolerance
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Verify checks a webhook's headers and body, as received, before anything parses the
// body: the three headers are present, webhook-id holds no '.', webhook-timestamp is
// within the tolerance of the verifier's clock, and one of the signatures in
// webhook-signature is by a trusted secret or key (compared in constant time). Signatures of
// versions it does not know are ignored, as Standard Webhooks asks for forward
// compatibility. A rejection is an *Error matching ErrSignature.
func (v *WebhookVerifier) Verify(header http.Header, body []byte) error {
	id, ts, sig := header.Get(HeaderWebhookID), header.Get(HeaderWebhookTimestamp), header.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sig == "" {
		return fail(ErrSignature, "headers", "webhook-id, webhook-timestamp and webhook-signature are required")
	}
	if len(id) > limits.MaxWebhookHeader || len(ts) > limits.MaxWebhookHeader || len(sig) > limits.MaxWebhookHeader {
		return fail(ErrSignature, "headers", "a webhook header longer than %d bytes", limits.MaxWebhookHeader)
	}
	if strings.ContainsAny(id, ".") || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return fail(ErrSignature, "webhook-id", "holds a '.', a space or a control character")
	}
	sec, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	now := v.now().Unix()
	tol := int64(v.tolerance / time.Second)
	if sec < now-tol {
		return fail(ErrSignature, "timestamp", "older than %v", v.tolerance)
	}
	if sec > now+tol {
		return fail(ErrSignature, "timestamp", "more than %v ahead", v.tolerance)
	}
	sigs, err := parseSignatures(sig)
	if err != nil {
		return err
	}
	msg := signedContent(id, sec, body)
	var macs [][]byte
	for _, k := range v.secrets {
		m := hmac.New(sha256.New, k)
		m.Write(msg)
		macs = append(macs, m.Sum(nil))
	}
	for _, s := range sigs {
		switch s.version {
		case "v1":
			for _, mac := range macs {
				if hmac.Equal(s.sig, mac) {
					return nil
				}
			}
		case "v1a":
			for _, p := range v.pubs {
				if len(s.sig) == ed25519.SignatureSize && ed25519.Verify(p, msg, s.sig) {
					return nil
				}
			}
		}
	}
	return fail(ErrSignature, "signature", "no signature by a trusted secret or key")
}

// Receive reads a webhook request's body (within limits.MaxWebhookBody), verifies it and
// decodes the payload a dpi webhook channel sends.
func (v *WebhookVerifier) Receive(r *http.Request) (*WebhookPayload, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limits.MaxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("notify: read webhook: %w", err)
	}
	if len(body) > limits.MaxWebhookBody {
		return nil, fail(ErrSignature, "body", "longer than %d bytes", limits.MaxWebhookBody)
	}
	if err := v.Verify(r.Header, body); err != nil {
		return nil, err
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fail(ErrInput, "payload", "not a notification: %v", err)
	}
	if p.Data.ID == "" || p.Data.ID != r.Header.Get(HeaderWebhookID) {
		return nil, fail(ErrInput, "payload", "the notification ID is not the webhook-id")
	}
	return &p, nil
}

// parseTimestamp reads webhook-timestamp: integer Unix seconds, digits only, without leading
// zeros, so that the signed content holds the header as it was sent.
func parseTimestamp(s string) (int64, error) {
	if len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" || len(s) > 1 && s[0] == '0' {
		return 0, fail(ErrSignature, "timestamp", "not integer Unix seconds")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fail(ErrSignature, "timestamp", "not integer Unix seconds")
	}
	return n, nil
}

// signature is one entry of a webhook-signature header.
type signature struct {
	version string
	sig     []byte
}

// parseSignatures reads a webhook-signature header: space-delimited "version,base64"
// entries. Entries that are not of that form are skipped, as the reference libraries skip
// versions they do not know; more than limits.MaxWebhookSignatures entries are refused.
func parseSignatures(h string) ([]signature, error) {
	fields := strings.Fields(h)
	if len(fields) > limits.MaxWebhookSignatures {
		return nil, fail(ErrSignature, "signature", "more than %d signatures", limits.MaxWebhookSignatures)
	}
	var out []signature
	for _, f := range fields {
		version, b64, ok := strings.Cut(f, ",")
		if !ok || version == "" {
			continue
		}
		// Strict: one signature has one encoding.
		sig, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(sig) == 0 {
			continue
		}
		out = append(out, signature{version: version, sig: sig})
	}
	return out, nil
}
