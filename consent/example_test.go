package consent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// exampleNow is the examples' fixed clock, so that their output does not depend on the day.
var exampleNow = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// The notice the person was shown; a record keeps the SHA-256 of its exact text.
const exampleNotice = "Agency B shares your income with agency A to decide your application for housing benefit."

// openExampleStore opens a consent store on its own evidence log, in an in-memory database,
// with the controller's key, as ExampleStore_Give shows step by step.
func openExampleStore(ctx context.Context) (*consent.Store, ed25519.PublicKey) {
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		log.Fatal(err)
	}
	pub, controllerKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	clock := func() time.Time { return exampleNow }
	consentLog, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency-b.example/consent", Signer: controllerKey, Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	st, err := consent.Open(ctx, db, consent.Config{Log: consentLog, Signer: controllerKey, Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	return st, pub
}

// examplePerson returns the reference of the person with CPF 390.533.447-05 (compacted
// first, as identity/nationalid's Compact does). The key is a fixed example; a service keeps
// its own secret, and the same for as long as its records.
func examplePerson(number string) consent.PersonRef {
	p, err := consent.NewPseudonymizer([]byte("example person key, 32 bytes at least, secret"))
	if err != nil {
		log.Fatal(err)
	}
	return p.Person("BR", "cpf", number)
}

// exampleGrant is the person's consent to agency B sharing their income with agency A, to
// decide their housing benefit.
func exampleGrant(person consent.PersonRef) consent.Grant {
	sum := sha256.Sum256([]byte(exampleNotice))
	return consent.Grant{
		Person:         person,
		Controller:     "agency-b.example",
		Recipients:     []string{"agency-a.example"},
		Purposes:       []consent.Purpose{{Code: "benefits", Text: "Decide your application for housing benefit"}},
		DataCategories: []string{"income"},
		LegalBasis:     "BR-LGPD-7-I", // LGPD Art. 7, I: the data subject's consent
		Notice:         consent.Notice{URL: "https://agency-b.example/notice", Version: "3", SHA256: hex.EncodeToString(sum[:])},
		Language:       "pt-BR",
		Method:         "web-form",
		ValidFor:       90 * 24 * time.Hour,
		Withdrawal:     "https://agency-b.example/my-data",
	}
}

func ExampleStore_Give() {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// The controller's key signs the person's receipts and the consent log's checkpoints.
	pub, controllerKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	clock := func() time.Time { return exampleNow }
	consentLog, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency-b.example/consent", Signer: controllerKey, Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	st, err := consent.Open(ctx, db, consent.Config{Log: consentLog, Signer: controllerKey, Now: clock})
	if err != nil {
		log.Fatal(err)
	}

	ana := examplePerson("39053344705") // a keyed hash: the number is never stored
	ch, err := st.Give(ctx, exampleGrant(ana))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ch.Record.Status, "until", ch.Record.Validity.Until.Format(time.DateOnly))
	fmt.Println("recipients:", ch.Record.Recipients, "purpose:", ch.Record.Purposes[0].Code, "basis:", ch.Record.LegalBasis)

	// The person keeps the receipt, and checks it offline with the controller's public key.
	r, err := consent.VerifyReceipt(ch.Receipt, pub)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("receipt:", r.Event.Status, "by", r.Event.By, "at", r.Event.At.Format(time.RFC3339))
	// Output:
	// ConsentGiven until 2027-03-01
	// recipients: [agency-a.example] purpose: benefits basis: BR-LGPD-7-I
	// receipt: ConsentGiven by person at 2026-12-01T10:00:00Z
}

func ExampleStore_Authorize() {
	ctx := context.Background()
	st, _ := openExampleStore(ctx)
	ana := examplePerson("39053344705")
	if _, err := st.Give(ctx, exampleGrant(ana)); err != nil {
		log.Fatal(err)
	}

	// Agency A asks for Ana's income, for the purpose she agreed to: allowed, and the use is
	// recorded before Authorize returns.
	d, err := st.Authorize(ctx, consent.Request{
		Person: ana, Controller: "agency-b.example", Recipient: "agency-a.example",
		Purpose: "benefits", DataCategories: []string{"income"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Allow, d.Reason, "uses:", d.Record.Uses)

	// Anything she did not agree to is denied, and the decision says why.
	for _, req := range []consent.Request{
		{Person: ana, Controller: "agency-b.example", Recipient: "agency-c.example", Purpose: "benefits", DataCategories: []string{"income"}},
		{Person: ana, Controller: "agency-b.example", Recipient: "agency-a.example", Purpose: "marketing", DataCategories: []string{"income"}},
		{Person: ana, Controller: "agency-b.example", Recipient: "agency-a.example", Purpose: "benefits", DataCategories: []string{"health"}},
		{Person: examplePerson("11144477735"), Controller: "agency-b.example", Recipient: "agency-a.example", Purpose: "benefits"},
	} {
		d, err := st.Authorize(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d.Allow, d.Reason)
	}

	// Ana sees who used her data, when, and for what.
	h, err := st.History(ctx, ana)
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range h.Uses {
		fmt.Println("used by", u.Recipient, "for", u.Purpose, u.DataCategories, "at", u.At.Format(time.RFC3339))
	}
	// Output:
	// true allowed uses: 1
	// false recipient-not-named
	// false purpose-not-covered
	// false data-not-covered
	// false no-record
	// used by agency-a.example for benefits [income] at 2026-12-01T10:00:00Z
}

func ExampleStore_Withdraw() {
	ctx := context.Background()
	st, _ := openExampleStore(ctx)
	ana := examplePerson("39053344705")
	ch, err := st.Give(ctx, exampleGrant(ana))
	if err != nil {
		log.Fatal(err)
	}

	// Only the person withdraws their consent.
	_, err = st.Withdraw(ctx, examplePerson("11144477735"), ch.Record.ID)
	fmt.Println(errors.Is(err, consent.ErrNotYours))

	// One call, as easy as giving it; the receipt says so.
	w, err := st.Withdraw(ctx, ana, ch.Record.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Record.Status, "by", w.Event.By)

	// The next request is denied.
	d, err := st.Authorize(ctx, consent.Request{
		Person: ana, Controller: "agency-b.example", Recipient: "agency-a.example",
		Purpose: "benefits", DataCategories: []string{"income"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Allow, d.Reason)

	// A withdrawn consent cannot be withdrawn again: renewing it is a new agreement.
	_, err = st.Withdraw(ctx, ana, ch.Record.ID)
	fmt.Println(errors.Is(err, consent.ErrTransition))
	// Output:
	// true
	// ConsentWithdrawn by person
	// false withdrawn
	// true
}
