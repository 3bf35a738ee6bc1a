package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

const testLogOrigin = "agency.example/cli-log"

type logFixture struct {
	dsn, pem, vkey, otherPEM string
	db                       *store.DB
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	return newLogFixtureDSN(t, "sqlite://"+filepath.Join(t.TempDir(), "log.db"))
}

func newLogFixtureDSN(t *testing.T, dsn string) *logFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &logFixture{dsn: dsn}
	db, err := store.Open(ctx, f.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	f.db = db
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: testLogOrigin, Signer: priv})
	require.NoError(t, err)
	for i := range 12 {
		_, err := l.Append(ctx, evidence.Record{Kind: "cli.test", Meta: fmt.Appendf(nil, `{"i":%d}`, i), Payload: []byte("person")})
		require.NoError(t, err)
		if i == 5 {
			_, err = l.Checkpoint(ctx)
			require.NoError(t, err)
		}
	}
	_, err = l.Checkpoint(ctx)
	require.NoError(t, err)

	writePEM := func(name string, pub ed25519.PublicKey) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
		return p
	}
	f.pem = writePEM("pub.pem", pub)
	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	f.otherPEM = writePEM("other.pem", other)
	v, err := evidence.NewVerifier(testLogOrigin, pub)
	require.NoError(t, err)
	f.vkey = filepath.Join(dir, "pub.vkey")
	require.NoError(t, os.WriteFile(f.vkey, []byte(v.Key()+"\n"), 0o600))
	return f
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestLogVerifyCLI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		testLogVerifyCLI(t, newLogFixtureDSN(t, dsn))
	})
}

func testLogVerifyCLI(t *testing.T, f *logFixture) {
	for _, key := range []string{f.pem, f.vkey} {
		code, out, errs := runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", key)
		require.Equal(t, exitOK, code, errs)
		assert.Contains(t, out, "INTACT")
		assert.Contains(t, out, "12 entries")
	}
	code, out, _ := runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.pem, "--log", testLogOrigin, "--json")
	require.Equal(t, exitOK, code)
	var res logVerifyResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.True(t, res.Intact)
	assert.Equal(t, uint64(12), res.Report.Size)

	// A checkpoint the auditor kept, then a truncation behind it.
	code, out, _ = runCLI(t, "log", "proof", "--db", f.dsn, "--seq", "0", "--json")
	require.Equal(t, exitOK, code)
	var p evidence.InclusionProof
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	keptPath := filepath.Join(t.TempDir(), "kept.note")
	require.NoError(t, os.WriteFile(keptPath, []byte(p.Checkpoint), 0o600))
	code, _, errs := runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey, "--checkpoint", keptPath)
	require.Equal(t, exitOK, code, errs)
	code, _, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey, "--checkpoint", keptPath+".missing")
	assert.Equal(t, exitUsage, code)

	// Another key: every stored checkpoint fails its signature check.
	code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.otherPEM)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, out, "the checkpoints are not signed by this key")

	_, err := f.db.ExecContext(context.Background(), "UPDATE tlog_entries SET meta = '{\"i\":99}' WHERE seq = 3")
	require.NoError(t, err)
	code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, out, "TAMPERED")
	assert.Contains(t, out, "entry 3: edited")
	code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey, "--json")
	assert.Equal(t, exitRejected, code)
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Len(t, res.Faults, 1)
	assert.Equal(t, evidence.FaultEdited, res.Faults[0].Kind)
	assert.Equal(t, uint64(3), res.Faults[0].Seq)
}

func TestLogCLIUsage(t *testing.T) {
	f := newLogFixture(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))
	for name, args := range map[string][]string{
		"no flags":       {"log", "verify"},
		"no key":         {"log", "verify", "--db", f.dsn},
		"bad key":        {"log", "verify", "--db", f.dsn, "--pubkey", garbage},
		"missing key":    {"log", "verify", "--db", f.dsn, "--pubkey", filepath.Join(dir, "none")},
		"bad dsn":        {"log", "verify", "--db", "mysql://x", "--pubkey", f.vkey},
		"empty database": {"log", "verify", "--db", "sqlite://" + filepath.Join(dir, "empty.db"), "--pubkey", f.vkey},
		"unknown log":    {"log", "verify", "--db", f.dsn, "--pubkey", f.pem, "--log", "other.example/log"},
		"proof no seq":   {"log", "proof", "--db", f.dsn},
		"proof too far":  {"log", "proof", "--db", f.dsn, "--seq", "40"},
		"proof no size":  {"log", "proof", "--db", f.dsn, "--seq", "1", "--size", "7"},
		"check garbage":  {"log", "check-proof", "--pubkey", f.vkey, garbage},
		"check no file":  {"log", "check-proof", "--pubkey", f.vkey},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, _ := runCLI(t, args...)
			assert.Equal(t, exitUsage, code)
		})
	}
}

