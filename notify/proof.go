package notify

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/jws"
	"github.com/dpiblocks/dpi/internal/limits"
)

// ErrProof reports a proof of delivery that is malformed, not signed by the sender's key,
// or whose evidence does not verify or does not back what it says. It comes in an *Error
// that names the failed check.
var ErrProof = errors.New("notify: proof of delivery rejected")

// ProofFormat names the JSON form of a Proof, and ProofVersion the form of its signed
// statement.
const (
	ProofFormat  = "dpi-notify-proof/v1"
	ProofVersion = "dpi-notify-proof-statement/v1"
)

// proofType is the JWS typ of a proof statement (RFC 7515 §4.1.9), so that it is never
// taken for another token signed with the same key.
const proofType = "dpi-notify-proof+jws"

// ProofStatement is what a proof of delivery says, signed by the sender: who sent what to
// whom, when it was made available, alerted, opened, and served or deemed so, and the
// evidence log entries that recorded each step.
type ProofStatement struct {
	// Version is ProofVersion.
	Version string `json:"version"`
	// ID is the notification's ID, the Ref of its evidence entries.
	ID string `json:"id"`
	// Sender names the sending authority (LegalConfig.Sender).
	Sender string `json:"sender"`
	// Recipient is the person's pseudonymous recipient reference.
	Recipient string `json:"recipient"`
	// Reference is the service's own reference, when it gave one.
	Reference string `json:"reference,omitempty"`
	// ContentHash is the hex SHA-256 of the notice (Content.Hash).
	ContentHash string `json:"contentHash"`
	// Rule is the ID of the rule the notice is deemed by, and Country its country.
	Rule    string `json:"rule"`
	Country string `json:"country"`
	// Status is where the notice stands: made-available, opened, deemed-served or
	// deemed-rejected.
	Status Status `json:"status"`
	// MadeAvailable, Alerted and Opened are when the notice was made available in the
	// mailbox, when the alert that it waits there was delivered, and when the person
	// opened it; zero when it did not happen (yet).
	MadeAvailable time.Time `json:"madeAvailable"`
	Alerted       time.Time `json:"alerted,omitzero"`
	Opened        time.Time `json:"opened,omitzero"`
	// AlertID is the alert's notification ID, the Ref of its "delivered" entry.
	AlertID string `json:"alertId,omitempty"`
	// Served is when the notice was served by opening, or deemed served or rejected by
	// the rule: the date the law counts from. Zero while the rule has not decided.
	Served time.Time `json:"served,omitzero"`
	// Log is the origin of the evidence log.
	Log string `json:"log"`
	// Evidence lists the log entries that recorded each step, in the order of the log.
	Evidence []ProofEntry `json:"evidence"`
	// Issued is when the proof was made.
	Issued time.Time `json:"issued"`
}

// ProofEntry is one evidence log entry a proof rests on.
type ProofEntry struct {
	// Status is the status the entry recorded.
	Status Status `json:"status"`
	// Ref is the entry's reference: the notification's ID, or the alert's.
	Ref string `json:"ref"`
	// Seq and LeafHash place the entry in the log (evidence.Receipt).
	Seq      uint64        `json:"seq"`
	LeafHash evidence.Hash `json:"leafHash"`
}

// Proof is a proof of delivery as it is kept and handed over: the sender's signed
// statement, a compact JWS (RFC 7515) of the statement's RFC 8785 canonical JSON, and an
// inclusion proof in the evidence log for each entry it names, each leading to a
// checkpoint signed by the log's key. VerifyProof checks it offline.
type Proof struct {
	// Format is ProofFormat.
	Format string `json:"format"`
	// Signed is the statement, signed with ES256 or EdDSA.
	Signed string `json:"signed"`
	// Inclusion proves each of the statement's Evidence entries, in the same order.
	Inclusion []*evidence.InclusionProof `json:"inclusion"`
}

