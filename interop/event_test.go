package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/store"
)

// bus is a real NATS server with JetStream, embedded in the test process, its store in a
// temporary directory, and a stream EVENTS capturing dpi.events.>.
type bus struct {
	dir    string
	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
}

func startBus(t *testing.T) *bus {
	t.Helper()
	b := &bus{dir: t.TempDir()}
	b.start(t)
	var err error
	b.stream, err = b.js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"dpi.events.>"}, Storage: jetstream.FileStorage,
		Duplicates: interop.DefaultMaxSkew,
	})
	require.NoError(t, err)
	return b
}

// start starts the server on its store directory, which a restart keeps, and connects.
func (b *bus) start(t *testing.T) {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: b.dir, NoLog: true, NoSigs: true,
	})
	require.NoError(t, err)
	srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second), "NATS server not ready")
	b.srv = srv
	b.nc, err = nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	b.js, err = jetstream.New(b.nc)
	require.NoError(t, err)
	t.Cleanup(b.stop)
}

func (b *bus) stop() {
	b.nc.Close()
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

func (b *bus) consumer(t *testing.T, name string) jetstream.Consumer {
	t.Helper()
	c, err := b.js.CreateOrUpdateConsumer(context.Background(), "EVENTS", jetstream.ConsumerConfig{
		Durable: name, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
	})
	require.NoError(t, err)
	return c
}

func (w *world) publisher(t *testing.T, b *bus, cfg interop.PublisherConfig) *interop.Publisher {
	t.Helper()
	if cfg.Source == (interop.ClientID{}) {
		cfg.Source = agencyB
	}
	if cfg.Signer == nil {
		cfg.Signer = w.signB
	}
	if cfg.JetStream == nil {
		cfg.JetStream = b.js
	}
	if cfg.Subject == "" {
		cfg.Subject = "dpi.events"
	}
	p, err := interop.NewPublisher(cfg)
	require.NoError(t, err)
	return p
}

// reader runs a Consumer that hands each event to a channel, and collects refusals.
type reader struct {
	events  chan *interop.Event
	mu      sync.Mutex
	refused []error
	stop    func()
}

// read starts a consumer on c; fail, when set, decides whether the handler fails an event.
func (w *world) read(t *testing.T, c jetstream.Consumer, cfg interop.ConsumerConfig, fail func(*interop.Event) error) *reader {
	t.Helper()
	r := &reader{events: make(chan *interop.Event, 64)}
	cfg.Consumer = c
	if cfg.Verifier == nil {
		cfg.Verifier = w.verify
	}
	cfg.Handler = func(_ context.Context, e *interop.Event) error {
		r.events <- e
		if fail != nil {
			return fail(e)
		}
		return nil
	}
	cfg.Refused = func(_ jetstream.Msg, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.refused = append(r.refused, err)
	}
	cons, err := interop.NewConsumer(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			assert.NoError(t, <-done, "Run after its context ended")
		})
	}
	t.Cleanup(r.stop)
	return r
}

func (r *reader) next(t *testing.T) *interop.Event {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered within 10s")
		return nil
	}
}

func (r *reader) refusals() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.refused...)
}

