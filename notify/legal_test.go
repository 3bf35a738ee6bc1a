package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// printer is a print provider that keeps what it is given.
type printer struct {
	mu      sync.Mutex
	letters []*notify.LetterDocument
}

func (p *printer) Print(_ context.Context, doc *notify.LetterDocument) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.letters {
		if l.ID == doc.ID {
			return nil // a print provider prints each letter once
		}
	}
	p.letters = append(p.letters, doc)
	return nil
}

func (p *printer) printed() []*notify.LetterDocument {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*notify.LetterDocument(nil), p.letters...)
}

// agencyKey signs the tests' proofs of delivery.
var agencyKey = func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

// legalFixture is a service sending legal notices under one rule: an evidence log, a
// mailbox, a letter channel, a webhook for alerts, an outbox and a dispatcher, on one
// test clock.
type legalFixture struct {
	db      *store.DB
	log     *evidence.Log
	clk     *clock
	mailbox *notify.Mailbox
	printer *printer
	alerts  *receiver
	outbox  *notify.Outbox
	legal   *notify.Legal
	disp    *notify.Dispatcher
}

func newLegalFixture(t testing.TB, db *store.DB, rule notify.Rule, cal *notify.Calendar, edit ...func(*notify.LegalConfig)) *legalFixture {
	t.Helper()
	ctx := context.Background()
	f := &legalFixture{db: db, clk: newClock(), printer: &printer{}, alerts: newReceiver(t)}
	f.clk.Set(at(cet, 2026, 3, 2, 10, 0))
	var err error
	f.log, err = evidence.Open(ctx, db, evidence.Config{Origin: testOrigin, Signer: logKey, Now: f.clk.Now})
	require.NoError(t, err)
	f.mailbox, err = notify.OpenMailbox(ctx, db, notify.MailboxConfig{Log: f.log, Now: f.clk.Now})
	require.NoError(t, err)
	letters, err := notify.NewLetterChannel(notify.LetterConfig{Printer: f.printer, From: []string{"Agencia Ejemplo", "Calle Mayor 1", "28013 Madrid"}, Location: cet})
	require.NoError(t, err)
	f.outbox, err = notify.Open(ctx, db, notify.Config{Log: f.log, Channels: []notify.Channel{f.mailbox, letters, newHook(t, "")},
		Schedule: legalSchedule, Now: f.clk.Now})
	require.NoError(t, err)
	cfg := notify.LegalConfig{Outbox: f.outbox, Mailbox: f.mailbox, Rule: &rule, Calendar: cal, Sender: "agency.example",
		Letter: "letter", Signer: agencyKey, Now: f.clk.Now}
	for _, e := range edit {
		e(&cfg)
	}
	f.legal, err = notify.NewLegal(cfg)
	require.NoError(t, err)
	f.disp = dispatcher(t, f.outbox, 2)
	return f
}

// legalSchedule retries at once: the fixture's clock moves only when a test moves it, so
// under the standard schedule an attempt that failed for a passing reason (a busy
// database under a full test run) would wait for a time that never comes, and send would
// return with the notice not in the mailbox.
var legalSchedule = []time.Duration{0, 0, 0}

var decision = func() *notify.Template {
	t, err := notify.ParseTemplate(notify.EmailTemplate, "Subject: Resolución ((case))\nSu solicitud ((case)) ha sido ((outcome)).\n\nPuede recurrir en un mes.")
	if err != nil {
		panic(err)
	}
	return t
}()

var alertText = func() *notify.Template {
	t, err := notify.ParseTemplate(notify.TextTemplate, "Tiene una notificación nueva en su buzón.")
	if err != nil {
		panic(err)
	}
	return t
}()

const postal = "Ana Souza\nCalle Falsa 123\n28001 Madrid"

func (f *legalFixture) notice(to, key string) notify.LegalNotice {
	return notify.LegalNotice{To: to, Template: decision, Personalisation: map[string]any{"case": "EXP-7", "outcome": "denegada"},
		Reference: "EXP-7", IdempotencyKey: key, PostalAddress: postal,
		Alert: &notify.Message{Channel: "webhook", To: f.alerts.URL(), Template: alertText}}
}

