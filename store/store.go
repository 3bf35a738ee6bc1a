// Package storage opens the database that dpi's stores keep their records in, from one DSN
// form shared by the library and every --db flag of the dpi command:
//
//	sqlite://PATH          an SQLite file (modernc.org/sqlite, pure Go), in WAL mode
//	sqlite://:memory:      an SQLite database in memory, gone when closed
//	postgres://…           PostgreSQL through pgx (postgresql:// works too)
//
// An SQLite DSN may end with tuning parameters, each a whole number:
//
//	?cache_size=KIB        page cache per connection, in KiB (default 65536, 64 MiB; pages
//	                       are cached only as they are read)
//	&mmap_size=BYTES       read the file through a memory map of up to BYTES (default 0, off).
//	                       Faster reads of a large log; an I/O error on a mapped page then
//	                       stops the process instead of returning an error.
//
// SQLite is the embedded default for one service process; PostgreSQL lets many service
// instances share one database. Each store declares its schema as versioned migrations and
// applies them with [DB.Migrate], which is safe to call from many processes at once.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names the SQL dialect of an open database.
type Dialect int

// The dialects dpi speaks.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// String returns the dialect's name as it appears in DSNs.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// ErrDSN reports a DSN that is empty or has an unsupported form. Its message never repeats
// the DSN, which may hold a password.
var ErrDSN = errors.New("store: unsupported DSN (want sqlite://PATH, sqlite://:memory: or postgres://...)")

// DB is an open database and its dialect. It is safe for concurrent use.
type DB struct {
	*sql.DB
	dialect Dialect
}

// Dialect returns the SQL dialect of the database.
func (db *DB) Dialect() Dialect { return db.dialect }

// busyTimeout is how long an SQLite connection waits for another writer before giving up.
const busyTimeout = 10 * time.Second

// Open opens the database named by dsn and checks that it answers.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path, tuning, err := parseSQLite(strings.TrimPrefix(dsn, "sqlite://"))
		if err != nil {
			return nil, err
		}
		db, err = openSQLite(path, tuning)
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		sdb, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db = &DB{DB: sdb, dialect: Postgres}
	default:
		return nil, ErrDSN
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", db.dialect, err)
	}
	return db, nil
}

// sqliteTuning holds the tuning parameters of an SQLite DSN.
type sqliteTuning struct {
	cacheKiB int64
	mmap     int64
}

// parseSQLite splits what follows sqlite:// into the path and the tuning parameters.
func parseSQLite(rest string) (string, sqliteTuning, error) {
	t := sqliteTuning{cacheKiB: 64 << 10}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", t, ErrDSN
	}
	if query == "" {
		return path, t, nil
	}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return "", t, fmt.Errorf("%w: %s wants a whole number", ErrDSN, k)
		}
		switch k {
		case "cache_size":
			t.cacheKiB = n
		case "mmap_size":
			t.mmap = n
		default:
			return "", t, fmt.Errorf("%w: unknown SQLite parameter %q", ErrDSN, k)
		}
	}
	return path, t, nil
}

func openSQLite(path string, t sqliteTuning) (*DB, error) {
	pragmas := []string{
		"busy_timeout(" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + ")",
		"foreign_keys(1)",
		// A negative cache_size is in KiB rather than pages.
		"cache_size(-" + strconv.FormatInt(t.cacheKiB, 10) + ")",
		"mmap_size(" + strconv.FormatInt(t.mmap, 10) + ")",
	}
	memory := path == ":memory:"
	if !memory {
		// WAL lets readers go on while one writer appends; synchronous=FULL makes a committed
		// record survive power loss, which evidence logs promise.
		pragmas = append(pragmas, "journal_mode(WAL)", "synchronous(FULL)")
	}
	var q strings.Builder
	q.WriteString("file:")
	q.WriteString(path)
	// _txlock=immediate takes the write lock when a transaction begins, so two writers
	// queue on busy_timeout instead of failing when a reader upgrades to a writer.
	q.WriteString("?_txlock=immediate")
	for _, p := range pragmas {
		q.WriteString("&_pragma=")
		q.WriteString(p)
	}
	sdb, err := sql.Open("sqlite", q.String())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if memory {
		// Every connection to :memory: is a database of its own: keep exactly one.
		sdb.SetMaxOpenConns(1)
	}
	return &DB{DB: sdb, dialect: SQLite}, nil
}

// Rebind rewrites a query written with ? placeholders into the dialect's form ($1, $2, …
// for PostgreSQL). Question marks inside quoted literals are left alone.
func (db *DB) Rebind(query string) string {
	if db.dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
