package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/store"
)

const testWriteOrigin = "agency.example/cli-write"

// writePrivateKey writes key as a PKCS#8 PEM file and returns its path.
func writePrivateKey(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "log.key")
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return p
}

func newEd25519Key(t *testing.T) crypto.Signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func newP256Key(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// initLog runs dpi log init and returns the path of the note verifier key it printed.
func initLog(t *testing.T, dsn, key, origin string) string {
	t.Helper()
	code, out, errs := runCLI(t, "log", "init", "--db", dsn, "--key", key, "--origin", origin)
	require.Equal(t, exitOK, code, errs)
	p := filepath.Join(t.TempDir(), "log.pub")
	require.NoError(t, os.WriteFile(p, []byte(out), 0o600))
	return p
}

func TestLogInitCLI(t *testing.T) {
	for _, alg := range []struct {
		name string
		key  func(*testing.T) crypto.Signer
	}{{"ed25519", newEd25519Key}, {"ecdsa-p256", newP256Key}} {
		t.Run(alg.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
				key := alg.key(t)
				keyPath := writePrivateKey(t, key)
				want, err := evidence.NewVerifier(testWriteOrigin, key.Public())
				require.NoError(t, err)

				code, out, errs := runCLI(t, "log", "init", "--db", dsn, "--key", keyPath, "--origin", testWriteOrigin)
				require.Equal(t, exitOK, code, errs)
				assert.Equal(t, want.Key()+"\n", out, "stdout is the note verifier key alone")
				assert.Empty(t, errs)

				// Idempotent: the same key prints the same verifier key.
				code, again, _ := runCLI(t, "log", "init", "--db", dsn, "--key", keyPath, "--origin", testWriteOrigin)
				require.Equal(t, exitOK, code)
				assert.Equal(t, out, again)
				code, out, _ = runCLI(t, "log", "init", "--db", dsn, "--key", keyPath, "--origin", testWriteOrigin, "--json")
				require.Equal(t, exitOK, code)
				var res logInitResult
				onlyJSON(t, out, &res)
				assert.Equal(t, testWriteOrigin, res.Origin)
				assert.Equal(t, want.Key(), res.VerifierKey)
				blk, _ := pem.Decode([]byte(res.PublicKeyPEM))
				require.NotNil(t, blk)
				pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
				require.NoError(t, err)
				assert.True(t, pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()))

				// The log keeps its key.
				other := writePrivateKey(t, newEd25519Key(t))
				code, out, errs = runCLI(t, "log", "init", "--db", dsn, "--key", other, "--origin", testWriteOrigin)
				assert.Equal(t, exitRejected, code)
				assert.Empty(t, out)
				assert.Contains(t, errs, "the log's checkpoints are not signed by this key")

				// The new log verifies, anchored by the checkpoint init signed, with the key it printed.
				code, out, errs = runCLI(t, "log", "verify", "--db", dsn, "--pubkey", initLog(t, dsn, keyPath, testWriteOrigin))
				assert.Equal(t, exitOK, code, errs)
				assert.Contains(t, out, "INTACT: log "+testWriteOrigin+" verifies: 0 entries")

				// A second log in the same database.
				code, _, errs = runCLI(t, "log", "init", "--db", dsn, "--key", other, "--origin", testWriteOrigin+"-2")
				assert.Equal(t, exitOK, code, errs)
				origins, err := evidence.Origins(context.Background(), db)
				require.NoError(t, err)
				assert.Equal(t, []string{testWriteOrigin, testWriteOrigin + "-2"}, origins)
			})
		})
	}
}

// init adopts a log a program kept without a signer: its key becomes the log's. A log a
// program opened with a signer is kept under that signer's key, and init with another is
// refused.
func TestLogInitAdoptsUnsignedLog(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "evidence.db")
	db, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: testLogOrigin})
	require.NoError(t, err)
	_, err = l.Append(ctx, evidence.Record{Kind: "cli.test", Payload: []byte("person")})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	key := writePrivateKey(t, newEd25519Key(t))
	pub := initLog(t, dsn, key, testLogOrigin)
	code, out, errs := runCLI(t, "log", "verify", "--db", dsn, "--pubkey", pub)
	assert.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "1 entry")

	signed := "sqlite://" + filepath.Join(t.TempDir(), "signed.db")
	newUnanchoredLog(t, signed)
	code, _, errs = runCLI(t, "log", "init", "--db", signed, "--key", key, "--origin", testLogOrigin)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, errs, "not signed by this key")
}

