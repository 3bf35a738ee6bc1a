package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// stuck is a channel whose first attempt never ends until its dispatcher stops: a worker
// that dies mid-attempt. Later attempts succeed.
type stuck struct {
	started chan struct{}
	calls   int
}

var _ notify.Channel = (*stuck)(nil)

func (s *stuck) Name() string { return "stuck" }

func (s *stuck) Deliver(ctx context.Context, d *notify.Delivery) error {
	s.calls++
	if s.calls == 1 {
		close(s.started)
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// A notification whose attempt never finished is claimed again once its lease ends; when
// that was its last attempt, it is a technical-failure.
func TestLeaseEnds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		schedule []time.Duration
		status   notify.Status
		attempts int
	}{
		{"claimed again", []time.Duration{0, time.Second}, notify.Delivered, 2},
		{"after the last attempt", []time.Duration{0}, notify.TechnicalFailure, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
				ctx := context.Background()
				ch := &stuck{started: make(chan struct{})}
				clk := newClock()
				o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{ch}, Schedule: tc.schedule, Now: clk.Now})
				require.NoError(t, err)
				tmpl, err := notify.ParseTemplate(notify.TextTemplate, "hello")
				require.NoError(t, err)
				id, err := o.Send(ctx, notify.Message{Channel: "stuck", To: "anyone", Template: tmpl})
				require.NoError(t, err)

				d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: 1, Lease: time.Hour})
				require.NoError(t, err)
				runCtx, stop := context.WithCancel(ctx)
				done := make(chan error)
				go func() { done <- d.Run(runCtx) }()
				<-ch.started
				stop()
				require.NoError(t, <-done)
				n, err := o.Get(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, notify.Sending, n.Status)
				assert.Equal(t, clk.Now().Add(time.Hour), n.NextAttempt, "held until the lease ends")

				require.NoError(t, d.RunUntilEmpty(ctx))
				assert.Equal(t, 1, ch.calls, "not claimed again while leased")
				clk.Add(time.Hour)
				require.NoError(t, d.RunUntilEmpty(ctx))
				n, err = o.Get(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, tc.status, n.Status)
				assert.Equal(t, tc.attempts, n.Attempts)
				assert.Equal(t, tc.attempts, ch.calls)
				if tc.status == notify.TechnicalFailure {
					assert.Contains(t, n.Reason, "lease")
				}
			})
		})
	}
}

func TestConfigRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	l := openLog(t, db)
	hook := newHook(t, "")
	for _, tc := range []struct {
		name string
		cfg  notify.Config
	}{
		{"no log", notify.Config{Channels: []notify.Channel{hook}}},
		{"no channel", notify.Config{Log: l}},
		{"nil channel", notify.Config{Log: l, Channels: []notify.Channel{nil}}},
		{"two channels of one name", notify.Config{Log: l, Channels: []notify.Channel{hook, newHook(t, "")}}},
		{"empty schedule", notify.Config{Log: l, Channels: []notify.Channel{hook}, Schedule: []time.Duration{}}},
		{"negative delay", notify.Config{Log: l, Channels: []notify.Channel{hook}, Schedule: []time.Duration{-1}}},
		{"schedule too long", notify.Config{Log: l, Channels: []notify.Channel{hook}, Schedule: make([]time.Duration, 33)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.Open(ctx, db, tc.cfg)
			assert.ErrorIs(t, err, notify.ErrConfig)
		})
	}
	o := openOutbox(t, db, l, nil)
	for _, cfg := range []notify.DispatcherConfig{{Workers: -1}, {Workers: 257}, {Lease: -time.Second}, {Poll: -time.Second}} {
		_, err := notify.NewDispatcher(o, cfg)
		assert.ErrorIs(t, err, notify.ErrConfig)
	}
	_, err = notify.NewDispatcher(nil, notify.DispatcherConfig{})
	assert.ErrorIs(t, err, notify.ErrConfig)
	_, err = notify.NewDispatcher(&notify.Outbox{}, notify.DispatcherConfig{})
	assert.ErrorIs(t, err, notify.ErrConfig)
}

func TestStatusText(t *testing.T) {
	for _, s := range []notify.Status{notify.Created, notify.Sending, notify.Delivered, notify.PermanentFailure, notify.TemporaryFailure, notify.TechnicalFailure} {
		b, err := s.MarshalText()
		require.NoError(t, err)
		var back notify.Status
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, s, back)
		assert.Equal(t, s != notify.Created && s != notify.Sending, s.Final())
	}
	var s notify.Status
	assert.ErrorIs(t, s.UnmarshalText([]byte("sent")), notify.ErrInput)
	_, err := notify.Status("pending").MarshalText()
	assert.ErrorIs(t, err, notify.ErrInput)
}
