package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Ports of mail submission (RFC 8314 §3.3, RFC 6409 §3.1).
const (
	// DefaultSMTPPort is where a submission server takes STARTTLS.
	DefaultSMTPPort = 587
	// DefaultSMTPSPort is where a submission server takes implicit TLS.
	DefaultSMTPSPort = 465
)

// DefaultSMTPTimeout bounds one delivery by email when EmailConfig.Timeout is zero: the
// connection, the TLS handshake and the whole SMTP dialogue.
const DefaultSMTPTimeout = time.Minute

// Connection reuse when EmailConfig leaves it at zero: as many idle connections as a
// dispatcher has workers by default, each kept well under the five minutes a server waits
// for a command (RFC 5321 §4.5.3.2.7).
const (
	// DefaultSMTPMaxIdleConns is how many idle connections an email channel keeps.
	DefaultSMTPMaxIdleConns = 4
	// DefaultSMTPIdleTimeout is how long an email channel keeps an idle connection.
	DefaultSMTPIdleTimeout = 30 * time.Second
)

// HeaderNotificationID is the header of an email that carries the notification's ID, the
// same on every attempt. It has no "X-" prefix, as RFC 6648 asks of new header fields, and
// names dpi so that it will not meet a standard one.
const HeaderNotificationID = "Dpi-Notification-ID"

// EmailConfig configures an email channel. Host and From are required; the zero value of
// every other field is safe: STARTTLS required, the server's certificate checked against the
// system's roots.
type EmailConfig struct {
	// Name is the channel's name in Message.Channel; empty means "email".
	Name string
	// Host is the SMTP submission server's name (or address), which its certificate must
	// name unless TLS.ServerName says otherwise.
	Host string
	// Port is the server's port; zero means DefaultSMTPPort, or DefaultSMTPSPort with
	// ImplicitTLS.
	Port int
	// From is the sender, an address with an optional display name ("Agency
	// <noreply@agency.example>"); it is also the envelope sender (MAIL FROM) and its domain
	// names the Message-ID.
	From string
	// Username and Password authenticate with AUTH PLAIN (RFC 4616), only ever over TLS.
	// Both or neither.
	Username string
	Password string
	// TLS configures the connection's TLS: RootCAs for a server with a private CA, and a
	// ServerName other than Host. Nil means the system's roots and Host. Versions below
	// TLS 1.2 are refused.
	TLS *tls.Config
	// ImplicitTLS connects with TLS from the first byte (port 465, RFC 8314 §3.3), instead of
	// upgrading a plain connection with STARTTLS (RFC 3207).
	ImplicitTLS bool
	// HelloName is the name the channel gives in EHLO; empty means "localhost".
	HelloName string
	// Timeout bounds one delivery; zero means DefaultSMTPTimeout.
	Timeout time.Duration
	// InsecureAllowPlaintext sends the message in the clear, readable and changeable by
	// anyone on the path, when the server does not offer STARTTLS. Only for tests and a relay
	// on loopback; a Password is refused with it.
	InsecureAllowPlaintext bool
	// MaxIdleConns caps the connections the channel keeps open between deliveries, to send
	// the next messages on; zero means DefaultSMTPMaxIdleConns, and -1 keeps none: every
	// delivery opens a connection of its own and closes it. At most
	// limits.MaxNotifyWorkers.
	MaxIdleConns int
	// IdleTimeout is how long an idle connection is kept; zero means
	// DefaultSMTPIdleTimeout. A server that closes it sooner costs a failed RSET, and the
	// message goes on a fresh connection.
	IdleTimeout time.Duration
}

