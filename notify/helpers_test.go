package notify_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

const testOrigin = "test.example/notify"

// testSecret is a fixed whsec_ secret: base64 of 32 bytes 0x01..0x20.
const testSecret = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

// logKey signs the outbox tests' evidence checkpoints.
var logKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// receiver is a webhook receiver on loopback that verifies every request, drops duplicates by
// webhook-id as Standard Webhooks asks, and counts.
type receiver struct {
	srv *httptest.Server
	v   *notify.WebhookVerifier

	mu       sync.Mutex
	seen     map[string]int // requests per webhook-id, verified
	payloads map[string]*notify.WebhookPayload
	order    []string // webhook-ids in the order first seen
	requests int      // every request
	rejected int      // requests that did not verify
	// respond, when set, chooses the answer to the nth request (from 1).
	respond func(n int, w http.ResponseWriter) int
	// delivered, when set, receives the ID of each notification accepted.
	delivered chan string
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{testSecret}})
	require.NoError(t, err)
	rc := &receiver{v: v, seen: map[string]int{}, payloads: map[string]*notify.WebhookPayload{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	p, err := rc.v.Receive(r)
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	respond := rc.respond
	if err != nil {
		rc.rejected++
		rc.mu.Unlock()
		http.Error(w, "signature", http.StatusBadRequest)
		return
	}
	rc.mu.Unlock()
	code := http.StatusNoContent
	if respond != nil {
		code = respond(n, w)
	}
	if code >= 200 && code <= 299 {
		rc.mu.Lock()
		if rc.seen[p.Data.ID] == 0 {
			rc.order = append(rc.order, p.Data.ID)
			rc.payloads[p.Data.ID] = p
		}
		rc.seen[p.Data.ID]++
		rc.mu.Unlock()
	}
	w.WriteHeader(code)
	if rc.delivered != nil && code >= 200 && code <= 299 {
		rc.delivered <- p.Data.ID
	}
}

func (rc *receiver) URL() string { return rc.srv.URL + "/hook" }

func (rc *receiver) counts() (requests, distinct, rejected int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, len(rc.seen), rc.rejected
}

func (rc *receiver) times(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.seen[id]
}

func newHook(t testing.TB, name string) *notify.Webhook {
	t.Helper()
	h, err := notify.NewWebhook(notify.WebhookConfig{Name: name, Secrets: []string{testSecret}, InsecureAllowHTTP: true})
	require.NoError(t, err)
	return h
}

func openLog(t testing.TB, db *store.DB) *evidence.Log {
	t.Helper()
	l, err := evidence.Open(context.Background(), db, evidence.Config{Origin: testOrigin, Signer: logKey})
	require.NoError(t, err)
	return l
}

// openOutbox opens an outbox with a webhook channel on db, with clk as its clock when set.
func openOutbox(t testing.TB, db *store.DB, l *evidence.Log, clk *clock) *notify.Outbox {
	t.Helper()
	cfg := notify.Config{Log: l, Channels: []notify.Channel{newHook(t, "")}}
	if clk != nil {
		cfg.Now = clk.Now
	}
	o, err := notify.Open(context.Background(), db, cfg)
	require.NoError(t, err)
	return o
}

func dispatcher(t testing.TB, o *notify.Outbox, workers int) *notify.Dispatcher {
	t.Helper()
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: workers})
	require.NoError(t, err)
	return d
}

var greeting = func() *notify.Template {
	t, err := notify.ParseTemplate(notify.TextTemplate, "Dear ((name)), your application ((ref)) was ((decision)).")
	if err != nil {
		panic(err)
	}
	return t
}()

func message(to, key string) notify.Message {
	return notify.Message{
		Channel: "webhook", To: to, Template: greeting, Reference: "case-42", IdempotencyKey: key,
		Personalisation: map[string]any{"name": "Ana Souza", "ref": "A-42", "decision": "approved"},
	}
}

func countRows(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM notify_messages").Scan(&n))
	return n
}

func statuses(evs []notify.Event) []notify.Status {
	out := make([]notify.Status, len(evs))
	for i, e := range evs {
		out[i] = e.Status
	}
	return out
}