func TestLogInitUsage(t *testing.T) {
	dir := t.TempDir()
	key := writePrivateKey(t, newEd25519Key(t))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	notAKey := filepath.Join(dir, "not.key")
	require.NoError(t, os.WriteFile(notAKey, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600))
	dbPath := filepath.Join(dir, "evidence.db")
	dsn := "sqlite://" + dbPath
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"no --db", []string{"--key", key, "--origin", testWriteOrigin}, "usage: dpi log init"},
		{"no --key", []string{"--db", dsn, "--origin", testWriteOrigin}, "usage: dpi log init"},
		{"no --origin", []string{"--db", dsn, "--key", key}, "usage: dpi log init"},
		{"an argument", []string{"--db", dsn, "--key", key, "--origin", testWriteOrigin, "extra"}, "usage: dpi log init"},
		{"missing key file", []string{"--db", dsn, "--key", filepath.Join(dir, "none"), "--origin", testWriteOrigin}, "key:"},
		{"not a key", []string{"--db", dsn, "--key", notAKey, "--origin", testWriteOrigin}, "key:"},
		{"RSA key", []string{"--db", dsn, "--key", writePrivateKey(t, rsaKey), "--origin", testWriteOrigin}, "Ed25519 or ECDSA P-256"},
		{"ECDSA P-384 key", []string{"--db", dsn, "--key", writePrivateKey(t, p384), "--origin", testWriteOrigin}, "Ed25519 or ECDSA P-256"},
		{"origin with a space", []string{"--db", dsn, "--key", key, "--origin", "agency example"}, "origin"},
		{"in memory", []string{"--db", "sqlite://:memory:", "--key", key, "--origin", testWriteOrigin}, "sqlite://:memory:"},
		{"not a DSN", []string{"--db", dbPath, "--key", key, "--origin", testWriteOrigin}, "unsupported DSN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"log", "init"}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Contains(t, errs, tc.says)
			assert.NotContains(t, errs, "PRIVATE KEY")
			assert.NoFileExists(t, dbPath, "nothing is created before the input is checked")
		})
	}
}