func TestEventPublishConsume(t *testing.T) {
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, kt)
			b := startBus(t)
			db, err := store.Open(ctx, "sqlite://:memory:")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			logB := openLog(t, db, "agency-b.example/events")
			logA := openLog(t, db, "agency-a.example/events")
			p := w.publisher(t, b, interop.PublisherConfig{Log: logB})

			at := time.Date(2026, 12, 1, 9, 30, 0, 123e6, time.UTC)
			sent := []*interop.Event{
				{Type: "record.shared", Subject: "record-42", Time: at, DataContentType: "application/json", Data: []byte(`{"recipient": "EE/GOV/70000001/benefits"}`)},
				{ID: "evt-2", Type: "document.issued", DataContentType: "application/pdf", DataSchema: "https://agency-b.example/schemas/doc", Data: []byte{0x25, 0x50, 0x44, 0x46, 0x00, 0xff}},
			}
			for _, e := range sent {
				ack, err := p.Publish(ctx, e)
				require.NoError(t, err)
				assert.False(t, ack.Duplicate)
				assert.Equal(t, "EVENTS", ack.Stream)
			}
			assert.Len(t, sent[0].ID, 36, "a random UUID filled in")
			assert.Equal(t, agencyB.String(), sent[0].Source)
			assert.False(t, sent[1].Time.IsZero(), "the signing time filled in")

			r := w.read(t, b.consumer(t, "agency-a"), interop.ConsumerConfig{Log: logA}, nil)
			got := r.next(t)
			assert.Equal(t, sent[0].ID, got.ID)
			assert.Equal(t, agencyB.String(), got.Source)
			assert.Equal(t, "record.shared", got.Type)
			assert.Equal(t, "record-42", got.Subject)
			assert.True(t, at.Equal(got.Time), got.Time)
			assert.JSONEq(t, `{"recipient":"EE/GOV/70000001/benefits"}`, string(got.Data))
			got = r.next(t)
			assert.Equal(t, *sent[1], *got)
			r.stop()
			assert.Empty(t, r.refusals())

			// On the wire: the CloudEvents JSON format, structured mode, the envelope beside it.
			raw, err := b.stream.GetMsg(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, "dpi.events.record.shared", raw.Subject)
			assert.Equal(t, interop.EventMediaType, raw.Header.Get("Content-Type"))
			assert.Equal(t, sent[0].ID, raw.Header.Get(jetstream.MsgIDHeader))
			assert.Len(t, strings.Split(raw.Header.Get(interop.HeaderEnvelope), "."), 3)
			var wire map[string]any
			require.NoError(t, json.Unmarshal(raw.Data, &wire))
			assert.Equal(t, map[string]any{
				"specversion": "1.0", "id": sent[0].ID, "source": "EE/GOV/70000002/registry", "type": "record.shared",
				"subject": "record-42", "time": "2026-12-01T09:30:00.123Z", "datacontenttype": "application/json",
				"data": map[string]any{"recipient": "EE/GOV/70000001/benefits"},
			}, wire)
			raw, err = b.stream.GetMsg(ctx, 2)
			require.NoError(t, err)
			wire = nil
			require.NoError(t, json.Unmarshal(raw.Data, &wire))
			assert.Equal(t, "JVBERgD/", wire["data_base64"])

			// Both sides logged each event under its ID.
			for _, l := range []*evidence.Log{logB, logA} {
				for i, e := range sent {
					entries := scan(t, l, e.ID)
					require.Len(t, entries, 1, "%s: event %d", l.Origin(), i)
					var meta interop.LogMeta
					require.NoError(t, json.Unmarshal(entries[0].Meta, &meta))
					assert.Equal(t, "event", meta.Message)
					assert.Equal(t, e.Type, meta.Service)
					assert.Equal(t, agencyB.String(), meta.Client)
					assert.True(t, meta.Signed)
				}
			}
			assert.Equal(t, interop.KindEventPublished, scan(t, logB, sent[0].ID)[0].Kind)
			assert.Equal(t, interop.KindEventReceived, scan(t, logA, sent[0].ID)[0].Kind)
		})
	}
}

