package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// smtpServer is the script of a real SMTP server, aiosmtpd (Debian's python3-aiosmtpd), on
// loopback. Mode starttls offers STARTTLS and refuses mail before it; implicit speaks TLS from
// the first byte; plain offers no TLS at all. It takes AUTH PLAIN with the user and password
// given (over TLS only), refuses recipients whose local part starts with "perm" (550) or
// "temp" (451), and writes each message it accepts, as received, to OUTDIR/N.eml, with
// N.json: what Python's email package (policy strict, which raises on any defect) makes of
// it. It prints its port when it listens, and stops when its standard input closes.
const smtpServer = `
import asyncio, email, email.policy, json, os, socket, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, certfile, keyfile, outdir, user, password = sys.argv[1:7]
ctx = None
if mode != 'plain':
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False)

def defects_of(msg):
    out = [repr(d) for d in msg.defects]
    for name, value in msg.items():
        out += ['%s: %r' % (name, d) for d in getattr(value, 'defects', ())]
    return out

class Handler:
    n = 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@', 1)[0]
        if local.startswith('perm'):
            return '550 5.1.1 <%s>: mailbox unavailable' % address
        if local.startswith('temp'):
            return '451 4.3.0 <%s>: try again later' % address
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 OK'
    async def handle_DATA(self, server, session, envelope):
        Handler.n += 1
        raw = envelope.original_content
        rep = {'tls': server.transport.get_extra_info('ssl_object') is not None, 'auth': bool(session.authenticated),
               'mailFrom': envelope.mail_from, 'rcptTos': envelope.rcpt_tos, 'defects': []}
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.strict)
            rep['subject'] = str(msg['subject']) if msg['subject'] is not None else None
            for h in ('from', 'to', 'message-id', 'dpi-notification-id', 'mime-version', 'auto-submitted'):
                rep[h] = str(msg[h])
            rep['date'] = msg['date'].datetime.isoformat()
            rep['contentType'] = msg.get_content_type()
            rep['parts'] = []
            rep['defects'] += defects_of(msg)
            for part in msg.walk():
                if part is not msg:
                    rep['defects'] += defects_of(part)
                if part.is_multipart():
                    continue
                rep['parts'].append({'type': part.get_content_type(), 'charset': part.get_content_charset(),
                                     'encoding': part.get('content-transfer-encoding'), 'content': part.get_content()})
            body = msg.get_body(preferencelist=('plain',))
            rep['plain'] = body.get_content() if body is not None else None
            body = msg.get_body(preferencelist=('html',))
            rep['html'] = body.get_content() if body is not None else None
        except Exception as e:
            rep['error'] = repr(e)
        with open(os.path.join(outdir, '%d.eml' % Handler.n), 'wb') as f:
            f.write(raw)
        with open(os.path.join(outdir, '%d.json' % Handler.n), 'w') as f:
            json.dump(rep, f)
        return '250 2.0.0 OK: queued'

def factory():
    return SMTP(Handler(), hostname='mx.test', decode_data=False, authenticator=authenticator,
                tls_context=ctx if mode == 'starttls' else None, require_starttls=(mode == 'starttls'),
                auth_require_tls=(mode != 'implicit'))

async def main():
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    server = await loop.create_server(factory, sock=sock, ssl=ctx if mode == 'implicit' else None)
    print(sock.getsockname()[1], flush=True)
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or (sys.stdin.buffer.read1(4096) or stop.set_result(None)))
    await stop
    server.close()

asyncio.run(main())
`

// testSMTP is a running smtpServer.
type testSMTP struct {
	port  int
	dir   string
	roots *x509.CertPool
}

const (
	smtpUser     = "agency"
	smtpPassword = "s3cret-Passw0rd"
)

