package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// TestEIDCredentialReportClaims: the human report shows each claim as text, one a line,
// never the bytes of the JSON.
func TestEIDCredentialReportClaims(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	holder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	issued, err := idp.IssueCredential("urn:eudi:pid:1", map[string]any{"given_name": "Maria", "age_over_18": true,
		"address": map[string]any{"locality": "Recife"}}, []string{"given_name"}, holder.Public())
	require.NoError(t, err)
	pres, err := dpitest.Present(issued, []string{"given_name"}, holder, "https://agency.example", "n-1", time.Now())
	require.NoError(t, err)
	code, stdout, stderr := contractRun(t, "", "eid", "credential", "--issuer", idp.Issuer(), "--type", "urn:eudi:pid:1",
		"--audience", "https://agency.example", "--nonce", "n-1", pres)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "  claims:\n")
	assert.Regexp(t, `\n    given_name: +Maria\n`, stdout)
	assert.Regexp(t, `\n    age_over_18: +true\n`, stdout)
	assert.Regexp(t, `\n    address: +\{"locality":"Recife"\}\n`, stdout)
	assert.NotRegexp(t, `\[\d+ \d+ \d+`, stdout, "no byte lists")
}
