package evidence_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// Many goroutines append at once: their records are committed in groups, every caller gets
// a receipt of its own record, the sequence numbers are exactly 0..n-1, and the log verifies.
func TestGroupCommitGivesEachCallerItsReceipt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		const callers, each = 64, 8
		type result struct {
			r  evidence.Record
			rc evidence.Receipt
		}
		results := make([][]result, callers)
		var wg sync.WaitGroup
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					r := record(c*1000 + i)
					r.Ref = fmt.Sprintf("caller-%d", c)
					rc, err := l.Append(ctx, r)
					if !assert.NoError(t, err) {
						return
					}
					results[c] = append(results[c], result{r, rc})
				}
			}()
		}
		wg.Wait()

		seen := make(map[uint64]bool)
		for c := range callers {
			require.Len(t, results[c], each)
			for i, res := range results[c] {
				assert.False(t, seen[res.rc.Seq], "sequence number %d given twice", res.rc.Seq)
				seen[res.rc.Seq] = true
				assert.Equal(t, origin, res.rc.Origin)
				assert.True(t, res.rc.Matches(res.r), "receipt of caller %d, record %d", c, i)
				if i > 0 {
					assert.Greater(t, res.rc.Seq, results[c][i-1].rc.Seq, "one caller's appends keep their order")
				}
				e, err := l.Get(ctx, res.rc.Seq)
				require.NoError(t, err)
				assert.Equal(t, res.r.Meta, e.Meta)
				assert.Equal(t, res.r.Ref, e.Ref)
				assert.Equal(t, res.rc.LeafHash, e.LeafHash)
			}
		}
		for seq := range uint64(callers * each) {
			assert.True(t, seen[seq], "no receipt for entry %d", seq)
		}

		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		rep, err := l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
		assert.Equal(t, uint64(callers*each), rep.Size)

		// A person checks their entry with the receipt, the record they kept and a proof.
		mine := results[7][3]
		p, err := l.ProveInclusion(ctx, mine.rc.Seq, 0)
		require.NoError(t, err)
		_, err = independent(t, key).VerifyInclusion(p)
		require.NoError(t, err)
		assert.Equal(t, mine.rc.LeafHash, p.Leaf.Hash(origin))
		assert.True(t, p.Leaf.CheckPayload(mine.rc.Salt, mine.r.Payload))
	})
}

// A batch appended while others append stays one unit: consecutive sequence numbers.
func TestAppendBatchStaysConsecutiveUnderConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		l := openLog(t, db, newKey(t))
		var wg sync.WaitGroup
		batches := make([][]evidence.Receipt, 16)
		for b := range batches {
			wg.Add(2)
			go func() {
				defer wg.Done()
				rcs, err := l.AppendBatch(ctx, []evidence.Record{record(b), record(b + 100), record(b + 200)})
				assert.NoError(t, err)
				batches[b] = rcs
			}()
			go func() {
				defer wg.Done()
				_, err := l.Append(ctx, record(b+300))
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		for _, rcs := range batches {
			require.Len(t, rcs, 3)
			assert.Equal(t, rcs[0].Seq+1, rcs[1].Seq)
			assert.Equal(t, rcs[1].Seq+1, rcs[2].Seq)
			assert.Equal(t, rcs[0].Time, rcs[2].Time, "one batch, one time")
		}
	})
}

// An append whose context ends while it waits for its group either is not in the log (it
// returned the context's error) or is (it returned a receipt): never an error for a record
// that was stored, never a receipt for one that was not.
func TestCancelledAppendIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "log.db"))
	require.NoError(t, err)
	defer db.Close()
	l := openLog(t, db, newKey(t))
	_, err = l.Append(ctx, record(0))
	require.NoError(t, err)

	// The caller's transaction holds SQLite's write lock: the group that forms now waits.
	holder, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, err := l.Append(ctx, record(1))
		assert.NoError(t, err)
	}()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	marked := record(2)
	marked.Ref = "cancelled"
	var rc evidence.Receipt
	var appendErr error
	go func() {
		defer wg.Done()
		rc, appendErr = l.Append(cancelled, marked)
	}()
	require.NoError(t, holder.Rollback())
	wg.Wait()

	var found []*evidence.Entry
	for e, err := range l.Scan(ctx, evidence.Filter{Ref: "cancelled"}) {
		require.NoError(t, err)
		found = append(found, e)
	}
	if appendErr != nil {
		assert.ErrorIs(t, appendErr, context.Canceled)
		assert.Empty(t, found, "an append that returned an error is not in the log")
	} else {
		require.Len(t, found, 1, "an append that returned a receipt is in the log")
		assert.Equal(t, rc.Seq, found[0].Seq)
	}
	// The log goes on.
	_, err = l.Append(ctx, record(3))
	require.NoError(t, err)
}

