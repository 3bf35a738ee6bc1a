package evidence

import (
	"context"
	"crypto"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// Config configures a log. Origin is required; the zero value of every other field is safe.
type Config struct {
	// Origin names the log: the first line of its checkpoints, the note key name, and its
	// name in the database. Use a schema-less URL such as "agency.example/consent".
	// Several logs, one per origin, share one database.
	Origin string
	// Signer signs checkpoints with an Ed25519 or ECDSA P-256 key. It may live in a file, an
	// HSM or a KMS.
	// A log opened without a signer appends, proves and verifies but cannot checkpoint.
	// A log keeps its key: the first signer it is opened with is recorded, Open refuses any
	// other (ErrOtherKey), its stored checkpoints verify with that key only, and Checkpoint
	// refuses to sign after a latest checkpoint it cannot verify. Rotate by starting a log
	// under a new origin.
	Signer crypto.Signer
	// CheckpointEvery, when non-zero, signs a checkpoint whenever an append makes the log
	// cross a multiple of this many entries. Zero signs only when Checkpoint is called.
	CheckpointEvery uint64
	// Now is the clock that stamps entries; nil means time.Now.
	Now func() time.Time
	// Logger receives checkpoint failures after an append; nil logs nothing.
	Logger *slog.Logger
	// ReadOnly opens an existing log without creating tables or rows, for auditors with a
	// read-only database account: Get, proofs and Verify work; Append, Erase and Checkpoint
	// return ErrReadOnly. Opening a log that does not exist fails with ErrNotFound.
	ReadOnly bool
}

// Record is what a caller appends.
type Record struct {
	// Kind labels the record, for example "consent.given": UTF-8 without NUL, not personal
	// data.
	Kind string
	// Ref, when set, is a non-personal reference to what the record is about (a consent
	// record ID, a message ID, a notification ID), by which [Log.Scan] finds it: UTF-8
	// without NUL, at most 255 bytes. Never a national number or a name: it is kept, and
	// indexed, for as long as the log.
	Ref string
	// Meta is non-personal metadata, kept for as long as the log.
	Meta []byte
	// Payload is personal data. The tree commits to a salted hash of it, so Erase can delete
	// it later while every proof stays valid.
	Payload []byte
}

// Entry is a stored record.
type Entry struct {
	Leaf
	// Payload and Salt are nil once the entry is erased.
	Payload []byte
	Salt    []byte
	Erased  bool
	// LeafHash is the RFC 6962 leaf hash the tree holds for the entry.
	LeafHash Hash

	badColumn string // the column of the row that holds a value of the wrong type, if any
}

// SignedCheckpoint is a checkpoint and its signed note.
type SignedCheckpoint struct {
	Checkpoint
	// Note is the checkpoint in the signed-note form that verifiers read.
	Note []byte
}

// Log is an append-only Merkle log in a database. It is safe for concurrent use, and many
// processes may append to the same log on PostgreSQL.
type Log struct {
	db       *store.DB
	id       int64
	origin   string
	signer   *noteSigner
	verifier *Verifier
	every    uint64
	now      func() time.Time
	logger   *slog.Logger

	readOnly bool
	group    committer
	// nextSeq is the size the last group this Log committed left, which the next group
	// expects to find (another process may have appended since).
	nextSeq atomic.Int64
	// front is the tree's frontier at nextSeq, on PostgreSQL (see write).
	front  frontCache
	stmts  stmtCache
	hashes hashCache
	notes  noteCache
	signed signedCache
}

// signedCache remembers the largest checkpoint this Log signed, so that Checkpoint refuses
// to sign a rollback even after the stored checkpoints were deleted.
type signedCache struct {
	mu sync.Mutex
	cp *Checkpoint
}

// noteCache remembers the last checkpoint note whose signature checked out, so that proofs
// against the same latest checkpoint do not verify the same signature again: the exact
// same bytes under the same key verify the same way.
type noteCache struct {
	mu   sync.Mutex
	text string
	cp   Checkpoint
}

// Open opens the log named cfg.Origin in db, creating its tables and its row when needed.
func Open(ctx context.Context, db *store.DB, cfg Config) (*Log, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: no database", ErrConfig)
	}
	if !validOrigin(cfg.Origin) {
		return nil, fmt.Errorf("%w: origin must be 1-%d printable characters without spaces or '+'", ErrConfig, limits.MaxEvidenceOrigin)
	}
	if cfg.CheckpointEvery != 0 && cfg.Signer == nil {
		return nil, fmt.Errorf("%w: CheckpointEvery needs a Signer", ErrConfig)
	}
	if cfg.ReadOnly && (cfg.Signer != nil || cfg.CheckpointEvery != 0) {
		return nil, fmt.Errorf("%w: a read-only log neither signs nor checkpoints", ErrConfig)
	}
	if db.ReadOnly() && !cfg.ReadOnly {
		return nil, fmt.Errorf("%w: the database is opened read-only: open the log with Config.ReadOnly", ErrConfig)
	}
	l := &Log{db: db, origin: cfg.Origin, every: cfg.CheckpointEvery, now: cfg.Now, logger: cfg.Logger, readOnly: cfg.ReadOnly}
	if l.now == nil {
		l.now = time.Now
	}
	if cfg.Signer != nil {
		s, v, err := newNoteSigner(cfg.Origin, cfg.Signer)
		if err != nil {
			return nil, err
		}
		l.signer, l.verifier = s, v
	}
	if cfg.ReadOnly {
		err := db.QueryRowContext(ctx, db.Rebind("SELECT id FROM tlog_logs WHERE origin = ?"), cfg.Origin).Scan(&l.id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: no log with this origin", ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("evidence: find log: %w", err)
		}
		return l, nil
	}
	if err := db.Migrate(ctx, component, migrations); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, db.Rebind("INSERT INTO tlog_logs (origin) VALUES (?) ON CONFLICT (origin) DO NOTHING"), cfg.Origin); err != nil {
		return nil, fmt.Errorf("evidence: create log: %w", err)
	}
	if err := db.QueryRowContext(ctx, db.Rebind("SELECT id FROM tlog_logs WHERE origin = ?"), cfg.Origin).Scan(&l.id); err != nil {
		return nil, fmt.Errorf("evidence: find log: %w", err)
	}
	if l.verifier != nil {
		// The first signer claims the log; any other is refused here rather than at its
		// first checkpoint, which a log without checkpoints would never reach.
		if _, err := db.ExecContext(ctx, db.Rebind("UPDATE tlog_logs SET verifier_key = ? WHERE id = ? AND verifier_key = ''"), l.verifier.Key(), l.id); err != nil {
			return nil, fmt.Errorf("evidence: record the log's key: %w", err)
		}
		var key string
		if err := db.QueryRowContext(ctx, db.Rebind("SELECT verifier_key FROM tlog_logs WHERE id = ?"), l.id).Scan(&key); err != nil {
			return nil, fmt.Errorf("evidence: read the log's key: %w", err)
		}
		if key != l.verifier.Key() {
			return nil, fmt.Errorf("%w; start a log under a new origin to rotate", ErrOtherKey)
		}
	}
	return l, nil
}

