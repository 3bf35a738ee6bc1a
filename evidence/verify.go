package evidence

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Report is what Verify found in a log that verifies.
type Report struct {
	// Origin is the name of the log that was verified.
	Origin string `json:"origin"`
	// Size is the number of entries checked.
	Size uint64 `json:"size"`
	// Erased counts the entries whose payload is erased, through Erase or by the same
	// update made directly in the database, which Verify cannot tell apart.
	Erased uint64 `json:"erased"`
	// Checkpoints counts the checkpoints, stored or kept by the caller, whose signature and
	// root were checked.
	Checkpoints int `json:"checkpoints"`
	// Latest is the largest verified checkpoint, or nil when the log has none: its entries
	// are then consistent with their stored hashes but anchored to no signature.
	Latest *Checkpoint `json:"latest,omitempty"`
	// Unanchored counts the entries appended after Latest. They match their stored hashes,
	// but no signature vouches for them yet: whoever holds the database could have
	// rewritten them together with those hashes.
	Unanchored uint64 `json:"unanchored"`
}

// maxFaults caps the faults Verify lists; the TamperError says when it stopped.
const maxFaults = 1000

// verifyChunk is how many entries Verify reads per query.
const verifyChunk = 4096

// Verify recomputes the whole tree from the stored entries and compares it, entry by entry,
// with the stored leaf and tree hashes and with every stored checkpoint, each of which must
// carry a valid signature by v. It names each entry that was edited, removed, reordered or
// inserted, and each payload that no longer matches its commitment, in a [*TamperError]
// matching ErrTampered. Erased entries are counted, not reported.
//
// The database alone cannot show what it no longer holds: a log truncated together with its
// later checkpoints verifies against the checkpoints that remain. Pass the signed checkpoints
// an auditor kept from earlier as kept: each must verify with v (or Verify fails with its
// [*CheckError]), and the tree must have its root, so a truncation or a rewritten history
// behind it is reported.
//
// Verify reads the log in chunks and holds O(log n) hashes in memory.
func (l *Log) Verify(ctx context.Context, v *Verifier, kept ...[]byte) (*Report, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: Verify needs the verifier of the log's public key", ErrConfig)
	}
	if v.Origin() != l.origin {
		return nil, fmt.Errorf("%w: verifier is for another log", ErrConfig)
	}
	f := &faults{}
	head, err := l.headSize(ctx)
	if err != nil {
		return nil, err
	}
	size := uint64(head)
	if head < 0 || head > maxSize {
		f.add(Fault{Kind: FaultSize, Detail: "the stored size is out of range or not a whole number; the stored entries are checked instead"})
		if size, err = l.rowsEnd(ctx); err != nil {
			return nil, err
		}
	}
	cps, err := l.verifiedCheckpoints(ctx, v, f)
	if err != nil {
		return nil, err
	}
	for _, k := range kept {
		c, err := v.OpenCheckpoint(k)
		if err != nil {
			return nil, err
		}
		cps = append(cps, storedCheckpoint{Checkpoint: c, note: string(k), kept: true})
	}
	slices.SortStableFunc(cps, func(a, b storedCheckpoint) int { return cmp.Compare(a.Size, b.Size) })
	rep := &Report{Origin: l.origin, Size: size, Checkpoints: len(cps)}
	end := size
	if len(cps) > 0 {
		latest := cps[len(cps)-1].Checkpoint
		rep.Latest = &latest
		if latest.Size > end {
			end = latest.Size
		} else {
			rep.Unanchored = size - latest.Size
		}
	}

	w := &walker{l: l, f: f, cps: cps, rep: rep}
	w.checkEmptyCheckpoint()
	for lo := uint64(0); lo < end; {
		hi := min(lo+verifyChunk, end)
		if err := w.chunk(ctx, lo, hi); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lo = hi
		if w.broken && lo < end {
			// Past a gap in both the entries and their leaf hashes nothing is compared
			// but rows: jump over the missing ones, however many a forged size claims.
			next, err := l.nextRow(ctx, lo, end)
			if err != nil {
				return nil, err
			}
			if next > lo {
				f.add(Fault{Kind: FaultRemoved, Seq: lo, End: next})
				lo = next
			}
		}
	}
	// Entries appended while Verify ran are not extra rows.
	now := end
	if h, err := l.headSize(ctx); err != nil {
		return nil, err
	} else if h >= 0 && h <= maxSize {
		now = uint64(h)
	}
	if err := l.extraRows(ctx, max(end, now), f); err != nil {
		return nil, err
	}
	if len(f.list) > 0 {
		return rep, &TamperError{Faults: f.list, Truncated: f.truncated}
	}
	return rep, nil
}