func TestLogProofCLI(t *testing.T) {
	f := newLogFixture(t)
	dir := t.TempDir()

	code, out, errs := runCLI(t, "log", "proof", "--db", f.dsn, "--seq", "4")
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "entry 4")
	assert.Contains(t, out, testLogOrigin+"\n12\n")

	code, out, _ = runCLI(t, "log", "proof", "--db", f.dsn, "--seq", "4", "--size", "6", "--json")
	require.Equal(t, exitOK, code)
	proofPath := filepath.Join(dir, "proof.json")
	require.NoError(t, os.WriteFile(proofPath, []byte(out), 0o600))
	for _, key := range []string{f.pem, f.vkey} {
		code, out, errs = runCLI(t, "log", "check-proof", "--pubkey", key, proofPath)
		require.Equal(t, exitOK, code, errs)
		assert.Contains(t, out, "VALID: entry 4 is in the tree of size 6")
	}
	code, out, _ = runCLI(t, "log", "check-proof", "--pubkey", f.otherPEM, proofPath)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, out, "INVALID")

	var p evidence.InclusionProof
	require.NoError(t, json.Unmarshal([]byte(readFile(t, proofPath)), &p))
	p.Hashes = p.Hashes[1:]
	b, err := json.Marshal(&p)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.json")
	require.NoError(t, os.WriteFile(truncated, b, 0o600))
	code, out, _ = runCLI(t, "log", "check-proof", "--pubkey", f.vkey, "--json", truncated)
	assert.Equal(t, exitRejected, code)
	var res logCheckResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.False(t, res.Valid)
	assert.Contains(t, res.Error, "audit path")

	code, out, _ = runCLI(t, "log", "consistency", "--db", f.dsn, "--old", "6", "--json")
	require.Equal(t, exitOK, code)
	consPath := filepath.Join(dir, "cons.json")
	require.NoError(t, os.WriteFile(consPath, []byte(out), 0o600))
	code, out, errs = runCLI(t, "log", "check-proof", "--pubkey", f.vkey, consPath)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "tree of size 6")
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func TestLogVerifyKeptCheckpointCLI(t *testing.T) {
	f := newLogFixture(t)
	ctx := context.Background()
	var note string
	require.NoError(t, f.db.QueryRowContext(ctx, "SELECT note FROM tlog_checkpoints WHERE size = 12").Scan(&note))
	kept := filepath.Join(t.TempDir(), "kept.note")
	require.NoError(t, os.WriteFile(kept, []byte(note), 0o600))

	// Truncate the log to 8 entries and drop the checkpoint that covered the rest.
	for _, q := range []string{
		"DELETE FROM tlog_entries WHERE seq >= 8",
		"DELETE FROM tlog_hashes WHERE idx >= 15", // StoredHashIndex(0, 8)
		"DELETE FROM tlog_checkpoints WHERE size = 12",
		"UPDATE tlog_logs SET size = 8",
	} {
		_, err := f.db.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	code, out, _ := runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey)
	assert.Equal(t, exitOK, code, "the database alone cannot show what it lost: %s", out)
	code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey, "--checkpoint", kept)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, out, "entries 8-11: removed")
}

// The commands that only read open the database read-only: a file that is not a log stays
// exactly as it was (an empty file is not turned into an SQLite database), and the command
// says the database holds no log.
func TestLogReadOnlyCommandsLeaveFilesAlone(t *testing.T) {
	f := newLogFixture(t)
	tests := []struct {
		name    string
		content []byte
		says    string
	}{
		{"empty file", nil, "the database holds no tamper-evident log"},
		{"not a database", []byte("these are not the rows you are looking for\n"), "file is not a database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "evidence.db")
			require.NoError(t, os.WriteFile(path, tc.content, 0o600))
			dsn := "sqlite://" + path
			for _, args := range [][]string{
				{"log", "verify", "--db", dsn, "--pubkey", f.vkey},
				{"log", "verify", "--db", dsn, "--pubkey", f.pem},
				{"log", "proof", "--db", dsn, "--seq", "0"},
				{"log", "consistency", "--db", dsn, "--old", "0"},
			} {
				code, out, errs := runCLI(t, args...)
				assert.Equal(t, exitUsage, code, "%v", args)
				assert.Empty(t, out)
				assert.Contains(t, errs, tc.says, "%v", args)
				assert.Equal(t, string(tc.content), readFile(t, path), "the file is unchanged")
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Len(t, entries, 1, "no journal or WAL file is left beside it")
			}
		})
	}
}
