package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

func TestOpenRejectsUnknownDSN(t *testing.T) {
	for _, dsn := range []string{"", "sqlite://", "mysql://u:secret@h/db", "/tmp/x.db", "postgres:/x",
		"sqlite://x.db?journal_mode=off", "sqlite://x.db?cache_size=-1", "sqlite://x.db?mmap_size=big", "sqlite://?cache_size=1"} {
		_, err := store.Open(context.Background(), dsn)
		assert.ErrorIs(t, err, store.ErrDSN, dsn)
		if err != nil {
			assert.NotContains(t, err.Error(), "secret")
		}
	}
}

func TestOpenMemory(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, store.SQLite, db.Dialect())
	_, err = db.Exec("CREATE TABLE t (x INTEGER)")
	require.NoError(t, err)
	// A second query runs on the same in-memory database, not a fresh one.
	_, err = db.Exec("INSERT INTO t VALUES (1)")
	require.NoError(t, err)
}

func TestRebind(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, "SELECT ? FROM t", db.Rebind("SELECT ? FROM t"))
}

var migrations = []store.Migration{
	{Version: 1, Name: "create items", SQL: "CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"},
	{Version: 2, Name: "add kind", SQL: "ALTER TABLE items ADD COLUMN kind TEXT NOT NULL DEFAULT 'a'"},
}

func TestMigrate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		if db.Dialect() == store.Postgres {
			assert.Equal(t, "SELECT $1, '?', $2", db.Rebind("SELECT ?, '?', ?"))
		}
		require.NoError(t, db.Migrate(ctx, "test", migrations[:1]))
		require.NoError(t, db.Migrate(ctx, "test", migrations))
		require.NoError(t, db.Migrate(ctx, "test", migrations), "applying twice is a no-op")

		_, err := db.ExecContext(ctx, db.Rebind("INSERT INTO items (id, body, kind) VALUES (?, ?, ?)"), 1, "x", "b")
		require.NoError(t, err)

		err = db.Migrate(ctx, "test", migrations[:1])
		assert.ErrorIs(t, err, store.ErrMigration, "a database newer than the code is refused")

		renamed := append([]store.Migration(nil), migrations...)
		renamed[1].Name = "something else"
		assert.ErrorIs(t, db.Migrate(ctx, "test", renamed), store.ErrMigration)

		assert.ErrorIs(t, db.Migrate(ctx, "bad", []store.Migration{{Version: 2, Name: "x", SQL: "SELECT 1"}}), store.ErrMigration)
	})
}

func TestMigrateConcurrently(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := store.Open(ctx, dsn)
				if err != nil {
					errs[i] = err
					return
				}
				defer db.Close()
				errs[i] = db.Migrate(ctx, "concurrent", migrations)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			assert.NoError(t, err)
		}
	})
}

func TestSQLiteFileIsWAL(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "w.db"))
	require.NoError(t, err)
	defer db.Close()
	var mode string
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
}

func TestSQLiteTuning(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db")+"?cache_size=1024&mmap_size=1048576")
	require.NoError(t, err)
	defer db.Close()
	var cache, mmap int64
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache))
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&mmap))
	assert.Equal(t, int64(-1024), cache)
	assert.Equal(t, int64(1048576), mmap)
}

func TestSQLitePathIsLiteral(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"a#b.db", "%41.db", "q%3Fx.db", "sp ace.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			db, err := store.Open(ctx, "sqlite://"+path)
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)")
			require.NoError(t, err)
			require.NoError(t, db.Close())
			_, err = os.Stat(path)
			assert.NoError(t, err, "the file is named exactly as the DSN says")
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".db" {
			names = append(names, e.Name())
		}
	}
	assert.ElementsMatch(t, []string{"a#b.db", "%41.db", "q%3Fx.db", "sp ace.db"}, names, "no other file was created")
}

func TestSQLitePathWithDoubleSlash(t *testing.T) {
	ctx := context.Background()
	path := "/" + filepath.Join(t.TempDir(), "d.db") // "//tmp/...": not a host name
	db, err := store.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)")
	require.NoError(t, err)
	_, err = os.Stat(path)
	assert.NoError(t, err)
}