// startSMTP starts smtpServer in mode, with a TLS certificate for 127.0.0.1 and localhost
// issued by a dpitest PKI, and stops it when the test ends.
func startSMTP(t *testing.T, mode string) *testSMTP {
	t.Helper()
	py := testenv.PythonModule(t, "aiosmtpd")
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "mx.test", Usage: dpitest.UsageTLS})
	require.NoError(t, err)
	dir := t.TempDir()
	var chain []byte
	for _, c := range cred.Chain {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cred.Key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, chain, 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	out := filepath.Join(dir, "mail")
	require.NoError(t, os.Mkdir(out, 0o700))

	cmd := exec.Command(py, "-c", smtpServer, mode, certFile, keyFile, out, smtpUser, smtpPassword)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Logf("smtp server: %v\n%s", err, stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the SMTP server did not start: %s", stderr.String())
	port, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return &testSMTP{port: port, dir: out, roots: pki.Pool()}
}

// config is an email channel's configuration for the server: STARTTLS (or implicit TLS) with
// the test PKI's root, and the server's user and password.
func (s *testSMTP) config() notify.EmailConfig {
	return notify.EmailConfig{
		Host: "127.0.0.1", Port: s.port, From: "Agência Nacional <noreply@agency.example>",
		Username: smtpUser, Password: smtpPassword, TLS: &tls.Config{RootCAs: s.roots},
	}
}

// received is one message the server accepted: its bytes, and Python's report of it.
type received struct {
	raw    []byte
	report struct {
		TLS          bool     `json:"tls"`
		Auth         bool     `json:"auth"`
		MailFrom     string   `json:"mailFrom"`
		RcptTos      []string `json:"rcptTos"`
		Error        string   `json:"error"`
		Defects      []string `json:"defects"`
		Subject      *string  `json:"subject"`
		From         string   `json:"from"`
		To           string   `json:"to"`
		MessageID    string   `json:"message-id"`
		Notification string   `json:"dpi-notification-id"`
		MIMEVersion  string   `json:"mime-version"`
		AutoSubmit   string   `json:"auto-submitted"`
		Date         string   `json:"date"`
		ContentType  string   `json:"contentType"`
		Plain        *string  `json:"plain"`
		HTML         *string  `json:"html"`
		Parts        []struct {
			Type     string `json:"type"`
			Charset  string `json:"charset"`
			Encoding string `json:"encoding"`
		} `json:"parts"`
	}
}

// messages returns what the server accepted, in order.
func (s *testSMTP) messages(t *testing.T) []*received {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(s.dir, "*.eml"))
	require.NoError(t, err)
	sort.Slice(names, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(names[i]), ".eml"))
		b, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(names[j]), ".eml"))
		return a < b
	})
	var out []*received
	for _, n := range names {
		r := &received{}
		r.raw, err = os.ReadFile(n)
		require.NoError(t, err)
		rep, err := os.ReadFile(strings.TrimSuffix(n, ".eml") + ".json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(rep, &r.report))
		out = append(out, r)
	}
	return out
}

// goParsed is a message as Go's net/mail and mime/multipart read it.
type goParsed struct {
	header  mail.Header
	subject string
	text    string
	html    string
}

// parseWithGo reads a message with net/mail, decodes its subject (RFC 2047) and walks its
// MIME body with mime/multipart, decoding each quoted-printable part strictly.
func parseWithGo(t *testing.T, raw []byte) *goParsed {
	t.Helper()
	for i, line := range strings.Split(string(raw), "\r\n") {
		require.LessOrEqual(t, len(line), 998, "line %d is longer than RFC 5322 allows", i)
		require.NotContains(t, line, "\n", "a bare LF in line %d", i)
		for _, r := range line {
			require.True(t, r < 0x80, "line %d is not 7-bit: %q", i, line)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	p := &goParsed{header: m.Header}
	var dec mime.WordDecoder
	p.subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	for _, line := range strings.Split(rawHeader(raw, "Subject"), "\r\n") {
		assert.LessOrEqual(t, len(line), 78, "a Subject line longer than 78 characters")
	}
	_, err = mail.ParseDate(m.Header.Get("Date"))
	require.NoError(t, err)
	assert.Equal(t, "1.0", m.Header.Get("MIME-Version"))
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	decode := func(r io.Reader, cte string) string {
		require.Equal(t, "quoted-printable", cte)
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		require.NoError(t, err)
		return strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if mt == "text/plain" {
		p.text = decode(m.Body, m.Header.Get("Content-Transfer-Encoding"))
		return p
	}
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		pt, pp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(t, err)
		assert.Equal(t, "utf-8", pp["charset"])
		switch pt {
		case "text/plain":
			p.text = decode(part, part.Header.Get("Content-Transfer-Encoding"))
		case "text/html":
			p.html = decode(part, part.Header.Get("Content-Transfer-Encoding"))
		default:
			t.Fatalf("unexpected part %s", pt)
		}
	}
	return p
}

// crlf turns the message's line breaks, which Python's get_content keeps, into the
// template's.
func crlf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// rawHeader returns a header field's value as written, folding included.
func rawHeader(raw []byte, name string) string {
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, name+": ") {
			v := l
			for _, c := range lines[i+1:] {
				if c == "" || (c[0] != ' ' && c[0] != '\t') {
					break
				}
				v += "\r\n" + c
			}
			return v
		}
	}
	return ""
}

