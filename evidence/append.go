package evidence

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// Receipt is what an append gives back: where the record went and what a person needs to
// check their own entry offline, later, against an inclusion proof signed by the log's key
// (the proof's leaf must hash to LeafHash, and [Receipt.Matches] ties the receipt to the
// record they kept).
type Receipt struct {
	// Origin names the log.
	Origin string `json:"origin"`
	// Seq is the entry's sequence number.
	Seq uint64 `json:"seq"`
	// Time is when the entry was appended, as the leaf commits to it.
	Time time.Time `json:"time"`
	// LeafHash is the RFC 6962 leaf hash the tree holds for the entry.
	LeafHash Hash `json:"leafHash"`
	// Salt is the random salt the payload is committed under. With the payload it opens the
	// commitment; the log deletes its own copy when the payload is erased.
	Salt []byte `json:"salt"`
}

// Leaf returns the leaf the receipt was given for, had it recorded r.
func (rc *Receipt) Leaf(r Record) Leaf {
	return Leaf{Seq: rc.Seq, Time: rc.Time, Kind: r.Kind, Ref: r.Ref, Meta: nonNil(r.Meta), PayloadHash: PayloadHash(rc.Salt, r.Payload)}
}

// Matches reports whether the receipt was given for r: whether r, appended at the receipt's
// place and time under its salt, hashes to its leaf hash.
func (rc *Receipt) Matches(r Record) bool {
	if len(rc.Salt) != SaltSize {
		return false
	}
	leaf := rc.Leaf(r)
	return leaf.valid() && leaf.Hash(rc.Origin) == rc.LeafHash
}

// Append adds one record and returns its receipt once the record is durable.
//
// Appends from many goroutines are committed in groups: the records that wait while one
// group commits go into the next, in one transaction and one sync to disk, and each caller
// gets its receipt only after its group committed. A record is in the log once Append
// returns a receipt, and not in it when Append returns an error, except that an append whose
// context ends after its group started committing waits for the outcome rather than
// guessing it.
func (l *Log) Append(ctx context.Context, r Record) (Receipt, error) {
	rcs, err := l.AppendBatch(ctx, []Record{r})
	if err != nil {
		return Receipt{}, err
	}
	return rcs[0], nil
}

// AppendBatch adds records as one unit: they get consecutive sequence numbers and are stored
// whole or not at all. It returns one receipt per record, in order, as Append does.
func (l *Log) AppendBatch(ctx context.Context, records []Record) ([]Receipt, error) {
	if l.readOnly {
		return nil, ErrReadOnly
	}
	if err := checkRecords(records); err != nil {
		return nil, err
	}
	req := &appendReq{records: records, salts: newSalts(len(records)), done: make(chan struct{}), lead: make(chan struct{}, 1)}
	return l.submit(ctx, req)
}

// AppendWith runs fn inside the transaction of the next group commit and appends the record
// fn returns, so that the caller's own writes and their log entry commit together, or not at
// all, at the speed of group commit: what a block that keeps its own tables beside its log
// uses under load, where AppendTx would give each caller a transaction and a sync of its own.
//
// fn runs on another caller's goroutine: when it returns an error (or panics) its writes are
// rolled back, AppendWith returns that error, and the other records of the group go on. The
// functions of a group first run one after the other without savepoints; when one fails, the
// group's transaction is rolled back and run again with a savepoint around each function.
// fn must use the tx and the context it is given, and do nothing outside tx, because it may
// run more than once: in that case, and when a group loses a race. The receipt is returned
// once the group is durable, as Append's.
func (l *Log) AppendWith(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (Record, error)) (Receipt, error) {
	if l.readOnly {
		return Receipt{}, ErrReadOnly
	}
	if fn == nil {
		return Receipt{}, fmt.Errorf("%w: AppendWith needs a function", ErrInput)
	}
	req := &appendReq{fn: fn, salts: newSalts(1), done: make(chan struct{}), lead: make(chan struct{}, 1)}
	rcs, err := l.submit(ctx, req)
	if err != nil {
		return Receipt{}, err
	}
	return rcs[0], nil
}