func (f *legalFixture) send(t testing.TB, n notify.LegalNotice) string {
	t.Helper()
	id, err := f.legal.Send(context.Background(), n)
	require.NoError(t, err)
	require.NoError(t, f.disp.RunUntilEmpty(context.Background()))
	if n.To != "" {
		got, err := f.outbox.Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, notify.Delivered, got.Status, "the notice is in the mailbox after %d attempts (last failure: %s)", got.Attempts, got.Reason)
	}
	return id
}

func (f *legalFixture) deem(t testing.TB) int {
	t.Helper()
	n, err := f.legal.DeemDue(context.Background())
	require.NoError(t, err)
	require.NoError(t, f.disp.RunUntilEmpty(context.Background()))
	return n
}

func (f *legalFixture) history(t testing.TB, id string) []notify.Status {
	t.Helper()
	evs, err := f.outbox.History(context.Background(), id)
	require.NoError(t, err)
	return statuses(evs)
}

// TestLegalUnopenedIsRejectedAndFallsBackToLetter: a notice under Spain's rule that nobody
// opens is deemed rejected when ten calendar days have passed, and goes on paper.
func TestLegalUnopenedIsRejectedAndFallsBackToLetter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
		id := f.send(t, f.notice("psn-ana", "exp-7"))
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.MadeAvailable, notify.Delivered}, f.history(t, id))
		_, _, rejected := f.alerts.counts()
		assert.Zero(t, rejected)

		st, err := f.legal.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.MadeAvailable, st.Status)
		assert.True(t, at(cet, 2026, 3, 13, 0, 0).Equal(st.Due))
		assert.NotEmpty(t, st.AlertID)

		// The day before: nothing is due.
		f.clk.Set(at(cet, 2026, 3, 12, 23, 59))
		assert.Zero(t, f.deem(t))
		assert.Empty(t, f.printer.printed())

		// Ten days have passed: rejected, and the letter goes.
		f.clk.Set(at(cet, 2026, 3, 13, 0, 5))
		assert.Equal(t, 1, f.deem(t))
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.MadeAvailable, notify.Delivered, notify.DeemedRejected}, f.history(t, id))
		evs, err := f.outbox.History(ctx, id)
		require.NoError(t, err)
		last := evs[len(evs)-1]
		assert.Equal(t, notify.RuleES.ID, last.Rule)
		assert.True(t, at(cet, 2026, 3, 13, 0, 0).Equal(last.Due), "the rule's date, not the sweep's")

		letters := f.printer.printed()
		require.Len(t, letters, 1)
		doc, _ := pdfText(t, letters[0].Document)
		assert.Contains(t, doc, "Ana Souza\nCalle Falsa 123\n28001 Madrid")
		assert.Contains(t, doc, "Resolución EXP-7")
		assert.Contains(t, doc, "Su solicitud EXP-7 ha sido denegada.")
		assert.Equal(t, []string{"Ana Souza", "Calle Falsa 123", "28001 Madrid"}, letters[0].Address)

		st, err = f.legal.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.DeemedRejected, st.Status)
		assert.NotEmpty(t, st.LetterID)
		assert.True(t, at(cet, 2026, 3, 13, 0, 0).Equal(st.Served))

		// Nothing more happens, however often the sweep runs, and opening now does not undo it.
		f.clk.Add(24 * time.Hour)
		assert.Zero(t, f.deem(t))
		_, err = f.mailbox.Open(ctx, "psn-ana", id)
		require.NoError(t, err)
		assert.Zero(t, f.deem(t))
		assert.Len(t, f.printer.printed(), 1)
		st, err = f.legal.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.DeemedRejected, st.Status)
	})
}

// TestLegalOpenedInTime: opening serves the notice; no letter is sent, and the sweep
// settles it without a deemed entry.
func TestLegalOpenedInTime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
		id := f.send(t, f.notice("psn-ana", ""))
		f.clk.Set(at(cet, 2026, 3, 5, 9, 30))
		n, err := f.mailbox.Open(ctx, "psn-ana", id)
		require.NoError(t, err)
		assert.True(t, at(cet, 2026, 3, 5, 9, 30).Equal(n.Opened))

		f.clk.Set(at(cet, 2026, 4, 1, 0, 0))
		assert.Zero(t, f.deem(t))
		assert.Empty(t, f.printer.printed())
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.MadeAvailable, notify.Delivered, notify.Opened}, f.history(t, id))
		st, err := f.legal.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Opened, st.Status)
		assert.True(t, at(cet, 2026, 3, 5, 9, 30).Equal(st.Served))
	})
}

