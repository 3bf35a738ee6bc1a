package notify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// examplePrinter stands in for a print provider.
type examplePrinter struct{}

func (examplePrinter) Print(_ context.Context, doc *notify.LetterDocument) error {
	fmt.Println("letter printed for", doc.Address[0])
	return nil
}

// A legal notice under Spain's rule: made available in the person's mailbox, not opened,
// deemed rejected when ten calendar days have passed, and sent on paper; the agency holds
// signed proof that verifies offline.
func ExampleLegal() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	logKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	agencyKey := ed25519.NewKeyFromSeed([]byte("agency-example-proof-key-32bytes"))

	log, _ := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/notify", Signer: logKey, Now: clock})
	mailbox, _ := notify.OpenMailbox(ctx, db, notify.MailboxConfig{Log: log, Now: clock})
	letters, _ := notify.NewLetterChannel(notify.LetterConfig{Printer: examplePrinter{}, From: []string{"Agency"}})
	outbox, _ := notify.Open(ctx, db, notify.Config{Log: log, Channels: []notify.Channel{mailbox, letters}, Now: clock})
	madrid := time.FixedZone("CET", 3600)
	cal, _ := notify.NewCalendar(notify.CalendarConfig{Location: madrid, Holidays: []string{"2026-03-19"}})
	rule := notify.RuleES
	legal, err := notify.NewLegal(notify.LegalConfig{Outbox: outbox, Mailbox: mailbox, Rule: &rule, Calendar: cal,
		Sender: "agency.example", Letter: "letter", Signer: agencyKey, Now: clock})
	if err != nil {
		panic(err)
	}
	dispatcher, _ := notify.NewDispatcher(outbox, notify.DispatcherConfig{})

	tmpl, _ := notify.ParseTemplate(notify.TextTemplate, "Your application ((case)) was refused.")
	id, _ := legal.Send(ctx, notify.LegalNotice{To: "psn-7f3a", Template: tmpl, Personalisation: map[string]any{"case": "EXP-7"},
		Reference: "EXP-7", PostalAddress: "Ana Souza\nCalle Falsa 123\n28001 Madrid"})
	_ = dispatcher.RunUntilEmpty(ctx)

	now = now.Add(11 * 24 * time.Hour) // nobody opened it
	_, _ = legal.DeemDue(ctx)
	_ = dispatcher.RunUntilEmpty(ctx)

	proof, _ := legal.Proof(ctx, id)
	b, _ := json.Marshal(proof)
	// Offline, with the agency's public key and the log's verifier key only.
	verifier, _ := evidence.NewVerifier("agency.example/notify", logKey.Public())
	st, err := notify.VerifyProof(b, agencyKey.Public(), verifier)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Status, "on", st.Served.In(madrid).Format(time.DateOnly), "under", st.Rule)
	// Output:
	// letter printed for Ana Souza
	// deemed-rejected on 2026-03-13 under ES-LPAC-43.2
}

// Whether a notice is served or rejected, and when, is a value the rule computes from the
// times and a calendar.
func ExampleRule_Decide() {
	santiago := time.FixedZone("CLT", -4*3600)
	cal, _ := notify.NewCalendar(notify.CalendarConfig{Location: santiago, Holidays: []string{"2026-05-01"}})
	sent := time.Date(2026, 4, 30, 15, 0, 0, 0, santiago) // a Thursday; Friday is a holiday
	d, _ := notify.RuleCL.Decide(cal, sent, time.Time{}, sent.Add(10*24*time.Hour))
	fmt.Println(d.Status, d.At.Format(time.DateOnly))
	// Output: deemed-served 2026-05-06
}