// submit queues req for the next group and waits for its outcome, leading the group when no
// other caller does.
func (l *Log) submit(ctx context.Context, req *appendReq) ([]Receipt, error) {
	g := &l.group
	g.mu.Lock()
	g.queue = append(g.queue, req)
	leader := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !leader {
		select {
		case <-req.done:
			return req.receipts, req.err
		case <-req.lead:
		case <-ctx.Done():
			if g.withdraw(req) {
				return nil, fmt.Errorf("evidence: append: %w", ctx.Err())
			}
			// A leader took the request: it commits or fails on its own terms.
			select {
			case <-req.done:
				return req.receipts, req.err
			case <-req.lead:
			}
		}
	}
	l.lead(ctx)
	<-req.done
	return req.receipts, req.err
}

// AppendTx adds one record inside tx, a transaction the caller opened on the log's database,
// so that the caller's own rows and the log entry commit or roll back together. The receipt
// holds once tx commits; after a rollback there is no such entry, and its sequence number
// goes to the next append.
//
// The log's head stays locked until tx ends (the row lock on PostgreSQL, SQLite's write
// lock, which the transaction holds anyway): every other append waits for it, so keep such
// transactions short. Under PostgreSQL's REPEATABLE READ or SERIALIZABLE, a concurrent
// append makes the transaction fail with a serialization error: run it again
// ([store.DB.InTx] does). AppendTx does not sign the checkpoints of Config.CheckpointEvery,
// which would need the entry committed; the next Append, or Checkpoint, covers it.
func (l *Log) AppendTx(ctx context.Context, tx *sql.Tx, r Record) (Receipt, error) {
	if l.readOnly {
		return Receipt{}, ErrReadOnly
	}
	if tx == nil {
		return Receipt{}, fmt.Errorf("%w: AppendTx needs the caller's transaction", ErrInput)
	}
	records := []Record{r}
	if err := checkRecords(records); err != nil {
		return Receipt{}, err
	}
	// Not optimistic: the caller's transaction may still roll back, so l.front is not
	// told about it either.
	rcs, _, err := l.write(ctx, tx, records, newSalts(1), false)
	if err != nil {
		return Receipt{}, fmt.Errorf("evidence: append: %w", err)
	}
	return rcs[0], nil
}

// checkRecords refuses what the log cannot store or prove.
func checkRecords(records []Record) error {
	if len(records) == 0 || len(records) > limits.MaxEvidenceBatch {
		return fmt.Errorf("%w: a batch holds 1 to %d records", ErrInput, limits.MaxEvidenceBatch)
	}
	for i := range records {
		r := &records[i]
		if len(r.Kind) > limits.MaxEvidenceKind || len(r.Ref) > limits.MaxEvidenceRef || len(r.Meta) > limits.MaxEvidenceMeta || len(r.Payload) > limits.MaxEvidencePayload {
			return fmt.Errorf("%w: record %d exceeds the size caps", ErrInput, i)
		}
		// A proof's JSON carries the kind and the reference as strings, and PostgreSQL's
		// TEXT holds neither invalid UTF-8 nor NUL: such a label would make the entry
		// unprovable.
		if !label(r.Kind) || !label(r.Ref) {
			return fmt.Errorf("%w: record %d: kind and reference must be UTF-8 without NUL", ErrInput, i)
		}
	}
	return nil
}

func label(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// newSalts draws the salts of n records. They do not depend on the sequence number, so they
// are drawn before the log's lock is taken.
func newSalts(n int) []byte {
	salts := make([]byte, SaltSize*n)
	_, _ = rand.Read(salts)
	return salts
}

// appendReq is one caller's Append, AppendBatch or AppendWith, waiting to be committed with
// a group.
type appendReq struct {
	records  []Record
	fn       func(context.Context, *sql.Tx) (Record, error) // AppendWith's, which makes records
	salts    []byte
	receipts []Receipt
	err      error
	done     chan struct{} // closed when receipts or err are set
	lead     chan struct{} // receives when the request is handed the lead
}

// committer queues the appends that wait for the current group to commit. At most one
// caller, the leader, commits at a time; when it is done it hands the lead to the oldest
// waiting request, whose caller commits everything then waiting. No goroutine of the log's
// own runs, so a Log needs no Close.
type committer struct {
	mu    sync.Mutex
	queue []*appendReq
	busy  bool // a leader is committing or has been handed the lead
}

// withdraw removes a request that is still waiting in the queue, passing on the lead if it
// had just been handed to it, and reports whether it was still waiting.
func (g *committer) withdraw(req *appendReq) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == req {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			select {
			case <-req.lead:
				g.handOff()
			default:
			}
			return true
		}
	}
	return false
}

