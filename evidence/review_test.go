package evidence_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// Regression tests from the adversarial review of the log (issue 3).

// The payload commitment is SHA-256(prefix || salt || payload) with no length between salt
// and payload: moving the payload's first bytes into the salt kept the commitment, so whoever
// holds the database could shorten a stored payload (or hand a citizen a shortened one)
// without Verify or CheckPayload noticing. The salt's length is now fixed.
func TestPayloadCannotShiftIntoSalt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		rc, err := l.Append(ctx, evidence.Record{Kind: "test.event", Meta: []byte(`{}`), Payload: []byte("ID 12345678 consents")})
		require.NoError(t, err)
		seq := rc.Seq
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		e, err := l.Get(ctx, seq)
		require.NoError(t, err)

		salt := append(append([]byte(nil), e.Salt...), e.Payload[:12]...)
		payload := e.Payload[12:]
		assert.False(t, e.CheckPayload(salt, payload), "a payload shortened into the salt still matches")
		assert.False(t, e.CheckPayload(e.Salt[:31], append([]byte{e.Salt[31]}, e.Payload...)), "a payload lengthened from the salt still matches")
		assert.True(t, e.CheckPayload(e.Salt, e.Payload))

		sqlExec(t, db, "UPDATE tlog_entries SET salt = ?, payload = ? WHERE log_id = "+logID+" AND seq = ?", salt, payload, int64(seq))
		_, err = l.Verify(ctx, independent(t, key))
		faults := faultsOf(t, err)
		assert.True(t, hasFault(faults, evidence.FaultPayload, seq, seq+1), "%v", faults)
	})
}

// The leaf encodes its time as int64 Unix nanoseconds, which wrap outside the years
// 1678-2262: a proof whose leaf claims a time 2^64 ns (about 585 years) away encoded to the
// same bytes and verified, so the time a verifier displays was not the time committed to.
func TestInclusionProofRefusesTimeOutsideEncoding(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	key := newKey(t)
	l := openLog(t, db, key)
	appendN(t, l, 3)
	_, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	p, err := l.ProveInclusion(ctx, 1, 0)
	require.NoError(t, err)
	v := independent(t, key)
	_, err = v.VerifyInclusion(p)
	require.NoError(t, err)

	for _, shift := range []int{4, -4} {
		forged := *p
		for range 4 {
			forged.Leaf.Time = forged.Leaf.Time.Add(time.Duration(shift/4) << 62)
		}
		require.Equal(t, p.Leaf.Time.UnixNano(), forged.Leaf.Time.UnixNano(), "the shifted time wraps to the same encoding")
		require.False(t, forged.Leaf.Time.Equal(p.Leaf.Time))
		_, err = v.VerifyInclusion(&forged)
		assert.ErrorIs(t, err, evidence.ErrProof, "time %s", forged.Leaf.Time)
	}
}

// copyTree replaces the entries and stored hashes of the test log in dst by those of src:
// a history rewritten with every hash recomputed, as whoever holds the database can do.
func copyTree(t *testing.T, dst, src *store.DB) {
	t.Helper()
	ctx := context.Background()
	sqlExec(t, dst, "DELETE FROM tlog_hashes WHERE log_id = "+logID)
	rows, err := src.QueryContext(ctx, "SELECT idx, hash FROM tlog_hashes WHERE log_id = "+logID)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var idx int64
		var h []byte
		require.NoError(t, rows.Scan(&idx, &h))
		sqlExec(t, dst, "INSERT INTO tlog_hashes (log_id, idx, hash) VALUES ("+logID+", ?, ?)", idx, h)
	}
	require.NoError(t, rows.Err())
}

