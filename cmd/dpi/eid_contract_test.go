package main

import (
	"encoding/json"
	"testing"

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
