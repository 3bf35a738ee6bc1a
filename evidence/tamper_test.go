package evidence_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// logID is the SQL that finds the test log's id.
const logID = "(SELECT id FROM tlog_logs WHERE origin = '" + origin + "')"

func sqlExec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), db.Rebind(query), args...)
	require.NoError(t, err, query)
}

func faultsOf(t *testing.T, err error) []evidence.Fault {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, evidence.ErrTampered)
	var te *evidence.TamperError
	require.True(t, errors.As(err, &te))
	return te.Faults
}

func hasFault(faults []evidence.Fault, kind evidence.FaultKind, seq, end uint64) bool {
	for _, f := range faults {
		if f.Kind == evidence.FaultCheckpoint && kind == f.Kind {
			// For checkpoints, seq names the checkpoint's size.
			if f.CheckpointSize == seq {
				return true
			}
			continue
		}
		if f.Kind == kind && f.Seq == seq && (end == 0 || f.End == end) {
			return true
		}
	}
	return false
}

func TestVerifyNamesTamperedEntry(t *testing.T) {
	type want struct {
		kind     evidence.FaultKind
		seq, end uint64
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *store.DB, l *evidence.Log)
		want   []want
	}{
		{"metadata edited", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET meta = ? WHERE log_id = "+logID+" AND seq = 7", []byte(`{"n":700}`))
		}, []want{{evidence.FaultEdited, 7, 8}}},
		{"kind edited", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET kind = 'other' WHERE log_id = "+logID+" AND seq = 0")
		}, []want{{evidence.FaultEdited, 0, 1}}},
		{"time edited", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET time_ns = time_ns - 1000 WHERE log_id = "+logID+" AND seq = 19")
		}, []want{{evidence.FaultEdited, 19, 20}}},
		{"leaf hash column edited", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET leaf_hash = ? WHERE log_id = "+logID+" AND seq = 3", make([]byte, 32))
		}, []want{{evidence.FaultEdited, 3, 4}}},
		{"entry and its leaf hash column rewritten together", func(t *testing.T, db *store.DB, l *evidence.Log) {
			e, err := l.Get(context.Background(), 12)
			require.NoError(t, err)
			e.Meta = []byte(`{"n":"forged"}`)
			h := e.Leaf.Hash(origin)
			sqlExec(t, db, "UPDATE tlog_entries SET meta = ?, leaf_hash = ? WHERE log_id = "+logID+" AND seq = 12", e.Meta, h[:])
		}, []want{{evidence.FaultEdited, 12, 13}}},
		{"entry and its stored leaf rewritten together", func(t *testing.T, db *store.DB, l *evidence.Log) {
			e, err := l.Get(context.Background(), 7)
			require.NoError(t, err)
			e.Meta = []byte(`{"n":"forged"}`)
			h := e.Leaf.Hash(origin)
			sqlExec(t, db, "UPDATE tlog_entries SET meta = ?, leaf_hash = ? WHERE log_id = "+logID+" AND seq = 7", e.Meta, h[:])
			sqlExec(t, db, "UPDATE tlog_hashes SET hash = ? WHERE log_id = "+logID+" AND idx = ?", h[:], xtlog.StoredHashIndex(0, 7))
		}, []want{{evidence.FaultHash, 6, 8}, {evidence.FaultCheckpoint, 8, 0}, {evidence.FaultCheckpoint, 20, 0}}},
		{"row deleted", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "DELETE FROM tlog_entries WHERE log_id = "+logID+" AND seq = 5")
		}, []want{{evidence.FaultRemoved, 5, 6}}},
		{"rows deleted", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "DELETE FROM tlog_entries WHERE log_id = "+logID+" AND seq >= 8 AND seq < 11")
		}, []want{{evidence.FaultRemoved, 8, 11}}},
		{"rows reordered", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET seq = 1000 WHERE log_id = "+logID+" AND seq = 3")
			sqlExec(t, db, "UPDATE tlog_entries SET seq = 3 WHERE log_id = "+logID+" AND seq = 4")
			sqlExec(t, db, "UPDATE tlog_entries SET seq = 4 WHERE log_id = "+logID+" AND seq = 1000")
		}, []want{{evidence.FaultReordered, 3, 4}, {evidence.FaultReordered, 4, 5}}},
		{"payload edited", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET payload = ? WHERE log_id = "+logID+" AND seq = 9", []byte("someone else"))
		}, []want{{evidence.FaultPayload, 9, 10}}},
		{"payload deleted without erasure", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_entries SET payload = NULL, salt = NULL WHERE log_id = "+logID+" AND seq = 9")
		}, []want{{evidence.FaultPayload, 9, 10}}},
		{"tail truncated", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "DELETE FROM tlog_entries WHERE log_id = "+logID+" AND seq >= 15")
			sqlExec(t, db, "DELETE FROM tlog_hashes WHERE log_id = "+logID+" AND idx >= ?", xtlog.StoredHashIndex(0, 15))
			sqlExec(t, db, "UPDATE tlog_logs SET size = 15 WHERE origin = '"+origin+"'")
		}, []want{{evidence.FaultRemoved, 15, 20}}},
		{"row inserted beyond the end", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "INSERT INTO tlog_entries (log_id, seq, time_ns, kind, meta, payload_hash, leaf_hash, payload, salt) SELECT log_id, 25, time_ns, kind, meta, payload_hash, leaf_hash, payload, salt FROM tlog_entries WHERE log_id = "+logID+" AND seq = 2")
		}, []want{{evidence.FaultInserted, 25, 26}}},
		{"stored tree hash edited", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			sqlExec(t, db, "UPDATE tlog_hashes SET hash = ? WHERE log_id = "+logID+" AND idx = ?", make([]byte, 32), xtlog.StoredHashIndex(1, 2))
		}, []want{{evidence.FaultHash, 4, 6}}},
		{"checkpoint signature broken", func(t *testing.T, db *store.DB, _ *evidence.Log) {
			var note string
			require.NoError(t, db.QueryRowContext(context.Background(), db.Rebind("SELECT note FROM tlog_checkpoints WHERE log_id = "+logID+" AND size = 20")).Scan(&note))
			forged := strings.Replace(note, "\n20\n", "\n21\n", 1)
			sqlExec(t, db, "UPDATE tlog_checkpoints SET note = ? WHERE log_id = "+logID+" AND size = 20", forged)
		}, []want{{evidence.FaultCheckpoint, 20, 0}}},
	}
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		key := newKey(t)
		v := independent(t, key)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				// Each case gets a log of its own in the shared database.
				cfgOrigin := origin
				if i > 0 {
					sqlExec(t, db, "DELETE FROM tlog_checkpoints")
					sqlExec(t, db, "DELETE FROM tlog_hashes")
					sqlExec(t, db, "DELETE FROM tlog_entries")
					sqlExec(t, db, "DELETE FROM tlog_logs")
				}
				l, err := evidence.Open(ctx, db, evidence.Config{Origin: cfgOrigin, Signer: key})
				require.NoError(t, err)
				appendN(t, l, 8)
				_, err = l.Checkpoint(ctx)
				require.NoError(t, err)
				appendN(t, l, 12)
				_, err = l.Checkpoint(ctx)
				require.NoError(t, err)
				_, err = l.Verify(ctx, v)
				require.NoError(t, err)

				tc.tamper(t, db, l)
				_, err = l.Verify(ctx, v)
				faults := faultsOf(t, err)
				for _, w := range tc.want {
					assert.True(t, hasFault(faults, w.kind, w.seq, w.end), "want %s at %d-%d in %v", w.kind, w.seq, w.end, faults)
				}
				t.Log(err)
			})
		}
	})
}