// Email is a channel that sends each notification as an email to the address in Message.To,
// through an SMTP submission server (RFC 5321, RFC 6409). Its configuration is immutable,
// and it is safe for concurrent use.
//
// The connection is TLS: STARTTLS (RFC 3207), which the server must offer, or implicit TLS;
// nothing is sent in the clear unless EmailConfig.InsecureAllowPlaintext says so. The message
// is MIME (RFC 2045, RFC 2046): multipart/alternative with the plain text and the HTML of
// the rendered content, each quoted-printable in UTF-8, a Subject in RFC 2047 encoded words
// when it is not plain ASCII, and the notification's ID in the Message-ID and in a
// Dpi-Notification-ID header. Every attempt sends the same bytes (the Date is the
// notification's creation time), so a receiver that drops a Message-ID it has seen drops
// the copy that an interrupted attempt makes (RFC 5321 §4.1.5 warns of it).
//
// An address is ASCII or, with SMTPUTF8 (RFC 6531), UTF-8: a message to a non-ASCII address
// such as josé@correo.example goes with MAIL FROM's SMTPUTF8 parameter and the address in
// its To field as written (RFC 6532), when the server offers SMTPUTF8; when it does not, the
// delivery fails permanently with an *Error whose Check is "smtputf8", and nothing is sent.
// A message to an ASCII address never asks for SMTPUTF8, so that a relay further on that
// lacks it does not bounce it; its Subject and the sender's name stay RFC 2047 encoded
// words either way.
//
// Connections are reused: after a delivery the connection waits, up to
// EmailConfig.MaxIdleConns of them for at most EmailConfig.IdleTimeout, for the next
// delivery, which starts with RSET. A connection whose RSET (or MAIL) finds it closed by the
// server is dropped and the message goes on another, or on a fresh one: that is not a
// failed delivery. A connection that fails in any other way than a 4xx or 5xx reply is
// closed, never reused. CloseIdleConnections closes the idle ones.
//
// An SMTP reply of 5xx is a permanent failure (ErrPermanent), 4xx a temporary one
// (ErrTemporary), as RFC 5321 §4.2.1 defines them; a connection that fails, a certificate
// that does not verify, or a server that does not offer STARTTLS is tried again. A failure's
// reason keeps the reply code and its enhanced status code (RFC 3463), never the server's
// text, which often repeats the recipient's address.
type Email struct {
	name      string
	addr      string // host:port
	host      string
	from      *mail.Address
	domain    string // of From, for Message-IDs
	user      string
	password  string
	tls       *tls.Config
	implicit  bool
	hello     string
	timeout   time.Duration
	plaintext bool
	pool      *smtpPool
}

var (
	_ Channel        = (*Email)(nil)
	_ AddressChecker = (*Email)(nil)
)

// NewEmail returns an email channel.
func NewEmail(cfg EmailConfig) (*Email, error) {
	e := &Email{name: cfg.Name, host: cfg.Host, user: cfg.Username, password: cfg.Password, implicit: cfg.ImplicitTLS,
		hello: cfg.HelloName, timeout: cfg.Timeout, plaintext: cfg.InsecureAllowPlaintext}
	if e.name == "" {
		e.name = "email"
	}
	if err := checkChannelName(e.name); err != nil {
		return nil, err
	}
	if e.host == "" || strings.ContainsAny(e.host, " \t\r\n/@") {
		return nil, fmt.Errorf("%w: an email channel needs the SMTP server's host name", ErrConfig)
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultSMTPPort
		if e.implicit {
			port = DefaultSMTPSPort
		}
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("%w: an SMTP port is 1 to 65535", ErrConfig)
	}
	e.addr = net.JoinHostPort(e.host, strconv.Itoa(port))
	from, err := mail.ParseAddress(cfg.From)
	if err != nil || checkEmailAddress(from.Address) != nil || !isASCII(from.Address) {
		return nil, fmt.Errorf("%w: the From address is not an ASCII email address, with an optional display name", ErrConfig)
	}
	e.from = from
	e.domain = strings.ToLower(from.Address[strings.LastIndexByte(from.Address, '@')+1:])
	if (e.user == "") != (e.password == "") {
		return nil, fmt.Errorf("%w: SMTP authentication needs both a username and a password", ErrConfig)
	}
	if strings.ContainsAny(e.user, "\x00\r\n") || strings.ContainsAny(e.password, "\x00\r\n") {
		return nil, fmt.Errorf("%w: an SMTP username or password holds NUL or a line break", ErrConfig)
	}
	if e.plaintext && e.implicit {
		return nil, fmt.Errorf("%w: InsecureAllowPlaintext contradicts ImplicitTLS", ErrConfig)
	}
	if e.plaintext && e.password != "" {
		return nil, fmt.Errorf("%w: a password is never sent in the clear: InsecureAllowPlaintext takes no credentials", ErrConfig)
	}
	if e.hello == "" {
		e.hello = "localhost"
	}
	if strings.ContainsFunc(e.hello, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return nil, fmt.Errorf("%w: the EHLO name is printable ASCII without spaces", ErrConfig)
	}
	if e.timeout == 0 {
		e.timeout = DefaultSMTPTimeout
	}
	if e.timeout < 0 {
		return nil, fmt.Errorf("%w: a negative SMTP timeout", ErrConfig)
	}
	e.pool = &smtpPool{max: cfg.MaxIdleConns, timeout: cfg.IdleTimeout}
	switch {
	case e.pool.max == 0:
		e.pool.max = DefaultSMTPMaxIdleConns
	case e.pool.max == -1:
		e.pool.max = 0
	case e.pool.max < -1 || e.pool.max > limits.MaxNotifyWorkers:
		return nil, fmt.Errorf("%w: MaxIdleConns is -1 (none) to %d", ErrConfig, limits.MaxNotifyWorkers)
	}
	if e.pool.timeout == 0 {
		e.pool.timeout = DefaultSMTPIdleTimeout
	}
	if e.pool.timeout < 0 {
		return nil, fmt.Errorf("%w: a negative SMTP idle timeout", ErrConfig)
	}
	e.tls = &tls.Config{}
	if cfg.TLS != nil {
		e.tls = cfg.TLS.Clone()
	}
	if e.tls.ServerName == "" {
		e.tls.ServerName = e.host
	}
	if e.tls.MinVersion < tls.VersionTLS12 {
		e.tls.MinVersion = tls.VersionTLS12
	}
	if e.tls.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: the SMTP server's certificate is always verified: give its CA in TLS.RootCAs", ErrConfig)
	}
	return e, nil
}