// TestLegalWithoutDigitalAddress: the notice goes on paper at once.
func TestLegalWithoutDigitalAddress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
		n := f.notice("", "exp-8")
		n.Alert = nil
		id := f.send(t, n)
		letters := f.printer.printed()
		require.Len(t, letters, 1)
		assert.Equal(t, id, letters[0].ID)
		doc, _ := pdfText(t, letters[0].Document)
		assert.Contains(t, doc, "Su solicitud EXP-7 ha sido denegada.")
		st, err := f.legal.Status(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, notify.Delivered, st.Status)
		assert.Equal(t, id, st.LetterID)
		// The same key sends nothing new.
		again, err := f.legal.Send(ctx, n)
		require.NoError(t, err)
		assert.Equal(t, id, again)
		_, err = f.legal.Proof(ctx, id)
		assert.ErrorIs(t, err, notify.ErrNotFound, "a letter has no mailbox proof")
	})
}

// TestLegalLetterAfter: under Denmark's rule the notice is served on availability; the
// letter follows after LetterAfter if it is still unopened.
func TestLegalLetterAfter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		f := newLegalFixture(t, db, notify.RuleDK, calendar(t, cet), func(c *notify.LegalConfig) { c.LetterAfter = 14 * 24 * time.Hour })
		id := f.send(t, f.notice("psn-ana", ""))
		assert.Equal(t, 1, f.deem(t), "served at once")
		assert.Equal(t, notify.DeemedServed, f.history(t, id)[4])
		assert.Empty(t, f.printer.printed())
		f.clk.Add(14 * 24 * time.Hour)
		assert.Equal(t, 1, f.deem(t))
		assert.Len(t, f.printer.printed(), 1)
		assert.Zero(t, f.deem(t))
	})
}

func TestLegalRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
	n := f.notice("psn-ana", "")
	n.PostalAddress = ""
	_, err = f.legal.Send(ctx, n)
	assert.ErrorIs(t, err, notify.ErrInput, "no paper fallback")
	n = f.notice("psn ana", "")
	_, err = f.legal.Send(ctx, n)
	assert.ErrorIs(t, err, notify.ErrInput, "a recipient reference has no spaces")
	n = f.notice("psn-ana", "")
	n.PostalAddress = "line\x00"
	_, err = f.legal.Send(ctx, n)
	assert.ErrorIs(t, err, notify.ErrInput)
	_, err = f.legal.Status(ctx, "ntf_nothing")
	assert.ErrorIs(t, err, notify.ErrNotFound)

	rule := notify.RuleES
	for name, cfg := range map[string]notify.LegalConfig{
		"empty":             {},
		"no letter":         {Outbox: f.outbox, Mailbox: f.mailbox, Rule: &rule, Calendar: calendar(t, cet), Sender: "a"},
		"unknown letter":    {Outbox: f.outbox, Mailbox: f.mailbox, Rule: &rule, Calendar: calendar(t, cet), Sender: "a", Letter: "post"},
		"no sender":         {Outbox: f.outbox, Mailbox: f.mailbox, Rule: &rule, Calendar: calendar(t, cet), Letter: "letter"},
		"no rule":           {Outbox: f.outbox, Mailbox: f.mailbox, Calendar: calendar(t, cet), Sender: "a", Letter: "letter"},
		"negative after":    {Outbox: f.outbox, Mailbox: f.mailbox, Rule: &rule, Calendar: calendar(t, cet), Sender: "a", Letter: "letter", LetterAfter: -1},
		"mailbox not in it": {Outbox: openOutbox(t, db, f.log, nil), Mailbox: f.mailbox, Rule: &rule, Calendar: calendar(t, cet), Sender: "a", Letter: "webhook"},
	} {
		_, err := notify.NewLegal(cfg)
		assert.ErrorIs(t, err, notify.ErrConfig, name)
	}
	_, err = notify.NewLetterChannel(notify.LetterConfig{})
	assert.ErrorIs(t, err, notify.ErrConfig)
	_, err = notify.OpenMailbox(ctx, db, notify.MailboxConfig{})
	assert.ErrorIs(t, err, notify.ErrConfig)
	assert.True(t, strings.HasPrefix(notify.RuleES.ID, "ES-"))
}
