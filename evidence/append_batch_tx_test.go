package evidence_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// A batch appended in the caller's transaction commits or rolls back with it, takes
// consecutive sequence numbers, and interleaves with group commits.
func TestAppendBatchTx(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		batch := []evidence.Record{record(0), record(1), record(2)}

		boom := errors.New("rolled back")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := l.AppendBatchTx(ctx, tx, batch)
			require.NoError(t, err)
			return boom
		})
		require.ErrorIs(t, err, boom)
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Zero(t, size, "a rolled-back transaction leaves no entry")

		_, err = l.Append(ctx, record(9))
		require.NoError(t, err)
		var rcs []evidence.Receipt
		require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			rcs, err = l.AppendBatchTx(ctx, tx, batch)
			return err
		}))
		require.Len(t, rcs, len(batch))
		for i, rc := range rcs {
			assert.Equal(t, uint64(1+i), rc.Seq)
			assert.True(t, rc.Matches(batch[i]))
		}
		next, err := l.Append(ctx, record(10))
		require.NoError(t, err)
		assert.Equal(t, uint64(4), next.Seq)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = l.Verify(ctx, independent(t, key))
		require.NoError(t, err)

		require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := l.AppendBatchTx(ctx, tx, nil)
			assert.ErrorIs(t, err, evidence.ErrInput, "an empty batch")
			return nil
		}))
		_, err = l.AppendBatchTx(ctx, nil, batch)
		assert.ErrorIs(t, err, evidence.ErrInput)
	})
}
