// Command agency-register shows what an agency does with its own register of access to
// people's data: each time an official opens a person's file, the agency writes a row in its
// own table and the evidence of it in a tamper-evident log, in one transaction, so that
// neither exists without the other. A transaction that fails after both writes leaves
// neither behind.
//
// It is a module of its own and uses only dpi's public packages, store and evidence:
//
//	cd examples/agency-register && go run .
//	go run . -db sqlite://register.db
//	go run . -db 'postgres://user:password@localhost:5432/agency'
//
// Without -db it creates register.db in a new temporary directory and prints its path. Each
// run makes a new signing key, and a log refuses a key other than its first
// (evidence.ErrOtherKey), so give every run a new database. The program exits 1, saying
// why, if the register or the log is not as the two transactions should have left them.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// origin names the agency's log: in its checkpoints, its verifier key and the database.
const origin = "agency.example/access-register"

// migrations is the agency's own schema, next to the log's tables in the same database.
var migrations = []store.Migration{{
	Version: 1,
	Name:    "create access_register",
	SQL: `CREATE TABLE access_register (
		id       TEXT PRIMARY KEY,
		official TEXT NOT NULL,
		subject  TEXT NOT NULL,
		purpose  TEXT NOT NULL
	)`,
}}

// access is one row of the register: an official opened a person's file for a purpose.
type access struct {
	ID       string `json:"id"` // the row's ID, also the log entry's reference
	Official string `json:"official"`
	Subject  string `json:"subject"` // the person's number: personal data
	Purpose  string `json:"purpose"`
}

// errNotAuthorised is what makes the second transaction fail after it wrote its row and its
// evidence.
var errNotAuthorised = errors.New("the official's authorisation could not be confirmed")

func main() {
	dsn := flag.String("db", "", "database: sqlite://PATH or postgres://... (default: register.db in a new temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *dsn, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "agency-register:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dsn string, out io.Writer) error {
	if dsn == "" {
		dir, err := os.MkdirTemp("", "agency-register-")
		if err != nil {
			return err
		}
		dsn = "sqlite://" + filepath.Join(dir, "register.db")
		fmt.Fprintln(out, "database:", dsn)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, "agency-register", migrations); err != nil {
		return err
	}

	// A key made for the demo. In production the signer is a crypto.Signer whose private key
	// stays in an HSM or a KMS; only the public key is published, to auditors.
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	log, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Signer: key})
	if errors.Is(err, evidence.ErrOtherKey) {
		return fmt.Errorf("%w (this demo makes a new key on every run: give it a new database)", err)
	}
	if err != nil {
		return err
	}

	kept := access{ID: newID(), Official: "official-17", Subject: "PN-0042", Purpose: "benefit-claim"}
	rc, err := record(ctx, db, log, kept, nil)
	if err != nil {
		return fmt.Errorf("record access %s: %w", kept.ID, err)
	}
	fmt.Fprintf(out, "committed: access %s, row and evidence entry %d\n", kept.ID, rc.Seq)

	dropped := access{ID: newID(), Official: "official-99", Subject: "PN-0042", Purpose: "curiosity"}
	if _, err := record(ctx, db, log, dropped, errNotAuthorised); !errors.Is(err, errNotAuthorised) {
		return fmt.Errorf("the failing transaction returned %v, want %q", err, errNotAuthorised)
	}
	fmt.Fprintf(out, "rolled back: access %s: %v\n", dropped.ID, errNotAuthorised)

	// What the register holds, and the evidence of each row, found by its reference.
	rows, err := register(ctx, db)
	if err != nil {
		return err
	}
	if len(rows) != 1 || rows[0].ID != kept.ID {
		return fmt.Errorf("the register holds %d rows, want only access %s", len(rows), kept.ID)
	}
	fmt.Fprintf(out, "register: %d row\n", len(rows))
	for _, a := range rows {
		found, err := scan(ctx, log, a.ID)
		if err != nil {
			return err
		}
		if len(found) != 1 {
			return fmt.Errorf("access %s has %d evidence entries, want 1", a.ID, len(found))
		}
		e := found[0]
		fmt.Fprintf(out, "  %s: %s opened %s's file for %s; evidence entry %d, %s, %s\n",
			a.ID, a.Official, a.Subject, a.Purpose, e.Seq, e.Kind, e.Time.UTC().Format("2006-01-02T15:04:05Z"))
	}

	// Sign a checkpoint (the note auditors keep), then verify the whole log as an auditor
	// would, with a verifier built from the published public key.
	cp, err := log.Checkpoint(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "checkpoint: size %d, root %s\n", cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:]))
	v, err := evidence.NewVerifier(origin, pub)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "verifier key:", v.Key())
	report, err := log.Verify(ctx, v, cp.Note)
	if err != nil {
		return err
	}
	if report.Size != 1 || report.Unanchored != 0 {
		return fmt.Errorf("verify checked %d entries, %d unanchored; want 1, all anchored", report.Size, report.Unanchored)
	}
	fmt.Fprintf(out, "verify: INTACT, %d entry, signed by checkpoint of size %d\n", report.Size, report.Latest.Size)

	// The rolled-back access left nothing behind: no row, no entry, and the log did not grow.
	var n int
	err = db.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM access_register WHERE id = ?"), dropped.ID).Scan(&n)
	if err != nil {
		return err
	}
	found, err := scan(ctx, log, dropped.ID)
	if err != nil {
		return err
	}
	size, err := log.Size(ctx)
	if err != nil {
		return err
	}
	if n != 0 || len(found) != 0 || size != 1 {
		return fmt.Errorf("rolled-back access %s left %d rows and %d entries (log size %d)", dropped.ID, n, len(found), size)
	}
	fmt.Fprintf(out, "rolled-back access %s: no row, no evidence entry\n", dropped.ID)
	return nil
}

