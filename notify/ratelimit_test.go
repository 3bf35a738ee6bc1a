package notify_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

func TestRateLimits(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	clk := newClock()
	rc := newReceiver(t)
	o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Now: clk.Now,
		Channels: []notify.Channel{newHook(t, "webhook"), newHook(t, "fast")}})
	require.NoError(t, err)
	// Two per second, three at once; the workers share the bucket.
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: 4, Now: clk.Now,
		RateLimits: map[string]notify.RateLimit{"webhook": {PerSecond: 2, Burst: 3}}})
	require.NoError(t, err)
	for range 10 {
		_, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		m := message(rc.URL(), "")
		m.Channel = "fast"
		_, err = o.Send(ctx, m)
		require.NoError(t, err)
	}
	delivered := func() int {
		_, n, _ := rc.counts()
		return n
	}
	steps := []struct {
		advance time.Duration
		want    int // distinct notifications delivered so far, both channels
	}{
		{0, 10 + 3},                  // the burst, and every notification of the channel without a limit
		{0, 13},                      // nothing more at the same instant
		{time.Second, 15},            // two tokens a second
		{500 * time.Millisecond, 16}, // one more half a second later
		{10 * time.Second, 19},       // a long pause refills the burst, no more
		{10 * time.Second, 20},       // the last one
	}
	for i, s := range steps {
		clk.Add(s.advance)
		require.NoError(t, d.RunUntilEmpty(ctx))
		assert.Equal(t, s.want, delivered(), "step %d", i)
	}
}

func TestRateLimitsRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	o := openOutbox(t, db, openLog(t, db), nil)
	for name, rl := range map[string]map[string]notify.RateLimit{
		"unknown channel": {"sms": {PerSecond: 1}},
		"zero rate":       {"webhook": {}},
		"negative rate":   {"webhook": {PerSecond: -1}},
		"NaN":             {"webhook": {PerSecond: math.NaN()}},
		"infinite":        {"webhook": {PerSecond: math.Inf(1)}},
		"negative burst":  {"webhook": {PerSecond: 1, Burst: -1}},
		"huge burst":      {"webhook": {PerSecond: 1, Burst: 1 << 30}},
	} {
		_, err := notify.NewDispatcher(o, notify.DispatcherConfig{RateLimits: rl})
		assert.ErrorIs(t, err, notify.ErrConfig, name)
	}
}