// Checkpoint signed whatever tree the stored hashes described. After the database was
// rolled back or its history rewritten with recomputed hashes, the log's own key signed
// the rollback or the fork, which then verified on its own. Checkpoint now refuses to sign
// a tree that is smaller than, or not consistent with, the latest checkpoint it stored or
// signed.
func TestCheckpointRefusesToSignRollbackOrFork(t *testing.T) {
	ctx := context.Background()
	newDB := func(t *testing.T) *store.DB {
		db := memoryDB(t)
		return db
	}
	t.Run("rolled back", func(t *testing.T) {
		db := newDB(t)
		l := openLog(t, db, newKey(t))
		appendN(t, l, 10)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		sqlExec(t, db, "DELETE FROM tlog_entries WHERE log_id = "+logID+" AND seq >= 5")
		sqlExec(t, db, "UPDATE tlog_logs SET size = 5 WHERE origin = '"+origin+"'")
		_, err = l.Checkpoint(ctx)
		assert.ErrorIs(t, err, evidence.ErrTampered)
	})
	t.Run("rolled back and its checkpoints deleted", func(t *testing.T) {
		db := newDB(t)
		l := openLog(t, db, newKey(t))
		appendN(t, l, 10)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		sqlExec(t, db, "DELETE FROM tlog_checkpoints")
		sqlExec(t, db, "DELETE FROM tlog_entries WHERE log_id = "+logID+" AND seq >= 5")
		sqlExec(t, db, "UPDATE tlog_logs SET size = 5 WHERE origin = '"+origin+"'")
		_, err = l.Checkpoint(ctx)
		assert.ErrorIs(t, err, evidence.ErrTampered)
	})
	t.Run("history rewritten with recomputed hashes", func(t *testing.T) {
		key := newKey(t)
		db := newDB(t)
		l := openLog(t, db, key)
		appendN(t, l, 8)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)

		other := newDB(t)
		forger := openLog(t, other, newKey(t))
		for i := range 8 {
			_, err := forger.Append(ctx, evidence.Record{Kind: "test.event", Meta: []byte(`{"forged":true}`), Payload: []byte{byte(i)}})
			require.NoError(t, err)
		}
		copyTree(t, db, other)
		appendN(t, l, 2)
		_, err = l.Checkpoint(ctx)
		assert.ErrorIs(t, err, evidence.ErrTampered)

		// Another process, which never signed, finds the stored checkpoint and refuses too.
		fresh := openLog(t, db, key)
		_, err = fresh.Checkpoint(ctx)
		assert.ErrorIs(t, err, evidence.ErrTampered)
	})
	t.Run("honest growth still signs", func(t *testing.T) {
		db := newDB(t)
		l := openLog(t, db, newKey(t))
		for range 5 {
			appendN(t, l, 3)
			_, err := l.Checkpoint(ctx)
			require.NoError(t, err)
		}
	})
}

// The log's size is one integer in the database. Set to a negative number or a huge one,
// Verify walked 2^64 (or 2^40) missing entries one chunk at a time, which never ends, and
// Append went on from a negative sequence number. Verify now reports the size and checks
// the rows that exist; Size and Append refuse to go on.
func TestCorruptedSize(t *testing.T) {
	for _, bad := range []int64{-1, -1 << 40, 1 << 40, 1 << 62, 1<<62 + 1, 1<<63 - 1} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			// The deadline only turns the old endless walk into a failure.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			db := memoryDB(t)
			key := newKey(t)
			l := openLog(t, db, key)
			appendN(t, l, 6)
			_, err := l.Checkpoint(ctx)
			require.NoError(t, err)
			appendN(t, l, 2)
			sqlExec(t, db, "UPDATE tlog_logs SET size = ? WHERE origin = '"+origin+"'", bad)

			rep, err := l.Verify(ctx, independent(t, key))
			faults := faultsOf(t, err)
			require.NotNil(t, rep)
			if bad < 0 || bad > 1<<62 {
				assert.True(t, hasFault(faults, evidence.FaultSize, 0, 0), "%v", faults)
			} else {
				assert.True(t, hasFault(faults, evidence.FaultRemoved, 8, uint64(bad)), "%v", faults)
			}
			assert.Len(t, faults, 1, "%v", faults)

			// Appending after a forged gap would file real records where no proof can reach.
			_, err = l.Append(ctx, record(9))
			assert.ErrorIs(t, err, evidence.ErrTampered, "append")
			_, err = l.Size(ctx)
			if bad < 0 || bad > 1<<62 {
				assert.ErrorIs(t, err, evidence.ErrTampered, "size")
			}
		})
	}
}

// Typed.Get wrapped encoding/json's error, which quotes a number it cannot fit (here in an
// int8): a personal number (an ID number stored as a JSON number) ended up in error
// messages and logs. The payload's decoding error now names the entry only.
func TestTypedGetErrorDoesNotQuotePayload(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	l := openLog(t, db, newKey(t))
	asNumber, err := evidence.NewTyped[struct{}, int64](l, "person.id")
	require.NoError(t, err)
	rc, err := asNumber.Append(ctx, "", struct{}{}, 4111222333)
	require.NoError(t, err)
	seq := rc.Seq
	asText, err := evidence.NewTyped[struct{}, int8](l, "person.id")
	require.NoError(t, err)
	_, _, err = asText.Get(ctx, seq)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "4111222333")
}