// ParseProof decodes the JSON form of a proof, strictly: known fields only, each once,
// nothing after it, at most limits.MaxNotifyProof bytes. It checks nothing else: that is
// VerifyProof's.
func ParseProof(b []byte) (*Proof, error) {
	if len(b) > limits.MaxNotifyProof {
		return nil, fail(ErrProof, "format", "larger than %d bytes", limits.MaxNotifyProof)
	}
	var p Proof
	if err := strictJSON(b, &p); err != nil {
		return nil, fail(ErrProof, "format", "not a proof of delivery: %v", err)
	}
	if p.Format != ProofFormat {
		return nil, fail(ErrProof, "format", "not %s", ProofFormat)
	}
	if len(p.Inclusion) == 0 || len(p.Inclusion) > limits.MaxNotifyProofEntries {
		return nil, fail(ErrProof, "evidence", "1 to %d inclusion proofs", limits.MaxNotifyProofEntries)
	}
	for _, ip := range p.Inclusion {
		if ip == nil {
			return nil, fail(ErrProof, "evidence", "a null inclusion proof")
		}
	}
	return &p, nil
}

// strictJSON decodes one JSON value with known fields only, and nothing after it. A name
// given twice is refused too, as RFC 8785 input never has one.
func strictJSON(b []byte, v any) error {
	if !json.Valid(b) {
		return errors.New("invalid JSON")
	}
	if _, err := jcs.Transform(b); err != nil {
		return errors.New("invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the value")
	}
	return nil
}

// Proof returns signed proof of delivery of a legal notification: its statement signed
// with LegalConfig.Signer, and inclusion proofs of its made-available, opened, deemed and
// alert-delivered entries up to a checkpoint the log signs now. The notice must have been
// made available. A proof made before the rule decides says so (Status made-available or
// opened, Served zero); make another once DeemDue has run.
func (l *Legal) Proof(ctx context.Context, id string) (*Proof, error) {
	if l.signer == nil {
		return nil, fmt.Errorf("%w: proofs need LegalConfig.Signer", ErrConfig)
	}
	r, err := l.row(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.inMailbox {
		return nil, fail(ErrNotFound, "mailbox", "the notice was not made available in a mailbox")
	}
	n, err := l.o.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	log := l.o.log
	st := &ProofStatement{Version: ProofVersion, ID: id, Sender: l.sender, Recipient: n.To, Reference: n.Reference,
		Rule: l.rule.ID, Country: l.rule.Country, Status: MadeAvailable, Log: log.Origin(), Issued: l.now().UTC()}
	var entries []*evidence.Entry
	var evs []Event
	for e, err := range log.Scan(ctx, evidence.Filter{Kind: KindStatus, Ref: id}) {
		if err != nil {
			return nil, err
		}
		var ev Event
		if err := json.Unmarshal(e.Meta, &ev); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", evidence.ErrTampered, e.Seq, err)
		}
		switch {
		case ev.Status == MadeAvailable && st.MadeAvailable.IsZero():
			st.MadeAvailable, st.ContentHash = ev.At, ev.ContentHash
		case ev.Status == Opened && st.Opened.IsZero():
			st.Opened = ev.At
		case (ev.Status == DeemedServed || ev.Status == DeemedRejected) && st.Served.IsZero() && ev.Rule == l.rule.ID:
			st.Status, st.Served = ev.Status, ev.Due
		default:
			continue
		}
		entries, evs = append(entries, e), append(evs, ev)
	}
	if st.MadeAvailable.IsZero() {
		return nil, fail(ErrNotFound, "evidence", "no made-available entry for this notification")
	}
	if st.Status == MadeAvailable && !st.Opened.IsZero() {
		st.Status = Opened
		if d, err := l.rule.Decide(l.cal, st.MadeAvailable, st.Opened, st.Opened); err == nil && d.Status == Opened {
			st.Served = st.Opened
		}
	}
	if r.alertID != "" {
		for e, err := range log.Scan(ctx, evidence.Filter{Kind: KindStatus, Ref: r.alertID}) {
			if err != nil {
				return nil, err
			}
			var ev Event
			if json.Unmarshal(e.Meta, &ev) == nil && ev.Status == Delivered {
				st.AlertID, st.Alerted = r.alertID, ev.At
				entries, evs = append(entries, e), append(evs, ev)
				break
			}
		}
	}
	cp, err := log.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: proof: checkpoint: %w", err)
	}
	p := &Proof{Format: ProofFormat}
	for i, e := range entries {
		ip, err := log.ProveInclusion(ctx, e.Seq, cp.Size)
		if err != nil {
			return nil, fmt.Errorf("notify: proof: %w", err)
		}
		st.Evidence = append(st.Evidence, ProofEntry{Status: evs[i].Status, Ref: e.Ref, Seq: e.Seq, LeafHash: e.LeafHash})
		p.Inclusion = append(p.Inclusion, ip)
	}
	if p.Signed, err = signStatement(l.signer, st); err != nil {
		return nil, err
	}
	return p, nil
}

