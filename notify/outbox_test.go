package notify_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
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

func TestSendDelivers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		l := openLog(t, db)
		o := openOutbox(t, db, l, nil)
		id, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(id, "ntf_"))
		assert.NotContains(t, id, ".", "a webhook-id holds no '.'")

		n, err := o.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Created, n.Status)
		assert.Equal(t, 0, n.Attempts)

		require.NoError(t, dispatcher(t, o, 2).RunUntilEmpty(ctx))
		requests, distinct, rejected := rc.counts()
		assert.Equal(t, 1, requests)
		assert.Equal(t, 1, distinct)
		assert.Equal(t, 0, rejected)
		p := rc.payloads[id]
		require.NotNil(t, p)
		assert.Equal(t, notify.WebhookEventType, p.Type)
		assert.Equal(t, "case-42", p.Data.Reference)
		assert.Equal(t, "Dear Ana Souza, your application A-42 was approved.", p.Data.Text)
		assert.Equal(t, n.Created, p.Timestamp)

		n, err = o.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Delivered, n.Status)
		assert.Equal(t, 1, n.Attempts)
		assert.True(t, n.NextAttempt.IsZero())

		evs, err := o.History(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.Delivered}, statuses(evs))
		assert.Equal(t, "webhook", evs[0].Channel)
		assert.Equal(t, "case-42", evs[0].Reference)

		// The created entry commits to the recipient and the content, as erasable payload.
		for e, err := range l.Scan(ctx, evidence.Filter{Ref: id}) {
			require.NoError(t, err)
			assert.Equal(t, notify.KindStatus, e.Kind)
			assert.NotContains(t, string(e.Meta), "Ana", "no personal data in the metadata")
			if e.Seq == 0 {
				assert.Contains(t, string(e.Payload), "Ana Souza")
			}
		}
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		v, err := evidence.NewVerifier(testOrigin, logKey.Public())
		require.NoError(t, err)
		rep, err := l.Verify(ctx, v)
		require.NoError(t, err)
		assert.Equal(t, uint64(3), rep.Size)

		_, err = o.Get(ctx, "ntf_nothere")
		assert.ErrorIs(t, err, notify.ErrNotFound)
	})
}

func TestIdempotencyKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		l := openLog(t, db)
		o := openOutbox(t, db, l, nil)

		first, err := o.Send(ctx, message(rc.URL(), "decision-A-42"))
		require.NoError(t, err)
		again, err := o.Send(ctx, message(rc.URL(), "decision-A-42"))
		require.NoError(t, err)
		assert.Equal(t, first, again)
		var inTx string
		require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			inTx, err = o.Enqueue(ctx, tx, message(rc.URL(), "decision-A-42"))
			return err
		}))
		assert.Equal(t, first, inTx)
		// Twice in one transaction: the second sees the first.
		var a, b string
		require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			if a, err = o.Enqueue(ctx, tx, message(rc.URL(), "decision-B-7")); err != nil {
				return err
			}
			b, err = o.Enqueue(ctx, tx, message(rc.URL(), "decision-B-7"))
			return err
		}))
		assert.Equal(t, a, b)
		assert.NotEqual(t, first, a)
		other, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)

		assert.Equal(t, 3, countRows(t, db))
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(3), size, "one created entry per notification, none for a duplicate")

		require.NoError(t, dispatcher(t, o, 4).RunUntilEmpty(ctx))
		requests, distinct, _ := rc.counts()
		assert.Equal(t, 3, requests)
		assert.Equal(t, 3, distinct)
		for _, id := range []string{first, a, other} {
			assert.Equal(t, 1, rc.times(id))
		}
		// Once delivered, the key still sends nothing new.
		again, err = o.Send(ctx, message(rc.URL(), "decision-A-42"))
		require.NoError(t, err)
		assert.Equal(t, first, again)
		require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
		requests, _, _ = rc.counts()
		assert.Equal(t, 3, requests)
	})
}

// Many goroutines send with one key at once: one notification.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		o := openOutbox(t, db, openLog(t, db), nil)
		const n = 16
		ids := make([]string, n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				if i%2 == 0 {
					ids[i], errs[i] = o.Send(ctx, message(rc.URL(), "same"))
					return
				}
				errs[i] = db.InTx(ctx, func(tx *sql.Tx) error {
					var err error
					ids[i], err = o.Enqueue(ctx, tx, message(rc.URL(), "same"))
					return err
				})
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			assert.Equal(t, ids[0], ids[i])
		}
		assert.Equal(t, 1, countRows(t, db))
	})
}