// handOff passes the lead to the oldest waiting request, or ends the busy spell. g.mu is held.
func (g *committer) handOff() {
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
		return
	}
	g.busy = false
}

// size is the number of records the request appends.
func (req *appendReq) size() int {
	if req.fn != nil {
		return 1
	}
	return len(req.records)
}

// take removes the oldest waiting requests, up to the batch cap in records (and at least
// one request), for the next group.
func (g *committer) take() []*appendReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, records := 0, 0
	for n < len(g.queue) && (n == 0 || records+g.queue[n].size() <= limits.MaxEvidenceBatch) {
		records += g.queue[n].size()
		n++
	}
	group := append([]*appendReq(nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return group
}

// lead commits one group, the oldest waiting requests (the leader's own among them), hands
// the lead on, and then signs the checkpoints that Config.CheckpointEvery asks for.
func (l *Log) lead(ctx context.Context) {
	group := l.group.take()
	// One caller's cancellation must not fail the records of the others in its group.
	cctx := context.WithoutCancel(ctx)
	var rcs []Receipt
	var records []Record
	var front map[int64]xtlog.Hash
	// The AppendWith functions run first without a savepoint each (two statements, and on
	// PostgreSQL two round trips, per record). When one of them fails the whole
	// transaction rolls back, so none of its writes can stay, and the group runs again
	// with a savepoint around each function, where a failing one is rolled back alone and
	// the others go on.
	savepoints := false
	var err error
	for {
		err = l.db.InTx(cctx, func(tx *sql.Tx) error {
			var salts []byte
			records = records[:0]
			for _, req := range group {
				if req.fn != nil {
					if !savepoints {
						if l.runFnBare(cctx, tx, req) != nil {
							return errFnFailed
						}
					} else if req.err = l.runFn(cctx, tx, req); req.err != nil {
						continue
					}
				}
				records = append(records, req.records...)
				salts = append(salts, req.salts...)
			}
			if len(records) == 0 {
				return nil
			}
			var err error
			rcs, front, err = l.write(cctx, tx, records, salts, true)
			return err
		})
		if savepoints || !errors.Is(err, errFnFailed) {
			break
		}
		savepoints = true
	}
	if err != nil {
		err = fmt.Errorf("evidence: append: %w", err)
	} else if len(rcs) > 0 {
		size := int64(rcs[len(rcs)-1].Seq) + 1
		l.front.set(size, front)
		l.nextSeq.Store(size)
	}
	for _, req := range group {
		switch {
		case err != nil:
			req.err = err
		case req.err == nil:
			req.receipts, rcs = rcs[:len(req.records):len(req.records)], rcs[len(req.records):]
		}
	}
	l.group.mu.Lock()
	l.group.handOff()
	l.group.mu.Unlock()
	for _, req := range group {
		close(req.done)
	}
	if err == nil && l.every != 0 && len(records) > 0 {
		var first uint64
		for _, req := range group {
			if req.err == nil {
				first = req.receipts[0].Seq
				break
			}
		}
		end := first + uint64(len(records))
		if end/l.every > first/l.every {
			if _, err := l.Checkpoint(ctx); err != nil && l.logger != nil {
				l.logger.ErrorContext(ctx, "evidence: checkpoint after append failed", "origin", l.origin, "err", err)
			}
		}
	}
}

// errFnFailed is what the group's transaction returns, to be rolled back and run again with
// savepoints, when an AppendWith function run without one failed.
var errFnFailed = errors.New("evidence: an AppendWith function failed outside a savepoint")

// runFnBare runs an AppendWith request's function in tx, without a savepoint, and sets the
// request's record. On an error (or a panic) the caller must roll tx back: the function's
// writes are in it.
func (l *Log) runFnBare(ctx context.Context, tx *sql.Tx, req *appendReq) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errFnFailed
		}
	}()
	return req.callFn(ctx, tx)
}

// callFn calls an AppendWith request's function in tx and sets the request's record.
func (req *appendReq) callFn(ctx context.Context, tx *sql.Tx) error {
	r, err := req.fn(ctx, tx)
	if err != nil {
		return err
	}
	records := []Record{r}
	if err := checkRecords(records); err != nil {
		return err
	}
	req.records = records
	return nil
}