// emailOutbox opens an outbox on a fresh SQLite database with one email channel.
func emailOutbox(t *testing.T, ch *notify.Email, schedule []time.Duration) *notify.Outbox {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	o, err := notify.Open(context.Background(), db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{ch}, Schedule: schedule})
	require.NoError(t, err)
	return o
}

func emailTemplate(t *testing.T, src string) *notify.Template {
	t.Helper()
	tmpl, err := notify.ParseTemplate(notify.EmailTemplate, src)
	require.NoError(t, err)
	return tmpl
}

// TestEmailDelivered: notifications go through the outbox and a dispatcher to a real SMTP
// server over STARTTLS with AUTH PLAIN, and what the server received is valid MIME to Go's
// net/mail and mime/multipart and to Python's email package in strict mode: the subject
// (plain, long, non-ASCII, long and non-ASCII), the plain text, the HTML with every value
// escaped, the Message-ID and notification ID headers.
func TestEmailDelivered(t *testing.T) {
	srv := startSMTP(t, "starttls")
	ch, err := notify.NewEmail(srv.config())
	require.NoError(t, err)
	o := emailOutbox(t, ch, nil)
	ctx := context.Background()

	body := "Dear ((name)),\n\nYour application ((ref)) was ((decision)). Bring:\n\n((documents))\n\n" +
		"A line of more than seventy-six characters, which quoted-printable must soft-break somewhere in the middle of it.\n" +
		"=?utf-8?q?not_an_encoded_word?= and a lone dot follows:\n.\nThe end."
	subjects := []struct{ name, tmpl, want string }{
		{"ascii", "Subject: Your application ((ref))", "Your application A-42"},
		{"non-ascii", "Subject: Decisão sobre o seu pedido ((ref)) — ação necessária", "Decisão sobre o seu pedido A-42 — ação necessária"},
		{"long ascii", "Subject: " + strings.Repeat("Housing benefit decision ", 12) + "((ref))",
			strings.Repeat("Housing benefit decision ", 12) + "A-42"},
		{"long non-ascii", "Subject: " + strings.Repeat("Notificação eletrônica ", 20) + "((ref)) 🏠", strings.Repeat("Notificação eletrônica ", 20) + "A-42 🏠"},
		{"encoded-word lookalike", "Subject: =?utf-8?q?hello?= ((ref))", "=?utf-8?q?hello?= A-42"},
	}
	ids := map[string]string{}
	for _, s := range subjects {
		id, err := o.Send(ctx, notify.Message{
			Channel: "email", To: "ana.souza@example.org", Template: emailTemplate(t, s.tmpl+"\n"+body), Reference: "A-42",
			Personalisation: map[string]any{"name": "Ana <Souza> & co", "ref": "A-42", "decision": "approved",
				"documents": []string{"your ID card", "a bill <with> your address"}},
		})
		require.NoError(t, err)
		ids[s.name] = id
	}
	require.NoError(t, dispatcher(t, o, 2).RunUntilEmpty(ctx))

	msgs := srv.messages(t)
	require.Len(t, msgs, len(subjects))
	byID := map[string]*received{}
	for _, m := range msgs {
		byID[m.report.Notification] = m
	}
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			id := ids[s.name]
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, notify.Delivered, n.Status, n.Reason)
			m := byID[id]
			require.NotNil(t, m, "the server received notification %s", id)

			// Python's email package, strict.
			rep := m.report
			require.Empty(t, rep.Error)
			assert.Empty(t, rep.Defects)
			assert.True(t, rep.TLS, "STARTTLS before the message")
			assert.True(t, rep.Auth, "AUTH PLAIN before the message")
			assert.Equal(t, "noreply@agency.example", rep.MailFrom)
			assert.Equal(t, []string{"ana.souza@example.org"}, rep.RcptTos)
			require.NotNil(t, rep.Subject)
			assert.Equal(t, s.want, *rep.Subject)
			assert.Equal(t, "Agência Nacional <noreply@agency.example>", rep.From)
			assert.Equal(t, "ana.souza@example.org", rep.To)
			assert.Equal(t, "<"+id+"@agency.example>", rep.MessageID)
			assert.Equal(t, id, rep.Notification)
			assert.Equal(t, "1.0", rep.MIMEVersion)
			assert.Equal(t, "auto-generated", rep.AutoSubmit)
			assert.Equal(t, "multipart/alternative", rep.ContentType)
			require.Len(t, rep.Parts, 2)
			assert.Equal(t, "text/plain", rep.Parts[0].Type)
			assert.Equal(t, "text/html", rep.Parts[1].Type)
			for _, p := range rep.Parts {
				assert.Equal(t, "utf-8", p.Charset)
				assert.Equal(t, "quoted-printable", p.Encoding)
			}
			require.NotNil(t, rep.Plain)
			require.NotNil(t, rep.HTML)
			assert.Equal(t, n.Content.Text+"\n", crlf(*rep.Plain))
			assert.Contains(t, crlf(*rep.HTML), n.Content.HTML)
			date, err := time.Parse(time.RFC3339, rep.Date)
			require.NoError(t, err)
			assert.True(t, date.Equal(n.Created.Truncate(time.Second)), "Date is the notification's creation time")

			// Go's net/mail and mime/multipart.
			g := parseWithGo(t, m.raw)
			assert.Equal(t, s.want, g.subject)
			assert.Equal(t, n.Content.Text+"\n", g.text)
			assert.Contains(t, g.html, n.Content.HTML)
			assert.Contains(t, g.html, "Ana &lt;Souza&gt; &amp; co")
			assert.NotContains(t, g.html, "<Souza>")
			assert.Contains(t, g.text, "\n.\n", "a lone dot survives (dot-stuffing)")
			from, err := mail.ParseAddress(g.header.Get("From"))
			require.NoError(t, err)
			assert.Equal(t, "Agência Nacional", from.Name)
			assert.Equal(t, "<"+id+"@agency.example>", g.header.Get("Message-ID"))
			assert.Equal(t, id, g.header.Get(notify.HeaderNotificationID))
		})
	}
}

