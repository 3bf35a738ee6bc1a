package notify_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// A dispatcher's stats count what it recorded, not what another dispatcher on the same
// outbox did.
func TestDispatcherStats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		clk := newClock()
		o := openOutbox(t, db, openLog(t, db), clk)
		answer := func(code int) *receiver {
			rc := newReceiver(t)
			rc.respond = func(int, http.ResponseWriter) int { return code }
			return rc
		}
		for _, code := range []int{http.StatusNoContent, http.StatusServiceUnavailable, http.StatusBadRequest} {
			_, err := o.Send(ctx, message(answer(code).URL(), ""))
			require.NoError(t, err)
		}
		first, second := dispatcher(t, o, 2), dispatcher(t, o, 2)
		steps := []struct {
			name          string
			d             *notify.Dispatcher
			advance       time.Duration
			first, second notify.DispatcherStats
		}{
			{"first attempts", first, 0,
				notify.DispatcherStats{Attempts: 3, Delivered: 1, Retrying: 1, Failed: 1}, notify.DispatcherStats{}},
			{"the retry, by the second", second, time.Minute,
				notify.DispatcherStats{Attempts: 3, Delivered: 1, Retrying: 1, Failed: 1}, notify.DispatcherStats{Attempts: 1, Retrying: 1}},
			{"nothing due", first, 0,
				notify.DispatcherStats{Attempts: 3, Delivered: 1, Retrying: 1, Failed: 1}, notify.DispatcherStats{Attempts: 1, Retrying: 1}},
		}
		for _, s := range steps {
			clk.Add(s.advance)
			require.NoError(t, s.d.RunUntilEmpty(ctx), s.name)
			assert.Equal(t, s.first, first.Stats(), s.name)
			assert.Equal(t, s.second, second.Stats(), s.name)
		}
	})
}
