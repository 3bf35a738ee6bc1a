package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// The decision agency A notifies: its reference is not personal data, so the outbox's
// evidence log keeps it.
const (
	applicationRef = "HB-2026-0042"
	decisionKey    = "decision-" + applicationRef
)

// decisionTemplate is the notification's text, in the GOV.UK Notify style.
const decisionTemplate = "Dear ((name)), your application ((ref)) for housing benefit was ((decision)).((appeal??\n" +
	"You may appeal within 30 days at https://agency-a.example/appeal.))"

// notifier is agency A's outbox and what it stands on; later steps add channels to it.
type notifier struct {
	db       *store.DB
	log      *evidence.Log
	outbox   *notify.Outbox
	app      *appInbox
	channels []notify.Channel
	decision *notify.Template
}

// notifyPerson: agency A records its decision on the person's housing benefit application
// and, in the same transaction, enqueues the notification in its outbox (the transactional
// outbox: both commit, or neither does). A dispatcher delivers it to the citizen app's
// notification service, a webhook receiver on loopback that verifies its Standard Webhooks
// signature. Enqueuing again under the same idempotency key sends nothing new, and the
// outbox's evidence log holds every status change.
func notifyPerson(j *journey) error {
	if j.person == nil {
		return errors.New("no signed-in person: the sign-in step did not complete")
	}
	n, err := openNotifier(j)
	if err != nil {
		return err
	}
	j.notify = n
	id, err := decideAndNotify(j, n)
	if err != nil {
		return err
	}
	return deliverDecision(j, n, id)
}

// openNotifier opens agency A's database, its outbox's evidence log and the outbox with its
// channels, and starts the citizen app's notification service.
func openNotifier(j *journey) (*notifier, error) {
	dir, err := os.MkdirTemp("", "dpi-journey-notify-")
	if err != nil {
		return nil, err
	}
	j.cleanup = append(j.cleanup, func() { os.RemoveAll(dir) })
	db, err := store.Open(j.ctx, "sqlite://"+filepath.Join(dir, "agency-a.db"))
	if err != nil {
		return nil, err
	}
	j.cleanup = append(j.cleanup, func() { db.Close() })
	_, logKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	const origin = "agency-a.example/notify"
	l, err := evidence.Open(j.ctx, db, evidence.Config{Origin: origin, Signer: logKey})
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(j.ctx, "CREATE TABLE decisions (application TEXT PRIMARY KEY, outcome TEXT NOT NULL)"); err != nil {
		return nil, err
	}

	// Agency A and the citizen app share a webhook secret; the app verifies every request.
	secret, err := notify.NewWebhookSecret()
	if err != nil {
		return nil, err
	}
	app, err := startAppInbox(secret)
	if err != nil {
		return nil, err
	}
	j.cleanup = append(j.cleanup, app.srv.Close)
	// A loopback receiver speaks http; a real one is https, and the channel refuses http
	// without this opt-out.
	hook, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{secret}, InsecureAllowHTTP: true})
	if err != nil {
		return nil, err
	}
	tmpl, err := notify.ParseTemplate(notify.TextTemplate, decisionTemplate)
	if err != nil {
		return nil, err
	}
	n := &notifier{db: db, log: l, app: app, channels: []notify.Channel{hook}, decision: tmpl}
	if n.outbox, err = notify.Open(j.ctx, db, notify.Config{Log: l, Channels: n.channels}); err != nil {
		return nil, err
	}
	j.logf("agency A's outbox: SQLite, every status change in its own evidence log %s", origin)
	return n, nil
}

// decideAndNotify records agency A's decision and enqueues its notification in one
// transaction, after showing that a transaction that fails keeps neither.
func decideAndNotify(j *journey, n *notifier) (string, error) {
	msg := decisionMessage(j, n)
	decide := func(fail bool) (string, error) {
		var id string
		err := n.db.InTx(j.ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(j.ctx, "INSERT INTO decisions (application, outcome) VALUES (?, 'approved')", applicationRef); err != nil {
				return err
			}
			var err error
			if id, err = n.outbox.Enqueue(j.ctx, tx, msg); err != nil {
				return err
			}
			if fail {
				return errRolledBack
			}
			return nil
		})
		return id, err
	}

	if _, err := decide(true); !errors.Is(err, errRolledBack) {
		return "", fmt.Errorf("a failing transaction: %v", err)
	}
	if _, err := n.outbox.Lookup(j.ctx, decisionKey); !errors.Is(err, notify.ErrNotFound) {
		return "", fmt.Errorf("a rolled-back transaction left its notification: %v", err)
	}
	j.logf("a transaction that fails after enqueuing leaves neither the decision nor the notification")

	id, err := decide(false)
	if err != nil {
		return "", err
	}
	j.logf("agency A decides application %s (approved) and enqueues the notification in the same transaction: %s", applicationRef, id)
	return id, nil
}