func TestEnqueueInTheCallersTransaction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		l := openLog(t, db)
		o := openOutbox(t, db, l, nil)
		_, err := db.ExecContext(ctx, "CREATE TABLE decisions (id TEXT PRIMARY KEY, outcome TEXT NOT NULL)")
		require.NoError(t, err)

		boom := errors.New("the service changed its mind")
		var rolledBack string
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO decisions (id, outcome) VALUES (?, ?)"), "A-42", "approved"); err != nil {
				return err
			}
			var err error
			if rolledBack, err = o.Enqueue(ctx, tx, message(rc.URL(), "decision-A-42")); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.Equal(t, 0, countRows(t, db), "a rolled-back Enqueue leaves no notification")
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(0), size, "and no evidence")
		_, err = o.Get(ctx, rolledBack)
		assert.ErrorIs(t, err, notify.ErrNotFound)
		require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
		requests, _, _ := rc.counts()
		assert.Equal(t, 0, requests)

		// The key was never used: the committed retry is a new notification, and is sent.
		var id string
		require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO decisions (id, outcome) VALUES (?, ?)"), "A-42", "approved"); err != nil {
				return err
			}
			var err error
			id, err = o.Enqueue(ctx, tx, message(rc.URL(), "decision-A-42"))
			return err
		}))
		assert.NotEqual(t, rolledBack, id)
		require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
		assert.Equal(t, 1, rc.times(id))
		n, err := o.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Delivered, n.Status)

		_, err = o.Enqueue(ctx, nil, message(rc.URL(), ""))
		assert.ErrorIs(t, err, notify.ErrInput)
	})
}

// A message the outbox refuses is refused when it is created, and leaves nothing behind.
func TestMessageRefusedWhenCreated(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	l := openLog(t, db)
	hook, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{testSecret}})
	require.NoError(t, err)
	o, err := notify.Open(ctx, db, notify.Config{Log: l, Channels: []notify.Channel{hook}})
	require.NoError(t, err)
	good := message("https://receiver.example/hook", "")
	for _, tc := range []struct {
		name  string
		edit  func(m *notify.Message)
		check string
	}{
		{"missing field", func(m *notify.Message) { delete(m.Personalisation, "ref") }, "personalisation"},
		{"extra field", func(m *notify.Message) { m.Personalisation["nickname"] = "Aninha" }, "personalisation"},
		{"list of numbers", func(m *notify.Message) { m.Personalisation["ref"] = []any{1, 2} }, "personalisation"},
		{"number", func(m *notify.Message) { m.Personalisation["ref"] = 42 }, "personalisation"},
		{"no template", func(m *notify.Message) { m.Template = nil }, "template"},
		{"unknown channel", func(m *notify.Message) { m.Channel = "carrier-pigeon" }, "channel"},
		{"http URL", func(m *notify.Message) { m.To = "http://receiver.example/hook" }, "address"},
		{"not a URL", func(m *notify.Message) { m.To = "receiver.example/hook" }, "address"},
		{"credentials in URL", func(m *notify.Message) { m.To = "https://user:pw@receiver.example/hook" }, "address"},
		{"no address", func(m *notify.Message) { m.To = "" }, "address"},
		{"reference with a line break", func(m *notify.Message) { m.Reference = "a\nb" }, "reference"},
		{"reference too long", func(m *notify.Message) { m.Reference = strings.Repeat("r", 256) }, "reference"},
		{"idempotency key too long", func(m *notify.Message) { m.IdempotencyKey = strings.Repeat("k", 256) }, "idempotency key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good
			m.Personalisation = map[string]any{}
			for k, v := range good.Personalisation {
				m.Personalisation[k] = v
			}
			tc.edit(&m)
			_, err := o.Send(ctx, m)
			require.ErrorIs(t, err, notify.ErrInput)
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.check, e.Check)
			err = db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := o.Enqueue(ctx, tx, m)
				return err
			})
			require.ErrorIs(t, err, notify.ErrInput)
		})
	}
	assert.Equal(t, 0, countRows(t, db))
	size, err := l.Size(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), size)
}