// A block writes its own row and its log entry in one transaction: both commit, or, when the
// transaction rolls back, neither is there and the sequence number is not used up.
func TestAppendTxCommitsOrRollsBackWithTheCaller(t *testing.T) {
	run := func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		_, err := db.ExecContext(ctx, "CREATE TABLE consents (id TEXT PRIMARY KEY, status TEXT NOT NULL)")
		require.NoError(t, err)
		rec := evidence.Record{Kind: "consent.given", Ref: "consent-1", Meta: []byte(`{"purpose":"benefits"}`), Payload: []byte(`{"subject":"ana"}`)}

		boom := errors.New("the block changed its mind")
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO consents (id, status) VALUES (?, ?)"), "consent-1", "given")
			require.NoError(t, err)
			_, err = l.AppendTx(ctx, tx, rec)
			require.NoError(t, err)
			return boom
		})
		require.ErrorIs(t, err, boom)
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Zero(t, size, "a rolled-back transaction leaves no entry")
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM consents").Scan(&n))
		assert.Zero(t, n)

		var rc evidence.Receipt
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO consents (id, status) VALUES (?, ?)"), "consent-1", "given"); err != nil {
				return err
			}
			rc, err = l.AppendTx(ctx, tx, rec)
			return err
		})
		require.NoError(t, err)
		assert.Zero(t, rc.Seq, "the rolled-back entry's sequence number went to the next append")
		assert.True(t, rc.Matches(rec))
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM consents").Scan(&n))
		assert.Equal(t, 1, n)

		// Appends outside the caller's transaction go on after it.
		next, err := l.Append(ctx, record(1))
		require.NoError(t, err)
		assert.Equal(t, uint64(1), next.Seq)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
	}
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) { run(t, db) })
	t.Run("sqlite-memory", func(t *testing.T) { run(t, memoryDB(t)) })
}

// While a caller's transaction holds the log's head, other appenders wait for it rather than
// fail, and all of them land.
func TestAppendTxAndConcurrentAppends(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = l.AppendTx(ctx, tx, record(0))
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := 1; i <= 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := l.Append(ctx, record(i))
				assert.NoError(t, err)
			}()
		}
		require.NoError(t, tx.Commit())
		wg.Wait()
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(9), size)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
	})
}

func TestAppendTxRefusals(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	l := openLog(t, db, newKey(t))
	_, err := l.AppendTx(ctx, nil, record(0))
	assert.ErrorIs(t, err, evidence.ErrInput)
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = l.AppendTx(ctx, tx, evidence.Record{Kind: "x", Ref: "ref\x00"})
	assert.ErrorIs(t, err, evidence.ErrInput)
	_, err = l.AppendTx(ctx, tx, evidence.Record{Kind: "x", Ref: string(make([]byte, 256))})
	assert.ErrorIs(t, err, evidence.ErrInput)
}

