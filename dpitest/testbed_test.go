package dpitest_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

func startTestbed(t *testing.T) *dpitest.Testbed {
	t.Helper()
	tb, err := dpitest.StartTestbed(dpitest.TestbedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(tb.Close)
	return tb
}

// fetchToken asks the testbed's IdP for a token, as curl would.
func fetchToken(t *testing.T, tb *dpitest.Testbed, q url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(tb.Info.Token + "?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestTestbedFilesAndInfo(t *testing.T) {
	tb := startTestbed(t)
	info, err := dpitest.ReadTestbedInfo(tb.Dir())
	require.NoError(t, err)
	assert.Equal(t, tb.Info, info)
	for _, f := range []string{"root.pem", "chain.pem", "signer.key", "signer.pem", "agency-b.key", "agency-b.pem", "testbed.env"} {
		assert.FileExists(t, filepath.Join(tb.Dir(), f))
	}
	env, err := os.ReadFile(filepath.Join(tb.Dir(), "testbed.env"))
	require.NoError(t, err)
	assert.Contains(t, string(env), "export DPI_TESTBED_TSA='"+tb.Info.TSA+"'\n")
	assert.NotContains(t, string(env), tb.Info.Admin, "the admin URL stays in testbed.json")

	dir := tb.Dir()
	tb.Close()
	assert.NoFileExists(t, filepath.Join(dir, "testbed.json"), "a stopped testbed leaves no URLs behind")
	assert.FileExists(t, filepath.Join(dir, "signer.key"))
}

func TestTestbedRefusesNonLoopback(t *testing.T) {
	_, err := dpitest.StartTestbed(dpitest.TestbedOptions{Dir: t.TempDir(), Listen: "0.0.0.0:0"})
	require.ErrorIs(t, err, dpitest.ErrInvalidOptions)
	_, err = dpitest.StartTestbed(dpitest.TestbedOptions{})
	require.ErrorIs(t, err, dpitest.ErrInvalidOptions)
}

func TestTestbedRevoke(t *testing.T) {
	tb := startTestbed(t)
	require.ErrorIs(t, tb.Revoke("nobody"), dpitest.ErrUnknownCertificate)
	resp, err := http.Post(tb.Info.Admin+"/revoke?name=signer", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	der, err := tb.PKI.CRL()
	require.NoError(t, err)
	crl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	require.Len(t, crl.RevokedCertificateEntries, 1)
	assert.Equal(t, 0, crl.RevokedCertificateEntries[0].SerialNumber.Cmp(tb.Credentials["signer"].Cert.SerialNumber))

	resp, err = http.Post(tb.Info.Admin[:len(tb.Info.Admin)-4]+"/revoke?name=signer", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the admin path is secret")
}

// TestTestbedTokens verifies the tokens of GET /testbed/token with the identity package,
// plain and shaped as each built-in profile's IdP shapes them.
func TestTestbedTokens(t *testing.T) {
	tb := startTestbed(t)
	code, body := fetchToken(t, tb, url.Values{"nonce": {"n"}})
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "invalid_request", body["error"])
	code, _ = fetchToken(t, tb, url.Values{"aud": {"a"}, "profile": {"nowhere"}})
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = fetchToken(t, tb, url.Values{"aud": {"a"}, "loa": {"extreme"}})
	assert.Equal(t, http.StatusBadRequest, code)

	for _, tc := range []struct {
		profile, loa string
		wantLoA      identity.LoA
		national     string // Country/Scheme/Value, "" for none
	}{
		{"", "high", identity.LoAHigh, ""},
		{"gov.br", "", identity.LoAUnknown, "BR/cpf/52998224725"},
		{"govbr", "", identity.LoAUnknown, "BR/cpf/52998224725"},
		{"tara", "high", identity.LoAHigh, "EE/ik/38001085718"},
		{"iduruguay", "substantial", identity.LoASubstantial, "UY/ci/12345672"},
		{"miargentina", "", identity.LoAUnknown, "AR/dni/20123456"},
		{"claveunica", "", identity.LoAUnknown, ""},
		{"esignet", "substantial", identity.LoASubstantial, ""},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			q := url.Values{"aud": {"my-service"}, "nonce": {"n-1"}}
			if tc.profile != "" {
				q.Set("profile", tc.profile)
			}
			if tc.loa != "" {
				q.Set("loa", tc.loa)
			}
			code, body := fetchToken(t, tb, q)
			require.Equal(t, http.StatusOK, code, "%v", body)
			iss := identity.Issuer{URL: tb.Info.Issuer, ClientID: "my-service"}
			if tc.profile != "" {
				p, err := identity.LookupProfile(tc.profile)
				if tc.profile == "govbr" {
					p, err = identity.LookupProfile("gov.br")
				}
				require.NoError(t, err)
				iss.Profile = p
			}
			v, err := identity.NewVerifier(identity.Config{Issuers: []identity.Issuer{iss}})
			require.NoError(t, err)
			defer v.Close()
			id, err := v.Verify(context.Background(), body["id_token"].(string), identity.Expect{Nonce: "n-1"})
			require.NoError(t, err)
			assert.Equal(t, tc.wantLoA, id.Assurance.LoA)
			if tc.national == "" {
				assert.Nil(t, id.NationalID)
				return
			}
			require.NotNil(t, id.NationalID)
			if tc.profile != "tara" { // identity has no Estonian validator yet
				assert.True(t, id.NationalID.Validated)
			}
			assert.Equal(t, tc.national, id.NationalID.Country+"/"+id.NationalID.Scheme+"/"+id.NationalID.Value)
		})
	}
}

// TestTestbedTokensNeedTheOption: a plain test IdP hands out no tokens.
func TestTestbedTokensNeedTheOption(t *testing.T) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	require.NoError(t, err)
	defer idp.Close()
	resp, err := http.Get(idp.Issuer() + "/testbed/token?aud=a")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
