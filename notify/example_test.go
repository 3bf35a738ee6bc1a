package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// The main path: a service records a decision and enqueues the notification in the same
// transaction; a dispatcher delivers it to a webhook receiver, which verifies it.
func Example() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	log, _ := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/notify"})
	_, _ = db.ExecContext(ctx, "CREATE TABLE decisions (id TEXT PRIMARY KEY, outcome TEXT)")

	// The receiving service holds the secret, and verifies every request with it.
	secret, _ := notify.NewWebhookSecret()
	verifier, _ := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{secret}})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := verifier.Receive(r)
		if err != nil {
			http.Error(w, "not verified", http.StatusBadRequest)
			return
		}
		fmt.Println("received:", p.Data.Text)
	}))
	defer receiver.Close()

	hook, _ := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{secret}, InsecureAllowHTTP: true})
	outbox, err := notify.Open(ctx, db, notify.Config{Log: log, Channels: []notify.Channel{hook}})
	if err != nil {
		panic(err)
	}
	tmpl, _ := notify.ParseTemplate(notify.TextTemplate, "Dear ((name)), your application ((ref)) was approved.((docs??\nPlease bring your documents.))")

	var id string
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO decisions VALUES ('A-42', 'approved')"); err != nil {
			return err
		}
		var err error
		id, err = outbox.Enqueue(ctx, tx, notify.Message{
			Channel:         "webhook",
			To:              receiver.URL,
			Template:        tmpl,
			Personalisation: map[string]any{"name": "Ana", "ref": "A-42", "docs": "no"},
			Reference:       "A-42",
			IdempotencyKey:  "decision-A-42",
		})
		return err
	})
	if err != nil {
		panic(err)
	}

	d, _ := notify.NewDispatcher(outbox, notify.DispatcherConfig{})
	if err := d.RunUntilEmpty(ctx); err != nil { // a service runs d.Run(ctx) instead
		panic(err)
	}
	n, _ := outbox.Get(ctx, id)
	fmt.Println("status:", n.Status, "after", n.Attempts, "attempt")
	history, _ := outbox.History(ctx, id)
	for _, ev := range history {
		fmt.Println("evidence:", ev.Status)
	}
	// Output:
	// received: Dear Ana, your application A-42 was approved.
	// status: delivered after 1 attempt
	// evidence: created
	// evidence: sending
	// evidence: delivered
}

// An email template: the subject on its first line, a list as bullets, values escaped in HTML.
func ExampleTemplate_Render() {
	tmpl, err := notify.ParseTemplate(notify.EmailTemplate, `Subject: Your appointment on ((date))
Dear ((name)),

Please bring:((documents))

((rescheduled??Your appointment was moved.))`)
	if err != nil {
		panic(err)
	}
	c, err := tmpl.Render(map[string]any{
		"date":        "3 March",
		"name":        "Ana <Souza>",
		"documents":   []string{"passport", "proof of address"},
		"rescheduled": "yes",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject)
	fmt.Println(c.Text)
	fmt.Print(c.HTML)

	_, err = tmpl.Render(map[string]any{"date": "3 March", "name": "Ana"})
	fmt.Println(err)
	// Output:
	// Your appointment on 3 March
	// Dear Ana <Souza>,
	//
	// Please bring:
	//
	// • passport
	// • proof of address
	//
	// Your appointment was moved.
	// <p>Dear Ana &lt;Souza&gt;,</p>
	// <p>Please bring:</p>
	// <ul>
	// <li>passport</li>
	// <li>proof of address</li>
	// </ul>
	// <p>Your appointment was moved.</p>
	// notify: message rejected: personalisation: missing "documents", "rescheduled"
}

// The length of a text message: one non-GSM character makes the whole message UCS-2.
func ExampleCountSMS() {
	fmt.Printf("%+v\n", notify.CountSMS("Your appointment is confirmed for 3 March at 10:00."))
	fmt.Printf("%+v\n", notify.CountSMS("Su cita está confirmada para el 3 de marzo a las 10:00, en la oficina de la calle Mayor."))
	// Output:
	// {Encoding:GSM-7 Characters:51 Fragments:1}
	// {Encoding:UCS-2 Characters:88 Fragments:2}
}

// Fan-out for large deployments: every instance runs a dispatcher on the shared outbox with
// the JetStream connection it made; claims go through the stream to the workers of all.
func ExampleFanOutConfig() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "postgres://agency@db.agency.example/notify")
	log, _ := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/notify"})
	hook, _ := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{"whsec_..."}})
	outbox, _ := notify.Open(ctx, db, notify.Config{Log: log, Channels: []notify.Channel{hook}})

	nc, _ := nats.Connect("nats://nats.agency.example:4222")
	defer nc.Close()
	js, _ := jetstream.New(nc)
	d, err := notify.NewDispatcher(outbox, notify.DispatcherConfig{
		Workers: 32,
		FanOut:  &notify.FanOutConfig{JetStream: js},
	})
	if err != nil {
		panic(err)
	}
	_ = d.Run(ctx) // claims and publishes what is due, and attempts what the stream hands out
}
