package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// The secrets of the notify tests. None may ever appear in what dpi prints.
const (
	testWebhookSecret = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	testSMTPPassword  = "smtp-Passw0rd-never-printed"
	testSMSToken      = "sms-token-never-printed"
)

// notifyFixture is an outbox's key, a template and the receivers a notification can go to.
type notifyFixture struct {
	dsn, key, pubPEM string
	dir              string
	hook             *hookReceiver
	// outputs collects everything dpi printed, to check that no secret is in it.
	outputs []string
}

func newNotifyFixture(t *testing.T, dsn string) *notifyFixture {
	t.Helper()
	k := newEd25519Key(t)
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	dir := t.TempDir()
	pub := filepath.Join(dir, "notify.pub")
	require.NoError(t, os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	return &notifyFixture{dsn: dsn, key: writePrivateKey(t, k), pubPEM: pub, dir: dir, hook: newHookReceiver(t)}
}

// file writes a file in the fixture's directory and returns its path.
func (f *notifyFixture) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// run runs "dpi notify CMD ARGS..." and records what it printed. send and run get --db and
// --key; status gets --db.
func (f *notifyFixture) run(t *testing.T, cmd string, args ...string) (int, string, string) {
	t.Helper()
	pre := []string{"notify", cmd, "--db", f.dsn}
	if cmd != "status" {
		pre = append(pre, "--key", f.key)
	}
	code, out, errOut := runCLI(t, append(pre, args...)...)
	f.outputs = append(f.outputs, out, errOut)
	return code, out, errOut
}

// sendWebhook sends the decision template to the fixture's receiver with the secret in a flag.
func (f *notifyFixture) sendWebhook(t *testing.T, extra ...string) (int, string, string) {
	t.Helper()
	tmpl := f.file(t, "decision.txt", "Dear ((name)), your application ((ref)) was ((decision)).")
	return f.run(t, "send", append([]string{"--template", tmpl, "--to", "webhook:" + f.hook.URL(), "--webhook-secret", testWebhookSecret,
		"--insecure-allow-http", "--var", "name=Ana Souza", "--var", "ref=A-42", "--var", "decision=approved", "--reference", "A-42"}, extra...)...)
}

func (f *notifyFixture) assertNoSecret(t *testing.T) {
	t.Helper()
	for _, o := range f.outputs {
		for _, s := range []string{testWebhookSecret, strings.TrimPrefix(testWebhookSecret, "whsec_"), testSMTPPassword, testSMSToken} {
			assert.NotContains(t, o, s)
		}
	}
}

// lastLine returns the last line of out: the notification's ID after send and status.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}

// hookReceiver is a webhook receiver on loopback that verifies every request with the test
// secret and answers with status (204 by default).
type hookReceiver struct {
	srv *httptest.Server
	v   *notify.WebhookVerifier

	mu       sync.Mutex
	status   int
	got      []*notify.WebhookPayload
	rejected int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{testWebhookSecret}})
	require.NoError(t, err)
	h := &hookReceiver{v: v, status: http.StatusNoContent}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.v.Receive(r)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil {
			h.rejected++
			http.Error(w, "not verified", http.StatusBadRequest)
			return
		}
		if h.status < 300 {
			h.got = append(h.got, p)
		}
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) URL() string { return h.srv.URL + "/hook" }

func (h *hookReceiver) setStatus(code int) {
	h.mu.Lock()
	h.status = code
	h.mu.Unlock()
}

func (h *hookReceiver) received() []*notify.WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*notify.WebhookPayload(nil), h.got...)
}