// Failed attempts follow the Standard Webhooks schedule, with jitter, on an injected clock.
func TestRetriesFollowTheSchedule(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		rc.respond = func(n int, w http.ResponseWriter) int {
			if n <= 4 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}
		clk := newClock()
		o := openOutbox(t, db, openLog(t, db), clk)
		id, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		schedule := notify.StandardSchedule()
		d := dispatcher(t, o, 2)
		for attempt := 1; attempt <= 4; attempt++ {
			require.NoError(t, d.RunUntilEmpty(ctx))
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, notify.Sending, n.Status, "attempt %d", attempt)
			assert.Equal(t, attempt, n.Attempts)
			assert.Contains(t, n.Reason, "503")
			want := schedule[attempt]
			lo, hi := clk.Now().Add(want-want/10), clk.Now().Add(want+want/10)
			assert.False(t, n.NextAttempt.Before(lo) || n.NextAttempt.After(hi),
				"attempt %d: next at %v, want within 10%% of %v", attempt, n.NextAttempt.Sub(clk.Now()), want)
			// Not due before its time.
			clk.Set(n.NextAttempt.Add(-time.Millisecond))
			require.NoError(t, d.RunUntilEmpty(ctx))
			requests, _, _ := rc.counts()
			assert.Equal(t, attempt, requests)
			clk.Set(n.NextAttempt)
		}
		require.NoError(t, d.RunUntilEmpty(ctx))
		n, err := o.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Delivered, n.Status)
		assert.Equal(t, 5, n.Attempts)
		evs, err := o.History(ctx, id)
		require.NoError(t, err)
		want := []notify.Status{notify.Created}
		for range 4 {
			want = append(want, notify.Sending, notify.Sending)
		}
		want = append(want, notify.Sending, notify.Delivered)
		assert.Equal(t, want, statuses(evs))
		assert.False(t, evs[2].Next.IsZero(), "a failed attempt's event says when the next is due")
		assert.Contains(t, evs[2].Reason, "503")
	})
}

// A receiver's Retry-After holds the next attempt back when it is longer than the schedule.
func TestRetryAfter(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/n.db")
	require.NoError(t, err)
	defer db.Close()
	rc := newReceiver(t)
	rc.respond = func(n int, w http.ResponseWriter) int {
		w.Header().Set("Retry-After", "3600")
		return http.StatusTooManyRequests
	}
	clk := newClock()
	o := openOutbox(t, db, openLog(t, db), clk)
	id, err := o.Send(ctx, message(rc.URL(), ""))
	require.NoError(t, err)
	require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
	n, err := o.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, notify.Sending, n.Status)
	assert.Equal(t, clk.Now().Add(time.Hour), n.NextAttempt)
	assert.Contains(t, n.Reason, "429")
}

// After the last attempt, a notification is a dead letter: temporary-failure when the
// receiver kept failing, technical-failure when it could not be reached.
func TestDeadLetter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		rc.respond = func(int, http.ResponseWriter) int { return http.StatusInternalServerError }
		gone := newReceiver(t)
		gone.srv.Close() // refuses connections
		clk := newClock()
		o := openOutbox(t, db, openLog(t, db), clk)
		failing, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		unreachable, err := o.Send(ctx, message(gone.URL(), ""))
		require.NoError(t, err)
		d := dispatcher(t, o, 2)
		attempts := len(notify.StandardSchedule())
		for range attempts {
			require.NoError(t, d.RunUntilEmpty(ctx))
			clk.Add(25 * time.Hour)
		}
		require.NoError(t, d.RunUntilEmpty(ctx))
		for _, tc := range []struct {
			id     string
			status notify.Status
		}{{failing, notify.TemporaryFailure}, {unreachable, notify.TechnicalFailure}} {
			n, err := o.Get(ctx, tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.status, n.Status)
			assert.Equal(t, attempts, n.Attempts)
			assert.True(t, n.Status.Final())
			evs, err := o.History(ctx, tc.id)
			require.NoError(t, err)
			assert.Len(t, evs, 1+2*attempts)
			assert.Equal(t, tc.status, evs[len(evs)-1].Status)
		}
		requests, _, _ := rc.counts()
		assert.Equal(t, attempts, requests)
		// A dead letter is never attempted again.
		clk.Add(1000 * time.Hour)
		require.NoError(t, d.RunUntilEmpty(ctx))
		requests, _, _ = rc.counts()
		assert.Equal(t, attempts, requests)
	})
}

