package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// SMSProvider sends text messages for an SMS channel: a mobile network's or an aggregator's
// API. SendSMS returns nil once the provider has accepted the message, and otherwise an
// error that the dispatcher reads as a Channel's (ErrPermanent, ErrTemporary with an
// optional RetryAfter, or any other error, tried again). It may be called more than once for
// one message, with the same SMSMessage.ID.
type SMSProvider interface {
	SendSMS(ctx context.Context, m *SMSMessage) error
}

// SMSMessage is one text message handed to a provider.
type SMSMessage struct {
	// ID is the notification's ID, the same on every attempt: a provider that takes an
	// idempotency key drops a repeated message by it.
	ID string
	// To is the recipient's number in E.164 form, such as +5511987654321.
	To string
	// Text is the rendered message.
	Text string
	// Reference is the sending service's own reference for the notification.
	Reference string
}

// SMSConfig configures an SMS channel. Provider is required.
type SMSConfig struct {
	// Name is the channel's name in Message.Channel; empty means "sms".
	Name string
	// Provider sends the messages: an SMSGateway, or another provider's own client.
	Provider SMSProvider
}

// SMS is a channel that sends each notification as a text message to the number in
// Message.To, an E.164 number, through a provider. It refuses a text longer than
// limits.MaxSMSCharacters (see CountSMS) as a permanent failure. It is immutable and safe
// for concurrent use.
type SMS struct {
	name     string
	provider SMSProvider
}

var (
	_ Channel        = (*SMS)(nil)
	_ AddressChecker = (*SMS)(nil)
	_ SMSProvider    = (*SMSGateway)(nil)
)

// NewSMS returns an SMS channel.
func NewSMS(cfg SMSConfig) (*SMS, error) {
	s := &SMS{name: cfg.Name, provider: cfg.Provider}
	if s.name == "" {
		s.name = "sms"
	}
	if err := checkChannelName(s.name); err != nil {
		return nil, err
	}
	if s.provider == nil {
		return nil, fmt.Errorf("%w: an SMS channel needs a provider", ErrConfig)
	}
	return s, nil
}

// Name returns the channel's name.
func (s *SMS) Name() string { return s.name }

// CheckAddress accepts a phone number in E.164 form (ITU-T E.164 §6): '+', a country code
// that does not start with 0, and the national number, 7 to 15 digits in all, nothing else.
func (s *SMS) CheckAddress(to string) error { return CheckE164(to) }

// CheckE164 reports whether number is a phone number in E.164 form: '+' and 7 to 15 digits,
// the first not 0, with no spaces or punctuation. Fifteen digits is E.164's maximum; seven
// is the shortest number in use with its country code (Niue's +683 and four digits).
func CheckE164(number string) error {
	d, ok := strings.CutPrefix(number, "+")
	if !ok || len(d) < 7 || len(d) > 15 || d[0] == '0' || strings.Trim(d, "0123456789") != "" {
		return fail(ErrInput, "address", "a phone number in E.164 form is '+' and 7 to 15 digits, such as +5511987654321")
	}
	return nil
}

// Deliver hands the notification to the provider.
func (s *SMS) Deliver(ctx context.Context, d *Delivery) error {
	if err := CheckE164(d.To); err != nil {
		return &Error{Check: "address", Reason: "not an E.164 phone number", Err: ErrPermanent}
	}
	if n := CountSMS(d.Content.Text); n.Characters > limits.MaxSMSCharacters {
		return &Error{Check: "length", Reason: fmt.Sprintf("%d characters (%s), more than %d", n.Characters, n.Encoding, limits.MaxSMSCharacters), Err: ErrPermanent}
	}
	return s.provider.SendSMS(ctx, &SMSMessage{ID: d.ID, To: d.To, Text: d.Content.Text, Reference: d.Reference})
}

// SMSFormat is how an SMSGateway encodes its request body.
type SMSFormat string

// The request bodies an SMSGateway can send.
const (
	// SMSJSON sends a JSON object (application/json).
	SMSJSON SMSFormat = "json"
	// SMSForm sends an HTML form (application/x-www-form-urlencoded), as many older SMS APIs
	// take.
	SMSForm SMSFormat = "form"
)

// SMSFields names the fields of an SMSGateway's request. An empty name takes the default
// shown; a field named "-" is not sent.
type SMSFields struct {
	To        string // "to": the E.164 number
	Text      string // "text": the message
	ID        string // "id": the notification's ID
	Reference string // "reference": the service's reference, when it gave one
	From      string // "from": SMSGatewayConfig.From, when set
}

// SMSGatewayConfig configures an SMSGateway. URL and one way to authenticate (BearerToken,
// or Username and Password) are required.
type SMSGatewayConfig struct {
	// URL is the provider's endpoint that takes one message per POST; https unless
	// InsecureAllowHTTP.
	URL string
	// Format is the request body's encoding; empty means SMSJSON.
	Format SMSFormat
	// Fields names the request's fields; the zero value takes the defaults.
	Fields SMSFields
	// From is the sender ID or number the provider shows, when it takes one.
	From string
	// BearerToken authenticates with "Authorization: Bearer" (RFC 6750).
	BearerToken string
	// Username and Password authenticate with HTTP Basic (RFC 7617), as an account ID and
	// an API secret often do.
	Username string
	Password string
	// Client sends the requests; nil means a client with a timeout of
	// limits.WebhookHTTPTimeout. Redirects are never followed: the credentials are for this
	// URL only.
	Client *http.Client
	// Now reads the time a Retry-After date is counted from; nil means time.Now.
	Now func() time.Time
	// InsecureAllowHTTP lets the gateway send to an http:// URL, which carries the token and
	// the message in the clear. Only for tests and loopback providers.
	InsecureAllowHTTP bool
}