// runFn runs an AppendWith request's function in a savepoint of tx and sets the request's
// record, or rolls the function's writes back and returns its error.
func (l *Log) runFn(ctx context.Context, tx *sql.Tx, req *appendReq) (err error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT dpi_evidence_append"); err != nil {
		return fmt.Errorf("evidence: append: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the AppendWith function panicked: %v", ErrInput, p)
		}
		if err != nil {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT dpi_evidence_append"); rerr != nil {
				err = fmt.Errorf("evidence: append: %w", rerr)
				return
			}
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT dpi_evidence_append"); rerr != nil && err == nil {
			err = fmt.Errorf("evidence: append: %w", rerr)
		}
	}()
	return req.callFn(ctx, tx)
}

// frontier returns the indexes of the stored hashes an append at size needs from the tree
// as it is — the root of each complete subtree of the first size entries, the left siblings
// of the new entries' paths — and the index of the last entry's leaf hash, which is among
// them. It returns no indexes for the empty tree.
func frontier(size int64) (idxs []int64, last int64) {
	if size <= 0 {
		return nil, -1
	}
	last = xtlog.StoredHashIndex(0, size-1)
	idxs = []int64{last}
	for level := 0; size>>level > 0; level++ {
		if n := size >> level; n&1 == 1 {
			if x := xtlog.StoredHashIndex(level, n-1); x != last {
				idxs = append(idxs, x)
			}
		}
	}
	return idxs, last
}

// Columns of the rows an append writes.
var (
	entryInsertColumns = []string{"log_id", "seq", "time_ns", "kind", "ref", "meta", "payload_hash", "leaf_hash", "payload", "salt"}
	hashInsertColumns  = []string{"log_id", "idx", "hash"}
)

// appendRows holds, column by column, the rows an append writes.
type appendRows struct {
	seq, timeNS                                []int64
	kind, ref                                  []string
	meta, payloadHash, leafHash, payload, salt [][]byte
	hashIdx                                    []int64
	hash                                       [][]byte
}

// insertPostgres is the one statement that writes a group on PostgreSQL: both INSERTs and
// the head's UPDATE joined in a WITH, with each column passed as one array and unnested,
// so that the text is the same for every group. pgx prepares it once per connection and
// then runs it in one round trip, where a statement with one placeholder per value had
// another text for nearly every group size, each prepared on its first use (one more round
// trip, and the server parsing and planning up to thousands of parameters).
const insertPostgres = `WITH e AS (INSERT INTO tlog_entries (log_id, seq, time_ns, kind, ref, meta, payload_hash, leaf_hash, payload, salt)
	SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[])),
h AS (INSERT INTO tlog_hashes (log_id, idx, hash) SELECT $1, * FROM unnest($11::bigint[], $12::bytea[]))
UPDATE tlog_logs SET size = $13 WHERE id = $1`

// insertPostgresAt is insertPostgres when the size is still $14: the UPDATE of the size
// takes the head's row lock (after another appender's commit, PostgreSQL checks the
// condition again on the row as that one left it), and the rows go in only when it
// updated the head. It returns 1 when it wrote, 0 when the size had moved.
const insertPostgresAt = `WITH u AS (UPDATE tlog_logs SET size = $13 WHERE id = $1 AND size = $14 RETURNING id),
e AS (INSERT INTO tlog_entries (log_id, seq, time_ns, kind, ref, meta, payload_hash, leaf_hash, payload, salt)
	SELECT u.id, x.* FROM u, unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[]) AS x),
h AS (INSERT INTO tlog_hashes (log_id, idx, hash) SELECT u.id, y.* FROM u, unnest($11::bigint[], $12::bytea[]) AS y)
SELECT count(*) FROM u`

// frontCache is the frontier of the tree at the size the last group this Log committed
// left: the stored hashes the next append needs, so that on PostgreSQL the next group need
// not read them under the head's lock first.
type frontCache struct {
	mu     sync.Mutex
	size   int64
	hashes map[int64]xtlog.Hash
}

// get returns a copy of the frontier at size, or nil when it is not the one kept.
func (c *frontCache) get(size int64) map[int64]xtlog.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hashes == nil || c.size != size {
		return nil
	}
	return maps.Clone(c.hashes)
}

// set keeps hashes as the frontier at size; nil forgets it.
func (c *frontCache) set(size int64, hashes map[int64]xtlog.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size, c.hashes = size, hashes
}

// frontierOf returns the frontier hashes of size found in mem, or nil when one is missing.
func frontierOf(size int64, mem map[int64]xtlog.Hash) map[int64]xtlog.Hash {
	idxs, _ := frontier(size)
	out := make(map[int64]xtlog.Hash, len(idxs))
	for _, x := range idxs {
		h, ok := mem[x]
		if !ok {
			return nil
		}
		out[x] = h
	}
	return out
}