func TestVerifyAgainstKeptCheckpoint(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		v := independent(t, key)
		l := openLog(t, db, key)
		appendN(t, l, 12)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		appendN(t, l, 8)
		kept, err := l.Checkpoint(ctx)
		require.NoError(t, err)

		_, err = l.Verify(ctx, v, kept.Note)
		require.NoError(t, err)

		// Whoever holds the database removes the last five entries and the checkpoint that
		// covered them. The database alone still verifies...
		sqlExec(t, db, "DELETE FROM tlog_entries WHERE log_id = "+logID+" AND seq >= 15")
		sqlExec(t, db, "DELETE FROM tlog_hashes WHERE log_id = "+logID+" AND idx >= ?", xtlog.StoredHashIndex(0, 15))
		sqlExec(t, db, "DELETE FROM tlog_checkpoints WHERE log_id = "+logID+" AND size = 20")
		sqlExec(t, db, "UPDATE tlog_logs SET size = 15 WHERE origin = '"+origin+"'")
		_, err = l.Verify(ctx, v)
		require.NoError(t, err)

		// ...but not against the checkpoint the auditor kept.
		_, err = l.Verify(ctx, v, kept.Note)
		faults := faultsOf(t, err)
		assert.True(t, hasFault(faults, evidence.FaultRemoved, 15, 20), "%v", faults)

		// A kept checkpoint that does not verify is the caller's error, not tampering.
		other := independentFor(t, origin, newKey(t))
		_, err = l.Verify(ctx, other, kept.Note)
		assert.ErrorIs(t, err, evidence.ErrCheckpoint)
		assert.NotErrorIs(t, err, evidence.ErrTampered)
	})
}