// TestEventDuplicate: an event published twice (a retry after a lost acknowledgement) is
// stored once, within the stream's duplicate window, and handled once.
func TestEventDuplicate(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dpitest.Ed25519)
	b := startBus(t)
	p := w.publisher(t, b, interop.PublisherConfig{})
	e := &interop.Event{ID: "dup-1", Type: "record.shared", Data: []byte(`1`)}
	ack, err := p.Publish(ctx, e)
	require.NoError(t, err)
	require.False(t, ack.Duplicate)
	again := &interop.Event{ID: "dup-1", Type: "record.shared", Data: []byte(`1`)}
	ack2, err := p.Publish(ctx, again)
	require.NoError(t, err)
	assert.True(t, ack2.Duplicate)
	assert.Equal(t, ack.Sequence, ack2.Sequence)
	_, err = p.Publish(ctx, &interop.Event{ID: "after", Type: "record.shared"})
	require.NoError(t, err)

	info, err := b.stream.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), info.State.Msgs)
	r := w.read(t, b.consumer(t, "a"), interop.ConsumerConfig{}, nil)
	assert.Equal(t, "dup-1", r.next(t).ID)
	assert.Equal(t, "after", r.next(t).ID, "the duplicate is not delivered")
}

// TestEventRedelivered: an event whose handler fails is delivered again until it succeeds;
// the events after it are not held back.
func TestEventRedelivered(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dpitest.ECDSAP256)
	b := startBus(t)
	p := w.publisher(t, b, interop.PublisherConfig{})
	for _, id := range []string{"flaky", "next"} {
		_, err := p.Publish(ctx, &interop.Event{ID: id, Type: "record.shared"})
		require.NoError(t, err)
	}
	var mu sync.Mutex
	attempts := map[string]int{}
	r := w.read(t, b.consumer(t, "a"), interop.ConsumerConfig{}, func(e *interop.Event) error {
		mu.Lock()
		defer mu.Unlock()
		attempts[e.ID]++
		if e.ID == "flaky" && attempts[e.ID] < 3 {
			return errors.New("the database is down")
		}
		return nil
	})
	seen := map[string]int{}
	for range 4 {
		seen[r.next(t).ID]++
	}
	assert.Equal(t, map[string]int{"flaky": 3, "next": 1}, seen)
	assert.Empty(t, r.refusals())
}