// proofAlgorithm returns the JWS algorithm for a key: ES256 for ECDSA P-256, EdDSA for
// Ed25519. Any other key is refused.
func proofAlgorithm(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	if alg, ok := jws.Algorithm(pub); ok {
		return alg, nil
	}
	return "", fmt.Errorf("%w: a proof key must be ECDSA P-256 or Ed25519", ErrConfig)
}

// signStatement signs st as a compact JWS with header {"alg", "typ"} only.
func signStatement(signer crypto.Signer, st *ProofStatement) (string, error) {
	if _, err := proofAlgorithm(signer.Public()); err != nil {
		return "", err
	}
	compact, err := jws.SignCanonical(signer, proofType, st)
	var se *jws.SignError
	if errors.As(err, &se) {
		if se.Step == jws.StepSign {
			return "", fmt.Errorf("notify: proof: sign: %w", se.Err)
		}
		return "", fmt.Errorf("notify: proof: encode: %w", se.Err)
	}
	return compact, err
}

// VerifyProof checks a proof of delivery offline, with the sender's public key (ES256 or
// EdDSA) and the verifier of the evidence log's key, and returns its statement. Both are
// required: there is no verification that trusts by default. It refuses, with an *Error
// matching ErrProof that names the check:
//
//   - "format": not the JSON of a Proof, or not a compact JWS of a proof statement;
//   - "header", "signature", "payload", "version": header parameters other than alg and
//     typ, a signature that does not verify with key, a payload that is not the canonical
//     JSON of a statement;
//   - "log": a statement for another log than the verifier's;
//   - "inclusion": an inclusion proof that does not lead to a checkpoint the log signed;
//   - "evidence": an entry that is not the one the statement names, or does not record
//     what the statement says (times, content hash, rule, served date).
func VerifyProof(b []byte, key crypto.PublicKey, log *evidence.Verifier) (*ProofStatement, error) {
	if key == nil || log == nil {
		return nil, fmt.Errorf("%w: VerifyProof needs the sender's key and the log's verifier", ErrConfig)
	}
	alg, err := proofAlgorithm(key)
	if err != nil {
		return nil, err
	}
	p, err := ParseProof(b)
	if err != nil {
		return nil, err
	}
	st, err := verifyStatement(p.Signed, alg, key)
	if err != nil {
		return nil, err
	}
	if st.Log != log.Origin() {
		return nil, fail(ErrProof, "log", "the statement names another evidence log")
	}
	if len(st.Evidence) != len(p.Inclusion) {
		return nil, fail(ErrProof, "evidence", "%d entries named, %d inclusion proofs", len(st.Evidence), len(p.Inclusion))
	}
	seen := map[Status]bool{}
	var made, opened, deemed, alerted *Event
	for i, ip := range p.Inclusion {
		if _, err := log.VerifyInclusion(ip); err != nil {
			check := "does not verify"
			var ce *evidence.CheckError
			if errors.As(err, &ce) {
				check = ce.Check
			}
			return nil, fail(ErrProof, "inclusion", "entry %d: %s", i, check)
		}
		want := st.Evidence[i]
		if ip.Leaf.Seq != want.Seq || ip.Leaf.Hash(log.Origin()) != want.LeafHash || ip.Leaf.Kind != KindStatus || ip.Leaf.Ref != want.Ref {
			return nil, fail(ErrProof, "evidence", "entry %d is not the one the statement names", i)
		}
		var ev Event
		if err := json.Unmarshal(ip.Leaf.Meta, &ev); err != nil || ev.Status != want.Status || seen[ev.Status] {
			return nil, fail(ErrProof, "evidence", "entry %d does not record %s", i, want.Status)
		}
		seen[ev.Status] = true
		switch {
		case ev.Status == MadeAvailable && want.Ref == st.ID:
			made = &ev
		case ev.Status == Opened && want.Ref == st.ID:
			opened = &ev
		case (ev.Status == DeemedServed || ev.Status == DeemedRejected) && want.Ref == st.ID:
			deemed = &ev
		case ev.Status == Delivered && st.AlertID != "" && want.Ref == st.AlertID:
			alerted = &ev
		default:
			return nil, fail(ErrProof, "evidence", "entry %d is not a step of this notification", i)
		}
	}
	if err := checkSteps(st, made, opened, deemed, alerted); err != nil {
		return nil, err
	}
	return st, nil
}

