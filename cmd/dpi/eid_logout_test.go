package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

func TestEIDLogoutToken(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	good, err := idp.MintLogoutToken(nil)
	require.NoError(t, err)
	withNonce, err := idp.MintLogoutToken(map[string]any{"nonce": "n"})
	require.NoError(t, err)
	expired, err := idp.MintLogoutToken(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	require.NoError(t, err)
	idToken, err := idp.MintIDToken(nil)
	require.NoError(t, err)
	down, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	downTok, err := down.MintLogoutToken(nil)
	require.NoError(t, err)
	down.Close()
	iss := idp.Issuer()
	base := []string{"eid", "logout-token", "--issuer", iss, "--audience", "test-client"}

	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		check string
		word  string
	}{
		{"valid", append(base, good), "", exitOK, "", "VALID"},
		{"valid from stdin", append(base, "-"), good + "\n", exitOK, "", "VALID"},
		{"nonce", append(base, withNonce), "", exitRejected, "nonce", "REJECTED"},
		{"expired", append(base, expired), "", exitRejected, "exp", "REJECTED"},
		{"an ID token", append(base, idToken), "", exitRejected, "typ", "REJECTED"},
		{"wrong audience", []string{"eid", "logout-token", "--issuer", iss, "--audience", "other", good}, "", exitRejected, "aud", "REJECTED"},
		{"not a token", append(base, "garbage"), "", exitUsage, "format", "UNUSABLE INPUT"},
		{"issuer unreachable", []string{"eid", "logout-token", "--issuer", down.Issuer(), "--audience", "test-client", downTok}, "", exitIndeterminate, "", "INDETERMINATE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := contractRun(t, tc.stdin, append(append([]string{}, tc.args...), "--json")...)
			require.Equal(t, tc.code, code, errOut)
			var v map[string]json.RawMessage
			onlyJSON(t, out, &v)
			assert.Equal(t, fmt.Sprint(tc.code == exitOK), string(v["valid"]))
			if tc.code == exitOK {
				var l map[string]any
				require.NoError(t, json.Unmarshal(v["logout"], &l))
				assert.Equal(t, "test-session", l["sessionId"])
				assert.Empty(t, errOut)
			} else {
				assert.Contains(t, errOut, "dpi: eid logout-token: ")
				if tc.check != "" {
					assert.Equal(t, `"`+tc.check+`"`, string(v["check"]))
				}
			}
			for _, tok := range []string{good, withNonce, expired, idToken, downTok} {
				sig := tok[strings.LastIndexByte(tok, '.')+1:]
				assert.NotContains(t, errOut, sig, "a token is never echoed")
				assert.NotContains(t, out, sig)
			}
			code, out, _ = contractRun(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.code, code)
			assert.True(t, strings.HasPrefix(out, tc.word+"\n"), out)
		})
	}

	usage := map[string][]string{
		"no --issuer":   {"eid", "logout-token", "--audience", "test-client", good},
		"no --audience": {"eid", "logout-token", "--issuer", iss, good},
		"no token":      {"eid", "logout-token", "--issuer", iss, "--audience", "test-client"},
		"two tokens":    {"eid", "logout-token", "--issuer", iss, "--audience", "test-client", good, good},
	}
	for name, args := range usage {
		code, _, _ := contractRun(t, "", args...)
		assert.Equal(t, exitUsage, code, name)
	}
}
