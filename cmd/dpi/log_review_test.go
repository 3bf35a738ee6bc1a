package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
)

// A proof that names another log, checked with a note verifier key, is a proof checked and
// rejected (exit 1), not a usage error (exit 2): the origin the proof claims is the
// attacker's, and used to be compared with the key's before any check ran.
func TestLogCheckProofForAnotherLogIsRejected(t *testing.T) {
	f := newLogFixture(t)
	dir := t.TempDir()
	code, out, errs := runCLI(t, "log", "proof", "--db", f.dsn, "--seq", "2", "--json")
	require.Equal(t, exitOK, code, errs)
	var p evidence.InclusionProof
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	p.Checkpoint = strings.Replace(p.Checkpoint, testLogOrigin+"\n", "agency.example/other-log\n", 1)
	b, err := json.Marshal(&p)
	require.NoError(t, err)
	path := filepath.Join(dir, "other.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))

	code, out, errs = runCLI(t, "log", "check-proof", "--pubkey", f.vkey, path)
	assert.Equal(t, exitRejected, code, "%s%s", out, errs)
	assert.Contains(t, out, "INVALID")
	code, _, _ = runCLI(t, "log", "check-proof", "--pubkey", f.pem, path)
	assert.Equal(t, exitRejected, code)
}

// A log whose stored size was corrupted is tampered (exit 1), and verify ends.
func TestLogVerifyCorruptedSizeCLI(t *testing.T) {
	f := newLogFixture(t)
	_, err := f.db.ExecContext(context.Background(), "UPDATE tlog_logs SET size = -1")
	require.NoError(t, err)
	code, out, errs := runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey)
	assert.Equal(t, exitRejected, code, "%s%s", out, errs)
	assert.Contains(t, out, "log size:")
}