// SMSGateway is a generic HTTP SMS provider: it POSTs each message, as JSON or a form, to one
// URL with a bearer token or basic authentication, and an Idempotency-Key header holding the
// notification's ID (which providers that keep such keys use to drop a repeated request).
// It is immutable and safe for concurrent use.
//
// A 2xx answer is an accepted message. 429, 408 and 5xx are tried again later, after the
// provider's Retry-After when it sends one (ErrTemporary); a redirect and any other status are
// permanent failures (ErrPermanent); an error of the network is tried again. The provider's
// answer is read up to limits.MaxWebhookResponse and then dropped; it never reaches an error.
type SMSGateway struct {
	url       string
	format    SMSFormat
	fields    SMSFields
	from      string
	auth      string // the Authorization header
	client    *http.Client
	now       func() time.Time
	allowHTTP bool
}

// NewSMSGateway returns a generic HTTP SMS provider.
func NewSMSGateway(cfg SMSGatewayConfig) (*SMSGateway, error) {
	g := &SMSGateway{url: cfg.URL, format: cfg.Format, fields: cfg.Fields, from: cfg.From, now: cfg.Now, allowHTTP: cfg.InsecureAllowHTTP}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: an SMS gateway needs an absolute URL", ErrConfig)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !g.allowHTTP) {
		return nil, fmt.Errorf("%w: an SMS gateway URL must be https", ErrConfig)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: credentials in an SMS gateway URL: give them as Username and Password", ErrConfig)
	}
	switch g.format {
	case "":
		g.format = SMSJSON
	case SMSJSON, SMSForm:
	default:
		return nil, fmt.Errorf("%w: an SMS gateway format is json or form", ErrConfig)
	}
	def := func(name *string, d string) {
		if *name == "" {
			*name = d
		}
	}
	def(&g.fields.To, "to")
	def(&g.fields.Text, "text")
	def(&g.fields.ID, "id")
	def(&g.fields.Reference, "reference")
	def(&g.fields.From, "from")
	if g.fields.To == "-" || g.fields.Text == "-" {
		return nil, fmt.Errorf("%w: an SMS gateway always sends the number and the text", ErrConfig)
	}
	seen := map[string]bool{}
	for _, f := range []string{g.fields.To, g.fields.Text, g.fields.ID, g.fields.Reference, g.fields.From} {
		if f != "-" && seen[f] {
			return nil, fmt.Errorf("%w: two SMS gateway fields named %q", ErrConfig, f)
		}
		seen[f] = true
	}
	basic := cfg.Username != "" || cfg.Password != ""
	switch {
	case cfg.BearerToken != "" && basic:
		return nil, fmt.Errorf("%w: an SMS gateway takes a bearer token or a username and password, not both", ErrConfig)
	case cfg.BearerToken != "":
		if strings.ContainsFunc(cfg.BearerToken, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			return nil, fmt.Errorf("%w: an SMS gateway bearer token is printable ASCII without spaces", ErrConfig)
		}
		g.auth = "Bearer " + cfg.BearerToken
	case basic:
		if cfg.Username == "" || cfg.Password == "" || strings.Contains(cfg.Username, ":") {
			return nil, fmt.Errorf("%w: an SMS gateway's basic authentication needs a username without ':' and a password", ErrConfig)
		}
		r, _ := http.NewRequest(http.MethodPost, "https://gateway.invalid/", nil)
		r.SetBasicAuth(cfg.Username, cfg.Password)
		g.auth = r.Header.Get("Authorization")
	default:
		return nil, fmt.Errorf("%w: an SMS gateway needs a bearer token or a username and password", ErrConfig)
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
	g.client = c
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

// SendSMS POSTs one message to the gateway.
func (g *SMSGateway) SendSMS(ctx context.Context, m *SMSMessage) error {
	values := [][2]string{{g.fields.To, m.To}, {g.fields.Text, m.Text}, {g.fields.ID, m.ID}}
	if m.Reference != "" {
		values = append(values, [2]string{g.fields.Reference, m.Reference})
	}
	if g.from != "" {
		values = append(values, [2]string{g.fields.From, g.from})
	}
	var body []byte
	var ctype string
	switch g.format {
	case SMSForm:
		form := url.Values{}
		for _, v := range values {
			if v[0] != "-" {
				form.Set(v[0], v[1])
			}
		}
		body, ctype = []byte(form.Encode()), "application/x-www-form-urlencoded"
	default:
		obj := map[string]string{}
		for _, v := range values {
			if v[0] != "-" {
				obj[v[0]] = v[1]
			}
		}
		var err error
		if body, err = json.Marshal(obj); err != nil {
			return err
		}
		ctype = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dpi-notify")
	req.Header.Set("Authorization", g.auth)
	req.Header.Set("Idempotency-Key", m.ID)
	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// url.Error repeats the URL, which may hold a key: keep what went wrong only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: sms gateway request: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limits.MaxWebhookResponse))
	resp.Body.Close()
	// A provider has no endpoint to disable per number: 410 is refused like any other 4xx.
	err = classify(resp, g.now())
	if errors.Is(err, ErrEndpointGone) {
		return &Error{Check: "http status", Reason: "410 Gone", Err: ErrPermanent}
	}
	return err
}
