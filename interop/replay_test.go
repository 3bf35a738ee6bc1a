package interop_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/store"
)

// clock is a clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time               { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration)          { c.ns.Add(int64(d)) }
func (c *clock) in(d time.Duration) time.Time { return c.Now().Add(d) }

// exerciseSeen is what every SeenIDs must do.
func exerciseSeen(t *testing.T, s interop.SeenIDs, clk *clock) {
	ctx := context.Background()
	fresh, err := s.Add(ctx, "k1", clk.in(time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh)
	fresh, err = s.Add(ctx, "k1", clk.in(time.Minute))
	require.NoError(t, err)
	assert.False(t, fresh, "a key inside its window is seen")
	fresh, err = s.Add(ctx, "k2", clk.in(time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh)

	clk.Add(2 * time.Minute)
	fresh, err = s.Add(ctx, "k1", clk.in(time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh, "an expired key may come again")

	// Many instances, one key: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fresh, err := s.Add(ctx, "race", clk.in(time.Minute))
			if assert.NoError(t, err) && fresh {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestMemorySeenIDs(t *testing.T) {
	clk := newClock()
	exerciseSeen(t, interop.NewMemorySeenIDs(interop.SeenConfig{Now: clk.Now}), clk)

	// Bounded: a full store refuses rather than forgets a key still inside its window.
	m := interop.NewMemorySeenIDs(interop.SeenConfig{Max: 3, Now: clk.Now})
	ctx := context.Background()
	for i := range 3 {
		fresh, err := m.Add(ctx, fmt.Sprint(i), clk.in(time.Duration(i+1)*time.Minute))
		require.NoError(t, err)
		require.True(t, fresh)
	}
	_, err := m.Add(ctx, "3", clk.in(time.Minute))
	require.Error(t, err)
	fresh, err := m.Add(ctx, "0", clk.in(time.Minute))
	require.NoError(t, err)
	assert.False(t, fresh, "a full store still recognises its keys")
	clk.Add(90 * time.Second)
	fresh, err = m.Add(ctx, "3", clk.in(time.Minute))
	require.NoError(t, err)
	assert.True(t, fresh, "an expired key makes room")
	assert.Equal(t, 3, m.Len())
}

func TestDBSeenIDs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		clk := newClock()
		s, err := interop.OpenSeenIDs(ctx, db, interop.SeenConfig{Now: clk.Now})
		require.NoError(t, err)
		exerciseSeen(t, s, clk)

		// A second instance on the same database sees the first one's keys.
		db2, err := store.Open(ctx, dsn)
		require.NoError(t, err)
		defer db2.Close()
		s2, err := interop.OpenSeenIDs(ctx, db2, interop.SeenConfig{Now: clk.Now})
		require.NoError(t, err)
		fresh, err := s2.Add(ctx, "k2b", clk.in(time.Minute))
		require.NoError(t, err)
		assert.True(t, fresh)
		fresh, err = s.Add(ctx, "k2b", clk.in(time.Minute))
		require.NoError(t, err)
		assert.False(t, fresh)

		// Expired rows are deleted as new keys arrive.
		for i := range 50 {
			_, err := s.Add(ctx, fmt.Sprint("bulk", i), clk.in(time.Second))
			require.NoError(t, err)
		}
		clk.Add(time.Hour)
		for i := range 600 {
			_, err := s.Add(ctx, fmt.Sprint("later", i), clk.in(time.Second))
			require.NoError(t, err)
		}
		var rows int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM interop_seen_ids").Scan(&rows))
		assert.Equal(t, 600, rows, "every expired row is swept, only the 600 inside their window remain")
	})
}

// TestReplayAcrossInstances has two handlers of B share one database store: a request
// accepted by one is refused by the other.
func TestReplayAcrossInstances(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		w := newWorld(t, dpitest.ECDSAP256)
		seen, err := interop.OpenSeenIDs(context.Background(), db, interop.SeenConfig{})
		require.NoError(t, err)
		one := w.serve(t, interop.HandlerConfig{Seen: seen}, echo(t))
		two := w.serve(t, interop.HandlerConfig{Seen: seen}, echo(t))
		rec := &recorder{}
		c := w.client(t, interop.TransportConfig{Base: rec})
		resp, err := c.Get(one.URL + "/v1/persons/7")
		require.NoError(t, err)
		decodeEcho(t, resp)
		r := rec.requests[0]
		r.url = two.URL + r.url[len(one.URL):]
		assertFault(t, r.send(t, nil), 400, "Client.DuplicateMessageId")
	})
}