// Name returns the channel's name.
func (e *Email) Name() string { return e.name }

// CheckAddress accepts a bare email address (local-part@domain, no display name, no
// comment, no quoted local part) of at most 254 octets, in ASCII or in UTF-8 (RFC 6531 §3.3,
// in Unicode NFC as RFC 6532 §3.1 asks). Whether the server takes a non-ASCII address is
// known only when the channel connects to it.
func (e *Email) CheckAddress(to string) error {
	if err := checkEmailAddress(to); err != nil {
		return err
	}
	// Go's net/mail must read the To field as the same single address.
	if a, err := mail.ParseAddress(to); err != nil || a.Name != "" || a.Address != to {
		return fail(ErrInput, "address", "not a bare email address such as name@example.org")
	}
	return nil
}

// checkEmailAddress accepts a Mailbox of RFC 5321 §4.1.2 whose local part is a dot-atom,
// with the UTF-8 that RFC 6531 §3.3 adds to atext and to domain labels. It refuses every
// control, format, private-use and space character, so that an address can never end a
// header line or hide what it is.
func checkEmailAddress(a string) error {
	if len(a) > limits.MaxNotifyEmailAddress {
		return fail(ErrInput, "address", "an email address longer than %d octets", limits.MaxNotifyEmailAddress)
	}
	if !utf8.ValidString(a) {
		return fail(ErrInput, "address", "an email address that is not UTF-8")
	}
	if strings.ContainsFunc(a, forbiddenInAddress) {
		return fail(ErrInput, "address", "an email address holds a space, a line break or a control character")
	}
	at := strings.LastIndexByte(a, '@')
	if at < 1 || at == len(a)-1 {
		return fail(ErrInput, "address", "an email address is local-part@domain")
	}
	local, domain := a[:at], a[at+1:]
	if len(local) > limits.MaxNotifyEmailLocalPart {
		return fail(ErrInput, "address", "a local part longer than %d octets", limits.MaxNotifyEmailLocalPart)
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" || strings.ContainsFunc(atom, func(r rune) bool { return r < utf8.RuneSelf && !isAtext(byte(r)) }) {
			return fail(ErrInput, "address", "a local part is dot-separated atoms (RFC 5322 §3.2.3), unquoted")
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > limits.MaxNotifyEmailLabel || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.ContainsFunc(label, func(r rune) bool {
				if r < utf8.RuneSelf {
					return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
				}
				return !unicode.In(r, unicode.L, unicode.M, unicode.N)
			}) {
			return fail(ErrInput, "address", "a domain is dot-separated labels of letters, digits and inner hyphens")
		}
	}
	if !isASCII(a) && !norm.NFC.IsNormalString(a) {
		return fail(ErrInput, "address", "a non-ASCII email address not in Unicode NFC (RFC 6532 §3.1)")
	}
	return nil
}

// forbiddenInAddress reports a character an address must not hold: controls (CR and LF
// among them), format characters (bidirectional overrides, zero-width joiners), private
// use, and every kind of space.
func forbiddenInAddress(r rune) bool {
	return r <= ' ' || r == 0x7f || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Z)
}

// isAtext reports an ASCII atext character (RFC 5322 §3.2.3).
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Deliver sends the notification to d.To.
func (e *Email) Deliver(ctx context.Context, d *Delivery) error {
	if err := e.CheckAddress(d.To); err != nil {
		return &Error{Check: "address", Reason: "not an email address the channel can send to", Err: ErrPermanent}
	}
	msg, err := e.message(d)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	err = e.send(ctx, d.To, msg)
	if err != nil && ctx.Err() != nil {
		// The deadline cut the dialogue short: say so, rather than "i/o timeout".
		return fmt.Errorf("notify: smtp: %w", ctx.Err())
	}
	return err
}