// errRolledBack ends the transaction that shows the outbox rolls back with the caller's.
var errRolledBack = errors.New("the agency's transaction failed")

// deliverDecision runs the dispatcher until nothing is due, and checks what the person's app
// received, that a second enqueue sends nothing, and the evidence.
func deliverDecision(j *journey, n *notifier, id string) error {
	d, err := notify.NewDispatcher(n.outbox, notify.DispatcherConfig{})
	if err != nil {
		return err
	}
	if err := d.RunUntilEmpty(j.ctx); err != nil {
		return err
	}
	got := n.app.received()
	if len(got) != 1 || got[0].Data.ID != id {
		return fmt.Errorf("the citizen app received %d notifications, want the one enqueued", len(got))
	}
	j.logf("the dispatcher delivers it to the citizen app, which verifies its Standard Webhooks signature (webhook-id %s)", id)
	j.logf("the person reads: %q", strings.ReplaceAll(got[0].Data.Text, "\n", " "))

	again, err := n.outbox.Send(j.ctx, decisionMessage(j, n))
	if err != nil {
		return err
	}
	if err := d.RunUntilEmpty(j.ctx); err != nil {
		return err
	}
	if again != id || len(n.app.received()) != 1 {
		return fmt.Errorf("sent again under the same idempotency key: %s, %d received", again, len(n.app.received()))
	}
	j.logf("sent again under the idempotency key %s: the same notification, nothing new delivered", decisionKey)

	st, err := n.outbox.Get(j.ctx, id)
	if err != nil {
		return err
	}
	if st.Status != notify.Delivered {
		return fmt.Errorf("the notification is %s: %s", st.Status, st.Reason)
	}
	hist, err := n.outbox.History(j.ctx, id)
	if err != nil {
		return err
	}
	steps := make([]string, len(hist))
	for i, ev := range hist {
		steps[i] = string(ev.Status)
	}
	cp, err := n.log.Checkpoint(j.ctx)
	if err != nil {
		return err
	}
	j.logf("status %s after %d attempt; the evidence log holds %s, under a checkpoint signed at size %d",
		st.Status, st.Attempts, strings.Join(steps, " → "), cp.Size)
	return nil
}

// decisionMessage is the notification of the decision, to the person's citizen app, under
// an idempotency key that names the decision: however often it is sent, it is sent once.
func decisionMessage(j *journey, n *notifier) notify.Message {
	return notify.Message{
		Channel:         "webhook",
		To:              n.app.URL(),
		Template:        n.decision,
		Personalisation: map[string]any{"name": j.person.Name, "ref": applicationRef, "decision": "approved", "appeal": "yes"},
		Reference:       applicationRef,
		IdempotencyKey:  decisionKey,
	}
}

// appInbox is the citizen app's notification service: a webhook receiver that verifies every
// request and keeps each notification once, by its webhook-id.
type appInbox struct {
	srv *httptest.Server
	v   *notify.WebhookVerifier

	mu   sync.Mutex
	seen map[string]bool
	got  []*notify.WebhookPayload
}

func startAppInbox(secret string) (*appInbox, error) {
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{secret}})
	if err != nil {
		return nil, err
	}
	a := &appInbox{v: v, seen: map[string]bool{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.v.Receive(r)
		if err != nil {
			http.Error(w, "signature not verified", http.StatusUnauthorized)
			return
		}
		a.mu.Lock()
		if !a.seen[p.Data.ID] {
			a.seen[p.Data.ID] = true
			a.got = append(a.got, p)
		}
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	return a, nil
}

func (a *appInbox) URL() string { return a.srv.URL + "/notifications" }

func (a *appInbox) received() []*notify.WebhookPayload {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*notify.WebhookPayload(nil), a.got...)
}