func TestLogAppendCLI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		signer := newEd25519Key(t)
		key := writePrivateKey(t, signer)
		initLog(t, dsn, key, testWriteOrigin)
		payloadPath := filepath.Join(t.TempDir(), "payload.json")
		require.NoError(t, os.WriteFile(payloadPath, []byte(`{"name":"Ana"}`), 0o600))

		tests := []struct {
			name    string
			args    []string
			stdin   string
			record  evidence.Record
			jsonOut bool
		}{
			{"payload from a file", []string{"--kind", "decision.made", "--meta", `{"rule":7}`, "--ref", "case-1", payloadPath},
				"", evidence.Record{Kind: "decision.made", Ref: "case-1", Meta: []byte(`{"rule":7}`), Payload: []byte(`{"name":"Ana"}`)}, true},
			{"payload from standard input", []string{"--kind", "decision.made", "-"},
				"Ana Souza", evidence.Record{Kind: "decision.made", Payload: []byte("Ana Souza")}, true},
			{"no payload", []string{"--kind", "access.logged", "--meta", `["a", 1]`},
				"ignored", evidence.Record{Kind: "access.logged", Meta: []byte(`["a", 1]`)}, false},
			{"--log names the log", []string{"--kind", "k", "--log", testWriteOrigin},
				"", evidence.Record{Kind: "k"}, false},
		}
		l, err := evidence.Open(ctx, db, evidence.Config{Origin: testWriteOrigin, Signer: signer})
		require.NoError(t, err)
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				args := append([]string{"log", "append", "--db", dsn, "--key", key}, tc.args...)
				if tc.jsonOut {
					args = append(args, "--json")
				}
				code, out, errs := contractRun(t, tc.stdin, args...)
				require.Equal(t, exitOK, code, errs)
				assert.Empty(t, errs)
				var rc evidence.Receipt
				if tc.jsonOut {
					onlyJSON(t, out, &rc)
				} else {
					assert.True(t, strings.HasPrefix(out, "appended entry "), out)
					lines := strings.Split(strings.TrimSpace(out), "\n")
					require.Len(t, lines, 4, out)
					salt, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(lines[3], "salt:")))
					require.NoError(t, err)
					rc.Salt = salt
				}
				e, err := l.Get(ctx, uint64(i))
				require.NoError(t, err)
				assert.Equal(t, tc.record.Kind, e.Kind)
				assert.Equal(t, tc.record.Ref, e.Ref)
				assert.Equal(t, string(tc.record.Meta), string(e.Meta))
				assert.Equal(t, string(tc.record.Payload), string(e.Payload))
				assert.Equal(t, e.Salt, rc.Salt)
				if tc.jsonOut {
					assert.Equal(t, testWriteOrigin, rc.Origin)
					assert.Equal(t, uint64(i), rc.Seq)
					assert.Equal(t, e.LeafHash, rc.LeafHash)
					assert.True(t, rc.Matches(tc.record), "the receipt is for the record appended")
				}
			})
		}

		// Refused: nothing is appended.
		big := filepath.Join(t.TempDir(), "big")
		require.NoError(t, os.WriteFile(big, make([]byte, limits.MaxEvidencePayload+1), 0o600))
		other := writePrivateKey(t, newEd25519Key(t))
		missing := filepath.Join(t.TempDir(), "typo.db")
		for _, tc := range []struct {
			name string
			args []string
			code int
			says string
		}{
			{"another key", []string{"--db", dsn, "--key", other, "--kind", "k"}, exitRejected, "the log's checkpoints are not signed by this key"},
			{"meta that is not JSON", []string{"--db", dsn, "--key", key, "--kind", "k", "--meta", "{rule:7}"}, exitUsage, "--meta is not valid JSON"},
			{"payload over the cap", []string{"--db", dsn, "--key", key, "--kind", "k", big}, exitUsage, "larger than"},
			{"missing payload file", []string{"--db", dsn, "--key", key, "--kind", "k", big + ".none"}, exitUsage, "payload:"},
			{"two payloads", []string{"--db", dsn, "--key", key, "--kind", "k", big, big}, exitUsage, "usage: dpi log append"},
			{"no --kind", []string{"--db", dsn, "--key", key}, exitUsage, "usage: dpi log append"},
			{"no --key", []string{"--db", dsn, "--kind", "k"}, exitUsage, "usage: dpi log append"},
			{"kind with a NUL", []string{"--db", dsn, "--key", key, "--kind", "k\x00"}, exitUsage, "evidence: input rejected"},
			{"unknown log", []string{"--db", dsn, "--key", key, "--kind", "k", "--log", "other.example/log"}, exitUsage, `the database holds no log "other.example/log"`},
			{"missing database", []string{"--db", "sqlite://" + missing, "--key", key, "--kind", "k"}, exitUsage, "no database file at " + missing + ": run dpi log init first"},
			{"in memory", []string{"--db", "sqlite://:memory:", "--key", key, "--kind", "k"}, exitUsage, "sqlite://:memory: is a new, empty database"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, out, errs := runCLI(t, append([]string{"log", "append", "--json"}, tc.args...)...)
				assert.Equal(t, tc.code, code, errs)
				assert.Empty(t, out)
				assert.Contains(t, errs, tc.says)
				size, err := l.Size(ctx)
				require.NoError(t, err)
				assert.Equal(t, uint64(len(tests)), size)
			})
		}
		assert.NoFileExists(t, missing)
	})
}

// A database that holds several logs needs --log.
func TestLogAppendSeveralLogs(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "evidence.db")
	key := writePrivateKey(t, newEd25519Key(t))
	initLog(t, dsn, key, testWriteOrigin)
	initLog(t, dsn, key, testWriteOrigin+"-2")
	code, _, errs := runCLI(t, "log", "append", "--db", dsn, "--key", key, "--kind", "k")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "the database holds 2 logs")
	code, out, errs := runCLI(t, "log", "append", "--db", dsn, "--key", key, "--kind", "k", "--log", testWriteOrigin+"-2")
	assert.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "appended entry 0 to log "+testWriteOrigin+"-2")
}

