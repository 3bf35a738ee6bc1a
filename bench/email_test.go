package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/notify"
)

// smtpSink is a real SMTP submission server on loopback (aiosmtpd, Debian's
// python3-aiosmtpd): STARTTLS required, AUTH PLAIN, every message accepted and dropped. It
// prints its port when it listens and stops when its standard input closes.
const smtpSink = `
import asyncio, socket, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

certfile, keyfile = sys.argv[1:3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certfile, keyfile)

def authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=isinstance(auth_data, LoginPassword), handled=False)

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return '250 2.0.0 OK: queued'

async def main():
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    server = await loop.create_server(lambda: SMTP(Handler(), hostname='mx.test', authenticator=authenticator,
        tls_context=ctx, require_starttls=True, auth_require_tls=True), sock=sock)
    print(sock.getsockname()[1], flush=True)
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or (sys.stdin.buffer.read1(4096) or stop.set_result(None)))
    await stop
    server.close()

asyncio.run(main())
`

// startSMTPSink starts smtpSink with a certificate from a dpitest PKI and returns an email
// channel's configuration for it.
func startSMTPSink(b *testing.B) notify.EmailConfig {
	b.Helper()
	py := testenv.PythonModule(b, "aiosmtpd")
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(b, err)
	b.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "mx.test", Usage: dpitest.UsageTLS})
	require.NoError(b, err)
	certFile, keyFile, err := cred.WritePEM(b.TempDir())
	require.NoError(b, err)
	cmd := exec.Command(py, "-c", smtpSink, certFile, keyFile)
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(b, err)
	port, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(b, err)
	return notify.EmailConfig{Host: "127.0.0.1", Port: port, From: "Agencia <noreply@agency.example>",
		Username: "agency", Password: "bench-password", TLS: &tls.Config{RootCAs: pki.Pool()}}
}

// BenchmarkNotifyEmail delivers one email per operation through the email channel to a
// real SMTP server on loopback (STARTTLS, AUTH PLAIN): serially, and from four goroutines
// at once, as a dispatcher's four default workers do; with the connections reused, and
// with a connection of its own per delivery (fresh-, MaxIdleConns -1). It measures the
// channel alone, not the outbox.
func BenchmarkNotifyEmail(b *testing.B) {
	cfg := startSMTPSink(b)
	d := notify.Delivery{ID: "ntf_bench", Attempt: 1, To: "ana@example.org",
		Content: notify.Content{Subject: "Resolución", Text: "Su solicitud fue aprobada.", HTML: "<p>Su solicitud fue aprobada.</p>\n"},
		Created: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	for _, reuse := range []struct {
		name string
		idle int
	}{{"", 0}, {"fresh-", -1}} {
		cfg := cfg
		cfg.MaxIdleConns = reuse.idle
		b.Run(reuse.name+"serial", func(b *testing.B) {
			ch, err := notify.NewEmail(cfg)
			require.NoError(b, err)
			b.Cleanup(ch.CloseIdleConnections)
			for b.Loop() {
				if err := ch.Deliver(context.Background(), &d); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(reuse.name+"parallel4", func(b *testing.B) {
			ch, err := notify.NewEmail(cfg)
			require.NoError(b, err)
			b.Cleanup(ch.CloseIdleConnections)
			b.SetParallelism(max(1, 4/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := ch.Deliver(context.Background(), &d); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
