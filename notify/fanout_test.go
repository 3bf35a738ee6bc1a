package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// natsBus is a real NATS server with JetStream embedded in the test process, its store in a
// temporary directory that a restart keeps, on a port that a restart keeps too, so that
// clients reconnect to it.
type natsBus struct {
	dir  string
	port int
	srv  *server.Server
}

func startNATS(t *testing.T) *natsBus {
	t.Helper()
	b := &natsBus{dir: t.TempDir(), port: server.RANDOM_PORT}
	b.start(t)
	b.port = b.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(b.stop)
	return b
}

func (b *natsBus) start(t *testing.T) {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: b.port, JetStream: true, StoreDir: b.dir, NoLog: true, NoSigs: true,
	})
	require.NoError(t, err)
	srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second), "NATS server not ready")
	b.srv = srv
}

func (b *natsBus) stop() {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// restart stops the server and starts it again on the same store and port.
func (b *natsBus) restart(t *testing.T) {
	t.Helper()
	b.stop()
	b.start(t)
}

// connect opens a connection of its own, as another instance would, that reconnects
// without end.
func (b *natsBus) connect(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", b.port), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// instance is one service instance: its own database handle on the shared file, evidence
// log, outbox and NATS connection.
type instance struct {
	o  *notify.Outbox
	nc *nats.Conn
	js jetstream.JetStream
}

func newInstance(t *testing.T, dsn string, b *natsBus, clk *clock, ch notify.Channel) *instance {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	if ch == nil {
		ch = newHook(t, "")
	}
	cfg := notify.Config{Log: openLog(t, db), Channels: []notify.Channel{ch}}
	if clk != nil {
		cfg.Now = clk.Now
	}
	o, err := notify.Open(context.Background(), db, cfg)
	require.NoError(t, err)
	in := &instance{o: o}
	in.nc, in.js = b.connect(t)
	return in
}

func (in *instance) dispatcher(t *testing.T, cfg notify.DispatcherConfig, ackWait time.Duration) *notify.Dispatcher {
	t.Helper()
	cfg.FanOut = &notify.FanOutConfig{JetStream: in.js, AckWait: ackWait}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	d, err := notify.NewDispatcher(in.o, cfg)
	require.NoError(t, err)
	return d
}

// running is a dispatcher's Run in a goroutine.
type running struct {
	stop func()
	done chan error
}

func run(ctx context.Context, d *notify.Dispatcher) *running {
	ctx, stop := context.WithCancel(ctx)
	r := &running{stop: stop, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	return r
}

func (r *running) end(t *testing.T) {
	t.Helper()
	r.stop()
	require.NoError(t, <-r.done)
}

// await waits until the receiver has accepted n distinct notifications.
func (rc *receiver) await(t *testing.T, n int) {
	t.Helper()
	for {
		if _, distinct, _ := rc.counts(); distinct >= n {
			return
		}
		select {
		case <-rc.delivered:
		case <-time.After(time.Minute):
			_, distinct, _ := rc.counts()
			t.Fatalf("%d of %d notifications delivered", distinct, n)
		}
	}
}

func sendN(t *testing.T, ins []*instance, to string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		var err error
		ids[i], err = ins[i%len(ins)].o.Send(context.Background(), message(to, ""))
		require.NoError(t, err)
	}
	return ids
}

// recorded waits until the outbox has recorded each notification as delivered: the
// receiver counts a request before the dispatcher reads its answer.
func recorded(t *testing.T, o *notify.Outbox, ids []string) {
	t.Helper()
	require.Eventually(t, func() bool { return countDelivered(t, o, ids) == len(ids) }, time.Minute, 10*time.Millisecond)
}

func countDelivered(t *testing.T, o *notify.Outbox, ids []string) int {
	t.Helper()
	c := 0
	for _, id := range ids {
		n, err := o.Get(context.Background(), id)
		require.NoError(t, err)
		if n.Status == notify.Delivered {
			c++
		}
	}
	return c
}

// assertOnce checks that each notification was delivered, once, and recorded so.
func assertOnce(t *testing.T, o *notify.Outbox, rc *receiver, ids []string) {
	t.Helper()
	requests, distinct, rejected := rc.counts()
	assert.Equal(t, len(ids), distinct)
	assert.Equal(t, len(ids), requests, "no notification sent twice")
	assert.Zero(t, rejected)
	for _, id := range ids {
		assert.Equal(t, 1, rc.times(id), id)
		n, err := o.Get(context.Background(), id)
		require.NoError(t, err)
		assert.Equal(t, notify.Delivered, n.Status, id)
	}
}

// Notifications sent through two instances on one database are claimed, published and
// attempted by the workers of both, each delivered once.
func TestFanOutTwoInstances(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		b := startNATS(t)
		rc := newReceiver(t)
		rc.delivered = make(chan string, 100)
		ins := []*instance{newInstance(t, dsn, b, nil, nil), newInstance(t, dsn, b, nil, nil)}
		var runs []*running
		for _, in := range ins {
			runs = append(runs, run(context.Background(), in.dispatcher(t, notify.DispatcherConfig{Workers: 4}, 0)))
		}
		ids := sendN(t, ins, rc.URL(), 40)
		rc.await(t, len(ids))
		recorded(t, ins[0].o, ids)
		for _, r := range runs {
			r.end(t)
		}
		assertOnce(t, ins[0].o, rc, ids)
		evs, err := ins[1].o.History(context.Background(), ids[0])
		require.NoError(t, err)
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.Delivered}, statuses(evs))
	})
}

