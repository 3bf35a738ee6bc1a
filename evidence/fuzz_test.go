package evidence_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// fuzzFixture builds a small log with a fixed key and returns its verifier and proofs, as
// seeds for the parsers.
func fuzzFixture(f *testing.F) (*evidence.Verifier, []byte, []byte, []byte) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(f, err)
	f.Cleanup(func() { db.Close() })
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	l := openLog(f, db, key)
	appendN(f, l, 5)
	_, err = l.Checkpoint(ctx)
	require.NoError(f, err)
	appendN(f, l, 6)
	cp, err := l.Checkpoint(ctx)
	require.NoError(f, err)
	inc, err := l.ProveInclusion(ctx, 3, 0)
	require.NoError(f, err)
	incJSON, err := json.Marshal(inc)
	require.NoError(f, err)
	cons, err := l.ProveConsistency(ctx, 5, 0)
	require.NoError(f, err)
	consJSON, err := json.Marshal(cons)
	require.NoError(f, err)
	return independent(f, key), cp.Note, incJSON, consJSON
}

func FuzzOpenCheckpoint(f *testing.F) {
	v, note, _, _ := fuzzFixture(f)
	f.Add(note)
	f.Add([]byte(origin + "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— " + origin + " AAAAAAAA\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := v.OpenCheckpoint(b)
		if err == nil && cp.Origin != origin {
			t.Fatalf("accepted a checkpoint for %q", cp.Origin)
		}
	})
}

func FuzzInclusionProof(f *testing.F) {
	v, _, inc, _ := fuzzFixture(f)
	f.Add(inc)
	f.Add([]byte(`{"format":"dpi-tlog-inclusion/v1","leaf":{"seq":99},"hashes":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := evidence.ParseInclusionProof(b)
		if err != nil {
			return
		}
		_, _ = v.VerifyInclusion(p)
	})
}

func FuzzConsistencyProof(f *testing.F) {
	v, _, _, cons := fuzzFixture(f)
	f.Add(cons)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := evidence.ParseConsistencyProof(b)
		if err != nil {
			return
		}
		_, _, _ = v.VerifyConsistency(p)
	})
}

func FuzzParseVerifierKey(f *testing.F) {
	v, _, _, _ := fuzzFixture(f)
	f.Add(v.Key())
	f.Add("a+00000000+AQ")
	_, ec := ecdsaKey(f)
	ev, err := evidence.NewVerifier(origin, ec.Public())
	require.NoError(f, err)
	f.Add(ev.Key())
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = evidence.ParseVerifierKey(s)
	})
}
