package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
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
	"slices"
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
// the first byte; plain offers no TLS at all; "+smtputf8" after any of them offers SMTPUTF8
// (RFC 6531), and a message sent with it is read as UTF-8 (RFC 6532). It takes AUTH PLAIN with the user and password
// given (over TLS only), refuses recipients whose local part starts with "perm" (550) or
// "temp" (451), and writes each message it accepts, as received, to OUTDIR/N.eml, with
// N.json: what Python's email package (policy strict, which raises on any defect) makes of
// it, with the envelope, and which connection (numbered from 1) carried it. It prints its
// port when it listens; a line "drop" on its standard input closes every open connection
// and prints "dropped"; it stops when its standard input closes.
const smtpServer = `
import asyncio, email, email.errors, email.policy, json, os, socket, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, certfile, keyfile, outdir, user, password = sys.argv[1:7]
mode, _, ext = mode.partition('+')
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
        out += ['%s: %r' % (name, d) for d in getattr(value, 'defects', ())
                # Python's email reads RFC 6532 local parts but still calls them defects.
                if not isinstance(d, email.errors.NonASCIILocalPartDefect)]
    return out

class Session(SMTP):
    opened = 0
    live = set()
    def connection_made(self, transport):
        # STARTTLS calls it again, with the TLS transport, for the same connection.
        if not hasattr(self, 'number'):
            Session.opened += 1
            self.number = Session.opened
        Session.live.add(self)
        super().connection_made(transport)
    def connection_lost(self, exc):
        Session.live.discard(self)
        super().connection_lost(exc)

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
               'mailFrom': envelope.mail_from, 'rcptTos': envelope.rcpt_tos, 'defects': [],
               'mailOptions': envelope.mail_options, 'smtpUtf8': envelope.smtp_utf8,
               'conn': server.number, 'connections': Session.opened}
        try:
            if envelope.smtp_utf8:
                msg = email.message_from_string(raw.decode('utf-8'), policy=email.policy.strict)
            else:
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
    return Session(Handler(), hostname='mx.test', decode_data=False, authenticator=authenticator, enable_SMTPUTF8=(ext == 'smtputf8'),
                tls_context=ctx if mode == 'starttls' else None, require_starttls=(mode == 'starttls'),
                auth_require_tls=(mode != 'implicit'))

async def main():
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    server = await loop.create_server(factory, sock=sock, ssl=ctx if mode == 'implicit' else None)
    print(sock.getsockname()[1], flush=True)
    stop = loop.create_future()
    def command():
        line = sys.stdin.buffer.readline()
        if not line:
            stop.done() or stop.set_result(None)
        elif line.strip() == b'drop':
            for s in list(Session.live):
                s.transport.abort()
            print('dropped', flush=True)
    loop.add_reader(sys.stdin.fileno(), command)
    await stop
    server.close()

asyncio.run(main())
`

// testSMTP is a running smtpServer.
type testSMTP struct {
	port   int
	dir    string
	roots  *x509.CertPool
	stdin  io.Writer
	stdout *bufio.Reader
}

// drop makes the server close every open connection, as a server does to an idle client.
func (s *testSMTP) drop(t *testing.T) {
	t.Helper()
	_, err := io.WriteString(s.stdin, "drop\n")
	require.NoError(t, err)
	line, err := s.stdout.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "dropped\n", line)
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
	certFile, keyFile, err := cred.WritePEM(dir)
	require.NoError(t, err)
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
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	require.NoError(t, err, "the SMTP server did not start: %s", stderr.String())
	port, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return &testSMTP{port: port, dir: out, roots: pki.Pool(), stdin: stdin, stdout: r}
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
		MailOptions  []string `json:"mailOptions"`
		SMTPUTF8     bool     `json:"smtpUtf8"`
		Conn         int      `json:"conn"`
		Connections  int      `json:"connections"`
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
		{"negative idle timeout", func(c *notify.EmailConfig) { c.IdleTimeout = -time.Second }},
		{"MaxIdleConns below -1", func(c *notify.EmailConfig) { c.MaxIdleConns = -2 }},
		{"MaxIdleConns too many", func(c *notify.EmailConfig) { c.MaxIdleConns = 100000 }},
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