// dying is a webhook whose first pass attempts go through and whose later ones hang, posting
// nothing, until the dispatcher stops: an instance that dies mid-way.
type dying struct {
	hook       notify.Channel
	pass, hold int

	mu      sync.Mutex
	calls   int
	ready   chan struct{} // closed when pass attempts ended and hold hang
	readyAt int
}

func (d *dying) Name() string { return d.hook.Name() }

func (d *dying) Deliver(ctx context.Context, dl *notify.Delivery) error {
	d.mu.Lock()
	d.calls++
	hang := d.calls > d.pass
	d.mu.Unlock()
	if hang {
		d.progress()
		<-ctx.Done()
		return ctx.Err()
	}
	err := d.hook.Deliver(context.WithoutCancel(ctx), dl)
	d.progress()
	return err
}

func (d *dying) progress() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.readyAt++
	if d.readyAt == d.pass+d.hold {
		close(d.ready)
	}
}

// An instance whose workers die mid-way leaves the claims it had not taken to the stream,
// which gives them to another instance's workers, and the claims it had taken to their
// leases; every notification is delivered exactly once.
func TestFanOutWorkerDies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		const n, pass, workers = 12, 3, 4
		b := startNATS(t)
		rc := newReceiver(t)
		rc.delivered = make(chan string, 2*n)
		clk := newClock()
		ch := &dying{hook: newHook(t, ""), pass: pass, hold: workers, ready: make(chan struct{})}
		a := newInstance(t, dsn, b, clk, ch)
		other := newInstance(t, dsn, b, clk, nil)
		const ackWait = 300 * time.Millisecond
		cfg := notify.DispatcherConfig{Workers: workers, Lease: time.Hour}

		ids := sendN(t, []*instance{a, other}, rc.URL(), n)
		ra := run(context.Background(), a.dispatcher(t, cfg, ackWait))
		<-ch.ready
		ra.end(t)
		a.nc.Close()
		rc.await(t, pass)

		rb := run(context.Background(), other.dispatcher(t, cfg, ackWait))
		// The claims a had not taken come back from the stream.
		rc.await(t, n-workers)
		require.Eventually(t, func() bool { return countDelivered(t, other.o, ids) == n-workers }, time.Minute, 10*time.Millisecond,
			"recorded before their leases end")
		// Those it had taken come back when their lease ends.
		clk.Add(time.Hour)
		rc.await(t, n)
		recorded(t, other.o, ids)
		rb.end(t)

		assertOnce(t, other.o, rc, ids)
		retried := 0
		for _, id := range ids {
			nt, err := other.o.Get(context.Background(), id)
			require.NoError(t, err)
			if nt.Attempts == 2 {
				retried++
			}
		}
		assert.Equal(t, workers, retried, "the claims taken by the dead workers, claimed again")
	})
}

