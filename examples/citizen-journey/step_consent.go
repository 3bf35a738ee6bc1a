package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// The two agencies of the consent step: B holds the person's income record, A decides their
// housing benefit and needs it.
const (
	agencyB = "agency-b.example"
	agencyA = "agency-a.example"
)

// notice is the text agency B shows before the person agrees; the record keeps its SHA-256.
const notice = "Agency B will share your declared income with Agency A, to decide your application for " +
	"housing benefit, for 90 days. You can withdraw at any time at https://agency-b.example/my-data."

// giveConsent: the person who signed in agrees, on agency B's portal, that agency B shares
// their income with agency A for their housing benefit application, and gets a signed
// receipt. Agency A's request is authorised and the use recorded; the person sees the use in
// their history, withdraws in one call, and agency A's next request is denied. Agency B's
// consent store keeps its own evidence log, which Verify replays against the table.
func giveConsent(j *journey) error {
	if j.person == nil || j.person.NationalID == nil || !j.person.NationalID.Validated {
		return errors.New("no signed-in person with a valid national number: the sign-in step did not complete")
	}
	dir, err := os.MkdirTemp("", "dpi-journey-consent-")
	if err != nil {
		return err
	}
	j.cleanup = append(j.cleanup, func() { os.RemoveAll(dir) })
	db, err := store.Open(j.ctx, "sqlite://"+filepath.Join(dir, "consent.db"))
	if err != nil {
		return err
	}
	j.cleanup = append(j.cleanup, func() { db.Close() })

	// Agency B's key signs the person's receipts and the checkpoints of its consent log.
	agencyBPublic, agencyBKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	const origin = "agency-b.example/consent"
	consentLog, err := evidence.Open(j.ctx, db, evidence.Config{Origin: origin, Signer: agencyBKey})
	if err != nil {
		return err
	}
	st, err := consent.Open(j.ctx, db, consent.Config{Log: consentLog, Signer: agencyBKey})
	if err != nil {
		return err
	}
	j.logf("agency B's consent store: SQLite, every change in its own evidence log %s", origin)

	// The store never holds the national number: a keyed hash of it, with a secret key
	// agency B keeps as long as its records.
	personKey := make([]byte, 32)
	if _, err := rand.Read(personKey); err != nil {
		return err
	}
	pseudo, err := consent.NewPseudonymizer(personKey)
	if err != nil {
		return err
	}
	j.consent, j.pseudonymizer = st, pseudo
	nid := j.person.NationalID
	person := pseudo.Person(nid.Country, nid.Scheme, nid.Value)
	j.logf("the person is %s… in the store: a keyed hash of their %s %s, never the number", string(person)[:12], nid.Country, nid.Scheme)

	sum := sha256.Sum256([]byte(notice))
	given, err := st.Give(j.ctx, consent.Grant{
		Person:         person,
		Controller:     agencyB,
		Recipients:     []string{agencyA},
		Purposes:       []consent.Purpose{{Code: "housing-benefit", Text: "Decide your application for housing benefit"}},
		DataCategories: []string{"income"},
		LegalBasis:     "BR-LGPD-7-I",
		Notice:         consent.Notice{URL: "https://agency-b.example/notice", Version: "2026-1", SHA256: hex.EncodeToString(sum[:])},
		Language:       "pt-BR",
		Method:         "web-form",
		ValidFor:       90 * 24 * time.Hour,
		Withdrawal:     "https://agency-b.example/my-data",
	})
	if err != nil {
		return err
	}
	rec := given.Record
	j.logf("%s agrees that %s shares their income with %s, to decide their housing benefit (%s, %s)",
		j.person.Name, agencyB, agencyA, rec.LegalBasis, rec.Status)
	j.logf("record %s, valid until %s, under the notice of SHA-256 %s…", rec.ID, rec.Validity.Until.Format(time.DateOnly), rec.Notice.SHA256[:16])

	receipt, err := consent.VerifyReceipt(given.Receipt, agencyBPublic)
	if err != nil {
		return fmt.Errorf("the person's receipt: %w", err)
	}
	j.logf("the person's receipt: a %d-byte JWS over RFC 8785 JSON, verified offline with agency B's public key (%s, log entry %d)",
		len(given.Receipt), receipt.Event.Status, receipt.Event.Log.Seq)

	request := consent.Request{Person: person, Controller: agencyB, Recipient: agencyA, Purpose: "housing-benefit", DataCategories: []string{"income"}}
	d, err := st.Authorize(j.ctx, request)
	if err != nil {
		return err
	}
	if !d.Allow {
		return fmt.Errorf("agency A's request was denied: %s", d.Reason)
	}
	j.logf("agency A asks agency B for the income: %s, the use recorded in the log (entry %d) before the data moves", d.Reason, d.Use.Log.Seq)

	other := request
	other.Purpose = "marketing"
	if d, err = st.Authorize(j.ctx, other); err != nil {
		return err
	}
	if d.Allow {
		return errors.New("a request for another purpose was allowed")
	}
	j.logf("a request for another purpose is denied: %s", d.Reason)

	h, err := st.History(j.ctx, person)
	if err != nil {
		return err
	}
	if len(h.Uses) != 1 {
		return fmt.Errorf("the person's history shows %d uses, want 1", len(h.Uses))
	}
	for _, u := range h.Uses {
		j.logf("the person's history: %s received their %s for %s at %s", u.Recipient, strings.Join(u.DataCategories, ", "), u.Purpose, u.At.Format(time.RFC3339))
	}

	w, err := st.Withdraw(j.ctx, person, rec.ID)
	if err != nil {
		return err
	}
	j.logf("the person withdraws, in one call: %s, with a new signed receipt", w.Record.Status)

	if d, err = st.Authorize(j.ctx, request); err != nil {
		return err
	}
	if d.Allow || d.Reason != consent.ReasonWithdrawn {
		return fmt.Errorf("agency A's request after the withdrawal: allow %v, %s", d.Allow, d.Reason)
	}
	j.logf("agency A asks again: denied (%s)", d.Reason)

	rep, err := st.Verify(j.ctx, consentLog.Verifier())
	if err != nil {
		return err
	}
	j.logf("Verify replays the consent log against the table: %d record, %d events and %d use, all as logged", rep.Records, rep.Events, rep.Uses)
	return nil
}
