package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
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

// The crash test re-runs the test binary as a child that dispatches until it is killed.
const childEnv = "DPI_NOTIFY_TEST_CHILD_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(childEnv); dsn != "" {
		os.Exit(dispatchForever(dsn))
	}
	os.Exit(m.Run())
}

// dispatchForever runs a dispatcher on the outbox in dsn until the process is killed.
func dispatchForever(dsn string) int {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: testOrigin, Signer: logKey})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	hook, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{testSecret}, InsecureAllowHTTP: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o, err := notify.Open(ctx, db, notify.Config{Log: l, Channels: []notify.Channel{hook}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: 16, Lease: time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_ = d.Run(ctx)
	return 0
}

// A dispatcher killed with SIGKILL in the middle of its work (batches of up to 16 claimed,
// some attempted, some recorded) loses no notification: after a restart, each is
// delivered at least once, and the evidence log verifies.
func TestKilledDispatcherLosesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		// The receiver takes the first deliveries, then holds every later request until the
		// child is dead, so that the child is killed with attempts in flight.
		const before = 40
		hold := make(chan struct{})
		held := make(chan struct{}, 1)
		var once sync.Once
		rc.respond = func(n int, w http.ResponseWriter) int {
			if n > before {
				once.Do(func() { held <- struct{}{} })
				<-hold
			}
			return http.StatusOK
		}
		l := openLog(t, db)
		o := openOutbox(t, db, l, nil)
		const total = 200
		ids := make([]string, total)
		for i := range ids {
			var err error
			ids[i], err = o.Send(ctx, message(rc.URL(), fmt.Sprint("key-", i)))
			require.NoError(t, err)
		}

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), childEnv+"="+dsn)
		child.Stderr = os.Stderr
		require.NoError(t, child.Start())
		select {
		case <-held:
		case <-time.After(2 * time.Minute):
			_ = child.Process.Kill()
			t.Fatal("the child delivered nothing")
		}
		require.NoError(t, child.Process.Kill())
		_ = child.Wait()
		close(hold)

		requests, distinct, rejected := rc.counts()
		assert.Equal(t, 0, rejected)
		assert.GreaterOrEqual(t, distinct, before)
		assert.Less(t, distinct, total, "the child was killed before it delivered everything")
		inFlight := 0
		for _, id := range ids {
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			if n.Status == notify.Sending {
				inFlight++
			}
		}
		assert.Positive(t, inFlight, "attempts were in flight when the child died")
		t.Logf("killed after %d requests, %d notifications delivered, %d in flight", requests, distinct, inFlight)

		// The restart runs after the child's leases have ended.
		clk := newClock()
		clk.Set(time.Now().Add(2 * time.Minute))
		restarted := openOutbox(t, db, l, clk)
		require.NoError(t, dispatcher(t, restarted, 8).RunUntilEmpty(ctx))
		for _, id := range ids {
			assert.GreaterOrEqual(t, rc.times(id), 1, id)
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, notify.Delivered, n.Status, id)
		}
		_, distinct, _ = rc.counts()
		assert.Equal(t, total, distinct)

		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		v, err := evidence.NewVerifier(testOrigin, logKey.Public())
		require.NoError(t, err)
		_, err = l.Verify(ctx, v)
		require.NoError(t, err)
	})
}
