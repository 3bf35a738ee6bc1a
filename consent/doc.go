// Package consent keeps consent records and decides, before a controller shares a person's
// data, whether the person agreed to it: to that recipient, for that purpose, under that
// notice, and whether the agreement still stands. A person sees every use of their data and
// withdraws as easily as they agreed.
//
// # Model
//
// A [Record] has the fields of ISO/IEC TS 27560 as the W3C Data Privacy Vocabulary guide
// maps them: record ID, the person as a pseudonymous [PersonRef] (a keyed hash of their
// national number, made by a [Pseudonymizer]; never the number itself), controller, named
// recipients, purposes, data categories, legal basis and jurisdiction, the notice (URL,
// version and SHA-256 of the exact text shown), language, collection method, validity and
// how to withdraw. Its [Status] follows the DPV consent statuses (ConsentRequested,
// ConsentGiven, ConsentRefused, RenewedConsentGiven, ConsentWithdrawn, ConsentRevoked,
// ConsentExpired, ConsentInvalidated); a change the status does not allow is
// ErrTransition. A record is never endless: without an end time or a number of uses it
// lasts Config.DefaultValidity.
//
// Legal bases are data, one file per country ([LegalBasis], [Bases]). A record under a
// basis that is not consent (a legal obligation, a public body's mandate) is recorded as
// what it is, with status LegalBasisActive, never shown as consent, and its uses are shown
// to the person all the same.
//
// # Evidence
//
// The store's table is a projection of an [evidence.Log]: every event and every allowed use
// is appended, with [evidence.Log.AppendWith], in the transaction that changes the table,
// so [Store.Verify] replays the log and names any row edited, deleted or inserted behind
// the store's back. Events carry the person only in the log entry's erasable payload.
//
// # Deciding
//
// [Store.Authorize] decides a [Request] (person, controller, recipient, purpose, data
// categories, time): deny by default, allow only on an active record that covers all of it
// within its time and uses, and record each allowed use. [Store.Check] decides without
// recording. [Store.History] returns every event and use of a person's records.
//
// # Receipts
//
// Every change returns the person's receipt: a compact JWS (RFC 7515; ES256 or EdDSA) over
// the RFC 8785 canonical JSON of the record and the event, with the event's evidence log
// receipt, which [VerifyReceipt] checks offline with the controller's public key.
//
// A receipt exports as a Kantara Initiative Consent Receipt 1.1 document
// ([Receipt.Kantara]) for systems that read that form. [DecodeRequest] reads a [Request]
// from strict JSON, for a service that takes decisions over HTTP.
//
// # The person's page
//
// [NewPage] returns an http.Handler where a signed-in person sees their consents and
// records under other legal bases, every use of their data, and each record's receipt in
// plain words, and withdraws a consent: server-rendered, no JavaScript, WCAG 2.1 AA, in
// Spanish, Portuguese and English. The service says who is signed in through
// PageConfig.Person, so the identity block fits without this package importing it;
// withdrawals carry a CSRF token bound to the person. [Receipt.Text] and [Receipt.HTML]
// render a receipt for the person, with where its event is in the evidence log.
//
// # Erasure
//
// [Store.Erase] erases a person: their rows go, in the transaction that logs the erasure,
// and their reference is erased from the log's payloads; the non-personal history stays.
//
// # Example
//
//	st, err := consent.Open(ctx, db, consent.Config{Log: log, Signer: controllerKey})
//	ch, err := st.Give(ctx, consent.Grant{Person: ref, Controller: "agency-b", Recipients: ...})
//	d, err := st.Authorize(ctx, consent.Request{Person: ref, Controller: "agency-b", Recipient: "agency-a", Purpose: "benefits"})
//	if d.Allow { /* share */ }
//	_, err = st.Withdraw(ctx, ref, ch.Record.ID)
//
// # What it does not do
//
// It does not identify the person (the identity block does, and the service turns who
// signed in into a PersonRef), it does not move data (it decides whether data may move),
// and it does not judge whether a notice is fair: it proves which notice was shown.
package consent
