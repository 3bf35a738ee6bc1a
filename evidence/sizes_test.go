package evidence_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// Proofs from a log of several hundred entries, at sizes that are and are not powers of two,
// from a warm and a cold hash cache, agree with both independent verifiers.
func TestProofsAtManySizes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		v := independent(t, key)
		l := openLog(t, db, key)
		var sizes []uint64
		for _, n := range []int{256, 44, 212, 188} {
			appendN(t, l, n)
			cp, err := l.Checkpoint(ctx)
			require.NoError(t, err)
			sizes = append(sizes, cp.Size)
		}
		require.Equal(t, []uint64{256, 300, 512, 700}, sizes)
		// A second Log on the same database starts with a cold hash cache.
		for _, lg := range []*evidence.Log{l, openLog(t, db, key)} {
			for _, sz := range sizes {
				for _, seq := range []uint64{0, 1, 127, 255, 256, 299, 300, 511, 600, 699} {
					if seq >= sz {
						continue
					}
					p, err := lg.ProveInclusion(ctx, seq, sz)
					require.NoError(t, err)
					cp, err := v.VerifyInclusion(p)
					require.NoError(t, err, "seq %d size %d", seq, sz)
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
					p, err := lg.ProveConsistency(ctx, a, b)
					require.NoError(t, err)
					_, _, err = v.VerifyConsistency(p)
					require.NoError(t, err, "%d -> %d", a, b)
				}
			}
		}
		_, err := l.Verify(ctx, v)
		require.NoError(t, err)
	})
}