// checkSteps checks that the statement says what its entries recorded, no more.
func checkSteps(st *ProofStatement, made, opened, deemed, alerted *Event) error {
	bad := func(what string) error { return fail(ErrProof, "evidence", "%s does not match the log", what) }
	switch {
	case made == nil || !made.At.Equal(st.MadeAvailable) || made.ContentHash != st.ContentHash:
		return bad("made-available")
	case (opened == nil) != st.Opened.IsZero() || opened != nil && !opened.At.Equal(st.Opened):
		return bad("opened")
	case (alerted == nil) != st.Alerted.IsZero() || alerted != nil && !alerted.At.Equal(st.Alerted):
		return bad("alerted")
	}
	switch st.Status {
	case DeemedServed, DeemedRejected:
		if deemed == nil || deemed.Status != st.Status || deemed.Rule != st.Rule || !deemed.Due.Equal(st.Served) {
			return bad("the deemed date")
		}
	case Opened:
		if deemed != nil || opened == nil || !st.Served.IsZero() && !st.Served.Equal(st.Opened) {
			return bad("the status")
		}
	case MadeAvailable:
		if deemed != nil || opened != nil || !st.Served.IsZero() {
			return bad("the status")
		}
	default:
		return bad("the status")
	}
	return nil
}

// verifyStatement checks a compact JWS statement with key, as consent.VerifyReceipt checks
// a receipt: one signature by alg, header alg and typ only, the payload byte for byte the
// canonical JSON of a statement with known fields only.
func verifyStatement(compact string, alg jose.SignatureAlgorithm, key crypto.PublicKey) (*ProofStatement, error) {
	payload, err := jws.Verify(compact, alg, proofType, key)
	if err != nil {
		ce := err.(*jws.CheckError)
		if ce.Check == jws.CheckTyp {
			return nil, fail(ErrProof, "header", "not a proof of delivery")
		}
		return nil, fail(ErrProof, ce.Check, "%s", ce.Reason)
	}
	var st ProofStatement
	if err := strictJSON(payload, &st); err != nil {
		return nil, fail(ErrProof, "payload", "not a proof statement")
	}
	if !jws.IsCanonical(payload, &st) {
		return nil, fail(ErrProof, "payload", "not the canonical form of a proof statement")
	}
	if st.Version != ProofVersion {
		return nil, fail(ErrProof, "version", "not %s", ProofVersion)
	}
	if len(st.Evidence) == 0 || len(st.Evidence) > limits.MaxNotifyProofEntries {
		return nil, fail(ErrProof, "evidence", "1 to %d entries", limits.MaxNotifyProofEntries)
	}
	return &st, nil
}