// record writes the row of a and its evidence in one transaction. thenErr, when not nil, is
// what a later step of the same transaction returns, and rolls both back. InTx runs the
// function again when the transaction lost a race (store.Retryable), so it does nothing
// outside tx.
func record(ctx context.Context, db *store.DB, log *evidence.Log, a access, thenErr error) (evidence.Receipt, error) {
	var rc evidence.Receipt
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO access_register (id, official, subject, purpose) VALUES (?, ?, ?, ?)"),
			a.ID, a.Official, a.Subject, a.Purpose)
		if err != nil {
			return err
		}
		meta, _ := json.Marshal(map[string]string{"purpose": a.Purpose}) // kept as long as the log
		payload, _ := json.Marshal(a)                                    // personal: erasable
		rc, err = log.AppendTx(ctx, tx, evidence.Record{Kind: "file.opened", Ref: a.ID, Meta: meta, Payload: payload})
		if err != nil {
			return err
		}
		return thenErr
	})
	return rc, err
}

// register returns the rows of the register.
func register(ctx context.Context, db *store.DB) ([]access, error) {
	rows, err := db.QueryContext(ctx, "SELECT id, official, subject, purpose FROM access_register ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []access
	for rows.Next() {
		var a access
		if err := rows.Scan(&a.ID, &a.Official, &a.Subject, &a.Purpose); err != nil {
			return nil, err
		}
		all = append(all, a)
	}
	return all, rows.Err()
}

// scan returns the log entries appended under ref.
func scan(ctx context.Context, log *evidence.Log, ref string) ([]*evidence.Entry, error) {
	var found []*evidence.Entry
	for e, err := range log.Scan(ctx, evidence.Filter{Ref: ref}) {
		if err != nil {
			return nil, err
		}
		found = append(found, e)
	}
	return found, nil
}

// newID returns a random row ID. It is not personal data, so it can be the log entry's
// reference.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "acc-" + hex.EncodeToString(b)
}