// TestNotifyWebhook: send renders the template, stores the notification and delivers it to a
// receiver that verifies its Standard Webhooks signature; the idempotency key sends it once;
// status shows it and its evidence; the outbox's log verifies with its public key.
func TestNotifyWebhook(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		f := newNotifyFixture(t, dsn)
		code, out, errOut := f.sendWebhook(t, "--idempotency-key", "decision-A-42")
		require.Equal(t, exitOK, code, errOut)
		id := lastLine(out)
		assert.True(t, strings.HasPrefix(id, "ntf_"), out)
		assert.Contains(t, oneLine(out), "status: delivered")
		got := f.hook.received()
		require.Len(t, got, 1)
		assert.Equal(t, id, got[0].Data.ID)
		assert.Equal(t, "A-42", got[0].Data.Reference)
		assert.Equal(t, "Dear Ana Souza, your application A-42 was approved.", got[0].Data.Text)

		// The same key again: the first notification, nothing new sent.
		code, out, errOut = f.sendWebhook(t, "--idempotency-key", "decision-A-42")
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, id, lastLine(out))
		assert.Contains(t, out, "nothing new was sent")
		code, out, _ = f.sendWebhook(t, "--idempotency-key", "decision-A-42", "--json")
		require.Equal(t, exitOK, code)
		var res map[string]json.RawMessage
		onlyJSON(t, out, &res)
		assert.Equal(t, "true", string(res["duplicate"]))
		assert.Len(t, f.hook.received(), 1, "sent once")
		assert.Zero(t, f.hook.rejected, "every request verified")

		code, out, errOut = f.run(t, "status", id)
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, id, lastLine(out))
		for _, want := range []string{"status: delivered", "attempts: 1", "created", "sending, attempt 1", "delivered, attempt 1"} {
			assert.Contains(t, oneLine(out), want)
		}

		// The secret may come from the environment.
		t.Setenv(webhookSecretEnv, testWebhookSecret)
		tmpl := f.file(t, "short.txt", "Your documents are ready.")
		code, out, errOut = f.run(t, "send", "--template", tmpl, "--to", "webhook:"+f.hook.URL(), "--insecure-allow-http")
		require.Equal(t, exitOK, code, errOut)
		assert.Len(t, f.hook.received(), 2)
		assert.NotEqual(t, id, lastLine(out))

		code, out, errOut = runCLI(t, "log", "verify", "--db", dsn, "--pubkey", f.pubPEM, "--log", defaultNotifyLog)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "INTACT")
		f.assertNoSecret(t)
	})
}

// TestNotifySendCallback: with --callback-url, send delivers the notification and then the
// status callback, signed with the same secret, to the sending service.
func TestNotifySendCallback(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		f := newNotifyFixture(t, dsn)
		v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{testWebhookSecret}})
		require.NoError(t, err)
		var mu sync.Mutex
		var got []notify.StatusCallback
		service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			var cb notify.StatusCallback
			if err == nil {
				err = v.Verify(r.Header, body)
			}
			if err == nil {
				err = json.Unmarshal(body, &cb)
			}
			if err != nil {
				http.Error(w, "not verified", http.StatusBadRequest)
				return
			}
			mu.Lock()
			got = append(got, cb)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(service.Close)

		code, out, errOut := f.sendWebhook(t, "--callback-url", service.URL+"/status")
		require.Equal(t, exitOK, code, errOut)
		id := lastLine(out)
		require.Len(t, f.hook.received(), 1)
		mu.Lock()
		require.Len(t, got, 1, "one status callback, verified")
		assert.Equal(t, notify.StatusCallbackEventType, got[0].Type)
		assert.Equal(t, id, got[0].Data.ID)
		assert.Equal(t, notify.Delivered, got[0].Data.Status)
		assert.Equal(t, "A-42", got[0].Data.Reference)
		mu.Unlock()

		code, out, errOut = f.run(t, "status", id)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, oneLine(out), "status: delivered")

		tmpl := f.file(t, "short.txt", "Your documents are ready.")
		code, _, errOut = f.run(t, "send", "--template", tmpl, "--to", "sms:+5511987654321", "--sms-url", "http://127.0.0.1:1/", "--sms-token", "t0k3n",
			"--insecure-allow-http", "--callback-url", service.URL+"/status")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, "--callback-url needs the webhook secret")
		code, _, errOut = f.sendWebhook(t, "--callback-url", "ftp://service.example/status")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, "--callback-url")
		f.assertNoSecret(t)
	})
}