// insert writes the entries' and the hashes' rows and the log's new size: on PostgreSQL in
// one statement (insertPostgres), one round trip; on SQLite, where a statement costs no
// round trip, in multi-row INSERTs.
func (l *Log) insert(ctx context.Context, tx *sql.Tx, rows *appendRows, size int64) error {
	if l.db.Dialect() == store.Postgres {
		_, err := tx.ExecContext(ctx, insertPostgres, l.id, rows.seq, rows.timeNS, rows.kind, rows.ref,
			rows.meta, rows.payloadHash, rows.leafHash, rows.payload, rows.salt, rows.hashIdx, rows.hash, size)
		return err
	}
	entries := newInserter(l.db, "tlog_entries", entryInsertColumns)
	hashes := newInserter(l.db, "tlog_hashes", hashInsertColumns)
	for i := range rows.seq {
		if err := entries.add(ctx, tx, l.id, rows.seq[i], rows.timeNS[i], rows.kind[i], rows.ref[i], rows.meta[i], rows.payloadHash[i], rows.leafHash[i], rows.payload[i], rows.salt[i]); err != nil {
			return err
		}
	}
	for i := range rows.hashIdx {
		if err := hashes.add(ctx, tx, l.id, rows.hashIdx[i], rows.hash[i]); err != nil {
			return err
		}
	}
	if err := entries.flush(ctx, tx); err != nil {
		return err
	}
	if err := hashes.flush(ctx, tx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, l.db.Rebind("UPDATE tlog_logs SET size = ? WHERE id = ?"), size, l.id)
	return err
}

// write appends records, with their salts, in tx: it locks the log's head, stores each
// entry and the tree hashes it completes, and moves the head. It returns the receipts.
//
// When optimistic, on PostgreSQL, and the frontier of the size the last group left is
// known (l.front), it writes without reading the head first: the rows go in with an
// UPDATE of the size that holds only while the size is still that one, which takes the
// head's lock. When another process appended in between, nothing is written and it goes
// the usual way. It also returns the frontier of the new size, for l.front once tx commits.
func (l *Log) write(ctx context.Context, tx *sql.Tx, records []Record, salts []byte, optimistic bool) ([]Receipt, map[int64]xtlog.Hash, error) {
	predicted := l.nextSeq.Load()
	if optimistic && l.db.Dialect() == store.Postgres && predicted > 0 && predicted <= maxSize-int64(len(records)) {
		if got := l.front.get(predicted); got != nil {
			rcs, out, mem, err := l.compute(ctx, tx, records, salts, predicted, got)
			if err != nil {
				return nil, nil, err
			}
			var written int
			if err := tx.QueryRowContext(ctx, insertPostgresAt, l.id, out.seq, out.timeNS, out.kind, out.ref,
				out.meta, out.payloadHash, out.leafHash, out.payload, out.salt, out.hashIdx, out.hash,
				predicted+int64(len(records)), predicted).Scan(&written); err != nil {
				return nil, nil, err
			}
			if written == 1 {
				return rcs, frontierOf(predicted+int64(len(records)), mem), nil
			}
		}
	}
	// Lock the head and, in the same query, read the hashes an append at the size the
	// last group left needs: one round trip, when no other process appended since.
	idxs, last := frontier(predicted)
	var q strings.Builder
	q.WriteString("SELECT l.size, h.idx, h.hash FROM tlog_logs l LEFT JOIN tlog_hashes h ON h.log_id = l.id AND h.idx IN (")
	args := []any{}
	for i, x := range idxs {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('?')
		args = append(args, x)
	}
	if len(idxs) == 0 {
		q.WriteString("-1")
	}
	q.WriteString(") WHERE l.id = ?")
	args = append(args, l.id)
	if l.db.Dialect() == store.Postgres {
		// Row lock: concurrent appenders from any process queue here, so sequence numbers
		// never fork. SQLite's immediate transaction already holds the write lock.
		q.WriteString(" FOR UPDATE OF l")
	}
	// The IN list, not one array parameter (h.idx = ANY($1)): with the array PostgreSQL's
	// generic plan for the prepared statement halved the appends per second at 64 callers.
	rows, err := tx.QueryContext(ctx, l.db.Rebind(q.String()), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("lock log head: %w", err)
	}
	var first int64
	got := map[int64]xtlog.Hash{}
	for rows.Next() {
		var idx sql.NullInt64
		var h []byte
		if err := rows.Scan(&first, &idx, &h); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("lock log head: %w", err)
		}
		if idx.Valid && len(h) == HashSize {
			got[idx.Int64] = xtlog.Hash(h)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, fmt.Errorf("lock log head: %w", err)
	}
	if first < 0 || first > maxSize-int64(len(records)) {
		return nil, nil, errSizeRange
	}
	if first != predicted {
		// Another process appended, or this is the first group: read what this size needs.
		if idxs, last = frontier(first); len(idxs) > 0 {
			if got, err = (&dbReader{ctx: ctx, db: l.db, q: tx, logID: l.id}).readSome(idxs); err != nil {
				return nil, nil, fmt.Errorf("read log head: %w", err)
			}
		}
	}
	if _, ok := got[last]; first > 0 && !ok {
		// The size is one integer whoever holds the database can set: appending past
		// entries that are not there would file records where no proof reaches.
		return nil, nil, fmt.Errorf("%w: the log's last entry has no stored hash", ErrTampered)
	}
	rcs, out, mem, err := l.compute(ctx, tx, records, salts, first, got)
	if err != nil {
		return nil, nil, err
	}
	if err := l.insert(ctx, tx, out, first+int64(len(records))); err != nil {
		return nil, nil, err
	}
	return rcs, frontierOf(first+int64(len(records)), mem), nil
}

