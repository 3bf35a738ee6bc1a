package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

func runEID(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), append([]string{"eid"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEIDVerify(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	good, err := idp.MintIDToken(map[string]any{"nonce": "abc"})
	require.NoError(t, err)
	expired, err := idp.MintIDToken(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	require.NoError(t, err)
	iss := idp.Issuer()

	t.Run("accepted, human", func(t *testing.T) {
		code, out, _ := runEID(t, "", "verify", "--issuer", iss, "--audience", "test-client", "--nonce", "abc", good)
		assert.Equal(t, exitOK, code)
		assert.Contains(t, out, "ACCEPTED")
		assert.Contains(t, out, "Maria da Silva")
		assert.Contains(t, out, "substantial")
	})
	t.Run("accepted, json from stdin", func(t *testing.T) {
		code, out, _ := runEID(t, good+"\n", "verify", "--issuer", iss, "--audience", "test-client", "--min-loa", "substantial", "--json", "-")
		require.Equal(t, exitOK, code)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &v))
		assert.Equal(t, true, v["accepted"])
		assert.Equal(t, "test-person-1", v["identity"].(map[string]any)["subject"])
	})
	t.Run("expired is rejected", func(t *testing.T) {
		code, out, stderr := runEID(t, "", "verify", "--json", "--issuer", iss, "--audience", "test-client", expired)
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, stderr, "exp check failed")
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &v))
		assert.Equal(t, false, v["accepted"])
		assert.Equal(t, "exp", v["check"])
	})
	t.Run("wrong nonce is rejected", func(t *testing.T) {
		code, _, stderr := runEID(t, "", "verify", "--issuer", iss, "--audience", "test-client", "--nonce", "xyz", good)
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, stderr, "nonce")
	})
	t.Run("wrong audience is rejected", func(t *testing.T) {
		code, _, _ := runEID(t, "", "verify", "--issuer", iss, "--audience", "other", good)
		assert.Equal(t, exitRejected, code)
	})
	t.Run("level too low is rejected", func(t *testing.T) {
		code, out, _ := runEID(t, "", "verify", "--issuer", iss, "--audience", "test-client", "--min-loa", "high", "--json", good)
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, out, `"check": "loa"`)
	})
	for name, args := range map[string][]string{
		"no issuer":       {"verify", "--audience", "c", good},
		"no token":        {"verify", "--issuer", iss, "--audience", "c"},
		"garbage token":   {"verify", "--issuer", iss, "--audience", "test-client", "not-a-token"},
		"http issuer":     {"verify", "--issuer", "http://idp.example", "--audience", "c", good},
		"bad min-loa":     {"verify", "--issuer", iss, "--audience", "c", "--min-loa", "gold", good},
		"unknown profile": {"verify", "--issuer", iss, "--audience", "c", "--profile", "atlantis", good},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, _ := runEID(t, "", args...)
			assert.Equal(t, exitUsage, code)
		})
	}
	t.Run("unreachable issuer is indeterminate", func(t *testing.T) {
		down, err := dpitest.StartIdP(dpitest.IdPOptions{})
		require.NoError(t, err)
		tok, err := down.MintIDToken(nil)
		require.NoError(t, err)
		down.Close()
		code, _, _ := runEID(t, "", "verify", "--issuer", down.Issuer(), "--audience", "test-client", tok)
		assert.Equal(t, exitIndeterminate, code)
	})
}

func TestEIDProfiles(t *testing.T) {
	code, out, _ := runEID(t, "", "profiles")
	assert.Equal(t, exitOK, code)
	for _, n := range []string{"gov.br", "claveunica", "iduruguay", "miargentina", "esignet", "tara"} {
		assert.Contains(t, out, n)
	}
}

func TestEIDCredential(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	holder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	issued, err := idp.IssueCredential("urn:eudi:pid:1", map[string]any{"given_name": "Maria", "birthdate": "1990-04-12"}, []string{"given_name", "birthdate"}, holder.Public())
	require.NoError(t, err)
	pres, err := dpitest.Present(issued, []string{"birthdate"}, holder, "https://agency.example", "n-1", time.Now())
	require.NoError(t, err)
	base := []string{"credential", "--issuer", idp.Issuer(), "--type", "urn:eudi:pid:1", "--audience", "https://agency.example"}

	code, out, _ := runEID(t, pres, append(base, "--nonce", "n-1", "--json", "-")...)
	require.Equal(t, exitOK, code, out)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, true, v["accepted"])
	assert.Equal(t, []any{"birthdate"}, v["credential"].(map[string]any)["disclosed"])

	code, _, stderr := runEID(t, "", append(base, "--nonce", "other", pres)...)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, stderr, "nonce")

	code, _, _ = runEID(t, "", append(base, "--nonce", "n-1", "garbage")...)
	assert.Equal(t, exitUsage, code)
	code, _, _ = runEID(t, "", "credential", "--issuer", idp.Issuer(), pres)
	assert.Equal(t, exitUsage, code)
}