// TestNotifyFailures: a receiver that fails for now leaves the notification to be tried
// again (exit 3), one that refuses it ends it (exit 1); --queue stores only, and run
// delivers.
func TestNotifyFailures(t *testing.T) {
	f := newNotifyFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "notify.db"))

	f.hook.setStatus(http.StatusServiceUnavailable)
	code, out, _ := f.sendWebhook(t)
	require.Equal(t, exitIndeterminate, code, out)
	retrying := lastLine(out)
	assert.Contains(t, oneLine(out), "status: sending")
	assert.Contains(t, oneLine(out), "reason: notify: delivery failed for now: http status: 503 Service Unavailable")
	assert.Contains(t, out, "next attempt:")
	code, _, _ = f.run(t, "status", retrying)
	assert.Equal(t, exitIndeterminate, code)

	f.hook.setStatus(http.StatusBadRequest)
	code, out, _ = f.sendWebhook(t)
	require.Equal(t, exitRejected, code, out)
	refused := lastLine(out)
	assert.Contains(t, out, "permanent-failure")
	code, out, _ = f.run(t, "status", refused, "--json")
	assert.Equal(t, exitRejected, code)
	var res struct {
		Notification notify.Notification `json:"notification"`
		History      []notify.Event      `json:"history"`
	}
	onlyJSON(t, out, &res)
	assert.Equal(t, notify.PermanentFailure, res.Notification.Status)
	assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.PermanentFailure},
		[]notify.Status{res.History[0].Status, res.History[1].Status, res.History[2].Status})

	f.hook.setStatus(http.StatusNoContent)
	code, out, errOut := f.sendWebhook(t, "--queue")
	require.Equal(t, exitOK, code, errOut)
	queued := lastLine(out)
	assert.Contains(t, oneLine(out), "status: created")
	assert.Empty(t, f.hook.received())
	code, out, errOut = f.run(t, "run", "--until-empty", "--webhook-secret", testWebhookSecret, "--insecure-allow-http")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "1 attempt: 1 delivered, 0 to be tried again, 0 failed for good\n", out)
	code, _, _ = f.run(t, "status", queued)
	assert.Equal(t, exitOK, code)
	require.Len(t, f.hook.received(), 1)

	code, out, errOut = f.run(t, "run", "--until-empty", "--webhook-secret", testWebhookSecret, "--insecure-allow-http", "--json")
	require.Equal(t, exitOK, code, errOut)
	var rr map[string]json.RawMessage
	onlyJSON(t, out, &rr)
	assert.Equal(t, []string{"attempts", "delivered", "failed", "retrying"}, keysOf(rr))

	code, _, errOut = f.run(t, "status", "ntf_nosuchnotification")
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, errOut, "no notification ntf_nosuchnotification")
	f.assertNoSecret(t)
}

