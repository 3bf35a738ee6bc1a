package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// callbackSecret is the sending service's own secret, not the webhook receivers'.
const callbackSecret = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

// callbackReceiver is the sending service's endpoint for status callbacks: it checks each
// request's signature, answers the first one 503, and keeps each callback once by its
// webhook-id.
type callbackReceiver struct {
	srv *httptest.Server
	v   *notify.WebhookVerifier

	mu       sync.Mutex
	requests int
	rejected int
	byID     map[string]notify.StatusCallback // by webhook-id
}

func newCallbackReceiver(t *testing.T) *callbackReceiver {
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{callbackSecret}})
	require.NoError(t, err)
	cr := &callbackReceiver{v: v, byID: map[string]notify.StatusCallback{}}
	cr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		cr.mu.Lock()
		defer cr.mu.Unlock()
		cr.requests++
		if err := cr.v.Verify(r.Header, body); err != nil {
			cr.rejected++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if cr.requests == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var cb notify.StatusCallback
		if err := json.Unmarshal(body, &cb); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		cr.byID[r.Header.Get(notify.HeaderWebhookID)] = cb
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(cr.srv.Close)
	return cr
}

func TestStatusCallbacks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		rc := newReceiver(t)
		rc.respond = func(n int, w http.ResponseWriter) int {
			if n == 2 {
				return http.StatusBadRequest // the second notification is refused for good
			}
			return http.StatusNoContent
		}
		cr := newCallbackReceiver(t)
		callbacks, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{callbackSecret}, InsecureAllowHTTP: true})
		require.NoError(t, err)
		o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{newHook(t, "")},
			Callbacks: callbacks, Schedule: []time.Duration{0, 0, 0}})
		require.NoError(t, err)
		d := dispatcher(t, o, 1)

		m1 := message(rc.URL(), "k1")
		m1.CallbackURL = cr.srv.URL + "/status"
		id1, err := o.Send(ctx, m1)
		require.NoError(t, err)
		require.NoError(t, d.RunUntilEmpty(ctx))
		m2 := message(rc.URL(), "k2")
		m2.CallbackURL = cr.srv.URL + "/status"
		m2.Reference = "case-43"
		id2, err := o.Send(ctx, m2)
		require.NoError(t, err)
		m3 := message(rc.URL(), "k3") // no callback asked for
		_, err = o.Send(ctx, m3)
		require.NoError(t, err)
		require.NoError(t, d.RunUntilEmpty(ctx))

		cr.mu.Lock()
		defer cr.mu.Unlock()
		assert.Zero(t, cr.rejected, "every callback verifies with the service's secret")
		assert.Equal(t, 3, cr.requests, "the first callback was refused with 503 and tried again")
		require.Len(t, cr.byID, 2)
		got := map[string]notify.StatusCallbackData{}
		for hookID, cb := range cr.byID {
			assert.Equal(t, notify.StatusCallbackEventType, cb.Type)
			assert.NotEqual(t, cb.Data.ID, hookID, "a callback has a webhook-id of its own")
			got[cb.Data.ID] = cb.Data
		}
		assert.Equal(t, notify.StatusCallbackData{ID: id1, Reference: "case-42", Status: notify.Delivered, Attempts: 1}, got[id1])
		assert.Equal(t, notify.PermanentFailure, got[id2].Status)
		assert.Equal(t, "case-43", got[id2].Reference)
		assert.Contains(t, got[id2].Reason, "400")

		// The final event names the callback, which is a notification of its own, delivered
		// on the second attempt.
		evs, err := o.History(ctx, id1)
		require.NoError(t, err)
		last := evs[len(evs)-1]
		require.NotEmpty(t, last.Callback)
		cb, err := o.Get(ctx, last.Callback)
		require.NoError(t, err)
		assert.Equal(t, notify.CallbackChannel, cb.Channel)
		assert.Equal(t, notify.Delivered, cb.Status)
		assert.Equal(t, 2, cb.Attempts)
		_, ok := cr.byID[last.Callback]
		assert.True(t, ok, "the webhook-id is the callback's ID")
	})
}

func TestStatusCallbacksRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	l := openLog(t, db)
	o := openOutbox(t, db, l, nil)
	m := message("http://127.0.0.1:1/hook", "")
	m.CallbackURL = "https://service.example/status"
	_, err = o.Send(ctx, m)
	assert.ErrorIs(t, err, notify.ErrInput, "no Callbacks webhook configured")

	callbacks, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{callbackSecret}})
	require.NoError(t, err)
	o, err = notify.Open(ctx, db, notify.Config{Log: l, Channels: []notify.Channel{newHook(t, "")}, Callbacks: callbacks})
	require.NoError(t, err)
	for _, bad := range []string{"http://service.example/status", "ftp://x/y", "https://user:pw@service.example/"} {
		m.CallbackURL = bad
		_, err = o.Send(ctx, m)
		assert.ErrorIs(t, err, notify.ErrInput, bad)
	}
	m.CallbackURL = ""
	m.Channel = notify.CallbackChannel
	_, err = o.Send(ctx, m)
	assert.ErrorIs(t, err, notify.ErrInput, "the callback channel is the outbox's own")

	reserved, err := notify.NewWebhook(notify.WebhookConfig{Name: notify.CallbackChannel, Secrets: []string{callbackSecret}})
	require.NoError(t, err)
	_, err = notify.Open(ctx, db, notify.Config{Log: l, Channels: []notify.Channel{reserved}, Callbacks: callbacks})
	assert.ErrorIs(t, err, notify.ErrConfig)
}