// TestEmailRetrySameBytes: every attempt of one notification sends the same message, so a
// receiver drops a copy by its Message-ID.
func TestEmailRetrySameBytes(t *testing.T) {
	srv := startSMTP(t, "starttls")
	ch, err := notify.NewEmail(srv.config())
	require.NoError(t, err)
	d := &notify.Delivery{ID: "ntf_retry", Attempt: 1, To: "ana@example.org", Reference: "A-1",
		Content: notify.Content{Subject: "Ação", Text: "Olá", HTML: "<p>Olá</p>\n"}, Created: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	require.NoError(t, ch.Deliver(context.Background(), d))
	d.Attempt = 2
	require.NoError(t, ch.Deliver(context.Background(), d))
	msgs := srv.messages(t)
	require.Len(t, msgs, 2)
	assert.Equal(t, msgs[0].raw, msgs[1].raw)
	assert.Contains(t, string(msgs[0].raw), "Date: Sun, 01 Mar 2026 09:00:00 +0000\r\n")
}

// TestEmailTextOnly: content without HTML (a text template) is a single text/plain part, and
// a message without a subject has no Subject field.
func TestEmailTextOnly(t *testing.T) {
	srv := startSMTP(t, "starttls")
	ch, err := notify.NewEmail(srv.config())
	require.NoError(t, err)
	d := &notify.Delivery{ID: "ntf_text", Attempt: 1, To: "ana@example.org", Content: notify.Content{Text: "Olá, Ana.\nAté logo."}, Created: time.Now()}
	require.NoError(t, ch.Deliver(context.Background(), d))
	msgs := srv.messages(t)
	require.Len(t, msgs, 1)
	rep := msgs[0].report
	require.Empty(t, rep.Error)
	assert.Empty(t, rep.Defects)
	assert.Nil(t, rep.Subject)
	assert.Equal(t, "text/plain", rep.ContentType)
	require.NotNil(t, rep.Plain)
	assert.Equal(t, "Olá, Ana.\nAté logo.\n", crlf(*rep.Plain))
	g := parseWithGo(t, msgs[0].raw)
	assert.Equal(t, "Olá, Ana.\nAté logo.\n", g.text)
}

// TestEmailFailures: the server's replies decide the outcome (5xx permanent, 4xx temporary,
// RFC 5321 §4.2.1), and the reason keeps the codes but not the server's text, which repeats
// the recipient's address.
func TestEmailFailures(t *testing.T) {
	srv := startSMTP(t, "starttls")
	ctx := context.Background()
	tmpl := emailTemplate(t, "Subject: Decision\nYour application was decided.")
	tests := []struct {
		name   string
		cfg    func(*notify.EmailConfig)
		to     string
		status notify.Status
		reason string
	}{
		{name: "recipient refused", to: "perm.ana@example.org", status: notify.PermanentFailure, reason: "rcpt: 550 5.1.1"},
		{name: "recipient deferred", to: "temp.ana@example.org", status: notify.TemporaryFailure, reason: "rcpt: 451 4.3.0"},
		{name: "wrong password", cfg: func(c *notify.EmailConfig) { c.Password = "wrong" }, to: "ana@example.org",
			status: notify.PermanentFailure, reason: "auth: 535 5.7.8"},
		{name: "no authentication", cfg: func(c *notify.EmailConfig) { c.Username, c.Password = "", "" }, to: "ana@example.org",
			status: notify.Delivered},
		{name: "certificate of an unknown CA", cfg: func(c *notify.EmailConfig) { c.TLS = &tls.Config{RootCAs: x509.NewCertPool()} },
			to: "ana@example.org", status: notify.TechnicalFailure, reason: "certificate signed by unknown authority"},
		{name: "certificate for another name", cfg: func(c *notify.EmailConfig) { c.TLS = &tls.Config{RootCAs: srv.roots, ServerName: "mx.other.test"} },
			to: "ana@example.org", status: notify.TechnicalFailure, reason: "mx.other.test"},
		{name: "nobody listening", cfg: func(c *notify.EmailConfig) { c.Port = closedPort(t) }, to: "ana@example.org",
			status: notify.TechnicalFailure, reason: "connect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			ch, err := notify.NewEmail(cfg)
			require.NoError(t, err)
			o := emailOutbox(t, ch, []time.Duration{0, 0})
			id, err := o.Send(ctx, notify.Message{Channel: "email", To: tc.to, Template: tmpl})
			require.NoError(t, err)
			require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, tc.status, n.Status, n.Reason)
			assert.Contains(t, n.Reason, tc.reason)
			assert.NotContains(t, n.Reason, "@", "no address in the reason")
			assert.NotContains(t, n.Reason, smtpPassword)
			hist, err := o.History(ctx, id)
			require.NoError(t, err)
			for _, ev := range hist {
				assert.NotContains(t, ev.Reason, "@", "no address in the evidence")
			}
		})
	}
	for _, m := range srv.messages(t) {
		assert.True(t, m.report.TLS)
	}
}