func TestLogCheckpointCLI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := writePrivateKey(t, newEd25519Key(t))
		pub := initLog(t, dsn, key, testWriteOrigin)
		for range 5 {
			code, _, errs := runCLI(t, "log", "append", "--db", dsn, "--key", key, "--kind", "k")
			require.Equal(t, exitOK, code, errs)
		}
		code, note, errs := runCLI(t, "log", "checkpoint", "--db", dsn, "--key", key)
		require.Equal(t, exitOK, code, errs)
		assert.Empty(t, errs)
		var stored string
		require.NoError(t, db.QueryRowContext(ctx, "SELECT note FROM tlog_checkpoints WHERE size = 5").Scan(&stored))
		assert.Equal(t, stored, note, "stdout is the signed note, byte for byte")
		kept := filepath.Join(t.TempDir(), "kept.note")
		require.NoError(t, os.WriteFile(kept, []byte(note), 0o600))

		code, out, _ := runCLI(t, "log", "checkpoint", "--db", dsn, "--key", key, "--json")
		require.Equal(t, exitOK, code)
		var res logCheckpointResult
		onlyJSON(t, out, &res)
		assert.Equal(t, testWriteOrigin, res.Origin)
		assert.Equal(t, uint64(5), res.Size)
		assert.Equal(t, note, res.Note, "nothing appended since: the same checkpoint")
		v, err := evidence.ParseVerifierKey(readFile(t, pub))
		require.NoError(t, err)
		cp, err := v.OpenCheckpoint([]byte(res.Note))
		require.NoError(t, err)
		assert.Equal(t, res.Checkpoint, cp)

		code, out, errs = runCLI(t, "log", "verify", "--db", dsn, "--pubkey", pub, "--checkpoint", kept)
		assert.Equal(t, exitOK, code, errs)
		assert.Contains(t, out, "latest covers 5 entries")

		other := writePrivateKey(t, newEd25519Key(t))
		code, out, errs = runCLI(t, "log", "checkpoint", "--db", dsn, "--key", other)
		assert.Equal(t, exitRejected, code)
		assert.Empty(t, out)
		assert.Contains(t, errs, "the log's checkpoints are not signed by this key")

		// The log's own key does not sign a rolled-back log.
		_, err = db.ExecContext(ctx, "UPDATE tlog_logs SET size = 3")
		require.NoError(t, err)
		code, out, errs = runCLI(t, "log", "checkpoint", "--db", dsn, "--key", key)
		assert.Equal(t, exitRejected, code)
		assert.Empty(t, out)
		assert.Contains(t, errs, "evidence: log does not verify")
	})
}

func TestLogKeygenCLI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.key")
	code, out, errs := runCLI(t, "log", "keygen", "-o", path)
	require.Equal(t, exitOK, code, errs)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b := []byte(readFile(t, path))
	blk, _ := pem.Decode(b)
	require.NotNil(t, blk)
	assert.Equal(t, "PRIVATE KEY", blk.Type)
	k, err := signature.LoadPrivateKey(b, nil)
	require.NoError(t, err)
	priv, ok := k.(ed25519.PrivateKey)
	require.True(t, ok, "an Ed25519 key")
	assert.NotContains(t, out, "PRIVATE KEY")
	pblk, _ := pem.Decode([]byte(out))
	require.NotNil(t, pblk)
	pub, err := x509.ParsePKIXPublicKey(pblk.Bytes)
	require.NoError(t, err)
	assert.True(t, priv.Public().(ed25519.PublicKey).Equal(pub))

	// The printed public key verifies the log, with --log.
	dsn := "sqlite://" + filepath.Join(dir, "evidence.db")
	initLog(t, dsn, path, testWriteOrigin)
	pubPath := filepath.Join(dir, "log.pem")
	require.NoError(t, os.WriteFile(pubPath, []byte(out), 0o600))
	code, _, errs = runCLI(t, "log", "verify", "--db", dsn, "--pubkey", pubPath, "--log", testWriteOrigin)
	assert.Equal(t, exitOK, code, errs)

	code, out, _ = runCLI(t, "log", "keygen", "-o", filepath.Join(dir, "second.key"), "--json")
	require.Equal(t, exitOK, code)
	var res logKeygenResult
	onlyJSON(t, out, &res)
	assert.Equal(t, filepath.Join(dir, "second.key"), res.File)
	assert.Contains(t, res.PublicKeyPEM, "BEGIN PUBLIC KEY")

	before := readFile(t, path)
	for name, args := range map[string][]string{
		"existing file": {"-o", path},
		"no -o":         {},
		"stdout":        {"-o", "-"},
		"no directory":  {"-o", filepath.Join(dir, "none", "log.key")},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"log", "keygen"}, args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.NotEmpty(t, errs)
		})
	}
	assert.Equal(t, before, readFile(t, path), "a key is never overwritten")
}