// TestEmailCheckAddress: an address is a bare addr-spec in ASCII or UTF-8 (RFC 6531), within
// RFC 5321's sizes, with nothing that could end a header line or hide what it is.
func TestEmailCheckAddress(t *testing.T) {
	ch, err := notify.NewEmail(notify.EmailConfig{Host: "smtp.agency.example", From: "noreply@agency.example"})
	require.NoError(t, err)
	tests := []struct {
		name, addr string
		ok         bool
	}{
		{"ascii", "ana@example.org", true},
		{"ascii with plus and dots", "ana.souza+benefits@mail.example.org", true},
		{"single-label domain", "a@localhost", true},
		{"utf-8 local part", "josé@correo.gob.uy", true},
		{"utf-8 local part and domain", "ñandú@ejemplo.com.py", true},
		{"utf-8 domain", "ana@exämple.org", true},
		{"utf-8 everywhere", "ação@notificação.gov.br", true},
		{"longest local part", strings.Repeat("a", 64) + "@example.org", true},
		{"longest address", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61), true},

		{"empty", "", false},
		{"no domain", "ana", false},
		{"empty domain", "ana@", false},
		{"empty local part", "@example.org", false},
		{"display name", "Ana <ana@example.org>", false},
		{"two addresses", "ana@example.org, bia@example.org", false},
		{"leading space", " ana@example.org", false},
		{"CRLF and a Bcc", "ana@example.org\r\nBcc: x@example.org", false},
		{"LF and a Bcc", "ana@example.org\nBcc: x@example.org", false},
		{"bare CR", "ana@example.org\rX", false},
		{"NUL", "ana\x00@example.org", false},
		{"DEL", "ana\x7f@example.org", false},
		{"C1 control", "ana\u0085@example.org", false},
		{"line separator", "ana@example.org\u2028Bcc: x@example.org", false},
		{"no-break space", "ana\u00a0souza@example.org", false},
		{"right-to-left override", "ana\u202e@example.org", false},
		{"zero-width joiner", "a\u200dna@example.org", false},
		{"private use", "ana\ue000@example.org", false},
		{"not UTF-8", "jos\xe9@example.org", false},
		{"not NFC", "jose\u0301@correo.example", false},
		{"quoted local part", `"ana souza"@example.org`, false},
		{"needlessly quoted", `"ana"@example.org`, false},
		{"comment", "ana(x)@example.org", false},
		{"angle brackets", "<ana@example.org>", false},
		{"leading dot", ".ana@example.org", false},
		{"double dot", "ana..souza@example.org", false},
		{"domain literal", "ana@[127.0.0.1]", false},
		{"underscore in domain", "ana@ex_ample.org", false},
		{"hyphen starts a label", "ana@-example.org", false},
		{"empty label", "ana@example..org", false},
		{"symbol in domain", "ana@exa☃mple.org", false},
		{"local part too long", strings.Repeat("a", 65) + "@example.org", false},
		{"label too long", "ana@" + strings.Repeat("b", 64) + ".org", false},
		{"address too long", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 62), false},
		{"utf-8 local part too long", strings.Repeat("é", 33) + "@example.org", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ch.CheckAddress(tc.addr)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, notify.ErrInput)
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "address", e.Check)
		})
	}
}

