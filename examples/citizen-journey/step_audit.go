package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// auditEvidence: the agency keeps its evidence in a tamper-evident log (an SQLite file) with
// signed checkpoints. The auditor proves that one record is in the log with nothing but the
// log's public key, the person's payload is erased while the proof stays valid, Verify
// recomputes the whole log, and a row edited directly in the database is named.
//
// Consent keeps its own log, replayed against its table in the consent step. Interop and
// notify do not keep logs yet, so the records here are the sign-in (when that step ran) and
// generic journey records; they do not claim those blocks ran.
func auditEvidence(j *journey) error {
	dir, err := os.MkdirTemp("", "dpi-journey-log-")
	if err != nil {
		return err
	}
	j.cleanup = append(j.cleanup, func() { os.RemoveAll(dir) })
	db, err := store.Open(j.ctx, "sqlite://"+filepath.Join(dir, "evidence.db"))
	if err != nil {
		return err
	}
	j.cleanup = append(j.cleanup, func() { db.Close() })

	const origin = "registry.example/evidence"
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	log, err := evidence.Open(j.ctx, db, evidence.Config{Origin: origin, Signer: key})
	if err != nil {
		return err
	}

	var records []evidence.Record
	if p := j.person; p != nil {
		meta, _ := json.Marshal(map[string]any{"profile": p.Profile, "assurance": p.Assurance, "acr": p.ACR})
		payload, _ := json.Marshal(map[string]string{"subject": p.Subject, "name": p.Name})
		records = append(records, evidence.Record{Kind: "identity.login", Meta: meta, Payload: payload})
	}
	for i := range 5 {
		records = append(records, evidence.Record{
			Kind:    "journey.record",
			Meta:    fmt.Appendf(nil, `{"n":%d,"note":"generic journey record"}`, i),
			Payload: fmt.Appendf(nil, `{"case":"2026-0042","n":%d}`, i),
		})
	}
	if _, err := log.AppendBatch(j.ctx, records); err != nil {
		return err
	}
	first, err := log.Checkpoint(j.ctx)
	if err != nil {
		return err
	}
	j.logf("evidence log %s: %d records appended, checkpoint signed (Ed25519, signed note) at size %d", origin, len(records), first.Size)

	// The auditor trusts the published key and nothing else: no database access.
	auditor, err := evidence.NewVerifier(origin, pub)
	if err != nil {
		return err
	}
	proof, err := log.ProveInclusion(j.ctx, 0, 0)
	if err != nil {
		return err
	}
	doc, err := json.Marshal(proof)
	if err != nil {
		return err
	}
	received, err := evidence.ParseInclusionProof(doc)
	if err != nil {
		return err
	}
	cp, err := auditor.VerifyInclusion(received)
	if err != nil {
		return err
	}
	j.logf("the auditor proves record 0 (%s) is in the tree of size %d with the public key only: %d hashes, %d-byte proof", received.Leaf.Kind, cp.Size, len(received.Hashes), len(doc))

	entry, err := log.Get(j.ctx, 0)
	if err != nil {
		return err
	}
	if !received.Leaf.CheckPayload(entry.Salt, entry.Payload) {
		return errors.New("the payload does not match its commitment")
	}
	if err := log.Erase(j.ctx, 0); err != nil {
		return err
	}
	again, err := log.ProveInclusion(j.ctx, 0, 0)
	if err != nil {
		return err
	}
	if _, err := auditor.VerifyInclusion(again); err != nil {
		return fmt.Errorf("proof after erasure: %w", err)
	}
	j.logf("the person's payload in record 0 is erased; the record's proof still verifies")

	if _, err := log.Append(j.ctx, evidence.Record{Kind: "audit.request", Meta: []byte(`{"by":"oversight office"}`)}); err != nil {
		return err
	}
	latest, err := log.Checkpoint(j.ctx)
	if err != nil {
		return err
	}
	cons, err := log.ProveConsistency(j.ctx, first.Size, latest.Size)
	if err != nil {
		return err
	}
	if _, _, err := auditor.VerifyConsistency(cons); err != nil {
		return err
	}
	j.logf("consistency proof: the tree of size %d is a prefix of the tree of size %d", first.Size, latest.Size)

	report, err := log.Verify(j.ctx, auditor)
	if err != nil {
		return err
	}
	j.logf("Verify recomputed the log: %d entries intact, %d erased, %d signed checkpoints", report.Size, report.Erased, report.Checkpoints)

	if _, err := db.ExecContext(j.ctx, "UPDATE tlog_entries SET meta = '{\"n\":9}' WHERE seq = 2"); err != nil {
		return err
	}
	_, err = log.Verify(j.ctx, auditor)
	var te *evidence.TamperError
	if !errors.As(err, &te) || len(te.Faults) != 1 || te.Faults[0].Seq != 2 {
		return fmt.Errorf("a row edited in the database was not named: %v", err)
	}
	j.logf("an operator edits record 2 directly in the database: Verify names it (%s)", te.Faults[0])
	return nil
}