// Other 4xx and redirects are permanent failures, after one attempt; a redirect is not
// followed.
func TestPermanentFailures(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/n.db")
	require.NoError(t, err)
	defer db.Close()
	target := newReceiver(t)
	for _, tc := range []struct {
		code   int
		status notify.Status
	}{
		{http.StatusBadRequest, notify.PermanentFailure},
		{http.StatusNotFound, notify.PermanentFailure},
		{http.StatusUnauthorized, notify.PermanentFailure},
		{http.StatusMovedPermanently, notify.PermanentFailure},
		{http.StatusTemporaryRedirect, notify.PermanentFailure},
		{http.StatusTooManyRequests, notify.Sending},
		{http.StatusRequestTimeout, notify.Sending},
		{http.StatusBadGateway, notify.Sending},
		{http.StatusGatewayTimeout, notify.Sending},
		{http.StatusOK, notify.Delivered},
		{http.StatusAccepted, notify.Delivered},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			rc := newReceiver(t)
			rc.respond = func(n int, w http.ResponseWriter) int {
				w.Header().Set("Location", target.URL())
				return tc.code
			}
			o := openOutbox(t, db, openLog(t, db), nil)
			id, err := o.Send(ctx, message(rc.URL(), ""))
			require.NoError(t, err)
			require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, tc.status, n.Status)
			assert.Equal(t, 1, n.Attempts)
			if tc.status == notify.PermanentFailure {
				assert.Contains(t, n.Reason, fmt.Sprint(tc.code))
			}
		})
	}
	requests, _, _ := target.counts()
	assert.Equal(t, 0, requests, "redirects are not followed")
}

// A receiver that answers 410 Gone disables its endpoint: nothing more is sent to it until it
// is enabled again.
func TestGoneDisablesTheEndpoint(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		var gone sync.Mutex
		isGone := true
		rc.respond = func(int, http.ResponseWriter) int {
			gone.Lock()
			defer gone.Unlock()
			if isGone {
				return http.StatusGone
			}
			return http.StatusOK
		}
		o := openOutbox(t, db, openLog(t, db), nil)
		d := dispatcher(t, o, 1)
		first, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		require.NoError(t, d.RunUntilEmpty(ctx))
		n, err := o.Get(ctx, first)
		require.NoError(t, err)
		assert.Equal(t, notify.PermanentFailure, n.Status)
		assert.Contains(t, n.Reason, "410")
		disabled, err := o.EndpointDisabled(ctx, "webhook", rc.URL())
		require.NoError(t, err)
		assert.True(t, disabled)
		evs, err := o.History(ctx, first)
		require.NoError(t, err)
		assert.True(t, evs[len(evs)-1].EndpointDisabled)

		second, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		require.NoError(t, d.RunUntilEmpty(ctx))
		n, err = o.Get(ctx, second)
		require.NoError(t, err)
		assert.Equal(t, notify.PermanentFailure, n.Status)
		assert.Equal(t, 0, n.Attempts)
		requests, _, _ := rc.counts()
		assert.Equal(t, 1, requests, "nothing is sent to a disabled endpoint")

		gone.Lock()
		isGone = false
		gone.Unlock()
		require.NoError(t, o.EnableEndpoint(ctx, "webhook", rc.URL()))
		third, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		require.NoError(t, d.RunUntilEmpty(ctx))
		n, err = o.Get(ctx, third)
		require.NoError(t, err)
		assert.Equal(t, notify.Delivered, n.Status)
	})
}

// Many workers in several dispatchers share one outbox: each notification is delivered, once.
func TestManyWorkersDeliverEachOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		l := openLog(t, db)
		o := openOutbox(t, db, l, nil)
		const total = 300
		ids := make([]string, total)
		for i := range ids {
			var err error
			ids[i], err = o.Send(ctx, message(rc.URL(), ""))
			require.NoError(t, err)
		}
		// Three dispatchers, each on its own connection pool, as three processes would be.
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			other, err := store.Open(ctx, dsn)
			require.NoError(t, err)
			defer other.Close()
			oo := openOutbox(t, other, openLog(t, other), nil)
			d := dispatcher(t, oo, 8)
			wg.Go(func() { errs[i] = d.RunUntilEmpty(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		requests, distinct, rejected := rc.counts()
		assert.Equal(t, total, distinct)
		assert.Equal(t, total, requests, "no notification is sent twice")
		assert.Equal(t, 0, rejected)
		for _, id := range ids {
			assert.Equal(t, 1, rc.times(id))
			n, err := o.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, notify.Delivered, n.Status)
		}
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(3*total), size)
	})
}

// Run delivers as notifications arrive, and returns when its context ends.
func TestRunDeliversUntilStopped(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/n.db")
	require.NoError(t, err)
	defer db.Close()
	rc := newReceiver(t)
	rc.delivered = make(chan string, 10)
	o := openOutbox(t, db, openLog(t, db), nil)
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: 2, Poll: time.Hour})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- d.Run(runCtx) }()
	for range 3 {
		id, err := o.Send(ctx, message(rc.URL(), ""))
		require.NoError(t, err)
		// Send wakes the dispatcher at once, though its poll is an hour.
		assert.Equal(t, id, <-rc.delivered)
	}
	stop()
	require.NoError(t, <-done)
	n, err := o.Get(ctx, "")
	assert.ErrorIs(t, err, notify.ErrNotFound)
	assert.Nil(t, n)
}
