package evidence_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

const origin = "agency.example/test-log"

// memoryDB opens an in-memory SQLite database that is closed when the test ends.
func memoryDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return priv
}

func openLog(t testing.TB, db *store.DB, key ed25519.PrivateKey) *evidence.Log {
	t.Helper()
	l, err := evidence.Open(context.Background(), db, evidence.Config{Origin: origin, Signer: key})
	require.NoError(t, err)
	return l
}

// independent returns a verifier built from nothing but the public key, as an auditor would.
func independent(t testing.TB, key ed25519.PrivateKey) *evidence.Verifier {
	t.Helper()
	v, err := evidence.NewVerifier(origin, key.Public())
	require.NoError(t, err)
	return v
}

func record(i int) evidence.Record {
	return evidence.Record{
		Kind:    "test.event",
		Meta:    fmt.Appendf(nil, `{"n":%d}`, i),
		Payload: fmt.Appendf(nil, "person-%d", i),
	}
}

func appendN(t testing.TB, l *evidence.Log, n int) {
	t.Helper()
	ctx := context.Background()
	base, err := l.Size(ctx)
	require.NoError(t, err)
	for i := 0; i < n; {
		// Mix single appends and batches of varying size.
		b := 1 + i%7
		if i+b > n {
			b = n - i
		}
		rs := make([]evidence.Record, b)
		for k := range rs {
			rs[k] = record(int(base) + i + k)
		}
		rcs, err := l.AppendBatch(ctx, rs)
		require.NoError(t, err)
		require.Len(t, rcs, b)
		require.Equal(t, base+uint64(i), rcs[0].Seq)
		i += b
	}
}

func TestAppendProveVerify(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		v := independent(t, key)

		var sizes []uint64
		cp0, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(0), cp0.Size)
		sizes = append(sizes, 0)
		for _, n := range []int{1, 2, 3, 10, 33} {
			appendN(t, l, n)
			cp, err := l.Checkpoint(ctx)
			require.NoError(t, err)
			sizes = append(sizes, cp.Size)
		}
		size, err := l.Size(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(49), size)

		for _, sz := range sizes[1:] {
			for seq := uint64(0); seq < sz; seq++ {
				p, err := l.ProveInclusion(ctx, seq, sz)
				require.NoError(t, err)
				cp, err := v.VerifyInclusion(p)
				require.NoError(t, err, "seq %d size %d", seq, sz)
				assert.Equal(t, sz, cp.Size)

				// A second, independent implementation of RFC 6962 agrees.
				path := make([][]byte, len(p.Hashes))
				for i := range p.Hashes {
					path[i] = p.Hashes[i][:]
				}
				leaf := p.Leaf.Hash(origin)
				assert.NoError(t, proof.VerifyInclusion(rfc6962.DefaultHasher, seq, sz, leaf[:], path, cp.Root[:]))
			}
		}
		for i, a := range sizes {
			for _, b := range sizes[i:] {
				p, err := l.ProveConsistency(ctx, a, b)
				require.NoError(t, err)
				old, new, err := v.VerifyConsistency(p)
				require.NoError(t, err, "%d -> %d", a, b)
				if a > 0 {
					path := make([][]byte, len(p.Hashes))
					for i := range p.Hashes {
						path[i] = p.Hashes[i][:]
					}
					assert.NoError(t, proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, new.Size, path, old.Root[:], new.Root[:]))
				}
			}
		}

		e, err := l.Get(ctx, 5)
		require.NoError(t, err)
		assert.Equal(t, []byte("person-5"), e.Payload)
		assert.True(t, e.CheckPayload(e.Salt, e.Payload))
		assert.False(t, e.CheckPayload(e.Salt, []byte("person-6")))

		rep, err := l.Verify(ctx, v)
		require.NoError(t, err)
		assert.Equal(t, uint64(49), rep.Size)
		assert.Equal(t, len(sizes), rep.Checkpoints)
		assert.Equal(t, uint64(0), rep.Unanchored)
	})
}

func TestCheckpointCadence(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Signer: key, CheckpointEvery: 10})
		require.NoError(t, err)
		appendN(t, l, 25)
		cp, err := l.LatestCheckpoint(ctx)
		require.NoError(t, err)
		// Checkpoints are signed at the append that crosses 10 and 20; batches may overshoot.
		assert.GreaterOrEqual(t, cp.Size, uint64(20))
		assert.Less(t, cp.Size, uint64(25))
		rep, err := l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
		assert.Equal(t, 2, rep.Checkpoints)
		assert.Equal(t, 25-cp.Size, rep.Unanchored)
	})
}

func TestConfig(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for name, cfg := range map[string]evidence.Config{
		"no origin":              {},
		"origin with space":      {Origin: "a b"},
		"origin with plus":       {Origin: "a+b"},
		"ecdsa p-384 signer":     {Origin: origin, Signer: p384},
		"cadence without signer": {Origin: origin, CheckpointEvery: 5},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := evidence.Open(ctx, db, cfg)
			assert.ErrorIs(t, err, evidence.ErrConfig)
		})
	}
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin})
	require.NoError(t, err)
	_, err = evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/none", ReadOnly: true})
	assert.ErrorIs(t, err, evidence.ErrNotFound, "read-only open of a log that does not exist")
	_, err = l.Checkpoint(ctx)
	assert.ErrorIs(t, err, evidence.ErrNoSigner)
	ro, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, ReadOnly: true})
	require.NoError(t, err)
	_, err = ro.Append(ctx, record(0))
	assert.ErrorIs(t, err, evidence.ErrReadOnly)
	assert.ErrorIs(t, ro.Erase(ctx, 0), evidence.ErrReadOnly)
	_, err = ro.Checkpoint(ctx)
	assert.ErrorIs(t, err, evidence.ErrReadOnly)
	_, err = l.AppendBatch(ctx, nil)
	assert.ErrorIs(t, err, evidence.ErrInput)
	_, err = l.Append(ctx, evidence.Record{Payload: make([]byte, 2<<20)})
	assert.ErrorIs(t, err, evidence.ErrInput)
	_, err = l.Get(ctx, 0)
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	assert.ErrorIs(t, l.Erase(ctx, 3), evidence.ErrNotFound)
	_, err = l.Verify(ctx, nil)
	assert.ErrorIs(t, err, evidence.ErrConfig)
}

func TestTimeIsCommitted(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Now: func() time.Time { return at }})
	require.NoError(t, err)
	_, err = l.Append(ctx, record(0))
	require.NoError(t, err)
	e, err := l.Get(ctx, 0)
	require.NoError(t, err)
	assert.True(t, at.Equal(e.Time))
	assert.Equal(t, e.LeafHash, e.Leaf.Hash(origin))
}