type storedCheckpoint struct {
	Checkpoint
	note string
	kept bool // given by the caller, not read from the database
}

// verifiedCheckpoints loads every stored checkpoint, reports those that do not verify, and
// returns the others by increasing size.
func (l *Log) verifiedCheckpoints(ctx context.Context, v *Verifier, f *faults) ([]storedCheckpoint, error) {
	// A note beyond the cap is not read: it could be as large as memory.
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT size, CASE WHEN length(note) > ? THEN '' ELSE note END, length(note) > ? FROM tlog_checkpoints WHERE log_id = ? ORDER BY size"),
		limits.MaxEvidenceCheckpoint, limits.MaxEvidenceCheckpoint, l.id)
	if err != nil {
		return nil, fmt.Errorf("evidence: read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []storedCheckpoint
	for rows.Next() {
		var sizeCol any
		var text string
		var big bool
		if err := rows.Scan(&sizeCol, &text, &big); err != nil {
			return nil, err
		}
		size, ok := wholeNumber(sizeCol)
		if !ok {
			f.add(Fault{Kind: FaultCheckpoint, StoredSeq: "(not a whole number)", Detail: "its size column holds a value of the wrong type"})
			continue
		}
		if big {
			f.add(Fault{Kind: FaultCheckpoint, CheckpointSize: uint64(max(size, 0)), Detail: "format: too large"})
			continue
		}
		c, err := v.OpenCheckpoint([]byte(text))
		if err != nil {
			var ce *CheckError
			detail := "does not verify"
			if errors.As(err, &ce) {
				detail = ce.Check
			}
			f.add(Fault{Kind: FaultCheckpoint, CheckpointSize: uint64(max(size, 0)), Detail: detail})
			continue
		}
		if int64(c.Size) != size {
			f.add(Fault{Kind: FaultCheckpoint, CheckpointSize: uint64(max(size, 0)), Detail: "stored under another size"})
			continue
		}
		out = append(out, storedCheckpoint{Checkpoint: c, note: text})
	}
	return out, rows.Err()
}

// faults collects faults, merging runs of removed or inserted entries into ranges.
type faults struct {
	list      []Fault
	truncated bool
}

func (f *faults) add(x Fault) {
	if x.End == 0 && x.Kind != FaultCheckpoint && x.Kind != FaultSize && x.StoredSeq == "" {
		x.End = x.Seq + 1
	}
	if n := len(f.list); n > 0 && (x.Kind == FaultRemoved || x.Kind == FaultInserted) && x.StoredSeq == "" {
		last := &f.list[n-1]
		if last.Kind == x.Kind && last.End == x.Seq && last.Detail == x.Detail {
			last.End = x.End
			return
		}
	}
	if len(f.list) >= maxFaults {
		f.truncated = true
		return
	}
	f.list = append(f.list, x)
}

// edge holds the most recent stored hash of each level of the recomputed tree: all that
// StoredHashesForRecordHash and TreeHash read while the tree grows left to right.
type edge struct {
	idx [64]int64
	h   [64]xtlog.Hash
	n   int
}

func (e *edge) ReadHashes(indexes []int64) ([]xtlog.Hash, error) {
	out := make([]xtlog.Hash, len(indexes))
next:
	for i, x := range indexes {
		for k := 0; k < e.n; k++ {
			if e.idx[k] == x {
				out[i] = e.h[k]
				continue next
			}
		}
		return nil, fmt.Errorf("evidence: hash %d is not on the tree's edge", x)
	}
	return out, nil
}

func (e *edge) add(first int64, hashes []xtlog.Hash) {
	for k, h := range hashes {
		e.idx[k] = first + int64(k)
		e.h[k] = h
		if k >= e.n {
			e.n = k + 1
		}
	}
}

// walker recomputes the tree entry by entry.
type walker struct {
	l      *Log
	f      *faults
	cps    []storedCheckpoint
	next   int    // index in cps of the next checkpoint to compare
	good   uint64 // size of the last checkpoint whose root matched
	edge   edge
	broken bool // an entry and its leaf hash are both gone: the tree cannot be recomputed
	rep    *Report
}

// emptyRoot is the root of the empty tree, SHA-256 of nothing (RFC 6962 §2.1).
var emptyRoot = sha256.Sum256(nil)

func (w *walker) checkEmptyCheckpoint() {
	for w.next < len(w.cps) && w.cps[w.next].Size == 0 {
		if w.cps[w.next].Root != Hash(emptyRoot) {
			w.f.add(Fault{Kind: FaultCheckpoint, Detail: "signed root of the empty tree is wrong"})
		}
		w.next++
	}
}

// chunk checks entries [lo, hi).
func (w *walker) chunk(ctx context.Context, lo, hi uint64) error {
	l := w.l
	first := xtlog.StoredHashIndex(0, int64(lo))
	last := xtlog.StoredHashCount(int64(hi))
	stored := make(map[int64]xtlog.Hash, last-first)
	badLen := make(map[int64]bool)
	hq, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT idx, hash FROM tlog_hashes WHERE log_id = ? AND idx >= ? AND idx < ?"), l.id, first, last)
	if err != nil {
		return fmt.Errorf("evidence: read hashes: %w", err)
	}
	for hq.Next() {
		var idxCol any
		var h []byte
		if err := hq.Scan(&idxCol, &h); err != nil {
			hq.Close()
			return err
		}
		idx, ok := wholeNumber(idxCol)
		if !ok {
			// Not where any hash belongs: the hash that should be there is missing, and
			// reported as such.
			continue
		}
		if len(h) != HashSize {
			badLen[idx] = true
			continue
		}
		stored[idx] = xtlog.Hash(h)
	}
	if err := hq.Close(); err != nil {
		return err
	}
	// Rows beyond the caps are named, not read: whoever holds the database could make one
	// as large as memory. The others are streamed, one in memory at a time.
	caps := []any{l.id, int64(lo), int64(hi), limits.MaxEvidenceKind, limits.MaxEvidenceMeta, limits.MaxEvidencePayload, limits.MaxEvidencePayload}
	big := make(map[uint64]bool)
	bq, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT seq FROM tlog_entries WHERE log_id = ? AND seq >= ? AND seq < ? AND "+oversized), caps...)
	if err != nil {
		return fmt.Errorf("evidence: read entries: %w", err)
	}
	for bq.Next() {
		var seq int64
		if err := bq.Scan(&seq); err != nil {
			bq.Close()
			return err
		}
		big[uint64(seq)] = true
	}
	if err := bq.Close(); err != nil {
		return err
	}
	q, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT "+entryColumns+" FROM tlog_entries WHERE log_id = ? AND seq >= ? AND seq < ? AND NOT "+oversized+" ORDER BY seq"), caps...)
	if err != nil {
		return fmt.Errorf("evidence: read entries: %w", err)
	}
	defer q.Close()
	next := func() (*Entry, error) {
		for q.Next() {
			e, err := scanEntry(q)
			if err != nil || e.badColumn != "seq" {
				return e, err
			}
			// A sequence number that is not a whole number sorts between entries.
			w.f.add(Fault{Kind: FaultInserted, StoredSeq: "(not a whole number)", Detail: "at a sequence number no append writes"})
		}
		return nil, q.Err()
	}
	pending, err := next()
	if err != nil {
		return err
	}

	// Leaf hashes of this chunk, to recognise an entry that was moved.
	leafAt := make(map[xtlog.Hash]uint64, hi-lo)
	for i := lo; i < hi; i++ {
		if h, ok := stored[xtlog.StoredHashIndex(0, int64(i))]; ok {
			leafAt[h] = i
		}
	}

	for i := lo; i < hi; i++ {
		idx := xtlog.StoredHashIndex(0, int64(i))
		h0, haveH0 := stored[idx]
		var tree xtlog.Hash
		haveTree := haveH0
		if haveH0 {
			tree = h0
		}
		var e *Entry
		if pending != nil && pending.Seq == i {
			e = pending
			if pending, err = next(); err != nil {
				return err
			}
		}
		switch {
		case big[i]:
			w.f.add(Fault{Kind: FaultEdited, Seq: i, Detail: "fields exceed the size caps"})
		case e != nil && e.badColumn != "":
			w.f.add(Fault{Kind: FaultEdited, Seq: i, Detail: "column " + e.badColumn + " holds a value of the wrong type"})
		case e == nil:
			w.f.add(Fault{Kind: FaultRemoved, Seq: i})
		default:
			got := xtlog.Hash(e.Leaf.Hash(l.origin))
			switch {
			case !e.Leaf.valid():
				// Oversized fields were never appended, and their length prefixes would wrap.
				w.f.add(Fault{Kind: FaultEdited, Seq: i, Detail: "fields exceed the size caps"})
			case !haveH0:
				w.f.add(Fault{Kind: FaultHash, Seq: i, Detail: "stored leaf hash is missing"})
				tree, haveTree = got, true
			case got != h0:
				w.entryMismatch(e, i, leafAt, stored)
			case xtlog.Hash(e.LeafHash) != got:
				w.f.add(Fault{Kind: FaultEdited, Seq: i, Detail: "leaf hash column edited"})
			}
			w.checkPayload(e, i)
		}
		if !haveTree {
			w.broken = true
		}
		if w.broken {
			continue
		}
		hashes, err := xtlog.StoredHashesForRecordHash(int64(i), tree, &w.edge)
		if err != nil {
			return err
		}
		for k := 1; k < len(hashes); k++ {
			s, ok := stored[idx+int64(k)]
			if !ok || s != hashes[k] || badLen[idx+int64(k)] {
				detail := "stored tree hash does not match"
				if !ok {
					detail = "stored tree hash is missing"
				}
				w.f.add(Fault{Kind: FaultHash, Seq: i + 1 - 1<<k, End: i + 1, Detail: detail})
			}
		}
		w.edge.add(idx, hashes)
		for w.next < len(w.cps) && w.cps[w.next].Size == i+1 {
			cp := w.cps[w.next]
			root, err := xtlog.TreeHash(int64(i+1), &w.edge)
			if err != nil {
				return err
			}
			if Hash(root) != cp.Root {
				detail := "the recomputed tree does not have the signed root"
				if cp.kept {
					detail = "the recomputed tree does not have the root of the checkpoint kept by the caller"
				}
				w.f.add(Fault{Kind: FaultCheckpoint, Seq: w.good, End: cp.Size, CheckpointSize: cp.Size, Detail: detail})
			} else {
				w.good = cp.Size
			}
			w.next++
		}
	}
	return nil
}

// oversized matches the rows whose fields exceed the caps (kind in characters, which
// bounds its bytes fourfold; Leaf.valid checks the bytes), with the caps as its last four
// parameters.
const oversized = "(length(kind) > ? OR length(meta) > ? OR COALESCE(length(payload), 0) > ? OR COALESCE(length(salt), 0) > ?)"

// entryMismatch classifies an entry whose fields do not hash to the leaf the tree holds.
func (w *walker) entryMismatch(e *Entry, i uint64, leafAt map[xtlog.Hash]uint64, stored map[int64]xtlog.Hash) {
	if j, ok := leafAt[xtlog.Hash(e.LeafHash)]; ok && j != i {
		moved := *e
		moved.Seq = j
		if xtlog.Hash(moved.Leaf.Hash(w.l.origin)) == stored[xtlog.StoredHashIndex(0, int64(j))] {
			w.f.add(Fault{Kind: FaultReordered, Seq: i, Other: j})
			return
		}
	}
	w.f.add(Fault{Kind: FaultEdited, Seq: i, Detail: "committed fields do not hash to the stored leaf"})
}

func (w *walker) checkPayload(e *Entry, i uint64) {
	switch {
	case e.Erased && e.Payload == nil && e.Salt == nil:
		w.rep.Erased++
	case e.Erased:
		w.f.add(Fault{Kind: FaultPayload, Seq: i, Detail: "marked erased but payload or salt remains"})
	case e.Salt == nil:
		w.f.add(Fault{Kind: FaultPayload, Seq: i, Detail: "payload removed without erasure"})
	case !e.CheckPayload(e.Salt, e.Payload):
		if len(e.Payload) == 0 {
			w.f.add(Fault{Kind: FaultPayload, Seq: i, Detail: "payload removed without erasure"})
		} else {
			w.f.add(Fault{Kind: FaultPayload, Seq: i, Detail: "payload does not match its commitment"})
		}
	}
}

// rowsEnd returns one past the largest sequence number stored, within the range a log may
// have.
func (l *Log) rowsEnd(ctx context.Context) (uint64, error) {
	var last sql.NullInt64
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT MAX(seq) FROM tlog_entries WHERE log_id = ? AND seq >= 0 AND seq < ?"), l.id, int64(maxSize)).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("evidence: read entries: %w", err)
	}
	if !last.Valid {
		return 0, nil
	}
	return uint64(last.Int64) + 1, nil
}

