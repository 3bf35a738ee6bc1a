package evidence_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// The main path: append, checkpoint, prove, and check the proof with the public key alone.
func Example() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // in production: an HSM or KMS signer

	l, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/consent", Signer: key})
	if err != nil {
		panic(err)
	}
	for _, purpose := range []string{"benefits", "housing", "health"} {
		_, err := l.Append(ctx, evidence.Record{
			Kind:    "consent.given",
			Meta:    []byte(`{"purpose":"` + purpose + `"}`),
			Payload: []byte(`{"person":"..."}`), // personal data: erasable
		})
		if err != nil {
			panic(err)
		}
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		panic(err)
	}
	proof, err := l.ProveInclusion(ctx, 1, 0)
	if err != nil {
		panic(err)
	}

	// The auditor holds only the published public key.
	v, _ := evidence.NewVerifier("agency.example/consent", key.Public())
	cp, err := v.VerifyInclusion(proof)
	fmt.Println("entry", proof.Leaf.Seq, "in tree of size", cp.Size, "error:", err)

	report, err := l.Verify(ctx, v)
	fmt.Println("verified", report.Size, "entries, error:", err)
	// Output:
	// entry 1 in tree of size 3 error: <nil>
	// verified 3 entries, error: <nil>
}

// Verify names the entry that was changed behind the log's back, and tells erasure apart.
func ExampleLog_Verify() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	l, _ := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/consent", Signer: key})
	for i := range 4 {
		_, _ = l.Append(ctx, evidence.Record{Kind: "consent.given", Meta: fmt.Appendf(nil, `{"n":%d}`, i), Payload: []byte("person")})
	}
	_, _ = l.Checkpoint(ctx)
	_ = l.Erase(ctx, 0) // the person's right to erasure

	// Someone with database access rewrites entry 2.
	_, _ = db.ExecContext(ctx, `UPDATE tlog_entries SET meta = '{"n":7}' WHERE seq = 2`)

	v, _ := evidence.NewVerifier("agency.example/consent", key.Public())
	report, err := l.Verify(ctx, v)
	var te *evidence.TamperError
	if errors.As(err, &te) {
		for _, f := range te.Faults {
			fmt.Println(f)
		}
	}
	fmt.Println("erased:", report.Erased)
	// Output:
	// entry 2: edited: committed fields do not hash to the stored leaf
	// erased: 1
}

// An auditor checks a proof document offline, with nothing but the log's published
// verifier key: no database, no network.
func ExampleVerifier_VerifyInclusion() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	l, _ := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/consent", Signer: key})
	for i := range 5 {
		_, _ = l.Append(ctx, evidence.Record{Kind: "consent.given", Meta: fmt.Appendf(nil, `{"n":%d}`, i)})
	}
	_, _ = l.Checkpoint(ctx)
	p, _ := l.ProveInclusion(ctx, 3, 0)
	doc, _ := json.Marshal(p) // what "dpi log proof --json" prints

	published := l.Verifier().Key() // "agency.example/consent+<key hash>+<key>"
	v, err := evidence.ParseVerifierKey(published)
	if err != nil {
		panic(err)
	}
	proof, err := evidence.ParseInclusionProof(doc)
	if err != nil {
		panic(err)
	}
	cp, err := v.VerifyInclusion(proof)
	fmt.Println(v.Origin(), "entry", proof.Leaf.Seq, "of", cp.Size, "error:", err)

	proof.Hashes = proof.Hashes[1:] // a truncated proof
	_, err = v.VerifyInclusion(proof)
	fmt.Println(err)
	// Output:
	// agency.example/consent entry 3 of 5 error: <nil>
	// evidence: proof rejected: audit path: does not lead to the checkpoint's root
}

// A block writes its own row and the evidence of it in one transaction: both commit, or,
// when anything in the transaction fails, neither does.
func ExampleLog_AppendTx() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/consent"})
	if err != nil {
		panic(err)
	}
	_, _ = db.ExecContext(ctx, `CREATE TABLE consents (id TEXT PRIMARY KEY, purpose TEXT)`)

	give := func(id, purpose string, later error) (rc evidence.Receipt, err error) {
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO consents (id, purpose) VALUES (?, ?)`), id, purpose)
			if err != nil {
				return err
			}
			rc, err = l.AppendTx(ctx, tx, evidence.Record{Kind: "consent.given", Ref: id, Meta: []byte(`{"purpose":"` + purpose + `"}`)})
			if err != nil {
				return err
			}
			return later // a later step of the same transaction
		})
		return rc, err
	}
	rc, err := give("c-1", "benefits", nil)
	fmt.Println("c-1: entry", rc.Seq, "error:", err)
	_, err = give("c-2", "housing", errors.New("the person cancelled"))
	fmt.Println("c-2: error:", err)
	rc, err = give("c-3", "health", nil) // takes the number c-2 did not keep
	fmt.Println("c-3: entry", rc.Seq, "error:", err)

	var rows int
	_ = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM consents WHERE id = 'c-2'`).Scan(&rows)
	size, _ := l.Size(ctx)
	fmt.Println("c-2 rows:", rows, "log size:", size)
	// Output:
	// c-1: entry 0 error: <nil>
	// c-2: error: the person cancelled
	// c-3: entry 1 error: <nil>
	// c-2 rows: 0 log size: 2
}

// A consent record's history, found by its reference among the entries of other records.
func ExampleLog_Scan() {
	ctx := context.Background()
	db, _ := store.Open(ctx, "sqlite://:memory:")
	defer db.Close()
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Hour); return clock }
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/consent", Now: now})
	if err != nil {
		panic(err)
	}
	for _, r := range []evidence.Record{
		{Kind: "consent.given", Ref: "c-1", Meta: []byte(`{"purpose":"benefits"}`)},
		{Kind: "consent.given", Ref: "c-2", Meta: []byte(`{"purpose":"housing"}`)},
		{Kind: "consent.used", Ref: "c-1", Meta: []byte(`{"by":"agency.example/benefits"}`)},
		{Kind: "consent.withdrawn", Ref: "c-1"},
	} {
		if _, err := l.Append(ctx, r); err != nil {
			panic(err)
		}
	}

	for e, err := range l.Scan(ctx, evidence.Filter{Ref: "c-1"}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Seq, e.Time.UTC().Format(time.RFC3339), e.Kind, string(e.Meta))
	}
	// Output:
	// 0 2026-03-02T10:00:00Z consent.given {"purpose":"benefits"}
	// 2 2026-03-02T12:00:00Z consent.used {"by":"agency.example/benefits"}
	// 3 2026-03-02T13:00:00Z consent.withdrawn
}
