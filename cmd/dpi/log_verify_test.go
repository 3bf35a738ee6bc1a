package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// writeVerifierKey writes the note verifier key of pub for origin and returns its path.
func writeVerifierKey(t *testing.T, origin string, pub any) string {
	t.Helper()
	v, err := evidence.NewVerifier(origin, pub)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "other.vkey")
	require.NoError(t, os.WriteFile(p, []byte(v.Key()+"\n"), 0o600))
	return p
}

// A key that signed none of the log's checkpoints is named as such (exit 1), not taken for
// a tampered log: the auditor has the wrong key, or the checkpoints were all replaced.
func TestLogVerifyOtherKeyCLI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		f := newLogFixtureDSN(t, dsn)
		otherEd, _, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		code, out, errs := runCLI(t, "log", "proof", "--db", f.dsn, "--seq", "0", "--json")
		require.Equal(t, exitOK, code, errs)
		var p evidence.InclusionProof
		require.NoError(t, json.Unmarshal([]byte(out), &p))
		kept := filepath.Join(t.TempDir(), "kept.note")
		require.NoError(t, os.WriteFile(kept, []byte(p.Checkpoint), 0o600))

		tests := []struct {
			name string
			args []string
		}{
			{"PEM key of another log", []string{"--pubkey", f.otherPEM}},
			{"PEM key with --log", []string{"--pubkey", f.otherPEM, "--log", testLogOrigin}},
			{"Ed25519 verifier key under the log's name", []string{"--pubkey", writeVerifierKey(t, testLogOrigin, otherEd)}},
			{"ECDSA P-256 verifier key under the log's name", []string{"--pubkey", writeVerifierKey(t, testLogOrigin, &otherEC.PublicKey)}},
			{"with a kept checkpoint the key does not open either", []string{"--pubkey", f.otherPEM, "--checkpoint", kept}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				args := append([]string{"log", "verify", "--db", f.dsn}, tc.args...)
				code, out, errs := runCLI(t, args...)
				assert.Equal(t, exitRejected, code, errs)
				assert.Contains(t, out, "REJECTED: the checkpoints are not signed by this key")
				assert.NotContains(t, out, "TAMPERED")

				code, out, _ = runCLI(t, append(args, "--json")...)
				assert.Equal(t, exitRejected, code)
				var res logVerifyResult
				onlyJSON(t, out, &res)
				assert.False(t, res.Intact)
				assert.False(t, res.Anchored)
				assert.Equal(t, "the checkpoints are not signed by this key", res.Error)
				assert.Empty(t, res.Faults, "the entries themselves are intact")
				require.NotNil(t, res.Report)
				assert.Equal(t, uint64(12), res.Report.Size)
			})
		}

		// The right key and a kept checkpoint it does not open: the file is wrong, not the log.
		otherNote := filepath.Join(t.TempDir(), "other.note")
		require.NoError(t, os.WriteFile(otherNote, []byte(p.Checkpoint[:len(p.Checkpoint)-8]+"AAAAAAA\n"), 0o600))
		code, out, errs = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey, "--checkpoint", otherNote)
		assert.Equal(t, exitUsage, code, out)
		assert.Contains(t, errs, "--checkpoint "+otherNote)

		// Another key and a tampered entry: both are said.
		_, err = f.db.ExecContext(context.Background(), "UPDATE tlog_entries SET kind = 'cli.forged' WHERE seq = 7")
		require.NoError(t, err)
		code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.otherPEM)
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, out, "REJECTED: the checkpoints are not signed by this key")
		assert.Contains(t, out, "entry 7: edited")
		code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey)
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, out, "TAMPERED")
		assert.NotContains(t, out, "not signed by this key")
	})
}

// Rows that no append writes are named as faults with exit 1, not a scan error with exit 2:
// a row at a negative sequence number is inserted, a column of the wrong type is edited.
func TestLogVerifyBadRowsCLI(t *testing.T) {
	tests := []struct {
		name   string
		sql    []string
		sqlite bool // PostgreSQL's typed columns cannot hold the value
		kind   evidence.FaultKind
		says   string
	}{
		{name: "row at a negative sequence number",
			sql:  []string{"INSERT INTO tlog_entries (log_id, seq, time_ns, kind, meta, payload_hash, leaf_hash, payload, salt) SELECT log_id, -5, time_ns, kind, meta, payload_hash, leaf_hash, payload, salt FROM tlog_entries WHERE seq = 2"},
			kind: evidence.FaultInserted, says: "row at sequence number -5: inserted"},
		{name: "time_ns holds text", sqlite: true,
			sql:  []string{"UPDATE tlog_entries SET time_ns = 'abc' WHERE seq = 4"},
			kind: evidence.FaultEdited, says: "entry 4: edited: column time_ns holds a value of the wrong type"},
		{name: "erased holds text", sqlite: true,
			sql:  []string{"UPDATE tlog_entries SET erased = 'yes' WHERE seq = 9"},
			kind: evidence.FaultEdited, says: "entry 9: edited: column erased holds a value of the wrong type"},
		{name: "checkpoint size holds text", sqlite: true,
			sql:  []string{"UPDATE tlog_checkpoints SET size = 'x' WHERE size = 6"},
			kind: evidence.FaultCheckpoint, says: "its size column holds a value of the wrong type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
				f := newLogFixtureDSN(t, dsn)
				if tc.sqlite && db.Dialect() != store.SQLite {
					// PostgreSQL's typed columns refuse the value: nobody can store it.
					for _, q := range tc.sql {
						_, err := f.db.ExecContext(context.Background(), q)
						assert.Error(t, err, q)
					}
					return
				}
				for _, q := range tc.sql {
					_, err := f.db.ExecContext(context.Background(), q)
					require.NoError(t, err)
				}
				code, out, errs := runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey)
				assert.Equal(t, exitRejected, code, "%s%s", out, errs)
				assert.Contains(t, out, "TAMPERED")
				assert.Contains(t, out, tc.says)

				code, out, _ = runCLI(t, "log", "verify", "--db", f.dsn, "--pubkey", f.vkey, "--json")
				assert.Equal(t, exitRejected, code)
				var res logVerifyResult
				onlyJSON(t, out, &res)
				assert.False(t, res.Intact)
				assert.Empty(t, res.Error)
				require.NotEmpty(t, res.Faults)
				assert.Equal(t, tc.kind, res.Faults[0].Kind)
			})
		})
	}
}