// compute stamps records as entries first, first+1, ... of the log whose frontier hashes
// got holds (the hashes it lacks are read in tx), and returns their receipts, the rows to
// write, and every hash it knows, new ones included.
func (l *Log) compute(ctx context.Context, tx *sql.Tx, records []Record, salts []byte, first int64, got map[int64]xtlog.Hash) ([]Receipt, *appendRows, map[int64]xtlog.Hash, error) {
	// Stamped under the lock, or (write's optimistic path) before an UPDATE that holds
	// only if nobody appended since, so times never go backwards along the sequence (with
	// one clock for all appenders).
	stamp := time.Unix(0, l.now().UnixNano()).UTC()
	br := &batchReader{ctx: ctx, db: l.db, q: tx, logID: l.id, mem: got}
	n := len(records)
	out := &appendRows{
		seq: make([]int64, 0, n), timeNS: make([]int64, 0, n), kind: make([]string, 0, n), ref: make([]string, 0, n),
		meta: make([][]byte, 0, n), payloadHash: make([][]byte, 0, n), leafHash: make([][]byte, 0, n),
		payload: make([][]byte, 0, n), salt: make([][]byte, 0, n),
		hashIdx: make([]int64, 0, 2*n), hash: make([][]byte, 0, 2*n),
	}
	rcs := make([]Receipt, len(records))
	for i := range records {
		r := &records[i]
		seq := first + int64(i)
		salt := salts[SaltSize*i : SaltSize*(i+1) : SaltSize*(i+1)]
		leaf := Leaf{Seq: uint64(seq), Time: stamp, Kind: r.Kind, Ref: r.Ref, Meta: nonNil(r.Meta), PayloadHash: PayloadHash(salt, r.Payload)}
		lh := leaf.Hash(l.origin)
		stored, err := xtlog.StoredHashesForRecordHash(seq, xtlog.Hash(lh), br)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read tree hashes: %w", err)
		}
		idx := xtlog.StoredHashIndex(0, seq)
		for k, h := range stored {
			br.mem[idx+int64(k)] = h
			out.hashIdx = append(out.hashIdx, idx+int64(k))
			out.hash = append(out.hash, h[:])
		}
		out.seq = append(out.seq, seq)
		out.timeNS = append(out.timeNS, stamp.UnixNano())
		out.kind = append(out.kind, r.Kind)
		out.ref = append(out.ref, r.Ref)
		out.meta = append(out.meta, leaf.Meta)
		out.payloadHash = append(out.payloadHash, leaf.PayloadHash[:])
		out.leafHash = append(out.leafHash, lh[:])
		out.payload = append(out.payload, nonNil(r.Payload))
		out.salt = append(out.salt, salt)
		rcs[i] = Receipt{Origin: l.origin, Seq: uint64(seq), Time: stamp, LeafHash: lh, Salt: salt}
	}
	return rcs, out, br.mem, nil
}
