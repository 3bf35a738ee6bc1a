package main

// The contract of dpi envelope (issue 12): flag names, exit codes, the --json fields and
// what standard output holds, pinned so that a change that breaks a script fails here.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

func TestContractEnvelopeFlags(t *testing.T) {
	tests := []struct {
		cmd   []string
		flags []string
		usage []string
	}{
		{cmd: []string{"envelope", "seal"},
			flags: []string{"key", "cert", "chain", "client", "service", "id", "expires", "encrypt-to", "o", "json"},
			usage: []string{"[--encrypt-to CERT]...", "flattened JSON serialization", "general JSON serialization",
				"Exit 0 written; 2 usage error or unusable input"}},
		{cmd: []string{"envelope", "open"},
			flags: []string{"trust", "key", "seen-db", "crl", "ocsp", "skip-revocation-unsafe", "json"},
			usage: []string{"byte for byte", "bodyEncoding", "Exit 0 valid; 1 rejected", "2 usage\nerror or unreadable input",
				"3 indeterminate"}},
	}
	for _, tc := range tests {
		name := strings.Join(tc.cmd, " ")
		t.Run(name, func(t *testing.T) {
			code, _, help := contractRun(t, "", append(tc.cmd, "--help")...)
			require.Equal(t, exitOK, code)
			assert.Contains(t, help, "usage: dpi "+name)
			for _, f := range tc.flags {
				assert.True(t, strings.Contains(help, "\n  -"+f+" ") || strings.Contains(help, "\n  -"+f+"\n"), "flag --%s", f)
			}
			for _, u := range tc.usage {
				assert.Contains(t, help, u)
			}
			code, out, errOut := contractRun(t, "", append(tc.cmd, "--no-such-flag")...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "flag provided but not defined")
		})
	}
	code, out, _ := contractRun(t, "", "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "\n  envelope ")
	code, _, errOut := contractRun(t, "", "envelope")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "usage: dpi envelope")
	code, out, _ = contractRun(t, "", "envelope", "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "  seal ")
	assert.Contains(t, out, "  open ")
}

// TestContractEnvelopeExitCodes pins the usage errors: each is exit 2 with nothing on
// standard output.
func TestContractEnvelopeExitCodes(t *testing.T) {
	f := newEnvelopeFixture(t)
	signed := f.seal(t)
	ed, err := f.pki.Issue(dpitest.CertOptions{KeyType: dpitest.Ed25519})
	require.NoError(t, err)
	edPEM, err := dpitest.KeyPEM(ed.Key)
	require.NoError(t, err)
	edKey := filepath.Join(f.dir, "ed25519-key.pem")
	require.NoError(t, os.WriteFile(edKey, edPEM, 0o600))
	seal := []string{"envelope", "seal", "--key", f.key, "--cert", f.cert, "--client", envClient, "--service", envService}
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"seal without --key", "", []string{"envelope", "seal", "--cert", f.cert, "--client", envClient, "--service", envService, f.body}},
		{"seal without --client", "", []string{"envelope", "seal", "--key", f.key, "--cert", f.cert, "--service", envService, f.body}},
		{"seal with a bad client", "", append(append([]string{}, seal[:6]...), "--client", "EE/GOV", "--service", envService, f.body)},
		{"seal with a key for another certificate", "", []string{"envelope", "seal", "--key", f.ecKey, "--cert", f.cert, "--client", envClient, "--service", envService, f.body}},
		{"seal to an unreadable recipient", "", append(append([]string{}, seal...), "--encrypt-to", filepath.Join(f.dir, "missing.pem"), f.body)},
		{"seal with --expires beyond the cap", "", append(append([]string{}, seal...), "--expires", "721h", f.body)},
		{"seal two inputs", "", append(append([]string{}, seal...), f.body, f.body)},
		{"seal an unreadable body", "", append(append([]string{}, seal...), filepath.Join(f.dir, "missing"))},
		{"seal a body over 16 MiB", strings.Repeat("x", 16<<20+1), append(append([]string{}, seal...), "-")},
		{"open without --trust", "", []string{"envelope", "open", signed}},
		{"open an unreadable file", "", []string{"envelope", "open", "--trust", f.roots, filepath.Join(f.dir, "missing")}},
		{"open with unreadable roots", "", []string{"envelope", "open", "--trust", filepath.Join(f.dir, "missing"), signed}},
		{"open with a bad --seen-db", "", []string{"envelope", "open", "--trust", f.roots, "--seen-db", "mysql://x", signed}},
		{"open with --skip-revocation-unsafe and --crl", "", []string{"envelope", "open", "--trust", f.roots, "--skip-revocation-unsafe", "--crl", f.crl, signed}},
		{"open with an Ed25519 --key", "", []string{"envelope", "open", "--trust", f.roots, "--key", edKey, f.seal(t, "--encrypt-to", f.ecCert)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := contractRun(t, tc.stdin, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "dpi: envelope ")
		})
	}
}

// TestContractEnvelopeJSON pins the fields of dpi envelope open --json, valid and not, and
// the two body encodings.
func TestContractEnvelopeJSON(t *testing.T) {
	f := newEnvelopeFixture(t)
	code, out, errOut := contractRun(t, "", "envelope", "open", "--trust", f.roots, "--json", f.seal(t, "--id", "m-42"))
	require.Equal(t, exitOK, code, errOut)
	var rep map[string]json.RawMessage
	onlyJSON(t, out, &rep)
	assert.Equal(t, []string{"body", "bodyEncoding", "client", "encrypted", "expires", "id", "service", "signedAt", "signer", "valid"}, sortedKeys(rep))
	assert.Equal(t, `"base64"`, string(rep["bodyEncoding"]))
	assert.Equal(t, `"eyJwZXJzb24iOiJFRTM4MDAxMDg1NzE4In0KAP/+"`, string(rep["body"]))
	assert.Equal(t, `"m-42"`, string(rep["id"]))
	assert.Equal(t, `"`+envClient+`"`, string(rep["client"]))
	assert.Equal(t, "false", string(rep["encrypted"]))

	code, env, _ := contractRun(t, "plain text ✓", "envelope", "seal", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--client", envClient, "--service", envService, "--encrypt-to", f.ecCert)
	require.Equal(t, exitOK, code)
	code, out, errOut = contractRun(t, env, "envelope", "open", "--trust", f.roots, "--key", f.ecKey, "--json", "-")
	require.Equal(t, exitOK, code, errOut)
	rep = nil
	onlyJSON(t, out, &rep)
	assert.Equal(t, `"utf8"`, string(rep["bodyEncoding"]))
	assert.Equal(t, `"plain text ✓"`, string(rep["body"]))
	assert.Equal(t, "true", string(rep["encrypted"]))

	code, out, _ = contractRun(t, "{}", "envelope", "open", "--trust", f.roots, "--json", "-")
	assert.Equal(t, exitRejected, code)
	rep = nil
	onlyJSON(t, out, &rep)
	assert.Equal(t, []string{"check", "encrypted", "reason", "valid"}, sortedKeys(rep))
}

func sortedKeys[V any](m map[string]V) []string {
	k := mapKeys(m)
	sort.Strings(k)
	return k
}