// closedPort returns a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// TestEmailNoSTARTTLS: a server that offers no STARTTLS gets nothing, unless the loud
// opt-out says so; implicit TLS works too.
func TestEmailNoSTARTTLS(t *testing.T) {
	ctx := context.Background()
	d := &notify.Delivery{ID: "ntf_plain", Attempt: 1, To: "ana@example.org", Content: notify.Content{Subject: "S", Text: "T", HTML: "<p>T</p>\n"}, Created: time.Now()}

	plain := startSMTP(t, "plain")
	cfg := plain.config()
	cfg.Username, cfg.Password = "", ""
	ch, err := notify.NewEmail(cfg)
	require.NoError(t, err)
	err = ch.Deliver(ctx, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not offer STARTTLS")
	assert.False(t, errors.Is(err, notify.ErrPermanent) || errors.Is(err, notify.ErrTemporary), "tried again: the next attempt may reach the real server")
	assert.Empty(t, plain.messages(t), "nothing was sent in the clear")

	cfg.InsecureAllowPlaintext = true
	ch, err = notify.NewEmail(cfg)
	require.NoError(t, err)
	require.NoError(t, ch.Deliver(ctx, d))
	msgs := plain.messages(t)
	require.Len(t, msgs, 1)
	assert.False(t, msgs[0].report.TLS)

	implicit := startSMTP(t, "implicit")
	cfg = implicit.config()
	cfg.ImplicitTLS = true
	ch, err = notify.NewEmail(cfg)
	require.NoError(t, err)
	require.NoError(t, ch.Deliver(ctx, d))
	msgs = implicit.messages(t)
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].report.TLS)
	assert.True(t, msgs[0].report.Auth)
	assert.Empty(t, msgs[0].report.Defects)
}