// TestEmailSMTPUTF8: a message to a non-ASCII address goes with SMTPUTF8 (RFC 6531) to a
// server that offers it, its To field in UTF-8 (RFC 6532) and its Subject and sender's name
// still RFC 2047 encoded words; a server that does not offer it gets nothing, and the
// delivery fails permanently with an *Error whose Check is "smtputf8". A message to an ASCII
// address never asks for SMTPUTF8, even of a server that offers it.
func TestEmailSMTPUTF8(t *testing.T) {
	with := startSMTP(t, "starttls+smtputf8")
	without := startSMTP(t, "starttls")
	ctx := context.Background()
	tests := []struct {
		name     string
		srv      *testSMTP
		to       string
		smtputf8 bool // expected in MAIL FROM
		refused  bool
	}{
		{"utf-8 local part, server with SMTPUTF8", with, "josé@correo.example", true, false},
		{"utf-8 local part and domain, server with SMTPUTF8", with, "ñandú@ejemplo.com.py", true, false},
		{"ascii, server with SMTPUTF8", with, "ana@correo.example", false, false},
		{"ascii, server without SMTPUTF8", without, "ana@correo.example", false, false},
		{"utf-8 local part, server without SMTPUTF8", without, "josé@correo.example", false, true},
		// Only the domain is non-ASCII: an A-label would do, but golang.org/x/net/idna is not
		// a dependency of the module, so the channel does not convert it.
		{"utf-8 domain only, server without SMTPUTF8", without, "ana@ñandú.example", false, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.srv.messages(t))
			ch, err := notify.NewEmail(tc.srv.config())
			require.NoError(t, err)
			t.Cleanup(ch.CloseIdleConnections)
			d := &notify.Delivery{ID: "ntf_utf8_" + strconv.Itoa(i), Attempt: 1, To: tc.to,
				Content: notify.Content{Subject: "Notificación", Text: "Hola, José.", HTML: "<p>Hola, José.</p>\n"}, Created: time.Now()}
			err = ch.Deliver(ctx, d)
			msgs := tc.srv.messages(t)
			if tc.refused {
				require.ErrorIs(t, err, notify.ErrPermanent)
				var e *notify.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "smtputf8", e.Check)
				assert.Contains(t, e.Reason, "non-ASCII address")
				assert.NotContains(t, err.Error(), "@")
				assert.Len(t, msgs, before, "nothing sent")
				return
			}
			require.NoError(t, err)
			require.Len(t, msgs, before+1)
			m := msgs[len(msgs)-1]
			rep := m.report
			require.Empty(t, rep.Error)
			assert.Empty(t, rep.Defects)
			assert.Equal(t, tc.smtputf8, rep.SMTPUTF8)
			assert.Equal(t, tc.smtputf8, slices.Contains(rep.MailOptions, "SMTPUTF8"), "MAIL FROM options %v", rep.MailOptions)
			assert.Contains(t, rep.MailOptions, "BODY=8BITMIME", "as net/smtp sent it before")
			assert.Equal(t, "noreply@agency.example", rep.MailFrom)
			assert.Equal(t, []string{tc.to}, rep.RcptTos)
			assert.Equal(t, tc.to, rep.To)
			assert.Equal(t, "Notificación", *rep.Subject)
			assert.Equal(t, "Agência Nacional <noreply@agency.example>", rep.From)
			assert.Equal(t, "To: "+tc.to, rawHeader(m.raw, "To"), "the address as written (RFC 6532 §3.2)")
			assert.True(t, strings.HasPrefix(rawHeader(m.raw, "Subject"), "Subject: =?utf-8?b?"), "RFC 2047 still")
			head, _, _ := strings.Cut(string(m.raw), "\r\n\r\n")
			for _, line := range strings.Split(head, "\r\n") {
				if !strings.HasPrefix(line, "To: ") {
					assert.True(t, isASCIIString(line), "only the To field is UTF-8: %q", line)
				}
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.raw))
			require.NoError(t, err)
			to, err := mail.ParseAddress(msg.Header.Get("To"))
			require.NoError(t, err)
			assert.Equal(t, tc.to, to.Address)
			if !tc.smtputf8 {
				parseWithGo(t, m.raw)
			}
		})
	}

	// Through the outbox, the refusal is a permanent failure whose reason names it.
	ch, err := notify.NewEmail(without.config())
	require.NoError(t, err)
	o := emailOutbox(t, ch, []time.Duration{0, 0})
	id, err := o.Send(ctx, notify.Message{Channel: "email", To: "josé@correo.example", Template: emailTemplate(t, "Subject: Aviso\nHola.")})
	require.NoError(t, err)
	require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
	n, err := o.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, notify.PermanentFailure, n.Status)
	assert.Equal(t, 1, n.Attempts)
	assert.Contains(t, n.Reason, "smtputf8")
	assert.NotContains(t, n.Reason, "@")
}