// The stream is durable: claims published before a restart of the NATS server are
// attempted after it, and a dispatcher running across a restart carries on. What the
// stream holds names the notification and its claim, never the recipient or the content.
func TestFanOutServerRestart(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		ctx := context.Background()
		b := startNATS(t)
		rc := newReceiver(t)
		rc.delivered = make(chan string, 100)
		in := newInstance(t, dsn, b, nil, nil)
		d := in.dispatcher(t, notify.DispatcherConfig{Workers: 4}, 0)

		ids := sendN(t, []*instance{in}, rc.URL(), 10)
		require.NoError(t, d.RunUntilEmpty(ctx), "claims and publishes, attempts nothing")
		stream, err := in.js.Stream(ctx, notify.DefaultFanOutStream)
		require.NoError(t, err)
		info, err := stream.Info(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(10), info.State.Msgs)
		raw, err := stream.GetMsg(ctx, info.State.FirstSeq)
		require.NoError(t, err)
		var fields map[string]any
		require.NoError(t, json.Unmarshal(raw.Data, &fields))
		assert.ElementsMatch(t, []string{"id", "channel", "attempt", "lease"}, keys(fields))
		assert.Equal(t, fields["id"].(string)+"-1", raw.Header.Get(jetstream.MsgIDHeader))
		assert.NotContains(t, string(raw.Data), "Ana")
		assert.NotContains(t, string(raw.Data), "127.0.0.1")
		assert.Equal(t, notify.DefaultFanOutSubject+".webhook", raw.Subject)

		b.restart(t)
		r := run(ctx, d)
		rc.await(t, len(ids))
		recorded(t, in.o, ids)

		b.restart(t)
		ids = append(ids, sendN(t, []*instance{in}, rc.URL(), 10)...)
		rc.await(t, len(ids))
		recorded(t, in.o, ids)
		r.end(t)
		assertOnce(t, in.o, rc, ids)
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A claim that reaches workers twice (published again under another message ID, or
// delivered again by the stream) is attempted once: the first worker takes it.
func TestFanOutClaimConsumedTwice(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		ctx := context.Background()
		b := startNATS(t)
		rc := newReceiver(t)
		rc.delivered = make(chan string, 10)
		in := newInstance(t, dsn, b, nil, nil)
		d := in.dispatcher(t, notify.DispatcherConfig{Workers: 2}, 0)
		ids := sendN(t, []*instance{in}, rc.URL(), 1)
		require.NoError(t, d.RunUntilEmpty(ctx))

		stream, err := in.js.Stream(ctx, notify.DefaultFanOutStream)
		require.NoError(t, err)
		raw, err := stream.GetMsg(ctx, 1)
		require.NoError(t, err)
		for _, msgID := range []string{raw.Header.Get(jetstream.MsgIDHeader), "copy-1", "copy-2"} {
			ack, err := in.js.PublishMsg(ctx, &nats.Msg{Subject: raw.Subject, Data: raw.Data}, jetstream.WithMsgID(msgID))
			require.NoError(t, err)
			assert.Equal(t, !strings.HasPrefix(msgID, "copy"), ack.Duplicate, msgID)
		}
		// A claim that does not parse is dropped.
		_, err = in.js.Publish(ctx, raw.Subject, []byte("{"))
		require.NoError(t, err)

		r := run(ctx, d)
		rc.await(t, 1)
		recorded(t, in.o, ids)
		// Every message is settled before the dispatcher stops: the stream drains.
		require.Eventually(t, func() bool {
			info, err := stream.Info(ctx)
			return err == nil && info.State.Msgs == 0
		}, time.Minute, 10*time.Millisecond)
		r.end(t)
		assertOnce(t, in.o, rc, ids)
	})
}

func TestFanOutConfigRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	o := openOutbox(t, db, openLog(t, db), nil)
	b := startNATS(t)
	_, js := b.connect(t)
	for _, tc := range []struct {
		name string
		cfg  notify.FanOutConfig
	}{
		{"no JetStream", notify.FanOutConfig{}},
		{"stream name with a dot", notify.FanOutConfig{JetStream: js, Stream: "a.b"}},
		{"consumer name with a space", notify.FanOutConfig{JetStream: js, Consumer: "a b"}},
		{"wildcard subject", notify.FanOutConfig{JetStream: js, Subject: "dpi.*"}},
		{"empty subject token", notify.FanOutConfig{JetStream: js, Subject: "dpi..claims"}},
		{"negative AckWait", notify.FanOutConfig{JetStream: js, AckWait: -time.Second}},
		{"negative MaxPending", notify.FanOutConfig{JetStream: js, MaxPending: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.NewDispatcher(o, notify.DispatcherConfig{FanOut: &tc.cfg})
			assert.ErrorIs(t, err, notify.ErrConfig)
		})
	}
}
