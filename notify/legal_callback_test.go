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

// statusReceiver is the sending service's endpoint for status callbacks on loopback: it
// verifies each request's Standard Webhooks signature and keeps each callback once by
// its webhook-id.
type statusReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	rejected int
	byID     map[string]notify.StatusCallback // by webhook-id
}

func newStatusReceiver(t testing.TB) *statusReceiver {
	t.Helper()
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{callbackSecret}})
	require.NoError(t, err)
	sr := &statusReceiver{byID: map[string]notify.StatusCallback{}}
	sr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		sr.mu.Lock()
		defer sr.mu.Unlock()
		var cb notify.StatusCallback
		if v.Verify(r.Header, body) != nil || json.Unmarshal(body, &cb) != nil {
			sr.rejected++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sr.byID[r.Header.Get(notify.HeaderWebhookID)] = cb
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(sr.srv.Close)
	return sr
}

// statuses returns, for each notification, the statuses called back, with their
// timestamps.
func (sr *statusReceiver) statuses() map[string]map[notify.Status]time.Time {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	out := map[string]map[notify.Status]time.Time{}
	for _, cb := range sr.byID {
		if out[cb.Data.ID] == nil {
			out[cb.Data.ID] = map[notify.Status]time.Time{}
		}
		out[cb.Data.ID][cb.Data.Status] = cb.Timestamp
	}
	return out
}

// withCallbacks gives the fixture an outbox that sends status callbacks signed with
// callbackSecret, and the Legal and dispatcher on it.
func withCallbacks(t testing.TB, f *legalFixture, rule notify.Rule, cal *notify.Calendar) {
	t.Helper()
	ctx := context.Background()
	callbacks, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{callbackSecret}, InsecureAllowHTTP: true})
	require.NoError(t, err)
	letters, err := notify.NewLetterChannel(notify.LetterConfig{Printer: f.printer, From: []string{"Agencia Ejemplo", "Calle Mayor 1", "28013 Madrid"}, Location: cet})
	require.NoError(t, err)
	f.outbox, err = notify.Open(ctx, f.db, notify.Config{Log: f.log, Channels: []notify.Channel{f.mailbox, letters, newHook(t, "")},
		Callbacks: callbacks, Schedule: legalSchedule, Now: f.clk.Now})
	require.NoError(t, err)
	f.legal, err = notify.NewLegal(notify.LegalConfig{Outbox: f.outbox, Mailbox: f.mailbox, Rule: &rule, Calendar: cal,
		Sender: "agency.example", Letter: "letter", Signer: agencyKey, Now: f.clk.Now})
	require.NoError(t, err)
	f.disp = dispatcher(t, f.outbox, 2)
}

// TestLegalStatusCallbacks: the sending service is called back, signed, once for each
// legal status a notice reaches, including an opening after the notice was deemed.
func TestLegalStatusCallbacks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		cal := calendar(t, cet)
		f := newLegalFixture(t, db, notify.RuleES, cal)
		withCallbacks(t, f, notify.RuleES, cal)
		sr := newStatusReceiver(t)
		url := sr.srv.URL + "/status"

		sent := f.clk.Now()
		opened := f.notice("psn-ana", "exp-7")
		opened.CallbackURL = url
		idOpened := f.send(t, opened)
		unopened := f.notice("psn-bob", "exp-8")
		unopened.CallbackURL = url
		idUnopened := f.send(t, unopened)
		paper := f.notice("", "exp-9") // no digital address: the letter is the notice
		paper.Alert = nil
		paper.CallbackURL = url
		idPaper := f.send(t, paper)

		// The first sweep calls back made-available, which the mailbox recorded; it changes
		// no notice.
		assert.Zero(t, f.deem(t))
		f.clk.Add(time.Hour)
		_, err := f.mailbox.Open(ctx, "psn-ana", idOpened)
		require.NoError(t, err)
		assert.Zero(t, f.deem(t))

		// Ten days pass: Bob's notice is deemed rejected, then he opens it.
		f.clk.Set(at(cet, 2026, 3, 13, 0, 5))
		assert.Equal(t, 1, f.deem(t))
		f.clk.Add(time.Hour)
		_, err = f.mailbox.Open(ctx, "psn-bob", idUnopened)
		require.NoError(t, err)
		assert.Zero(t, f.deem(t))
		// However often the sweep runs, nothing is called back twice.
		assert.Zero(t, f.deem(t))

		sr.mu.Lock()
		assert.Zero(t, sr.rejected, "every callback verifies with the service's secret")
		assert.Len(t, sr.byID, 8)
		for hookID, cb := range sr.byID {
			assert.Equal(t, notify.StatusCallbackEventType, cb.Type)
			assert.NotEqual(t, hookID, cb.Data.ID, "a callback has a webhook-id of its own")
		}
		sr.mu.Unlock()

		got := sr.statuses()
		assert.Equal(t, map[notify.Status]time.Time{
			notify.Delivered:     sent.UTC(),
			notify.MadeAvailable: sent.UTC(),
			notify.Opened:        sent.Add(time.Hour).UTC(),
		}, got[idOpened])
		open := at(cet, 2026, 3, 13, 1, 5).UTC()
		assert.Equal(t, map[notify.Status]time.Time{
			notify.Delivered:      sent.UTC(),
			notify.MadeAvailable:  sent.UTC(),
			notify.DeemedRejected: at(cet, 2026, 3, 13, 0, 0).UTC(), // the rule's date
			notify.Opened:         open,
		}, got[idUnopened])
		assert.Equal(t, map[notify.Status]time.Time{notify.Delivered: sent.UTC()}, got[idPaper], "the letter's delivery to the printer")

		// The deemed-rejected event names its callback, enqueued in the same transaction.
		evs, err := f.outbox.History(ctx, idUnopened)
		require.NoError(t, err)
		var deemed notify.Event
		for _, ev := range evs {
			if ev.Status == notify.DeemedRejected {
				deemed = ev
			}
		}
		require.NotEmpty(t, deemed.Callback)
		cb, err := f.outbox.Get(ctx, deemed.Callback)
		require.NoError(t, err)
		assert.Equal(t, notify.CallbackChannel, cb.Channel)
		assert.Equal(t, notify.Delivered, cb.Status)
		sr.mu.Lock()
		assert.Equal(t, notify.StatusCallbackData{ID: idUnopened, Reference: "EXP-7", Status: notify.DeemedRejected}, sr.byID[deemed.Callback].Data)
		sr.mu.Unlock()

		var stored int
		require.NoError(t, db.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM notify_messages WHERE channel = ?"), notify.CallbackChannel).Scan(&stored))
		assert.Equal(t, 8, stored, "each callback stored once")
	})
}

// TestLegalStatusCallbacksRefused: a notice asks for callbacks only from an outbox that
// sends them, to a URL its webhook accepts.
func TestLegalStatusCallbacksRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	cal := calendar(t, cet)
	f := newLegalFixture(t, db, notify.RuleES, cal)
	n := f.notice("psn-ana", "")
	n.CallbackURL = "https://service.example/status"
	_, err = f.legal.Send(ctx, n)
	assert.ErrorIs(t, err, notify.ErrInput, "no Callbacks webhook configured")

	withCallbacks(t, f, notify.RuleES, cal)
	for _, bad := range []string{"ftp://service.example/status", "https://user:pw@service.example/"} {
		n.CallbackURL = bad
		_, err = f.legal.Send(ctx, n)
		assert.ErrorIs(t, err, notify.ErrInput, bad)
	}
}