func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	for _, open := range []func(context.Context, string) (*store.DB, error){store.OpenExisting, store.OpenReadOnly} {
		_, err := open(ctx, "sqlite://"+missing)
		assert.ErrorIs(t, err, store.ErrNotExist)
		_, err = open(ctx, "sqlite://:memory:")
		assert.ErrorIs(t, err, store.ErrNotExist)
		_, err = os.Stat(missing)
		assert.True(t, os.IsNotExist(err), "nothing was created")
	}

	path := filepath.Join(dir, "ok.db")
	db, err := store.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db, err = store.OpenExisting(ctx, "sqlite://"+path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	assert.NoError(t, err, "OpenExisting writes")
	require.NoError(t, db.Close())
}

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	db, err := store.OpenReadOnly(ctx, "sqlite://"+empty)
	require.NoError(t, err)
	assert.True(t, db.ReadOnly())
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master").Scan(&n))
	assert.Zero(t, n)
	_, err = db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)")
	assert.Error(t, err, "a read-only database refuses writes")
	require.NoError(t, db.Close())
	fi, err := os.Stat(empty)
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "an empty file is not turned into a database")

	storetest.Run(t, func(t *testing.T, dsn string, rw *store.DB) {
		_, err := rw.ExecContext(ctx, "CREATE TABLE ro (x INTEGER)")
		require.NoError(t, err)
		db, err := store.OpenReadOnly(ctx, dsn)
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ro").Scan(&n))
		_, err = db.ExecContext(ctx, "INSERT INTO ro VALUES (1)")
		assert.Error(t, err)
	})
}

func TestInTx(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		_, err := db.ExecContext(ctx, "CREATE TABLE tx (x INTEGER)")
		require.NoError(t, err)
		count := func() int {
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM tx").Scan(&n))
			return n
		}
		insert := func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO tx VALUES (?)"), 1)
			return err
		}

		require.NoError(t, db.InTx(ctx, insert))
		assert.Equal(t, 1, count(), "committed")

		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			require.NoError(t, insert(tx))
			return boom
		})
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, 1, count(), "rolled back on error")

		assert.PanicsWithValue(t, "bug", func() {
			_ = db.InTx(ctx, func(tx *sql.Tx) error {
				require.NoError(t, insert(tx))
				panic("bug")
			})
		})
		assert.Equal(t, 1, count(), "rolled back on panic")
		// The connection went back to the pool in a usable state.
		require.NoError(t, db.InTx(ctx, insert))
		assert.Equal(t, 2, count())
	})
}

func TestInTxRetriesLostRaces(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		// A real lost race: a PostgreSQL serialization failure, or SQLite's busy error,
		// produced by the database itself.
		lost := lostRace(t, db)
		require.True(t, store.Retryable(lost), "%v", lost)

		runs := 0
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			runs++
			if runs < 3 {
				return fmt.Errorf("wrapped: %w", lost)
			}
			return nil
		})
		assert.NoError(t, err)
		assert.Equal(t, 3, runs)

		runs = 0
		err = db.InTx(ctx, func(tx *sql.Tx) error { runs++; return lost })
		assert.Error(t, err)
		assert.Equal(t, 5, runs, "gives up after a few attempts")

		runs = 0
		err = db.InTx(ctx, func(tx *sql.Tx) error { runs++; return errors.New("not a race") })
		assert.Error(t, err)
		assert.Equal(t, 1, runs, "other errors are not retried")
	})
}

// lostRace makes the database report a transaction that lost a race with another one.
func lostRace(t *testing.T, db *store.DB) error {
	t.Helper()
	ctx := context.Background()
	if db.Dialect() == store.Postgres {
		_, err := db.ExecContext(ctx, "CREATE TABLE race (id INTEGER PRIMARY KEY, v INTEGER)")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "INSERT INTO race VALUES (1, 0)")
		require.NoError(t, err)
		a, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
		require.NoError(t, err)
		defer a.Rollback()
		var v int
		require.NoError(t, a.QueryRowContext(ctx, "SELECT v FROM race WHERE id = 1").Scan(&v))
		_, err = db.ExecContext(ctx, "UPDATE race SET v = 1 WHERE id = 1")
		require.NoError(t, err)
		_, err = a.ExecContext(ctx, "UPDATE race SET v = 2 WHERE id = 1")
		require.Error(t, err)
		return err
	}
	// SQLite: a second connection that may not wait for the writer holding the lock.
	holder, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer holder.Rollback()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "PRAGMA busy_timeout = 0")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.Error(t, err)
	return err
}

func TestMigrateReadOnlyChecksWithoutWriting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		ro, err := store.OpenReadOnly(ctx, dsn)
		require.NoError(t, err)
		defer ro.Close()
		assert.ErrorIs(t, ro.Migrate(ctx, "ro", migrations), store.ErrMigration, "nothing migrated yet")
		require.NoError(t, db.Migrate(ctx, "ro", migrations[:1]))
		assert.ErrorIs(t, ro.Migrate(ctx, "ro", migrations), store.ErrMigration, "behind the code")
		require.NoError(t, db.Migrate(ctx, "ro", migrations))
		assert.NoError(t, ro.Migrate(ctx, "ro", migrations))
		renamed := append([]store.Migration(nil), migrations...)
		renamed[1].Name = "something else"
		assert.ErrorIs(t, ro.Migrate(ctx, "ro", renamed), store.ErrMigration)
	})
}