// Origins lists the logs a database holds, without creating anything. A database without
// the log's tables holds none.
func Origins(ctx context.Context, db *store.DB) ([]string, error) {
	exists := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tlog_logs'"
	if db.Dialect() == store.Postgres {
		exists = "SELECT COUNT(*) FROM (SELECT to_regclass('tlog_logs') AS t) r WHERE t IS NOT NULL"
	}
	var n int
	if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, fmt.Errorf("evidence: list logs: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, "SELECT origin FROM tlog_logs ORDER BY origin")
	if err != nil {
		return nil, fmt.Errorf("evidence: list logs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Origin returns the log's origin.
func (l *Log) Origin() string { return l.origin }

// Verifier returns the verifier for the log's own signing key, or nil when the log was
// opened without a signer. Auditors should build theirs from the published public key.
func (l *Log) Verifier() *Verifier { return l.verifier }

// reader reads stored hashes outside any transaction, through prepared statements.
func (l *Log) reader(ctx context.Context) *dbReader {
	return &dbReader{ctx: ctx, db: l.db, q: l.db, logID: l.id, stmts: &l.stmts, cache: &l.hashes}
}

// maxSize bounds a log's size, as it bounds checkpoints' and sequence numbers: far beyond
// any real log, and far from int64's overflow.
const maxSize = 1 << 62

// Size returns the number of entries in the log. A stored size out of range fails with
// ErrTampered.
func (l *Log) Size(ctx context.Context) (uint64, error) {
	n, err := l.headSize(ctx)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > maxSize {
		return 0, errSizeRange
	}
	return uint64(n), nil
}

var errSizeRange = fmt.Errorf("%w: the log's stored size is out of range or not a whole number", ErrTampered)

// headSize returns the size stored in the log's head row, unchecked but for its type: a
// value that is not a whole number (SQLite keeps any value in any column) comes back as -1,
// which every caller refuses as out of range.
func (l *Log) headSize(ctx context.Context) (int64, error) {
	var v any
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT size FROM tlog_logs WHERE id = ?"), l.id).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("evidence: read size: %w", err)
	}
	n, ok := wholeNumber(v)
	if !ok {
		return -1, nil
	}
	return n, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Get returns the entry at seq.
func (l *Log) Get(ctx context.Context, seq uint64) (*Entry, error) {
	if seq > maxSize {
		return nil, ErrNotFound
	}
	st, err := l.stmts.get(ctx, l.db, "SELECT "+entryColumns+" FROM tlog_entries WHERE log_id = ? AND seq = ?")
	if err != nil {
		return nil, fmt.Errorf("evidence: read entry: %w", err)
	}
	e, err := scanEntry(st.QueryRowContext(ctx, l.id, int64(seq)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: entry %d", ErrNotFound, seq)
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: read entry: %w", err)
	}
	if e.badColumn != "" {
		return nil, fmt.Errorf("%w: entry %d: column %s holds a value of the wrong type", ErrTampered, seq, e.badColumn)
	}
	return e, nil
}

const entryColumns = "seq, time_ns, kind, ref, meta, payload_hash, leaf_hash, payload, salt, erased"

// scanEntry reads a row of entryColumns. The integer columns are read whatever they hold:
// SQLite stores any value in any column, so a row edited to hold text where a number
// belongs comes back as an entry whose column is named in badColumn, which Verify reports
// as edited, rather than as an error that would stop it.
func scanEntry(s interface{ Scan(...any) error }) (*Entry, error) {
	var (
		seq, ns, erased any
		ph, lh          []byte
		payload, slt    []byte
		e               Entry
	)
	if err := s.Scan(&seq, &ns, &e.Kind, &e.Ref, &e.Meta, &ph, &lh, &payload, &slt, &erased); err != nil {
		return nil, err
	}
	n, ok := seq.(int64)
	if !ok {
		e.badColumn = "seq"
	}
	e.Seq = uint64(n)
	if t, ok := ns.(int64); ok {
		e.Time = time.Unix(0, t).UTC()
	} else {
		e.badColumn = "time_ns"
	}
	switch erased {
	case int64(0):
	case int64(1):
		e.Erased = true
	default:
		e.badColumn = "erased"
	}
	copy(e.PayloadHash[:], ph)
	copy(e.LeafHash[:], lh)
	e.Payload, e.Salt = payload, slt
	if len(ph) != HashSize || len(lh) != HashSize {
		// A hash column of the wrong length cannot be the stored hash; Verify reports it.
		e.LeafHash = Hash{}
	}
	return &e, nil
}

// wholeNumber reads a value scanned into an any that should be an integer column's.
func wholeNumber(v any) (int64, bool) {
	n, ok := v.(int64)
	return n, ok
}

// Erase deletes the personal payload of the entry at seq and its salt, and marks the entry
// erased. The leaf and every proof stay valid; Verify reports the entry as erased, not as
// tampered. Erasing an erased entry does nothing.
func (l *Log) Erase(ctx context.Context, seq uint64) error {
	if l.readOnly {
		return ErrReadOnly
	}
	if seq > maxSize {
		return ErrNotFound
	}
	res, err := l.db.ExecContext(ctx, l.db.Rebind("UPDATE tlog_entries SET payload = NULL, salt = NULL, erased = 1 WHERE log_id = ? AND seq = ?"), l.id, int64(seq))
	if err != nil {
		return fmt.Errorf("evidence: erase: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: entry %d", ErrNotFound, seq)
	}
	return nil
}

// Checkpoint signs and stores a checkpoint of the log as it is now, and returns it. When
// the latest checkpoint already has the current size, it returns that one. It fails with
// ErrTampered, signing nothing, when the tree is smaller than or not consistent with the
// latest checkpoint stored or signed by l.
func (l *Log) Checkpoint(ctx context.Context) (*SignedCheckpoint, error) {
	if l.readOnly {
		return nil, ErrReadOnly
	}
	if l.signer == nil {
		return nil, ErrNoSigner
	}
	// The previous checkpoint is read before the size: the log only grows, so any
	// checkpoint stored by then covers at most the size read next.
	prev, err := l.previousCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	size, err := l.Size(ctx)
	if err != nil {
		return nil, err
	}
	if cp, err := l.checkpointAt(ctx, size); err == nil {
		if err := l.checkExtends(ctx, prev, cp.Checkpoint); err != nil {
			return nil, err
		}
		return cp, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	root, err := xtlog.TreeHash(int64(size), l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("evidence: compute root: %w", err)
	}
	c := Checkpoint{Origin: l.origin, Size: size, Root: Hash(root)}
	if err := l.checkExtends(ctx, prev, c); err != nil {
		return nil, err
	}
	signed, err := l.signer.sign(c)
	if err != nil {
		return nil, fmt.Errorf("evidence: sign checkpoint: %w", err)
	}
	l.signed.mu.Lock()
	if l.signed.cp == nil || l.signed.cp.Size < c.Size {
		l.signed.cp = &c
	}
	l.signed.mu.Unlock()
	// Two processes may sign the same size at once; the first stored note wins.
	if _, err := l.db.ExecContext(ctx, l.db.Rebind("INSERT INTO tlog_checkpoints (log_id, size, note) VALUES (?, ?, ?) ON CONFLICT (log_id, size) DO NOTHING"), l.id, int64(size), string(signed)); err != nil {
		return nil, fmt.Errorf("evidence: store checkpoint: %w", err)
	}
	return l.checkpointAt(ctx, size)
}

// previousCheckpoint returns the larger of the latest stored checkpoint and the latest one
// this Log signed, or nil when there is neither.
func (l *Log) previousCheckpoint(ctx context.Context) (*Checkpoint, error) {
	l.signed.mu.Lock()
	prev := l.signed.cp
	l.signed.mu.Unlock()
	stored, err := l.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return prev, nil
	}
	if err != nil {
		return nil, err
	}
	if prev == nil || stored.Size >= prev.Size {
		return &stored.Checkpoint, nil
	}
	return prev, nil
}

// checkExtends refuses to sign (or hand out) c unless its tree extends prev's: whoever holds
// the database could otherwise roll the log back, or rewrite its history with every hash
// recomputed, and have the log's own key sign the result.
func (l *Log) checkExtends(ctx context.Context, prev *Checkpoint, c Checkpoint) error {
	switch {
	case prev == nil || prev.Size == 0:
		return nil
	case c.Size < prev.Size:
		return fmt.Errorf("%w: the log holds %d entries but a checkpoint of %d was signed; not signing a rollback", ErrTampered, c.Size, prev.Size)
	case c.Size == prev.Size:
		if c.Root != prev.Root {
			return fmt.Errorf("%w: the tree of %d entries no longer has its signed root; not signing", ErrTampered, c.Size)
		}
		return nil
	}
	proof, err := xtlog.ProveTree(int64(c.Size), int64(prev.Size), l.reader(ctx))
	if err != nil {
		return fmt.Errorf("evidence: prove consistency with the previous checkpoint: %w", err)
	}
	if xtlog.CheckTree(proof, int64(c.Size), xtlog.Hash(c.Root), int64(prev.Size), xtlog.Hash(prev.Root)) != nil {
		return fmt.Errorf("%w: the tree of %d entries does not extend the signed checkpoint of %d; not signing", ErrTampered, c.Size, prev.Size)
	}
	return nil
}

// LatestCheckpoint returns the stored checkpoint of the largest tree, checked with the log's
// own key when it has one. Auditors use [Verifier.OpenCheckpoint] with the published key.
func (l *Log) LatestCheckpoint(ctx context.Context) (*SignedCheckpoint, error) {
	var size int64
	var text string
	var sizeCol any
	st, err := l.stmts.get(ctx, l.db, "SELECT size, note FROM tlog_checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1")
	if err == nil {
		err = st.QueryRowContext(ctx, l.id).Scan(&sizeCol, &text)
	}
	if err == nil {
		var ok bool
		if size, ok = wholeNumber(sizeCol); !ok {
			return nil, errCheckpointSizeType
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no checkpoint yet", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: read checkpoints: %w", err)
	}
	c, err := l.openNote(text)
	if err != nil {
		return nil, err
	}
	if c.Size != uint64(size) {
		return nil, checkpointError("size: stored under another size")
	}
	return &SignedCheckpoint{Checkpoint: c, Note: []byte(text)}, nil
}

// errCheckpointSizeType reports a stored checkpoint whose size column holds a value that is
// not a whole number, which SQLite lets whoever holds the database write.
var errCheckpointSizeType = fmt.Errorf("%w: a stored checkpoint's size is not a whole number", ErrTampered)

// checkpointAt returns the stored checkpoint of the tree of size entries.
func (l *Log) checkpointAt(ctx context.Context, size uint64) (*SignedCheckpoint, error) {
	var text string
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT note FROM tlog_checkpoints WHERE log_id = ? AND size = ?"), l.id, int64(size)).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no checkpoint of size %d", ErrNotFound, size)
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: read checkpoint: %w", err)
	}
	c, err := l.openNote(text)
	if err != nil {
		return nil, err
	}
	if c.Size != size {
		return nil, checkpointError("size: stored under another size")
	}
	return &SignedCheckpoint{Checkpoint: c, Note: []byte(text)}, nil
}

// openNote verifies a stored checkpoint note with the log's own key, or only parses it when
// the log has no key.
func (l *Log) openNote(text string) (Checkpoint, error) {
	if l.verifier == nil {
		return parseUnverified(text)
	}
	l.notes.mu.Lock()
	if l.notes.text != "" && l.notes.text == text {
		cp := l.notes.cp
		l.notes.mu.Unlock()
		return cp, nil
	}
	l.notes.mu.Unlock()
	cp, err := l.verifier.OpenCheckpoint([]byte(text))
	if err != nil {
		return Checkpoint{}, err
	}
	l.notes.mu.Lock()
	l.notes.text, l.notes.cp = text, cp
	l.notes.mu.Unlock()
	return cp, nil
}

// parseUnverified reads the body of a signed note without checking its signature, for a
// log opened without a key; whoever relies on it verifies it with the published key.
func parseUnverified(text string) (Checkpoint, error) {
	i := strings.Index(text, "\n\n")
	if i < 0 {
		return Checkpoint{}, checkpointError("format: malformed signed note")
	}
	return parseCheckpointText(text[:i+1])
}

// ProveInclusion returns a proof that the entry at seq is in the tree of a stored signed
// checkpoint: the one of size size, or the latest when size is 0.
func (l *Log) ProveInclusion(ctx context.Context, seq, size uint64) (*InclusionProof, error) {
	cp, e, err := l.checkpointAndEntry(ctx, seq, size)
	if err != nil {
		return nil, err
	}
	p, err := xtlog.ProveRecord(int64(cp.Size), int64(seq), l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("evidence: prove inclusion: %w", err)
	}
	return &InclusionProof{Format: InclusionFormat, Leaf: e.Leaf, Hashes: fromHashes(p), Checkpoint: string(cp.Note)}, nil
}

// checkpointAndEntry reads the checkpoint a proof leads to and the entry it proves, in one
// query on the common path (the latest checkpoint), which a proof's latency is made of.
func (l *Log) checkpointAndEntry(ctx context.Context, seq, size uint64) (*SignedCheckpoint, *Entry, error) {
	if seq > maxSize {
		return nil, nil, fmt.Errorf("%w: entry %d", ErrNotFound, seq)
	}
	if size == 0 {
		st, err := l.stmts.get(ctx, l.db, latestWithEntry)
		if err != nil {
			return nil, nil, fmt.Errorf("evidence: read checkpoint: %w", err)
		}
		var sizeCol any
		var text string
		e, err := scanEntry(prefixScanner{st.QueryRowContext(ctx, int64(seq), l.id), []any{&sizeCol, &text}})
		if err == nil && e.badColumn != "" {
			return nil, nil, fmt.Errorf("%w: entry %d: column %s holds a value of the wrong type", ErrTampered, seq, e.badColumn)
		}
		cpSize, ok := wholeNumber(sizeCol)
		if err == nil && !ok {
			return nil, nil, errCheckpointSizeType
		}
		if err == nil {
			c, err := l.openNote(text)
			if err != nil {
				return nil, nil, err
			}
			if c.Size != uint64(cpSize) {
				return nil, nil, checkpointError("size: stored under another size")
			}
			if seq >= c.Size {
				return nil, nil, fmt.Errorf("%w: entry %d is not in the tree of size %d", ErrInput, seq, c.Size)
			}
			return &SignedCheckpoint{Checkpoint: c, Note: []byte(text)}, e, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fmt.Errorf("evidence: read checkpoint: %w", err)
		}
		// No checkpoint, or no such entry: the slow path says which.
	}
	cp, err := l.checkpointFor(ctx, size)
	if err != nil {
		return nil, nil, err
	}
	if seq >= cp.Size {
		return nil, nil, fmt.Errorf("%w: entry %d is not in the tree of size %d", ErrInput, seq, cp.Size)
	}
	e, err := l.Get(ctx, seq)
	if err != nil {
		return nil, nil, err
	}
	return cp, e, nil
}

var latestWithEntry = "SELECT c.size, c.note, " + prefixed("e.", entryColumns) +
	" FROM tlog_checkpoints c JOIN tlog_entries e ON e.log_id = c.log_id AND e.seq = ?" +
	" WHERE c.log_id = ? ORDER BY c.size DESC LIMIT 1"

// prefixed qualifies each of a comma-separated list of columns with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = alias + parts[i]
	}
	return strings.Join(parts, ", ")
}

// prefixScanner scans leading columns into pre before handing the rest to the caller.
type prefixScanner struct {
	row interface{ Scan(...any) error }
	pre []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.row.Scan(append(append([]any(nil), p.pre...), dest...)...)
}

// ProveConsistency returns a proof that the tree of the stored checkpoint of size oldSize is
// a prefix of the tree of the one of size newSize (the latest when newSize is 0).
func (l *Log) ProveConsistency(ctx context.Context, oldSize, newSize uint64) (*ConsistencyProof, error) {
	newCP, err := l.checkpointFor(ctx, newSize)
	if err != nil {
		return nil, err
	}
	oldCP, err := l.checkpointAt(ctx, oldSize)
	if err != nil {
		return nil, err
	}
	if oldCP.Size > newCP.Size {
		return nil, fmt.Errorf("%w: old size %d is larger than new size %d", ErrInput, oldCP.Size, newCP.Size)
	}
	p := &ConsistencyProof{Format: ConsistencyFormat, Old: string(oldCP.Note), New: string(newCP.Note), Hashes: []Hash{}}
	if oldCP.Size == 0 || oldCP.Size == newCP.Size {
		return p, nil
	}
	tp, err := xtlog.ProveTree(int64(newCP.Size), int64(oldCP.Size), l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("evidence: prove consistency: %w", err)
	}
	p.Hashes = fromHashes(tp)
	return p, nil
}

func (l *Log) checkpointFor(ctx context.Context, size uint64) (*SignedCheckpoint, error) {
	if size == 0 {
		return l.LatestCheckpoint(ctx)
	}
	return l.checkpointAt(ctx, size)
}
