package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// startTestNATS starts a NATS server embedded in the test process on loopback, with
// JetStream when js is set.
func startTestNATS(t *testing.T, js bool) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: js,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(t, err)
	srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second), "NATS server not ready")
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// queueN stores n webhook notifications with send --queue and returns their IDs.
func (f *notifyFixture) queueN(t *testing.T, n int) []string {
	t.Helper()
	tmpl := f.file(t, "ready.txt", "Your documents ((ref)) are ready.")
	ids := make([]string, n)
	for i := range ids {
		code, out, errOut := f.run(t, "send", "--template", tmpl, "--to", "webhook:"+f.hook.URL(), "--var", "ref="+strconv.Itoa(i),
			"--webhook-secret", testWebhookSecret, "--insecure-allow-http", "--queue")
		require.Equal(t, exitOK, code, errOut)
		ids[i] = lastLine(out)
	}
	return ids
}

// TestNotifyRunFanOut: two dpi notify run on one database, given one NATS server, share the
// outbox's work through its JetStream stream: every notification reaches the receiver once
// and is recorded as delivered.
func TestNotifyRunFanOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		const n, stream = 24, "DPI_NOTIFY_TEST"
		srv := startTestNATS(t, true)
		natsURL := srv.ClientURL()
		f := newNotifyFixture(t, dsn)
		// run never creates the database: the first send does.
		ids := f.queueN(t, 1)

		type result struct {
			code        int
			out, errOut string
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		results := make(chan result, 2)
		for range 2 {
			go func() {
				var out, errOut lockedBuffer
				code := run(ctx, []string{"notify", "run", "--db", dsn, "--key", f.key, "--workers", "4",
					"--nats", natsURL, "--nats-stream", stream, "--webhook-secret", testWebhookSecret, "--insecure-allow-http"},
					strings.NewReader(""), &out, &errOut)
				results <- result{code, out.String(), errOut.String()}
			}()
		}
		// Both runs are past opening the outbox, connected and consuming, before the rest
		// is queued, so that an interrupt never finds one of them still starting.
		require.Eventually(t, func() bool { return srv.NumClients() == 2 }, time.Minute, 10*time.Millisecond, "both runs connected")
		ids = append(ids, f.queueN(t, n-1)...)
		// The receiver counts a request before the dispatcher reads the answer, and an
		// attempt interrupted then is left to its lease: interrupt once all are recorded.
		require.Eventually(t, func() bool {
			var delivered int
			err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM notify_messages WHERE status = 'delivered'").Scan(&delivered)
			return err == nil && delivered == n
		}, time.Minute, 10*time.Millisecond, "every notification recorded as delivered")
		cancel()
		for range 2 {
			r := <-results
			f.outputs = append(f.outputs, r.out, r.errOut)
			assert.Equal(t, exitOK, r.code, r.errOut)
			assert.Contains(t, r.out, "delivered")
		}

		got := map[string]int{}
		for _, p := range f.hook.received() {
			got[p.Data.ID]++
		}
		assert.Len(t, f.hook.received(), n, "no notification sent twice")
		assert.Zero(t, f.hook.rejected)
		for _, id := range ids {
			assert.Equal(t, 1, got[id], id)
			code, out, errOut := f.run(t, "status", id)
			assert.Equal(t, exitOK, code, errOut)
			assert.Contains(t, oneLine(out), "status: delivered", id)
			assert.Contains(t, oneLine(out), "attempts: 1", id)
		}

		// The claims went through the stream --nats-stream named, which the workers drained.
		nc, err := nats.Connect(natsURL)
		require.NoError(t, err)
		defer nc.Close()
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		s, err := js.Stream(context.Background(), stream)
		require.NoError(t, err, "the stream --nats-stream names")
		info, err := s.Info(context.Background())
		require.NoError(t, err)
		assert.Zero(t, info.State.Msgs)
		assert.GreaterOrEqual(t, info.State.LastSeq, uint64(n), "every claim published")
		f.assertNoSecret(t)
	})
}

// TestNotifyRunFanOutRefused: --nats needs a reachable server with JetStream, says so within
// its connect timeout, and never prints the password of its URL.
func TestNotifyRunFanOutRefused(t *testing.T) {
	f := newNotifyFixture(t, "sqlite:///"+t.TempDir()+"/notify.db")
	f.queueN(t, 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	withJS, withoutJS := startTestNATS(t, true).ClientURL(), startTestNATS(t, false).ClientURL()
	secret := []string{"--webhook-secret", testWebhookSecret, "--insecure-allow-http"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable", []string{"--nats", "nats://agency:n4ts-Passw0rd@" + closed}, "--nats: cannot connect to nats://agency:xxxxx@" + closed},
		{"unreachable, token", []string{"--nats", "nats://n4ts-T0ken@" + closed}, "cannot connect to nats://xxxxx@" + closed},
		{"no JetStream", []string{"--nats", withoutJS}, "has no JetStream"},
		{"stream name", []string{"--nats", withJS, "--nats-stream", "a.b"}, "stream or consumer name"},
		{"stream without server", []string{"--nats-stream", "NOTIFY"}, "--nats-stream needs --nats"},
		{"until empty", []string{"--nats", withJS, "--until-empty"}, "--until-empty does not go with --nats"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := f.run(t, "run", append(tc.args, secret...)...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
			assert.NotContains(t, errOut, "n4ts-")
		})
	}
	f.assertNoSecret(t)
}