// TestNotifyRunCountsItsOwn: run's summary counts what this run did, not what another
// instance on the same database did meanwhile (here a send whose SMS gateway is down,
// whose attempt and retry go into the same log while the run runs).
func TestNotifyRunCountsItsOwn(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"text", nil, "2 attempts: 2 delivered, 0 to be tried again, 0 failed for good\n"},
		{"json", []string{"--json"}, `{"attempts":2,"delivered":2,"retrying":0,"failed":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
				f := newNotifyFixture(t, dsn)
				f.queueN(t, 2)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var out, errOut lockedBuffer
				done := make(chan int)
				go func() {
					done <- run(ctx, append([]string{"notify", "run", "--db", dsn, "--key", f.key,
						"--webhook-secret", testWebhookSecret, "--insecure-allow-http"}, tc.args...), strings.NewReader(""), &out, &errOut)
				}()
				require.Eventually(t, func() bool { return len(f.hook.received()) == 2 && countStatus(t, db, "delivered") == 2 },
					time.Minute, 10*time.Millisecond, "the run delivered what was queued")

				tmpl := f.file(t, "short.txt", "Your documents are ready.")
				code, sent, errSent := f.run(t, "send", "--template", tmpl, "--to", "sms:+5511987654321",
					"--sms-url", "http://127.0.0.1:1/", "--sms-token", "t0k3n", "--insecure-allow-http")
				require.Equal(t, exitIndeterminate, code, errSent)
				assert.Contains(t, oneLine(sent), "status: sending")

				cancel()
				require.Equal(t, exitOK, <-done, errOut.String())
				f.outputs = append(f.outputs, out.String(), errOut.String())
				if tc.args == nil {
					assert.Equal(t, tc.want, out.String())
				} else {
					assert.JSONEq(t, tc.want, out.String())
				}
				f.assertNoSecret(t)
			})
		})
	}
}

func countStatus(t *testing.T, db *store.DB, status string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), db.Rebind("SELECT count(*) FROM notify_messages WHERE status = ?"), status).Scan(&n))
	return n
}

// TestNotifyEmail: an email template with a Subject line goes to a real SMTP server on
// loopback over STARTTLS, with the server's CA from --smtp-ca and the password from the
// environment.
func TestNotifyEmail(t *testing.T) {
	srv := startTestSMTP(t)
	f := newNotifyFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "notify.db"))
	t.Setenv(smtpPasswordEnv, testSMTPPassword)
	tmpl := f.file(t, "decision.email", "Subject: Decisão sobre o pedido ((ref))\nOlá ((name)),\n\nO seu pedido ((ref)) foi aprovado. Traga:\n\n((docs))\n")
	smtpFlags := []string{"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(srv.port), "--smtp-user", "agency",
		"--smtp-ca", srv.caFile, "--from", "Agência <noreply@agency.example>"}
	code, out, errOut := f.run(t, "send", append([]string{"--template", tmpl, "--to", "email:ana@example.org",
		"--var", "name=Ana", "--var", "ref=A-42", "--var", "docs=o documento de identidade", "--var", "docs=um comprovante de morada"}, smtpFlags...)...)
	require.Equal(t, exitOK, code, errOut)
	id := lastLine(out)
	assert.Contains(t, oneLine(out), "subject: Decisão sobre o pedido A-42")
	msgs := srv.messages(t)
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Empty(t, m.Defects)
	assert.True(t, m.TLS)
	assert.Equal(t, "Decisão sobre o pedido A-42", m.Subject)
	assert.Equal(t, id, m.Notification)
	assert.Contains(t, m.Plain, "• um comprovante de morada")

	// Without the password, or without STARTTLS's opt-out, nothing is stored.
	t.Setenv(smtpPasswordEnv, "")
	code, _, errOut = f.run(t, "send", append([]string{"--template", tmpl, "--to", "email:ana@example.org",
		"--var", "name=Ana", "--var", "ref=A-43", "--var", "docs=x"}, smtpFlags...)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, smtpPasswordEnv)
	f.assertNoSecret(t)
}

// TestNotifySMS: a text message goes to an SMS provider as JSON with the token from the
// environment; a number not in E.164 form is refused before anything is stored.
func TestNotifySMS(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]string
	var auth []string
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]string
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&b)
		mu.Lock()
		bodies = append(bodies, b)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer provider.Close()
	f := newNotifyFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "notify.db"))
	t.Setenv(smsTokenEnv, testSMSToken)
	tmpl := f.file(t, "decision.sms", "Olá ((name)), o seu pedido ((ref)) foi aprovado.")
	code, out, errOut := f.run(t, "send", "--template", tmpl, "--to", "sms:+5511987654321", "--var", "name=Ana", "--var", "ref=A-42",
		"--sms-url", provider.URL, "--insecure-allow-http", "--sms-from", "AGENCY")
	require.Equal(t, exitOK, code, errOut)
	id := lastLine(out)
	mu.Lock()
	require.Len(t, bodies, 1)
	assert.Equal(t, map[string]string{"to": "+5511987654321", "text": "Olá Ana, o seu pedido A-42 foi aprovado.", "id": id, "from": "AGENCY"}, bodies[0])
	assert.Equal(t, "Bearer "+testSMSToken, auth[0])
	mu.Unlock()

	code, _, errOut = f.run(t, "send", "--template", tmpl, "--to", "sms:011987654321", "--var", "name=Ana", "--var", "ref=A-42",
		"--sms-url", provider.URL, "--insecure-allow-http")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "E.164")
	f.assertNoSecret(t)
}

// TestNotifyUsage: what send and run refuse, each with exit 2 and nothing on stdout.
func TestNotifyUsage(t *testing.T) {
	f := newNotifyFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "notify.db"))
	tmpl := f.file(t, "t.txt", "Dear ((name)).")
	emptySubject := f.file(t, "e.email", "Subject:\nBody")
	hook := "webhook:" + f.hook.URL()
	secret := []string{"--webhook-secret", testWebhookSecret, "--insecure-allow-http"}
	tests := []struct {
		name string
		cmd  string
		args []string
		want string
	}{
		{"missing var", "send", append([]string{"--template", tmpl, "--to", hook}, secret...), "name"},
		{"extra var", "send", append([]string{"--template", tmpl, "--to", hook, "--var", "name=A", "--var", "age=3"}, secret...), "age"},
		{"var without =", "send", append([]string{"--template", tmpl, "--to", hook, "--var", "name"}, secret...), "NAME=VALUE"},
		{"unknown channel", "send", append([]string{"--template", tmpl, "--to", "fax:+5511", "--var", "name=A"}, secret...), "CHANNEL"},
		{"channel not configured", "send", []string{"--template", tmpl, "--to", hook, "--var", "name=A"}, "no channel is configured"},
		{"email not configured", "send", append([]string{"--template", tmpl, "--to", "email:ana@example.org", "--var", "name=A"}, secret...), "--smtp-host and --from"},
		{"http without the opt-out", "send", []string{"--template", tmpl, "--to", hook, "--var", "name=A", "--webhook-secret", testWebhookSecret}, "https"},
		{"bad secret", "send", []string{"--template", tmpl, "--to", hook, "--var", "name=A", "--webhook-secret", "whsec_short"}, "webhook secret"},
		{"empty subject", "send", []string{"--template", emptySubject, "--to", "email:ana@example.org", "--smtp-host", "h", "--from", "a@b.example"}, "subject"},
		{"no template file", "send", append([]string{"--template", filepath.Join(f.dir, "none"), "--to", hook}, secret...), "template"},
		{"in memory", "send", append([]string{"--template", tmpl, "--to", hook, "--var", "name=A", "--db", "sqlite://:memory:"}, secret...), ":memory:"},
		{"run without a database", "run", append([]string{"--until-empty"}, secret...), "no database file"},
		{"run without a channel", "run", []string{"--until-empty"}, "no channel is configured"},
		{"email half configured", "run", []string{"--smtp-host", "smtp.example"}, "--smtp-host and --from go together"},
		{"plaintext with a password", "run", []string{"--smtp-host", "smtp.example", "--from", "a@b.example", "--smtp-user", "u", "--insecure-smtp-plaintext"}, smtpPasswordEnv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := f.run(t, tc.cmd, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
		})
	}
	assert.Empty(t, f.hook.received(), "nothing was sent")

	// A database made under one key refuses another.
	code, _, errOut := f.sendWebhook(t)
	require.Equal(t, exitOK, code, errOut)
	f.key = writePrivateKey(t, newEd25519Key(t))
	code, out, errOut := f.sendWebhook(t)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "another key")
	code, _, errOut = f.run(t, "status", "--log", "other.example/notify", "ntf_x")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "no notify log")
	f.assertNoSecret(t)
}

// testSMTPServer is a real SMTP server, aiosmtpd, on loopback with STARTTLS required and
// AUTH PLAIN (user agency, password testSMTPPassword). Each message it accepts is written,
// with what Python's email package (policy strict) makes of it, as N.json in its directory.
const testSMTPServer = `
import asyncio, email, email.policy, json, os, socket, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
certfile, keyfile, outdir, password = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certfile, keyfile)
def authenticator(server, session, envelope, mechanism, data):
    return AuthResult(success=isinstance(data, LoginPassword) and data.login == b'agency' and data.password == password.encode(), handled=False)
