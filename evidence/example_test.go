package evidence_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"

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