// A kind that is not UTF-8 was stored as is on SQLite (PostgreSQL refuses it, and NUL, in
// TEXT), but the JSON form of a proof replaces invalid bytes, so the entry's proofs never
// verified. Append now refuses such a kind on every database.
func TestAppendRefusesKindJSONCannotCarry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		l := openLog(t, db, newKey(t))
		for _, kind := range []string{"consent\xff", "consent\x00given"} {
			_, err := l.Append(ctx, evidence.Record{Kind: kind, Payload: []byte("x")})
			assert.ErrorIs(t, err, evidence.ErrInput, "%q", kind)
		}
		rc, err := l.Append(ctx, evidence.Record{Kind: "consentimiento.otorgado·ñ", Payload: []byte("x")})
		require.NoError(t, err)
		seq := rc.Seq
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		p, err := l.ProveInclusion(ctx, seq, 0)
		require.NoError(t, err)
		b, err := json.Marshal(p)
		require.NoError(t, err)
		parsed, err := evidence.ParseInclusionProof(b)
		require.NoError(t, err)
		_, err = l.Verifier().VerifyInclusion(parsed)
		assert.NoError(t, err)
	})
}

// Marking an entry erased hides its payload, which whoever holds the database can always
// delete, but not an edit of its other fields.
func TestErasedMarkDoesNotHideEdits(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	key := newKey(t)
	l := openLog(t, db, key)
	appendN(t, l, 6)
	_, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	sqlExec(t, db, "UPDATE tlog_entries SET payload = NULL, salt = NULL, erased = 1, meta = ? WHERE log_id = "+logID+" AND seq = 2", []byte(`{"n":"forged"}`))
	sqlExec(t, db, "UPDATE tlog_entries SET payload = NULL, salt = NULL, erased = 1, kind = 'other' WHERE log_id = "+logID+" AND seq = 4")
	rep, err := l.Verify(ctx, independent(t, key))
	faults := faultsOf(t, err)
	assert.True(t, hasFault(faults, evidence.FaultEdited, 2, 3), "%v", faults)
	assert.True(t, hasFault(faults, evidence.FaultEdited, 4, 5), "%v", faults)
	assert.Equal(t, uint64(2), rep.Erased)
}

// A log keeps its key: Open refuses another signer. Whoever holds the database can clear the
// recorded key, but the log reopened with another key then cannot verify its latest
// checkpoint, so it cannot tell whether the tree extends it: Checkpoint fails closed.
func TestCheckpointWithAnotherKeyFailsClosed(t *testing.T) {
	ctx := context.Background()
	db := memoryDB(t)
	l := openLog(t, db, newKey(t))
	appendN(t, l, 3)
	_, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	_, err = evidence.Open(ctx, db, evidence.Config{Origin: origin, Signer: newKey(t)})
	require.ErrorIs(t, err, evidence.ErrOtherKey)

	sqlExec(t, db, "UPDATE tlog_logs SET verifier_key = ''")
	rotated := openLog(t, db, newKey(t))
	appendN(t, rotated, 1)
	_, err = rotated.Checkpoint(ctx)
	assert.ErrorIs(t, err, evidence.ErrCheckpoint)
}

// Checkpoint's check against the previous checkpoint must not mistake honest concurrent
// appenders and checkpointers, in several processes, for a rollback.
func TestConcurrentCheckpointsAreNotRollbacks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		const writers, each = 4, 12
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wdb, err := store.Open(ctx, dsn)
			require.NoError(t, err)
			t.Cleanup(func() { wdb.Close() })
			l := openLog(t, wdb, key)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := l.Append(ctx, record(w*1000+i)); err != nil {
						errs <- err
						return
					}
					if _, err := l.Checkpoint(ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		_, err := openLog(t, db, key).Verify(ctx, independent(t, key))
		require.NoError(t, err)
	})
}