// Rows no append writes, and columns of the wrong type (SQLite keeps any value in any
// column), are named as faults, not reported intact nor turned into an error that stops
// Verify.
func TestVerifyNamesRowsNoAppendWrites(t *testing.T) {
	cases := []struct {
		name  string
		sql   string
		check func(t *testing.T, faults []evidence.Fault)
	}{
		{"negative sequence number",
			"INSERT INTO tlog_entries (log_id, seq, time_ns, kind, ref, meta, payload_hash, leaf_hash, payload, salt) SELECT log_id, -5, time_ns, kind, ref, meta, payload_hash, leaf_hash, payload, salt FROM tlog_entries WHERE log_id = " + logID + " AND seq = 1",
			func(t *testing.T, faults []evidence.Fault) {
				require.Len(t, faults, 1, "%v", faults)
				assert.Equal(t, evidence.FaultInserted, faults[0].Kind)
				assert.Equal(t, "-5", faults[0].StoredSeq)
				assert.Contains(t, faults[0].String(), "row at sequence number -5: inserted")
			}},
		{"sequence number that is text",
			"UPDATE tlog_entries SET seq = 'x' WHERE log_id = " + logID + " AND seq = 3",
			func(t *testing.T, faults []evidence.Fault) {
				assert.True(t, hasFault(faults, evidence.FaultRemoved, 3, 4), "%v", faults)
				assert.True(t, slices.ContainsFunc(faults, func(f evidence.Fault) bool { return f.Kind == evidence.FaultInserted && f.StoredSeq != "" }), "%v", faults)
			}},
		{"time that is text",
			"UPDATE tlog_entries SET time_ns = 'abc' WHERE log_id = " + logID + " AND seq = 2",
			func(t *testing.T, faults []evidence.Fault) {
				require.Len(t, faults, 1, "%v", faults)
				assert.Equal(t, evidence.Fault{Kind: evidence.FaultEdited, Seq: 2, End: 3, Detail: "column time_ns holds a value of the wrong type"}, faults[0])
			}},
		{"erased flag that is text",
			"UPDATE tlog_entries SET erased = 'yes' WHERE log_id = " + logID + " AND seq = 4",
			func(t *testing.T, faults []evidence.Fault) {
				require.Len(t, faults, 1, "%v", faults)
				assert.Equal(t, evidence.Fault{Kind: evidence.FaultEdited, Seq: 4, End: 5, Detail: "column erased holds a value of the wrong type"}, faults[0])
			}},
		{"checkpoint size that is text",
			"UPDATE tlog_checkpoints SET size = 'x' WHERE log_id = " + logID,
			func(t *testing.T, faults []evidence.Fault) {
				require.Len(t, faults, 1, "%v", faults)
				assert.Equal(t, evidence.FaultCheckpoint, faults[0].Kind)
				assert.Contains(t, faults[0].Detail, "wrong type")
			}},
		{"log size that is text",
			"UPDATE tlog_logs SET size = 'x' WHERE id = " + logID,
			func(t *testing.T, faults []evidence.Fault) {
				require.Len(t, faults, 1, "%v", faults)
				assert.Equal(t, evidence.FaultSize, faults[0].Kind)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := memoryDB(t)
			key := newKey(t)
			l := openLog(t, db, key)
			appendN(t, l, 6)
			_, err := l.Checkpoint(ctx)
			require.NoError(t, err)
			_, err = l.Verify(ctx, independent(t, key))
			require.NoError(t, err)

			sqlExec(t, db, c.sql)
			_, err = l.Verify(ctx, independent(t, key))
			c.check(t, faultsOf(t, err))
		})
	}
}

// Get and Scan refuse a row whose column holds the wrong type instead of returning a
// made-up entry.
func TestReadsRefuseColumnsOfTheWrongType(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	l := openLog(t, db, newKey(t))
	appendN(t, l, 3)
	sqlExec(t, db, "UPDATE tlog_entries SET time_ns = 'abc' WHERE seq = 1")
	_, err := l.Get(ctx, 1)
	assert.ErrorIs(t, err, evidence.ErrTampered)
	var got int
	for _, err := range l.Scan(ctx, evidence.Filter{}) {
		if err != nil {
			assert.ErrorIs(t, err, evidence.ErrTampered)
			break
		}
		got++
	}
	assert.Less(t, got, 3)
}

// A checkpoint whose size column is not a whole number is named by every reader of
// checkpoints, not turned into a scan error.
func TestCheckpointSizeOfTheWrongType(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	l := openLog(t, db, newKey(t))
	appendN(t, l, 2)
	_, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	sqlExec(t, db, "UPDATE tlog_checkpoints SET size = 'x'")
	_, err = l.LatestCheckpoint(ctx)
	assert.ErrorIs(t, err, evidence.ErrTampered)
	_, err = l.ProveInclusion(ctx, 1, 0)
	assert.ErrorIs(t, err, evidence.ErrTampered)
	_, err = l.Checkpoint(ctx)
	assert.ErrorIs(t, err, evidence.ErrTampered)
}

func TestOriginsOfADatabaseWithoutLogs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		origins, err := evidence.Origins(context.Background(), db)
		require.NoError(t, err)
		assert.Empty(t, origins)
		openLog(t, db, newKey(t))
		origins, err = evidence.Origins(context.Background(), db)
		require.NoError(t, err)
		assert.Equal(t, []string{origin}, origins)
	})
}