// nextRow returns the smallest sequence number stored in [lo, end), or end.
func (l *Log) nextRow(ctx context.Context, lo, end uint64) (uint64, error) {
	var next sql.NullInt64
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT MIN(seq) FROM tlog_entries WHERE log_id = ? AND seq >= ? AND seq < ?"), l.id, int64(lo), int64(end)).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("evidence: read entries: %w", err)
	}
	if !next.Valid {
		return end, nil
	}
	return uint64(next.Int64), nil
}

// extraRows reports the rows stored beyond the end of the log, and those at sequence
// numbers no append writes: negative, or (in SQLite, which keeps any value in any column)
// not whole numbers, which sort after every number.
func (l *Log) extraRows(ctx context.Context, end uint64, f *faults) error {
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT seq FROM tlog_entries WHERE log_id = ? AND (seq >= ? OR seq < 0) ORDER BY seq LIMIT ?"), l.id, int64(end), maxFaults+1)
	if err != nil {
		return fmt.Errorf("evidence: read entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return err
		}
		switch seq, ok := wholeNumber(v); {
		case !ok:
			f.add(Fault{Kind: FaultInserted, StoredSeq: "(not a whole number)", Detail: "at a sequence number no append writes"})
		case seq < 0:
			f.add(Fault{Kind: FaultInserted, StoredSeq: strconv.FormatInt(seq, 10), Detail: "at a sequence number no append writes"})
		default:
			f.add(Fault{Kind: FaultInserted, Seq: uint64(seq), Detail: "beyond the log's size"})
		}
	}
	return rows.Err()
}