// TestEventRefused: messages that are not signed events from a member of the directory are
// terminated, reported with the check that failed, and never reach the handler; a genuine
// event after them is.
func TestEventRefused(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dpitest.ECDSAP256)
	b := startBus(t)
	// Genuine events, sealed by publishers that write to a stream nobody reads, then copied,
	// altered, onto the events stream.
	_, err := b.js.CreateStream(ctx, jetstream.StreamConfig{Name: "DRAFTS", Subjects: []string{"drafts.>"}})
	require.NoError(t, err)
	draft := func(p *interop.Publisher, e *interop.Event) *nats.Msg {
		t.Helper()
		ack, err := p.Publish(ctx, e)
		require.NoError(t, err)
		raw, err := b.js.Stream(ctx, "DRAFTS")
		require.NoError(t, err)
		m, err := raw.GetMsg(ctx, ack.Sequence)
		require.NoError(t, err)
		msg := nats.NewMsg("dpi.events." + e.Type)
		msg.Data, msg.Header = m.Data, m.Header
		return msg
	}
	pB := w.publisher(t, b, interop.PublisherConfig{Subject: "drafts"})
	strangerCred, err := w.pki.Issue(dpitest.CertOptions{CommonName: "stranger"})
	require.NoError(t, err)
	signStranger, err := interop.NewSigner(strangerCred.Key, strangerCred.Chain)
	require.NoError(t, err)
	pStranger := w.publisher(t, b, interop.PublisherConfig{Subject: "drafts", Source: stranger, Signer: signStranger})
	pAasB := w.publisher(t, b, interop.PublisherConfig{Subject: "drafts", Signer: w.signA})
	pLate := w.publisher(t, b, interop.PublisherConfig{Subject: "drafts", Now: func() time.Time { return time.Now().Add(-time.Hour) }})

	cases := []struct {
		name  string
		msg   func() *nats.Msg
		want  error
		check string
	}{
		{"unsigned", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "unsigned", Type: "record.shared"})
			m.Header.Del(interop.HeaderEnvelope)
			return m
		}, interop.ErrMalformed, interop.CheckNoEnvelope},
		{"data changed", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "changed", Type: "record.shared", Data: []byte(`{"allow":false}`)})
			m.Data = []byte(strings.Replace(string(m.Data), "false", "true", 1))
			return m
		}, interop.ErrSignature, interop.CheckSignature},
		{"subject changed", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "subject", Type: "record.shared", Subject: "record-1"})
			m.Data = []byte(strings.Replace(string(m.Data), "record-1", "record-2", 1))
			return m
		}, interop.ErrSignature, interop.CheckSignature},
		{"another member's envelope", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "swap", Type: "record.shared"})
			m.Header.Set(interop.HeaderEnvelope, draft(pB, &interop.Event{ID: "swap-other", Type: "record.shared"}).Header.Get(interop.HeaderEnvelope))
			return m
		}, interop.ErrSignature, interop.CheckSignature},
		{"sender not in the directory", func() *nats.Msg {
			return draft(pStranger, &interop.Event{ID: "stranger", Type: "record.shared"})
		}, interop.ErrUnknownMember, interop.CheckMember},
		{"signed by A as B", func() *nats.Msg {
			return draft(pAasB, &interop.Event{ID: "a-as-b", Type: "record.shared"})
		}, interop.ErrUnknownMember, interop.CheckMember},
		{"signed an hour before the stream stored it", func() *nats.Msg {
			return draft(pLate, &interop.Event{ID: "late", Type: "record.shared"})
		}, interop.ErrClockSkew, interop.CheckTime},
		{"Nats-Msg-Id not the event's id", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "evade", Type: "record.shared"})
			m.Header.Set(jetstream.MsgIDHeader, "evade-2")
			return m
		}, interop.ErrReplay, interop.CheckMessageID},
		{"extension attribute added", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "ext", Type: "record.shared"})
			m.Data = []byte(strings.Replace(string(m.Data), `{`, `{"dpiallow":"yes",`, 1))
			return m
		}, interop.ErrMalformed, interop.CheckEvent},
		{"attribute twice", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "twice", Type: "record.shared"})
			m.Data = []byte(strings.Replace(string(m.Data), `{`, `{"type":"record.deleted",`, 1))
			return m
		}, interop.ErrMalformed, interop.CheckEvent},
		{"not a CloudEvent", func() *nats.Msg {
			m := draft(pB, &interop.Event{ID: "junk", Type: "record.shared"})
			m.Data = []byte(`["junk"]`)
			return m
		}, interop.ErrMalformed, interop.CheckEvent},
	}
	for _, c := range cases {
		m := c.msg()
		if m.Header.Get(jetstream.MsgIDHeader) == "" {
			m.Header.Set(jetstream.MsgIDHeader, c.name)
		}
		_, err := b.js.PublishMsg(ctx, m)
		require.NoError(t, err, c.name)
	}
	_, err = w.publisher(t, b, interop.PublisherConfig{}).Publish(ctx, &interop.Event{ID: "genuine", Type: "record.shared"})
	require.NoError(t, err)

	r := w.read(t, b.consumer(t, "a"), interop.ConsumerConfig{}, nil)
	assert.Equal(t, "genuine", r.next(t).ID, "the first event the handler sees")
	refused := r.refusals()
	require.Len(t, refused, len(cases))
	for i, c := range cases {
		err := refused[i]
		assert.ErrorIs(t, err, c.want, c.name)
		assert.ErrorIs(t, err, interop.ErrRejected, c.name)
		var ie *interop.Error
		if assert.ErrorAs(t, err, &ie, c.name) {
			assert.Equal(t, c.check, ie.Check, c.name)
		}
	}
}