// Verify read every row of a 4096-entry chunk into memory at once, whatever its size: up to
// 4 GiB of legitimate 1 MiB payloads, and without limit for a row whoever holds the
// database blew up. It now streams the rows, and reports a row beyond the size caps
// without reading it.
func TestVerifyDoesNotReadOversizedRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		appendN(t, l, 5)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		huge := make([]byte, 4<<20)
		sqlExec(t, db, "UPDATE tlog_entries SET payload = ? WHERE log_id = "+logID+" AND seq = 1", huge)
		sqlExec(t, db, "UPDATE tlog_entries SET salt = ? WHERE log_id = "+logID+" AND seq = 2", huge)
		sqlExec(t, db, "UPDATE tlog_entries SET meta = ? WHERE log_id = "+logID+" AND seq = 3", huge)
		_, err = l.Verify(ctx, independent(t, key))
		faults := faultsOf(t, err)
		require.Len(t, faults, 3, "%v", faults)
		for i, f := range faults {
			assert.Equal(t, evidence.Fault{Kind: evidence.FaultEdited, Seq: uint64(i + 1), End: uint64(i + 2), Detail: "fields exceed the size caps"}, f)
		}
	})
}

// decodeLeaf reads the canonical encoding back, so the fuzz target below can show that no
// two different (origin, leaf) pairs the verifier accepts share an encoding.
func decodeLeaf(b []byte) (origin string, l evidence.Leaf, ok bool) {
	const v1, v2 = "dpi-tlog-leaf/v1\x00", "dpi-tlog-leaf/v2\x00"
	take := func(n int) []byte {
		if n < 0 || len(b) < n {
			ok = false
			return nil
		}
		out := b[:n]
		b = b[n:]
		return out
	}
	ok = true
	version := string(take(len(v1)))
	if !ok || (version != v1 && version != v2) {
		return "", l, false
	}
	origin = string(take(int(binary.BigEndian.Uint16(take(2)))))
	if !ok {
		return "", l, false
	}
	l.Seq = binary.BigEndian.Uint64(take(8))
	if !ok {
		return "", l, false
	}
	l.Time = time.Unix(0, int64(binary.BigEndian.Uint64(take(8)))).UTC()
	if !ok {
		return "", l, false
	}
	l.Kind = string(take(int(binary.BigEndian.Uint16(take(2)))))
	if !ok {
		return "", l, false
	}
	if version == v2 {
		l.Ref = string(take(int(binary.BigEndian.Uint16(take(2)))))
		if !ok || l.Ref == "" {
			// v2 is the encoding of a leaf with a reference: an empty one would be a
			// second encoding of a v1 leaf.
			return "", l, false
		}
	}
	l.Meta = take(int(binary.BigEndian.Uint32(take(4))))
	if !ok {
		return "", l, false
	}
	copy(l.PayloadHash[:], take(evidence.HashSize))
	return origin, l, ok && len(b) == 0
}

func FuzzLeafEncodingInjective(f *testing.F) {
	f.Add("agency.example/log", uint64(3), int64(1700000000123456789), "consent.given", "", []byte(`{"n":1}`), []byte("salt"))
	f.Add("a", uint64(0), int64(0), "", "consent-1", []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, origin string, seq uint64, ns int64, kind, ref string, meta, ph []byte) {
		if len(origin) > 255 || len(kind) > 128 || len(ref) > 255 || len(meta) > 64<<10 {
			return
		}
		l := evidence.Leaf{Seq: seq, Time: time.Unix(0, ns).UTC(), Kind: kind, Ref: ref, Meta: meta}
		copy(l.PayloadHash[:], ph)
		gotOrigin, got, ok := decodeLeaf(l.Bytes(origin))
		if !ok || gotOrigin != origin || got.Seq != l.Seq || !got.Time.Equal(l.Time) || got.Kind != l.Kind || got.Ref != l.Ref ||
			!bytes.Equal(got.Meta, l.Meta) || got.PayloadHash != l.PayloadHash {
			t.Fatalf("leaf encoding does not decode to its fields")
		}
	})
}

// A stored checkpoint note is read by the auditor's Verify; one blown up in the database
// is reported without being read.
func TestVerifyDoesNotReadOversizedCheckpoint(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		appendN(t, l, 3)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		appendN(t, l, 2)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		sqlExec(t, db, "UPDATE tlog_checkpoints SET note = ? WHERE log_id = "+logID+" AND size = 3", strings.Repeat("x", 4<<20))
		_, err = l.Verify(ctx, independent(t, key))
		faults := faultsOf(t, err)
		require.Len(t, faults, 1, "%v", faults)
		assert.Equal(t, evidence.Fault{Kind: evidence.FaultCheckpoint, CheckpointSize: 3, Detail: "format: too large"}, faults[0])
	})
}
