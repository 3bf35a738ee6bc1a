package store_test

import (
	"context"
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
