package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// Migration is one versioned step of a store's schema. Versions start at 1 and increase by
// one; an applied migration is never edited, only followed by a new one.
type Migration struct {
	Version int    // 1 for the first migration, then one more for each
	Name    string // what the step does; recorded, and checked on every later Migrate
	// SQL runs on both dialects. Where the dialects differ, set SQLite and Postgres instead.
	SQL      string
	SQLite   string // the statement for SQLite, when it differs from SQL
	Postgres string // the statement for PostgreSQL, when it differs from SQL
}

// ErrMigration reports a list of migrations that is malformed, or a database whose recorded
// schema is newer than, or different from, what this code knows.
var ErrMigration = errors.New("store: migration")

func (m Migration) statement(d Dialect) string {
	switch {
	case d == SQLite && m.SQLite != "":
		return m.SQLite
	case d == Postgres && m.Postgres != "":
		return m.Postgres
	}
	return m.SQL
}

const createMigrations = `CREATE TABLE IF NOT EXISTS dpi_migrations (
	component  TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	applied_at TEXT    NOT NULL,
	PRIMARY KEY (component, version)
)`

// Migrate brings component's schema up to the last of migrations. Each migration runs in a
// transaction of its own together with its bookkeeping row, so a crash leaves the schema at
// a version boundary. On PostgreSQL a transaction-scoped advisory lock serialises processes
// that migrate at the same time; on SQLite the immediate write lock does. On a database
// opened with OpenReadOnly it changes nothing: it checks that the schema is exactly the
// one migrations make, and fails with ErrMigration otherwise.
func (db *DB) Migrate(ctx context.Context, component string, migrations []Migration) error {
	for i, m := range migrations {
		if m.Version != i+1 || m.statement(db.dialect) == "" {
			return fmt.Errorf("%w: %s: migration %d is out of order or empty", ErrMigration, component, i+1)
		}
	}
	if db.readOnly {
		return db.checkMigrated(ctx, component, migrations)
	}
	// PostgreSQL's CREATE TABLE IF NOT EXISTS races with itself across sessions, so it runs
	// under the same lock as the migrations.
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockMigrations(ctx, tx, ""); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, createMigrations)
		return err
	})
	if err != nil {
		return fmt.Errorf("%w: %s: create bookkeeping table: %v", ErrMigration, component, err)
	}
	for _, m := range migrations {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := db.lockMigrations(ctx, tx, component); err != nil {
				return err
			}
			var name string
			err := tx.QueryRowContext(ctx, db.Rebind("SELECT name FROM dpi_migrations WHERE component = ? AND version = ?"), component, m.Version).Scan(&name)
			switch {
			case err == nil:
				if name != m.Name {
					return fmt.Errorf("%w: %s: version %d is %q in the database but %q in code", ErrMigration, component, m.Version, name, m.Name)
				}
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if _, err := tx.ExecContext(ctx, m.statement(db.dialect)); err != nil {
				return fmt.Errorf("%w: %s: apply %d %s: %v", ErrMigration, component, m.Version, m.Name, err)
			}
			_, err = tx.ExecContext(ctx, db.Rebind("INSERT INTO dpi_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)"),
				component, m.Version, m.Name, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return err
		}
	}
	var newest int
	err = db.QueryRowContext(ctx, db.Rebind("SELECT COALESCE(MAX(version), 0) FROM dpi_migrations WHERE component = ?"), component).Scan(&newest)
	if err != nil {
		return err
	}
	if newest > len(migrations) {
		return fmt.Errorf("%w: %s: the database is at version %d, newer than this code (%d)", ErrMigration, component, newest, len(migrations))
	}
	return nil
}

// lockMigrations takes a PostgreSQL advisory lock, released at the end of tx, that
// serialises processes migrating the same component.
func (db *DB) lockMigrations(ctx context.Context, tx *sql.Tx, component string) error {
	if db.dialect != Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte("dpi_migrations/" + component))
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64()))
	return err
}

// checkMigrated checks, without writing, that component's recorded migrations are exactly
// migrations.
func (db *DB) checkMigrated(ctx context.Context, component string, migrations []Migration) error {
	rows, err := db.QueryContext(ctx, db.Rebind("SELECT version, name FROM dpi_migrations WHERE component = ? ORDER BY version"), component)
	if err != nil {
		return fmt.Errorf("%w: %s: the database has no schema of this component (it is opened read-only)", ErrMigration, component)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var version int
		var name string
		if err := rows.Scan(&version, &name); err != nil {
			return err
		}
		if version != n+1 || version > len(migrations) || migrations[n].Name != name {
			return fmt.Errorf("%w: %s: version %d in the database is not this code's", ErrMigration, component, version)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(migrations) {
		return fmt.Errorf("%w: %s: the database is at version %d, this code at %d (it is opened read-only)", ErrMigration, component, n, len(migrations))
	}
	return nil
}