func isASCIIString(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestEmailHeaderInjection: an address that would add a header field or a recipient is
// refused when the message is created and again when it is delivered, and the server gets
// nothing.
func TestEmailHeaderInjection(t *testing.T) {
	srv := startSMTP(t, "starttls+smtputf8")
	ch, err := notify.NewEmail(srv.config())
	require.NoError(t, err)
	t.Cleanup(ch.CloseIdleConnections)
	o := emailOutbox(t, ch, nil)
	ctx := context.Background()
	for _, to := range []string{
		"ana@example.org\r\nBcc: eve@example.org",
		"ana@example.org\nBcc: eve@example.org",
		"ana@example.org\rBcc: eve@example.org",
		"ana@example.org>\r\nRCPT TO:<eve@example.org",
		"ana@example.org> SMTPUTF8",
		"ana@example.org,eve@example.org",
		"josé@example.org\u2028Bcc: eve@example.org",
		"ana@example.org\x00eve@example.org",
	} {
		t.Run(strconv.Quote(to), func(t *testing.T) {
			_, err := o.Send(ctx, notify.Message{Channel: "email", To: to, Template: emailTemplate(t, "Subject: S\nT")})
			require.ErrorIs(t, err, notify.ErrInput)
			err = ch.Deliver(ctx, &notify.Delivery{ID: "ntf_inj", Attempt: 1, To: to, Content: notify.Content{Text: "T"}, Created: time.Now()})
			require.ErrorIs(t, err, notify.ErrPermanent)
		})
	}
	assert.Empty(t, srv.messages(t))
}

// TestEmailConnectionReuse counts the connections the server saw: deliveries share one
// connection, a refused recipient does not spoil it, a connection the server closed is
// replaced without failing the delivery, and MaxIdleConns -1 opens one per delivery.
func TestEmailConnectionReuse(t *testing.T) {
	ctx := context.Background()
	deliver := func(t *testing.T, ch *notify.Email, n int, to string) error {
		t.Helper()
		return ch.Deliver(ctx, &notify.Delivery{ID: "ntf_reuse_" + strconv.Itoa(n), Attempt: 1, To: to,
			Content: notify.Content{Subject: "S", Text: "T"}, Created: time.Now()})
	}
	conns := func(msgs []*received) []int {
		var out []int
		for _, m := range msgs {
			out = append(out, m.report.Conn)
		}
		return out
	}

	t.Run("reused", func(t *testing.T) {
		srv := startSMTP(t, "starttls")
		ch, err := notify.NewEmail(srv.config())
		require.NoError(t, err)
		t.Cleanup(ch.CloseIdleConnections)
		for i := range 3 {
			require.NoError(t, deliver(t, ch, i, "ana@example.org"))
		}
		err = deliver(t, ch, 3, "perm.ana@example.org")
		require.ErrorIs(t, err, notify.ErrPermanent, "the refusal is the delivery's")
		err = deliver(t, ch, 4, "temp.ana@example.org")
		require.ErrorIs(t, err, notify.ErrTemporary)
		require.NoError(t, deliver(t, ch, 5, "bia@example.org"))
		msgs := srv.messages(t)
		require.Len(t, msgs, 4)
		assert.Equal(t, []int{1, 1, 1, 1}, conns(msgs), "one connection")
		assert.Equal(t, 1, msgs[3].report.Connections)
		assert.Equal(t, []string{"bia@example.org"}, msgs[3].report.RcptTos, "RSET dropped the refused transaction")
		for _, m := range msgs {
			assert.True(t, m.report.TLS)
			assert.True(t, m.report.Auth)
		}

		ch.CloseIdleConnections()
		require.NoError(t, deliver(t, ch, 6, "ana@example.org"))
		msgs = srv.messages(t)
		require.Len(t, msgs, 5)
		assert.Equal(t, 2, msgs[4].report.Conn, "a new connection after CloseIdleConnections")
	})

	t.Run("closed by the server", func(t *testing.T) {
		for _, mode := range []string{"starttls", "implicit"} {
			t.Run(mode, func(t *testing.T) {
				srv := startSMTP(t, mode)
				cfg := srv.config()
				cfg.ImplicitTLS = mode == "implicit"
				ch, err := notify.NewEmail(cfg)
				require.NoError(t, err)
				t.Cleanup(ch.CloseIdleConnections)
				require.NoError(t, deliver(t, ch, 0, "ana@example.org"))
				srv.drop(t)
				require.NoError(t, deliver(t, ch, 1, "ana@example.org"), "a stale connection is not the delivery's failure")
				require.NoError(t, deliver(t, ch, 2, "ana@example.org"))
				assert.Equal(t, []int{1, 2, 2}, conns(srv.messages(t)))
			})
		}
	})

	t.Run("no reuse", func(t *testing.T) {
		srv := startSMTP(t, "starttls")
		cfg := srv.config()
		cfg.MaxIdleConns = -1
		ch, err := notify.NewEmail(cfg)
		require.NoError(t, err)
		for i := range 3 {
			require.NoError(t, deliver(t, ch, i, "ana@example.org"))
		}
		assert.Equal(t, []int{1, 2, 3}, conns(srv.messages(t)))
	})

	t.Run("dispatcher workers", func(t *testing.T) {
		srv := startSMTP(t, "starttls")
		ch, err := notify.NewEmail(srv.config())
		require.NoError(t, err)
		t.Cleanup(ch.CloseIdleConnections)
		o := emailOutbox(t, ch, nil)
		tmpl := emailTemplate(t, "Subject: S\nT")
		for i := range 12 {
			_, err := o.Send(ctx, notify.Message{Channel: "email", To: "ana" + strconv.Itoa(i) + "@example.org", Template: tmpl})
			require.NoError(t, err)
		}
		require.NoError(t, dispatcher(t, o, 3).RunUntilEmpty(ctx))
		msgs := srv.messages(t)
		require.Len(t, msgs, 12)
		seen := map[int]bool{}
		for _, c := range conns(msgs) {
			seen[c] = true
		}
		assert.LessOrEqual(t, len(seen), 3, "no more connections than workers")
		assert.LessOrEqual(t, msgs[11].report.Connections, 3)
	})
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
