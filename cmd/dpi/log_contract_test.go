package main

// The contract of the dpi log commands that keep a log (issue 9): subcommand and flag names,
// the exit codes each usage documents, and the JSON field names scripts read. Like
// contract_test.go, a change that breaks a script fails here, by name.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

func TestContractLogCommands(t *testing.T) {
	code, out, _ := contractRun(t, "", "log", "help")
	require.Equal(t, exitOK, code)
	for _, c := range []string{"keygen", "init", "append", "checkpoint", "verify", "proof", "consistency", "check-proof"} {
		assert.Contains(t, out, "\n  "+c+" ", "dpi log help lists %s", c)
	}
	assert.Contains(t, out, "0 valid or done, 1 rejected, 2 usage or unreadable input, 3 indeterminate")
}

// TestContractLogFlags pins each log subcommand's flags and the exit codes its usage
// documents, as TestContractFlags does for the other subcommands.
func TestContractLogFlags(t *testing.T) {
	tests := []struct {
		cmd   string
		flags []string
		usage []string
	}{
		{cmd: "keygen", flags: []string{"o", "json"},
			usage: []string{"Exit 0 written, 2 usage error", "openssl genpkey"}},
		{cmd: "init", flags: []string{"db", "key", "origin", "json"},
			usage: []string{"Exit 0 done, 1 the log exists with checkpoints signed by another key", "2 usage error", "dpi log keygen", "openssl genpkey -algorithm ed25519"}},
		{cmd: "append", flags: []string{"db", "key", "kind", "meta", "ref", "log", "json"},
			usage: []string{"Exit 0 appended, 1 the log's checkpoints are signed by another key", "2 usage error", "[FILE|-]", "empty without FILE"}},
		{cmd: "checkpoint", flags: []string{"db", "key", "log", "json"},
			usage: []string{"Exit 0 signed, 1 refused", "2 usage error", "--checkpoint"}},
		{cmd: "verify", flags: []string{"db", "pubkey", "log", "checkpoint", "json"},
			usage: []string{"Exit 0 intact, 1 tampered", "the checkpoints are not signed", "2 usage error", "3 indeterminate"}},
		{cmd: "proof", flags: []string{"db", "seq", "size", "log", "json"},
			usage: []string{"Exit 0 printed, 2 usage error"}},
		{cmd: "consistency", flags: []string{"db", "old", "new", "log", "json"},
			usage: []string{"Exit 0 printed, 2 usage error"}},
		{cmd: "check-proof", flags: []string{"pubkey", "log", "json"},
			usage: []string{"Exit 0 valid, 1 invalid", "2 usage error"}},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			code, out, help := contractRun(t, "", "log", tc.cmd, "--help")
			require.Equal(t, exitOK, code, "--help is not an error")
			assert.Empty(t, out)
			assert.Contains(t, help, "usage: dpi log "+tc.cmd)
			for _, f := range tc.flags {
				assert.True(t, strings.Contains(help, "\n  -"+f+" ") || strings.Contains(help, "\n  -"+f+"\n"),
					"flag --%s in:\n%s", f, help)
			}
			for _, u := range tc.usage {
				assert.Contains(t, oneLine(help), u)
			}
			code, out, errOut := contractRun(t, "", "log", tc.cmd, "--no-such-flag")
			assert.Equal(t, exitUsage, code, "an unknown flag is a usage error")
			assert.Empty(t, out)
			assert.Contains(t, errOut, "flag provided but not defined: -no-such-flag")
		})
	}
}

// TestContractLogJSON pins the JSON field names of the commands that keep a log, on SQLite
// and PostgreSQL, and that usage errors under --json print nothing on stdout.
func TestContractLogJSON(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		dir := t.TempDir()
		key := filepath.Join(dir, "log.key")
		code, out, errOut := contractRun(t, "", "log", "keygen", "-o", key, "--json")
		require.Equal(t, exitOK, code, errOut)
		var v map[string]json.RawMessage
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"file", "publicKeyPem"}, keysOf(v))

		code, out, errOut = contractRun(t, "", "log", "init", "--db", dsn, "--key", key, "--origin", testWriteOrigin, "--json")
		require.Equal(t, exitOK, code, errOut)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"origin", "publicKeyPem", "verifierKey"}, keysOf(v))
		var vkey string
		require.NoError(t, json.Unmarshal(v["verifierKey"], &vkey))
		pub := filepath.Join(dir, "log.pub")
		require.NoError(t, os.WriteFile(pub, []byte(vkey+"\n"), 0o600))

		code, out, errOut = contractRun(t, "person", "log", "append", "--db", dsn, "--key", key, "--kind", "k", "--ref", "r-1", "--meta", `{"a":1}`, "--json", "-")
		require.Equal(t, exitOK, code, errOut)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"leafHash", "origin", "salt", "seq", "time"}, keysOf(v))

		code, out, errOut = contractRun(t, "", "log", "checkpoint", "--db", dsn, "--key", key, "--json")
		require.Equal(t, exitOK, code, errOut)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"note", "origin", "root", "size"}, keysOf(v))

		code, out, errOut = contractRun(t, "", "log", "verify", "--db", dsn, "--pubkey", pub, "--json")
		require.Equal(t, exitOK, code, errOut)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"anchored", "intact", "origin", "report"}, keysOf(v))

		// Checked and rejected: the key of another log.
		otherKey := filepath.Join(dir, "other.key")
		code, otherPEM, _ := contractRun(t, "", "log", "keygen", "-o", otherKey)
		require.Equal(t, exitOK, code)
		otherPub := filepath.Join(dir, "other.pem")
		require.NoError(t, os.WriteFile(otherPub, []byte(otherPEM), 0o600))
		code, out, _ = contractRun(t, "", "log", "verify", "--db", dsn, "--pubkey", otherPub, "--json")
		assert.Equal(t, exitRejected, code)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"anchored", "error", "intact", "origin", "report"}, keysOf(v))
		assert.Equal(t, `"the checkpoints are not signed by this key"`, string(v["error"]))
		for _, args := range [][]string{
			{"log", "init", "--db", dsn, "--key", otherKey, "--origin", testWriteOrigin},
			{"log", "append", "--db", dsn, "--key", otherKey, "--kind", "k"},
			{"log", "checkpoint", "--db", dsn, "--key", otherKey},
		} {
			code, out, errOut := contractRun(t, "", append(args, "--json")...)
			assert.Equal(t, exitRejected, code, "%v", args)
			assert.Empty(t, out, "%v", args)
			assert.Contains(t, errOut, "dpi: log "+args[1]+": the log's checkpoints are not signed by this key")
		}

		for name, args := range map[string][]string{
			"init no --origin":    {"log", "init", "--db", dsn, "--key", key},
			"append no --kind":    {"log", "append", "--db", dsn, "--key", key},
			"append bad --meta":   {"log", "append", "--db", dsn, "--key", key, "--kind", "k", "--meta", "{"},
			"checkpoint no --key": {"log", "checkpoint", "--db", dsn},
			"keygen no -o":        {"log", "keygen"},
		} {
			code, out, errOut := contractRun(t, "", append(args, "--json")...)
			assert.Equal(t, exitUsage, code, name)
			assert.Empty(t, out, name)
			assert.NotEmpty(t, errOut, name)
		}
	})
}
