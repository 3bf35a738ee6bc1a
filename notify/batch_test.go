package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// halfway is a channel that, while blocking is set, delivers the first quick attempts at
// once and holds every later one until its dispatcher stops: a batch interrupted mid-way.
type halfway struct {
	quick int
	all   int // closes started at this many attempts

	mu       sync.Mutex
	blocking bool
	calls    map[string]int
	started  chan struct{}
}

var _ notify.Channel = (*halfway)(nil)

func (h *halfway) Name() string { return "halfway" }

func (h *halfway) Deliver(ctx context.Context, d *notify.Delivery) error {
	h.mu.Lock()
	h.calls[d.ID]++
	n := 0
	for _, c := range h.calls {
		n += c
	}
	hold := h.blocking && n > h.quick
	if h.blocking && n == h.all {
		close(h.started)
	}
	h.mu.Unlock()
	if hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// A dispatcher stopped with a claimed batch half attempted records the attempts that
// finished, leaves the others leased, and after their lease a second dispatcher delivers
// exactly those: nothing is lost, and nothing delivered is sent again.
func TestBatchInterruptedMidway(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		const batch, quick = 8, 3
		ch := &halfway{quick: quick, all: batch, blocking: true, calls: map[string]int{}, started: make(chan struct{})}
		clk := newClock()
		l := openLog(t, db)
		o, err := notify.Open(ctx, db, notify.Config{Log: l, Channels: []notify.Channel{ch}, Now: clk.Now})
		require.NoError(t, err)
		tmpl, err := notify.ParseTemplate(notify.TextTemplate, "hello")
		require.NoError(t, err)
		ids := make([]string, batch)
		for i := range ids {
			ids[i], err = o.Send(ctx, notify.Message{Channel: "halfway", To: fmt.Sprint("person-", i), Template: tmpl})
			require.NoError(t, err)
		}

		// One claim takes the whole batch: as many as the idle workers.
		d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: batch, Lease: time.Hour})
		require.NoError(t, err)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- d.Run(runCtx) }()
		<-ch.started
		stop()
		require.NoError(t, <-done)

		delivered := map[string]bool{}
		for _, id := range ids {
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 1, n.Attempts, id)
			switch n.Status {
			case notify.Delivered:
				delivered[id] = true
			case notify.Sending:
				assert.Equal(t, clk.Now().Add(time.Hour), n.NextAttempt, "held until the lease ends")
			default:
				t.Errorf("%s: %s", id, n.Status)
			}
		}
		assert.Len(t, delivered, quick, "the attempts that finished are recorded when the dispatcher stops")

		require.NoError(t, d.RunUntilEmpty(ctx))
		ch.mu.Lock()
		assert.Len(t, ch.calls, batch, "nothing claimed again while leased")
		ch.blocking = false
		ch.mu.Unlock()

		clk.Add(time.Hour)
		require.NoError(t, dispatcher(t, o, 4).RunUntilEmpty(ctx))
		for _, id := range ids {
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, notify.Delivered, n.Status, id)
			want := []notify.Status{notify.Created, notify.Sending, notify.Delivered}
			if !delivered[id] {
				want = []notify.Status{notify.Created, notify.Sending, notify.Sending, notify.Delivered}
				assert.Equal(t, 2, n.Attempts, id)
			}
			ch.mu.Lock()
			assert.Equal(t, len(want)-2, ch.calls[id], "attempts of %s", id)
			ch.mu.Unlock()
			evs, err := o.History(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, want, statuses(evs), id)
		}

		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		v, err := evidence.NewVerifier(testOrigin, logKey.Public())
		require.NoError(t, err)
		_, err = l.Verify(ctx, v)
		require.NoError(t, err)
	})
}