// TestEventResume: a durable consumer stopped, its connection closed and the server
// restarted on the same store, resumes with the first event it had not acknowledged.
func TestEventResume(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, dpitest.Ed25519)
	b := startBus(t)
	p := w.publisher(t, b, interop.PublisherConfig{})
	for _, id := range []string{"one", "two"} {
		_, err := p.Publish(ctx, &interop.Event{ID: id, Type: "record.shared"})
		require.NoError(t, err)
	}
	r := w.read(t, b.consumer(t, "agency-a"), interop.ConsumerConfig{}, nil)
	assert.Equal(t, "one", r.next(t).ID)
	assert.Equal(t, "two", r.next(t).ID)
	r.stop()
	// An acknowledgement is sent without waiting for the server's reply; flushing the
	// connection before it closes makes sure the server has it.
	require.NoError(t, b.nc.Flush())
	b.stop()

	b.start(t)
	p = w.publisher(t, b, interop.PublisherConfig{})
	_, err := p.Publish(ctx, &interop.Event{ID: "three", Type: "record.shared"})
	require.NoError(t, err)
	c, err := b.js.Consumer(ctx, "EVENTS", "agency-a")
	require.NoError(t, err)
	r = w.read(t, c, interop.ConsumerConfig{}, nil)
	assert.Equal(t, "three", r.next(t).ID, "resumes after the last event acknowledged")
}

func TestEventConfigRefused(t *testing.T) {
	w := newWorld(t, dpitest.Ed25519)
	b := startBus(t)
	good := interop.PublisherConfig{Source: agencyB, Signer: w.signB, JetStream: b.js, Subject: "dpi.events"}
	for name, edit := range map[string]func(*interop.PublisherConfig){
		"no source":       func(c *interop.PublisherConfig) { c.Source = interop.ClientID{} },
		"no signer":       func(c *interop.PublisherConfig) { c.Signer = nil },
		"no JetStream":    func(c *interop.PublisherConfig) { c.JetStream = nil },
		"no subject":      func(c *interop.PublisherConfig) { c.Subject = "" },
		"wildcard":        func(c *interop.PublisherConfig) { c.Subject = "dpi.*" },
		"trailing dot":    func(c *interop.PublisherConfig) { c.Subject = "dpi." },
		"space in prefix": func(c *interop.PublisherConfig) { c.Subject = "dpi events" },
	} {
		cfg := good
		edit(&cfg)
		_, err := interop.NewPublisher(cfg)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}

	p, err := interop.NewPublisher(good)
	require.NoError(t, err)
	for name, e := range map[string]*interop.Event{
		"another source":     {Source: agencyA.String(), Type: "x"},
		"no type":            {},
		"type with a space":  {Type: "record shared"},
		"type with wildcard": {Type: "record.*"},
		"empty word in type": {Type: "record..shared"},
		"data not JSON":      {Type: "x", DataContentType: "application/json", Data: []byte("{")},
		"bad content type":   {Type: "x", DataContentType: "/"},
		"data too long":      {Type: "x", DataContentType: "text/plain", Data: make([]byte, 64<<10)},
	} {
		_, err := p.Publish(context.Background(), e)
		assert.Error(t, err, name)
	}

	push, err := b.js.CreateOrUpdateConsumer(context.Background(), "EVENTS", jetstream.ConsumerConfig{
		Durable: "none", AckPolicy: jetstream.AckNonePolicy,
	})
	require.NoError(t, err)
	handler := func(context.Context, *interop.Event) error { return nil }
	for name, cfg := range map[string]interop.ConsumerConfig{
		"no consumer":     {Verifier: w.verify, Handler: handler},
		"no verifier":     {Consumer: b.consumer(t, "c"), Handler: handler},
		"no handler":      {Consumer: b.consumer(t, "c"), Verifier: w.verify},
		"no explicit ack": {Consumer: push, Verifier: w.verify, Handler: handler},
		"negative retry":  {Consumer: b.consumer(t, "c"), Verifier: w.verify, Handler: handler, RetryDelay: -1},
	} {
		_, err := interop.NewConsumer(cfg)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
}
