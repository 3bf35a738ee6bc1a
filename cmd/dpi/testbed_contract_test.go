package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContractTestbed pins dpi testbed's command line: flags, exit codes and the JSON (and
// testbed.json) field names.
func TestContractTestbed(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no dir", []string{"testbed"}, exitUsage, "--dir is required"},
		{"not loopback", []string{"testbed", "--dir", empty, "--listen", "0.0.0.0:0"}, exitUsage, "loopback only"},
		{"unknown subcommand", []string{"testbed", "--dir", empty, "stop"}, exitUsage, "unknown subcommand"},
		{"revoke without testbed", []string{"testbed", "revoke", "--dir", empty, "signer"}, exitUsage, "no running testbed"},
		{"revoke nothing", []string{"testbed", "revoke", "--dir", empty}, exitUsage, "name one certificate"},
		{"token without aud", []string{"testbed", "token", "--dir", empty}, exitUsage, "--aud is required"},
		{"token without testbed", []string{"testbed", "token", "--dir", empty, "--aud", "a"}, exitUsage, "no running testbed"},
		{"env without testbed", []string{"testbed", "env", "--dir", empty, "--wait", "0s"}, exitUsage, "no running testbed"},
		{"help", []string{"testbed", "--help"}, exitOK, "dpi testbed revoke --dir DIR NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := contractRun(t, "", tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.stderr)
		})
	}

	t.Run("json", func(t *testing.T) {
		dir := t.TempDir()
		lines := startCLITestbed(t, dir, "--json")
		var info map[string]json.RawMessage
		onlyJSON(t, strings.Join(lines, "\n"), &info)
		assert.Equal(t, []string{"admin", "credentials", "crl", "issuer", "jwks", "ocsp", "rootCrl", "token", "tsa"}, keysOf(info))
		code, stdout, stderr := contractRun(t, "", "testbed", "token", "--dir", dir, "--aud", "a", "--json")
		require.Equal(t, exitOK, code, stderr)
		var tok map[string]json.RawMessage
		onlyJSON(t, stdout, &tok)
		assert.Equal(t, []string{"expires_in", "id_token"}, keysOf(tok), "the IdP's own OAuth-style names")
		code, stdout, _ = contractRun(t, "", "testbed", "revoke", "--dir", dir, "agency-b", "--json")
		require.Equal(t, exitOK, code)
		assert.JSONEq(t, `{"revoked":"agency-b"}`, stdout)
	})
}