// A receipt round-trips through its lowerCamel JSON and still matches its record; it does
// not match another record, or the same record at another place.
func TestReceiptJSONAndMatches(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, memoryDB(t), newKey(t))
	rec := evidence.Record{Kind: "notify.delivered", Ref: "msg-42", Meta: []byte(`{"channel":"email"}`), Payload: []byte("ana@example.org")}
	rc, err := l.Append(ctx, rec)
	require.NoError(t, err)

	b, err := json.Marshal(rc)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	assert.ElementsMatch(t, []string{"origin", "seq", "time", "leafHash", "salt"}, keys(fields))
	var back evidence.Receipt
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, rc, back)
	assert.True(t, back.Matches(rec))

	for name, change := range map[string]func(*evidence.Record, *evidence.Receipt){
		"payload": func(r *evidence.Record, _ *evidence.Receipt) { r.Payload = []byte("eve@example.org") },
		"ref":     func(r *evidence.Record, _ *evidence.Receipt) { r.Ref = "msg-43" },
		"kind":    func(r *evidence.Record, _ *evidence.Receipt) { r.Kind = "notify.failed" },
		"seq":     func(_ *evidence.Record, c *evidence.Receipt) { c.Seq++ },
		"origin":  func(_ *evidence.Record, c *evidence.Receipt) { c.Origin = "other.example/log" },
		"salt":    func(_ *evidence.Record, c *evidence.Receipt) { c.Salt = c.Salt[:16] },
	} {
		r, c := rec, back
		c.Salt = append([]byte(nil), back.Salt...)
		change(&r, &c)
		assert.False(t, c.Matches(r), name)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// AppendWith runs each caller's writes in the group's transaction: a function that fails
// (or panics) leaves neither its rows nor its entry, and the others of its group land.
func TestAppendWithCommitsCallersWritesInGroups(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		_, err := db.ExecContext(ctx, "CREATE TABLE items (id TEXT PRIMARY KEY)")
		require.NoError(t, err)
		refused := errors.New("refused by the block")
		const callers = 48
		rcs := make([]evidence.Receipt, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("item-%d", i)
				rcs[i], errs[i] = l.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
					if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO items (id) VALUES (?)"), id); err != nil {
						return evidence.Record{}, err
					}
					switch i % 8 {
					case 3:
						return evidence.Record{}, refused
					case 5:
						panic("a bug in the block")
					case 6:
						return evidence.Record{Kind: "bad\x00kind"}, nil
					}
					return evidence.Record{Kind: "item.created", Ref: id}, nil
				})
			}()
		}
		wg.Wait()
		want := 0
		for i := range callers {
			id := fmt.Sprintf("item-%d", i)
			var n int
			require.NoError(t, db.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM items WHERE id = ?"), id).Scan(&n))
			found := seqs(t, l, evidence.Filter{Ref: id})
			switch i % 8 {
			case 3:
				assert.ErrorIs(t, errs[i], refused)
			case 5, 6:
				assert.ErrorIs(t, errs[i], evidence.ErrInput)
			default:
				require.NoError(t, errs[i])
				assert.True(t, rcs[i].Matches(evidence.Record{Kind: "item.created", Ref: id}))
				assert.Equal(t, 1, n, id)
				assert.Equal(t, []uint64{rcs[i].Seq}, found)
				want++
				continue
			}
			assert.Zero(t, n, "the failed function's row was rolled back: %s", id)
			assert.Empty(t, found)
		}
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(want), size)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
	})
}

// Two Logs on one database (two processes) and AppendTx, committed or rolled back, take
// turns: each Log's next group finds the head moved by the other and must not write at the
// size it expected (on PostgreSQL it tries that first, from the frontier it kept).
func TestAppendAfterAnotherAppender(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		other, err := store.Open(ctx, dsn)
		require.NoError(t, err)
		t.Cleanup(func() { other.Close() })
		a, b := openLog(t, db, key), openLog(t, other, key)
		var want []evidence.Receipt
		var wantRecs []evidence.Record
		steps := "aabbaatbaTabbbaaTTab"
		for i, step := range steps {
			rec := record(i)
			switch step {
			case 'a', 'b':
				l := a
				if step == 'b' {
					l = b
				}
				rc, err := l.Append(ctx, rec)
				require.NoError(t, err, "step %d", i)
				want, wantRecs = append(want, rc), append(wantRecs, rec)
			case 't', 'T': // AppendTx through a, committed ('t') or rolled back ('T')
				tx, err := db.BeginTx(ctx, nil)
				require.NoError(t, err)
				rc, err := a.AppendTx(ctx, tx, rec)
				require.NoError(t, err)
				if step == 'T' {
					require.NoError(t, tx.Rollback())
					continue
				}
				require.NoError(t, tx.Commit())
				want, wantRecs = append(want, rc), append(wantRecs, rec)
			}
		}
		for i, rc := range want {
			assert.Equal(t, uint64(i), rc.Seq, "sequence numbers follow each other")
			assert.True(t, rc.Matches(wantRecs[i]))
		}
		size, err := a.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(len(want)), size)
		_, err = a.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = b.Verify(ctx, independent(t, key))
		require.NoError(t, err)
	})
}
