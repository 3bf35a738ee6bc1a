package notify_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/internal/testenv"
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

// limited is one service instance on a shared outbox: its own connections, evidence log,
// outbox and dispatcher, as a process of its own would have.
type limited struct {
	db *store.DB
	o  *notify.Outbox
	d  *notify.Dispatcher
}

func openLimited(t *testing.T, dsn string, limits map[string]notify.RateLimit) *limited {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db),
		Channels: []notify.Channel{newHook(t, "webhook"), newHook(t, "fast")}})
	require.NoError(t, err)
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: 4, RateLimits: limits})
	require.NoError(t, err)
	return &limited{db: db, o: o, d: d}
}

// runAll runs the instances' dispatchers until nothing is due: at once, and then one after
// the other, so that each finds what the others left.
func runAll(t *testing.T, is []*limited) {
	t.Helper()
	ctx := context.Background()
	errs := make([]error, len(is))
	var wg sync.WaitGroup
	for i, in := range is {
		wg.Go(func() { errs[i] = in.d.RunUntilEmpty(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, in := range is {
		require.NoError(t, in.d.RunUntilEmpty(ctx))
	}
}

// Two dispatchers on one PostgreSQL outbox, as two processes would be, share a channel's
// rate limit: together they attempt it no more than one bucket allows. The bucket runs on
// the database's clock; the test moves that clock by moving the bucket's last refill back,
// and the limit is one an hour so that the seconds the test takes add no token.
func TestRateLimitsShared(t *testing.T) {
	base := testenv.PostgresURL(t)
	if base == "" {
		t.Skip("skipping: DPI_TEST_POSTGRES_URL is unset")
	}
	dsn := storetest.FreshSchema(t, base)
	ctx := context.Background()
	limits := map[string]notify.RateLimit{"webhook": {PerSecond: 1.0 / 3600, Burst: 3}}
	is := []*limited{openLimited(t, dsn, limits), openLimited(t, dsn, limits)}
	rc := newReceiver(t)
	for i := range 10 {
		_, err := is[i%2].o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		m := message(rc.URL(), "")
		m.Channel = "fast"
		_, err = is[i%2].o.Send(ctx, m)
		require.NoError(t, err)
	}
	// elapse moves the database's clock, as the bucket sees it, forward by d.
	elapse := func(d time.Duration) {
		_, err := is[0].db.ExecContext(ctx, "UPDATE notify_rate_buckets SET updated_at = updated_at - $1", d.Nanoseconds())
		require.NoError(t, err)
	}
	steps := []struct {
		elapse time.Duration
		want   int // distinct notifications delivered so far, both channels
	}{
		{0, 10 + 3},            // one burst for both, and every notification of the channel without a limit
		{0, 13},                // nothing more at the same time
		{time.Hour, 14},        // one token an hour, for both
		{90 * time.Minute, 15}, // one and a half tokens: one attempt, half a token left
		{40 * time.Minute, 16}, // the half and two thirds make one
		{10 * time.Hour, 19},   // a long pause refills the burst, no more
		{10 * time.Hour, 20},   // the last one
		{100 * time.Hour, 20},  // nothing left to send
	}
	for i, s := range steps {
		elapse(s.elapse)
		runAll(t, is)
		_, n, _ := rc.counts()
		assert.Equal(t, s.want, n, "step %d", i)
	}
	requests, n, _ := rc.counts()
	assert.Equal(t, n, requests, "each notification attempted once")
}

// A shared bucket that cannot be read stops its dispatchers: nothing goes without a token,
// and nothing is lost; once the bucket is back, the notifications go within the limit.
func TestRateLimitsSharedUnavailable(t *testing.T) {
	base := testenv.PostgresURL(t)
	if base == "" {
		t.Skip("skipping: DPI_TEST_POSTGRES_URL is unset")
	}
	dsn := storetest.FreshSchema(t, base)
	ctx := context.Background()
	in := openLimited(t, dsn, map[string]notify.RateLimit{"webhook": {PerSecond: 1.0 / 3600, Burst: 2}})
	rc := newReceiver(t)
	ids := make([]string, 4)
	for i := range ids {
		var err error
		ids[i], err = in.o.Send(ctx, message(rc.URL(), fmt.Sprint("key-", i)))
		require.NoError(t, err)
	}
	_, err := in.db.ExecContext(ctx, "ALTER TABLE notify_rate_buckets RENAME TO notify_rate_buckets_away")
	require.NoError(t, err)
	assert.Error(t, in.d.RunUntilEmpty(ctx))
	requests, _, _ := rc.counts()
	assert.Zero(t, requests, "nothing is attempted without its token")
	for _, id := range ids {
		n, err := in.o.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Created, n.Status, id)
		assert.Zero(t, n.Attempts, id)
	}

	_, err = in.db.ExecContext(ctx, "ALTER TABLE notify_rate_buckets_away RENAME TO notify_rate_buckets")
	require.NoError(t, err)
	require.NoError(t, in.d.RunUntilEmpty(ctx))
	_, n, _ := rc.counts()
	assert.Equal(t, 2, n, "the burst, once the bucket is back")
}
