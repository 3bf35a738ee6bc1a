package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// TestEIDVerifyAudienceContract: OpenID Connect Core §3.1.3.7 step 3, "The ID Token MUST
// be rejected if [...] it contains additional audiences not trusted by the Client", on the
// command line: an azp naming the client is not enough, --trusted-audience is.
func TestEIDVerifyAudienceContract(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	twoAud, err := idp.MintIDToken(map[string]any{"aud": []string{"test-client", "other-client"}, "azp": "test-client"})
	require.NoError(t, err)
	base := []string{"eid", "verify", "--json", "--issuer", idp.Issuer(), "--audience", "test-client"}
	tests := []struct {
		name  string
		extra []string
		code  int
		check string
	}{
		{"extra untrusted audience", nil, exitRejected, "aud"},
		{"another audience is trusted", []string{"--trusted-audience", "partner"}, exitRejected, "aud"},
		{"extra audience trusted", []string{"--trusted-audience", "partner", "--trusted-audience", "other-client"}, exitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), tc.extra...), twoAud)
			code, out, errOut := contractRun(t, "", args...)
			require.Equal(t, tc.code, code, errOut)
			var v map[string]json.RawMessage
			onlyJSON(t, out, &v)
			if tc.check != "" {
				assert.Equal(t, `"`+tc.check+`"`, string(v["check"]))
			}
		})
	}
}

// dpi eid credential checks the credential's status list: a revoked credential is
// rejected (exit 1, check "status"), as the Token Status List draft asks of a verifier.
func TestEIDCredentialStatusContract(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	holder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	require.NoError(t, idp.SetCredentialStatus(5, dpitest.StatusInvalid))
	base := []string{"eid", "credential", "--json", "--issuer", idp.Issuer(), "--type", "urn:eudi:pid:1",
		"--audience", "https://agency.example", "--nonce", "n-1"}
	for _, tc := range []struct {
		idx   int
		code  int
		check string
	}{{4, exitOK, ""}, {5, exitRejected, "status"}} {
		issued, err := idp.IssueCredential("urn:eudi:pid:1", map[string]any{"given_name": "Maria", "status": idp.CredentialStatus(tc.idx)},
			[]string{"given_name"}, holder.Public())
		require.NoError(t, err)
		pres, err := dpitest.Present(issued, nil, holder, "https://agency.example", "n-1", time.Now())
		require.NoError(t, err)
		code, out, errOut := contractRun(t, "", append(append([]string{}, base...), pres)...)
		require.Equal(t, tc.code, code, errOut)
		var v map[string]json.RawMessage
		onlyJSON(t, out, &v)
		if tc.check != "" {
			assert.Equal(t, `"`+tc.check+`"`, string(v["check"]))
			assert.Contains(t, errOut, "revoked")
		}
	}
}