class Handler:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Handler.n += 1
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.strict)
        defects = [repr(d) for p in msg.walk() for d in p.defects]
        rep = {'tls': session.ssl is not None, 'subject': str(msg['subject']), 'notification': str(msg['dpi-notification-id']),
               'plain': msg.get_body(preferencelist=('plain',)).get_content(), 'defects': defects}
        with open(os.path.join(outdir, '%d.json' % Handler.n), 'w') as f:
            json.dump(rep, f)
        return '250 2.0.0 OK'
async def main():
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    server = await loop.create_server(lambda: SMTP(Handler(), authenticator=authenticator, tls_context=ctx, require_starttls=True), sock=sock)
    print(sock.getsockname()[1], flush=True)
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or (sys.stdin.buffer.read1(4096) or stop.set_result(None)))
    await stop
    server.close()
asyncio.run(main())
`

type smtpTestServer struct {
	port   int
	dir    string
	caFile string
}

type smtpReport struct {
	TLS          bool     `json:"tls"`
	Subject      string   `json:"subject"`
	Notification string   `json:"notification"`
	Plain        string   `json:"plain"`
	Defects      []string `json:"defects"`
}

func startTestSMTP(t *testing.T) *smtpTestServer {
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
	s := &smtpTestServer{dir: filepath.Join(dir, "mail"), caFile: filepath.Join(dir, "ca.pem")}
	require.NoError(t, os.Mkdir(s.dir, 0o700))
	require.NoError(t, os.WriteFile(s.caFile, pki.RootsPEM(), 0o600))
	cmd := exec.Command(py, "-c", testSMTPServer, certFile, keyFile, s.dir, testSMTPPassword)
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
	s.port, err = strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return s
}

func (s *smtpTestServer) messages(t *testing.T) []smtpReport {
	t.Helper()
	var out []smtpReport
	for i := 1; ; i++ {
		b, err := os.ReadFile(filepath.Join(s.dir, strconv.Itoa(i)+".json"))
		if os.IsNotExist(err) {
			return out
		}
		require.NoError(t, err)
		var r smtpReport
		require.NoError(t, json.Unmarshal(b, &r))
		out = append(out, r)
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
