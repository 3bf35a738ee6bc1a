// Package storetest runs one test against every database dpi supports: an SQLite file in a
// temporary directory always, and PostgreSQL whenever DPI_TEST_POSTGRES_URL is set, each
// PostgreSQL test in a fresh schema of its own that is dropped afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/store"
)

// Run calls fn in a subtest for each available database: "sqlite" and, when configured,
// "postgres".
func Run(t *testing.T, fn func(t *testing.T, dsn string, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		dsn := "sqlite://" + filepath.Join(t.TempDir(), "dpi.db")
		db, err := store.Open(context.Background(), dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		fn(t, dsn, db)
	})
	t.Run("postgres", func(t *testing.T) {
		base := testenv.PostgresURL(t)
		if base == "" {
			t.Skip("skipping: DPI_TEST_POSTGRES_URL is unset")
		}
		dsn := FreshSchema(t, base)
		db, err := store.Open(context.Background(), dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		fn(t, dsn, db)
	})
}

// FreshSchema creates a schema with a random name on the PostgreSQL server at base, drops it
// when the test ends, and returns a DSN whose connections use it.
func FreshSchema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, base)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "dpi_test_" + hex.EncodeToString(b[:])
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