// CloseIdleConnections closes the connections kept for the next deliveries, with QUIT. A
// delivery after it opens a new one.
func (e *Email) CloseIdleConnections() { e.pool.closeIdle() }

// smtpFailure classifies a failed step of the dialogue: a 5xx reply is permanent, a 4xx
// temporary (RFC 5321 §4.2.1), anything else (the network, TLS) a technical failure.
func smtpFailure(step string, err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return fmt.Errorf("notify: smtp %s: %w", step, err)
	}
	reason := step + ": " + strconv.Itoa(te.Code)
	// The enhanced status code (RFC 3463) starts the text; the rest is the server's, and
	// often repeats the recipient's address, which the evidence log must not keep.
	if f := strings.Fields(te.Msg); len(f) > 0 && enhancedStatus(f[0]) {
		reason += " " + f[0]
	}
	switch {
	case te.Code >= 500 && te.Code <= 599:
		return &Error{Check: "smtp reply", Reason: reason, Err: ErrPermanent}
	case te.Code >= 400 && te.Code <= 499:
		return &Error{Check: "smtp reply", Reason: reason, Err: ErrTemporary}
	}
	return fmt.Errorf("notify: smtp %s: unexpected reply %d", step, te.Code)
}

// enhancedStatus reports whether s is an enhanced status code, class.subject.detail
// (RFC 3463 §2).
func enhancedStatus(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// message writes the notification as an RFC 5322 message with a MIME body. It depends on the
// delivery only, so that every attempt sends the same bytes.
func (e *Email) message(d *Delivery) ([]byte, error) {
	if d.ID == "" || strings.ContainsFunc(d.ID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) {
		return nil, &Error{Check: "id", Reason: "a notification ID of letters, digits, '_' and '-'", Err: ErrPermanent}
	}
	if !utf8.ValidString(d.Content.Subject) || strings.ContainsAny(d.Content.Subject, "\r\n") {
		return nil, &Error{Check: "subject", Reason: "a subject of one line of UTF-8", Err: ErrPermanent}
	}
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("Date", d.Created.UTC().Format(time.RFC1123Z))
	header("From", e.from.String())
	header("To", d.To)
	if d.Content.Subject != "" {
		b.WriteString(subjectHeader(d.Content.Subject))
	}
	header("Message-ID", "<"+d.ID+"@"+e.domain+">")
	header(HeaderNotificationID, d.ID)
	// Automatic, so that vacation responders do not answer it (RFC 3834 §5).
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	if d.Content.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, d.Content.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	// "=_" never occurs in quoted-printable text, which writes '=' as "=3D": the boundary
	// cannot meet the content (RFC 2045 §6.7, RFC 2046 §5.1.1).
	if err := mw.SetBoundary("=_dpi_" + d.ID); err != nil {
		return nil, err
	}
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	page := "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + html.EscapeString(d.Content.Subject) +
		"</title>\n</head>\n<body>\n" + d.Content.HTML + "</body>\n</html>\n"
	// Least preferred first (RFC 2046 §5.1.4): the plain text, then the HTML.
	for _, p := range []struct{ typ, body string }{{"text/plain", d.Content.Text}, {"text/html", page}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, p.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeQP writes text quoted-printable, its lines ending in CRLF, and a final line break.
func writeQP(w io.Writer, text string) error {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	return qp.Close()
}

// subjectHeader writes the Subject field: as it is when it is short ASCII, folded at spaces
// when long, and otherwise as RFC 2047 encoded words (UTF-8, base64), each short enough for
// its line (§2: at most 75 characters a word, 76 a line) and on a folded line of its own.
func subjectHeader(s string) string {
	const name = "Subject: "
	plain := !strings.Contains(s, "=?") && !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' })
	if plain {
		var b strings.Builder
		b.WriteString(name)
		line := len(name)
		for i, w := range strings.Split(s, " ") {
			if len(w) > 76 {
				plain = false
				break
			}
			if i > 0 {
				if line+1+len(w) > 78 {
					b.WriteString("\r\n")
					line = 0
				}
				b.WriteString(" ")
				line++
			}
			b.WriteString(w)
			line += len(w)
		}
		if plain {
			return b.String() + "\r\n"
		}
	}
	// 39 bytes are 52 characters of base64, a word of 64 and a first line of 73.
	const chunk = 39
	var words []string
	for len(s) > 0 {
		n := min(chunk, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return name + strings.Join(words, "\r\n ") + "\r\n"
}
