package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// Sentinel errors. Their messages, and those of the errors that wrap them, never repeat the
// DSN, which may hold a password.
var (
	// ErrDSN reports a DSN that is empty or has an unsupported form.
	ErrDSN = errors.New("store: unsupported DSN (want sqlite://PATH, sqlite://:memory: or postgres://...)")
	// ErrNotExist reports a database that OpenExisting or OpenReadOnly would have had to
	// create: a missing SQLite file, or an in-memory database, which is always new.
	ErrNotExist = errors.New("store: no such database")
)

// DB is an open database and its dialect. It is safe for concurrent use. The embedded
// *sql.DB is there for a block's own queries and for the transactions a caller opens
// itself (evidence.Log.AppendTx appends inside one).
type DB struct {
	*sql.DB
	dialect  Dialect
	readOnly bool
}

// Dialect returns the SQL dialect of the database.
func (db *DB) Dialect() Dialect { return db.dialect }

// ReadOnly reports whether the database was opened with OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.readOnly }

// busyTimeout is how long an SQLite connection waits for another writer before giving up.
const busyTimeout = 10 * time.Second

// openMode says what opening may do to the database.
type openMode int

const (
	createMissing openMode = iota // create an SQLite file that is not there
	mustExist                     // read and write, but never create
	readOnly                      // read only, never create, never write
)

// Open opens the database named by dsn and checks that it answers. An SQLite file that does
// not exist is created.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, createMissing)
}

// OpenExisting opens the database named by dsn for reading and writing, like Open, but fails
// with ErrNotExist instead of creating it: for commands that add to something already set up.
func OpenExisting(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, mustExist)
}

// OpenReadOnly opens an existing database for reading only: nothing is created or written,
// not even an SQLite file's journal mode, so checking a file that is not a database leaves it
// as it was. It fails with ErrNotExist for a missing SQLite file or an in-memory database.
// On PostgreSQL every transaction is read-only (default_transaction_read_only); an auditor
// should also use a database account that can only read.
func OpenReadOnly(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, readOnly)
}

func open(ctx context.Context, dsn string, mode openMode) (*DB, error) {
	var db *DB
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path, tuning, err := parseSQLite(strings.TrimPrefix(dsn, "sqlite://"))
		if err != nil {
			return nil, err
		}
		if mode != createMissing {
			if path == ":memory:" {
				return nil, fmt.Errorf("%w: sqlite://:memory: is always a new, empty database", ErrNotExist)
			}
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("%w: no SQLite file at %s", ErrNotExist, path)
			}
		}
		db, err = openSQLite(path, tuning, mode == readOnly)
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if mode == readOnly {
			dsn = withQueryParam(dsn, "default_transaction_read_only", "on")
		}
		sdb, err := sql.Open("pgx", dsn)
		if err != nil {
			// pgx's parse errors may quote the DSN, password included.
			return nil, fmt.Errorf("%w: the postgres DSN does not parse", ErrDSN)
		}
		db = &DB{DB: sdb, dialect: Postgres, readOnly: mode == readOnly}
	default:
		return nil, ErrDSN
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", db.dialect, scrub(err))
	}
	return db, nil
}

// scrub drops the error of a failed PostgreSQL connection down to its message class: pgx's
// connect errors name the host and user, and some wrap the parsed configuration.
func scrub(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("server said %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err
}

// withQueryParam adds key=value to a URL-form DSN's query.
func withQueryParam(dsn, key, value string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + key + "=" + value
}

// sqliteTuning holds the tuning parameters of an SQLite DSN.
type sqliteTuning struct {
	cacheKiB int64
	mmap     int64
}

// parseSQLite splits what follows sqlite:// into the path and the tuning parameters. The
// path is taken literally up to the first '?': no percent-decoding, and '#' is part of the
// name.
func parseSQLite(rest string) (string, sqliteTuning, error) {
	t := sqliteTuning{cacheKiB: 64 << 10}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" || strings.IndexByte(path, 0) >= 0 {
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

// sqliteURI turns a literal file path into the path part of an SQLite URI filename, which
// SQLite percent-decodes and cuts at '?' and '#'. An absolute path gets an empty authority
// ("file:///…") so that a path beginning with "//" is not read as a host name.
func sqliteURI(path string) string {
	if path == ":memory:" {
		return "file::memory:"
	}
	var b strings.Builder
	b.WriteString("file:")
	if strings.HasPrefix(path, "/") {
		b.WriteString("//")
	}
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func openSQLite(path string, t sqliteTuning, ro bool) (*DB, error) {
	pragmas := []string{
		"busy_timeout(" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + ")",
		"foreign_keys(1)",
		// A negative cache_size is in KiB rather than pages.
		"cache_size(-" + strconv.FormatInt(t.cacheKiB, 10) + ")",
		"mmap_size(" + strconv.FormatInt(t.mmap, 10) + ")",
	}
	memory := path == ":memory:"
	if !memory && !ro {
		// WAL lets readers go on while one writer appends; synchronous=FULL makes a committed
		// record survive power loss, which evidence logs promise.
		pragmas = append(pragmas, "journal_mode(WAL)", "synchronous(FULL)")
	}
	var q strings.Builder
	q.WriteString(sqliteURI(path))
	if ro {
		// mode=ro: SQLite neither creates the file nor writes to it.
		q.WriteString("?mode=ro&_txlock=deferred")
	} else {
		// _txlock=immediate takes the write lock when a transaction begins, so two writers
		// queue on busy_timeout instead of failing when a reader upgrades to a writer.
		q.WriteString("?_txlock=immediate")
	}
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
	return &DB{DB: sdb, dialect: SQLite, readOnly: ro}, nil
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

// maxAttempts bounds how often InTx runs a transaction that lost a race.
const maxAttempts = 5

// InTx runs fn in a transaction, committing when fn returns nil and rolling back when it
// returns an error or panics (the panic then goes on). When the transaction loses a race
// that running it again can win (SQLite still busy after its busy timeout, a PostgreSQL
// serialization failure or deadlock), InTx rolls back and runs fn again, up to a few times:
// fn must therefore do nothing outside tx that it cannot repeat.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.inTxOnce(ctx, fn)
		if err == nil || attempt == maxAttempts || !Retryable(err) {
			return err
		}
		// Back off a little, at random, so that the transactions that collided do not
		// collide again.
		wait := time.Duration(rand.Int64N(int64(attempt) * int64(20*time.Millisecond)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Retryable reports whether err is a transaction that lost a race with another one and may
// succeed if run again: SQLite busy or locked, a PostgreSQL serialization failure (40001) or
// deadlock (40P01). A caller who opens its own transactions (to append evidence inside
// them, say) retries on it as InTx does.
func Retryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}