// TestEmailCancelled: an attempt ends when its context does, even mid-dialogue.
func TestEmailCancelled(t *testing.T) {
	srv := startSMTP(t, "starttls")
	ch, err := notify.NewEmail(srv.config())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ch.Deliver(ctx, &notify.Delivery{ID: "ntf_c", Attempt: 1, To: "ana@example.org", Content: notify.Content{Text: "T"}, Created: time.Now()})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestEmailConfigRefused(t *testing.T) {
	ok := notify.EmailConfig{Host: "smtp.agency.example", From: "noreply@agency.example"}
	tests := []struct {
		name string
		edit func(*notify.EmailConfig)
	}{
		{"no host", func(c *notify.EmailConfig) { c.Host = "" }},
		{"host with a path", func(c *notify.EmailConfig) { c.Host = "smtp.example/x" }},
		{"no from", func(c *notify.EmailConfig) { c.From = "" }},
		{"from not an address", func(c *notify.EmailConfig) { c.From = "agency" }},
		{"from not ASCII", func(c *notify.EmailConfig) { c.From = "agência@agency.example" }},
		{"port out of range", func(c *notify.EmailConfig) { c.Port = 70000 }},
		{"user without password", func(c *notify.EmailConfig) { c.Username = "u" }},
		{"password without user", func(c *notify.EmailConfig) { c.Password = smtpPassword }},
		{"password in the clear", func(c *notify.EmailConfig) {
			c.Username, c.Password, c.InsecureAllowPlaintext = "u", smtpPassword, true
		}},
		{"plaintext and implicit TLS", func(c *notify.EmailConfig) { c.InsecureAllowPlaintext, c.ImplicitTLS = true, true }},
		{"certificate not verified", func(c *notify.EmailConfig) { c.TLS = &tls.Config{InsecureSkipVerify: true} }},
		{"EHLO name with a space", func(c *notify.EmailConfig) { c.HelloName = "a b" }},
		{"bad channel name", func(c *notify.EmailConfig) { c.Name = "E-Mail" }},
		{"negative timeout", func(c *notify.EmailConfig) { c.Timeout = -time.Second }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			_, err := notify.NewEmail(c)
			require.ErrorIs(t, err, notify.ErrConfig)
			if c.Password != "" {
				assert.NotContains(t, err.Error(), c.Password)
			}
		})
	}
	ch, err := notify.NewEmail(ok)
	require.NoError(t, err)
	assert.Equal(t, "email", ch.Name())
}

func TestEmailCheckAddress(t *testing.T) {
	ch, err := notify.NewEmail(notify.EmailConfig{Host: "smtp.agency.example", From: "noreply@agency.example"})
	require.NoError(t, err)
	for _, a := range []string{"ana@example.org", "ana.souza+benefits@mail.example.org", "a@localhost"} {
		assert.NoError(t, ch.CheckAddress(a), a)
	}
	for _, a := range []string{"", "ana", "ana@", "@example.org", "Ana <ana@example.org>", "ana@example.org, bia@example.org",
		"ana@exämple.org", "ána@example.org", "ana@example.org\r\nBcc: x@example.org", " ana@example.org"} {
		err := ch.CheckAddress(a)
		assert.ErrorIs(t, err, notify.ErrInput, "%q", a)
	}
}

// lockedBuffer collects a child process's stderr, which the process writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
