package evidence

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// dbReader reads stored tree hashes from the database, in one query per call.
type dbReader struct {
	ctx   context.Context
	db    *store.DB
	q     querier
	logID int64
	// stmts, when set, serves the query as a prepared statement, and cache serves and keeps
	// the upper levels of the tree (outside transactions only: what they hold is committed).
	stmts *stmtCache
	cache *hashCache
}

// hashCache keeps stored hashes of the upper tree levels in memory. A stored hash never
// changes once committed, and every proof at any size reads about log2(n)-cacheLevel hashes
// from the database instead of log2(n). It stops growing at maxCached hashes (a few MiB),
// enough for the upper levels of a tree of tens of millions of entries.
type hashCache struct {
	mu sync.RWMutex
	m  map[int64]xtlog.Hash
}

const (
	cacheLevel = 8
	maxCached  = 1 << 17
)

func (c *hashCache) lookup(indexes []int64, out []xtlog.Hash) (missing []int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, x := range indexes {
		if h, ok := c.m[x]; ok {
			out[i] = h
		} else {
			missing = append(missing, x)
		}
	}
	return missing
}

func (c *hashCache) keep(indexes []int64, hashes []xtlog.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[int64]xtlog.Hash)
	}
	for i, x := range indexes {
		if len(c.m) >= maxCached {
			return
		}
		if level, _ := xtlog.SplitStoredHashIndex(x); level >= cacheLevel {
			c.m[x] = hashes[i]
		}
	}
}

// stmtCache holds prepared statements for the queries a log runs most: the proofs' hash
// reads (one per number of hashes, at most limits.MaxEvidenceProofHashes of them) and entry and
// checkpoint lookups. Parsing the SQL again on every proof costs more than running it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, db *store.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s, nil
	}
	s, err := db.PrepareContext(ctx, db.Rebind(query))
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = s
	return s, nil
}

var _ xtlog.HashReader = (*dbReader)(nil)

func (r *dbReader) ReadHashes(indexes []int64) ([]xtlog.Hash, error) {
	if r.cache == nil {
		return r.read(indexes)
	}
	out := make([]xtlog.Hash, len(indexes))
	missing := r.cache.lookup(indexes, out)
	if len(missing) == 0 {
		return out, nil
	}
	got, err := r.read(missing)
	if err != nil {
		return nil, err
	}
	r.cache.keep(missing, got)
	j := 0
	for i, x := range indexes {
		if j < len(missing) && missing[j] == x {
			out[i] = got[j]
			j++
		}
	}
	return out, nil
}

func (r *dbReader) read(indexes []int64) ([]xtlog.Hash, error) {
	got, err := r.readSome(indexes)
	if err != nil {
		return nil, err
	}
	out := make([]xtlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := got[x]
		if !ok {
			return nil, fmt.Errorf("stored hash %d is missing", x)
		}
		out[i] = h
	}
	return out, nil
}

// readSome reads the stored hashes at indexes, in one query, and returns those it found.
func (r *dbReader) readSome(indexes []int64) (map[int64]xtlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("SELECT idx, hash FROM tlog_hashes WHERE log_id = ? AND idx IN (")
	args := make([]any, 0, len(indexes)+1)
	args = append(args, r.logID)
	for i, x := range indexes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
		args = append(args, x)
	}
	b.WriteByte(')')
	var rows *sql.Rows
	var err error
	if r.stmts != nil && len(indexes) <= 2*limits.MaxEvidenceProofHashes {
		var st *sql.Stmt
		if st, err = r.stmts.get(r.ctx, r.db, b.String()); err == nil {
			rows, err = st.QueryContext(r.ctx, args...)
		}
	} else {
		rows, err = r.q.QueryContext(r.ctx, r.db.Rebind(b.String()), args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := make(map[int64]xtlog.Hash, len(indexes))
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, err
		}
		if len(h) != HashSize {
			return nil, fmt.Errorf("stored hash %d is %d bytes", idx, len(h))
		}
		got[idx] = xtlog.Hash(h)
	}
	return got, rows.Err()
}

// batchReader serves the hashes of an append batch from memory and the rest from the
// transaction that appends it.
type batchReader struct {
	ctx   context.Context
	db    *store.DB
	q     querier
	logID int64
	mem   map[int64]xtlog.Hash
}

func (r *batchReader) ReadHashes(indexes []int64) ([]xtlog.Hash, error) {
	out := make([]xtlog.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		if h, ok := r.mem[x]; ok {
			out[i] = h
		} else {
			missing = append(missing, x)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := (&dbReader{ctx: r.ctx, db: r.db, q: r.q, logID: r.logID}).ReadHashes(missing)
	if err != nil {
		return nil, err
	}
	for i, x := range missing {
		r.mem[x] = got[i]
	}
	for i, x := range indexes {
		out[i] = r.mem[x]
	}
	return out, nil
}

// inserter batches rows into multi-row INSERT statements, which both SQLite and PostgreSQL
// run far faster than one statement per row.
type inserter struct {
	db      *store.DB
	table   string
	columns []string
	cols    int
	perStmt int
	args    []any
	stmt    string // the full-size statement, built once
}

// maxParams stays under SQLite's default limit of 32766 bound parameters.
const maxParams = 30000

func newInserter(db *store.DB, table string, cols []string) *inserter {
	perStmt := 500
	if perStmt*len(cols) > maxParams {
		perStmt = maxParams / len(cols)
	}
	return &inserter{db: db, table: table, columns: cols, cols: len(cols), perStmt: perStmt}
}

func (in *inserter) add(ctx context.Context, q querier, vals ...any) error {
	in.args = append(in.args, vals...)
	if len(in.args) >= in.perStmt*in.cols {
		return in.flush(ctx, q)
	}
	return nil
}

func (in *inserter) flush(ctx context.Context, q querier) error {
	if len(in.args) == 0 {
		return nil
	}
	n := len(in.args) / in.cols
	var query string
	if n == in.perStmt && in.stmt != "" {
		query = in.stmt
	} else {
		query = in.build(n)
		if n == in.perStmt {
			in.stmt = query
		}
	}
	if _, err := q.ExecContext(ctx, query, in.args...); err != nil {
		return err
	}
	in.args = in.args[:0]
	return nil
}

func (in *inserter) build(n int) string {
	var b strings.Builder
	writeInsert(&b, in.table, in.columns, n)
	return in.db.Rebind(b.String())
}

// writeInsert writes a multi-row INSERT of n rows into table, with ? placeholders.
func writeInsert(b *strings.Builder, table string, cols []string, n int) {
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	row := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
}
