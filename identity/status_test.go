package identity_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// IETF Token Status List: a credential whose status claim points to the issuer's status
// list is checked against it; the list is verified with the issuer's keys and cached for
// its ttl, so a status flipped at the issuer is seen once the cached list expires.
func TestCredentialStatusList(t *testing.T) {
	idp, cv, clk, _ := credentialSetup(t)
	holder := ecKey(t)
	want := identity.Presentation{Audience: "https://verifier.example", Nonce: "vn-1"}
	issue := func(status any) string {
		t.Helper()
		claims := map[string]any{"given_name": "Maria"}
		if status != nil {
			claims["status"] = status
		}
		issued, err := idp.IssueCredential(pidType, claims, []string{"given_name"}, holder.Public())
		require.NoError(t, err)
		return issued
	}
	verify := func(issued string) error {
		t.Helper()
		pres, err := dpitest.Present(issued, []string{"given_name"}, holder, want.Audience, want.Nonce, clk.Now())
		require.NoError(t, err)
		_, err = cv.Verify(ctx(t), pres, want)
		return err
	}
	valid, revoked, suspended, custom := issue(idp.CredentialStatus(1)), issue(idp.CredentialStatus(2)), issue(idp.CredentialStatus(3)), issue(idp.CredentialStatus(4))
	for _, c := range []string{valid, revoked, suspended, custom} {
		require.NoError(t, verify(c))
	}

	require.NoError(t, idp.SetCredentialStatus(2, dpitest.StatusInvalid))
	require.NoError(t, idp.SetCredentialStatus(3, dpitest.StatusSuspended))
	require.NoError(t, idp.SetCredentialStatus(4, 0x03))
	require.NoError(t, verify(revoked), "the cached list is used until its ttl runs out")

	clk.Advance(dpitest.StatusListTTL*time.Second + time.Second)
	assert.NoError(t, verify(valid))
	err := verify(revoked)
	assert.ErrorIs(t, err, identity.ErrRevoked)
	var re *identity.RejectedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "status", re.Check)
	assert.ErrorIs(t, verify(suspended), identity.ErrSuspended)
	assert.ErrorIs(t, verify(custom), identity.ErrRevoked, "an application-specific status fails closed")

	// Suspension lifted.
	require.NoError(t, idp.SetCredentialStatus(3, dpitest.StatusValid))
	clk.Advance(dpitest.StatusListTTL*time.Second + time.Second)
	assert.NoError(t, verify(suspended))

	for name, tt := range map[string]struct {
		status any
		want   error
	}{
		"idx beyond the list":        {idp.CredentialStatus(dpitest.StatusListSize * 4), identity.ErrClaims},
		"negative idx":               {map[string]any{"status_list": map[string]any{"idx": -1, "uri": idp.StatusListURI()}}, identity.ErrClaims},
		"no status_list":             {map[string]any{"other_mechanism": map[string]any{}}, identity.ErrClaims},
		"uri off loopback over http": {map[string]any{"status_list": map[string]any{"idx": 1, "uri": "http://status.example/1"}}, identity.ErrClaims},
		"list for another uri":       {map[string]any{"status_list": map[string]any{"idx": 1, "uri": idp.StatusListURI() + "?other"}}, identity.ErrUnavailable},
		"not a status list":          {map[string]any{"status_list": map[string]any{"idx": 1, "uri": idp.Issuer() + "/jwks"}}, identity.ErrUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, verify(issue(tt.status)), tt.want)
		})
	}
}

// A status list must be signed by the credential's issuer.
func TestCredentialStatusListOfAnotherIssuer(t *testing.T) {
	idp, cv, clk, _ := credentialSetup(t)
	other := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	holder := ecKey(t)
	issued, err := idp.IssueCredential(pidType, map[string]any{"given_name": "Maria", "status": map[string]any{
		"status_list": map[string]any{"idx": 1, "uri": other.StatusListURI()}}}, []string{"given_name"}, holder.Public())
	require.NoError(t, err)
	pres, err := dpitest.Present(issued, nil, holder, "https://verifier.example", "vn-1", clk.Now())
	require.NoError(t, err)
	_, err = cv.Verify(ctx(t), pres, identity.Presentation{Audience: "https://verifier.example", Nonce: "vn-1"})
	assert.ErrorIs(t, err, identity.ErrUnavailable)
}

// InsecureSkipStatus is the loud opt-out.
func TestCredentialStatusSkipped(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	cv, err := identity.NewCredentialVerifier(identity.CredentialConfig{Now: clk.Now, InsecureSkipStatus: true,
		Issuers: []identity.CredentialIssuer{{URL: idp.Issuer(), Types: []string{pidType}}}})
	require.NoError(t, err)
	t.Cleanup(cv.Close)
	holder := ecKey(t)
	require.NoError(t, idp.SetCredentialStatus(7, dpitest.StatusInvalid))
	issued, err := idp.IssueCredential(pidType, map[string]any{"given_name": "Maria", "status": idp.CredentialStatus(7)}, []string{"given_name"}, holder.Public())
	require.NoError(t, err)
	pres, err := dpitest.Present(issued, nil, holder, "https://verifier.example", "vn-1", clk.Now())
	require.NoError(t, err)
	_, err = cv.Verify(ctx(t), pres, identity.Presentation{Audience: "https://verifier.example", Nonce: "vn-1"})
	assert.NoError(t, err)
}

// A status list that decompresses beyond limits.MaxStatusListBytes is refused (a zlib
// bomb), and so is one with bits other than 1, 2, 4 or 8.
func TestCredentialStatusListBounds(t *testing.T) {
	idp, cv, clk, _ := credentialSetup(t)
	holder := ecKey(t)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, err := zw.Write(make([]byte, 17<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	for name, tt := range map[string]struct {
		list map[string]any
		why  string
	}{
		"zlib bomb": {map[string]any{"bits": 1, "lst": base64.RawURLEncoding.EncodeToString(z.Bytes())}, "status list larger than"},
		"3 bits":    {map[string]any{"bits": 3, "lst": "eNoDAAAAAAE"}, "bits must be"},
	} {
		t.Run(name, func(t *testing.T) {
			var uri string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				tok, err := idp.MintToken(map[string]any{"typ": "statuslist+jwt"}, map[string]any{
					"sub": uri, "iat": clk.Now().Unix(), "status_list": tt.list})
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				_, _ = w.Write([]byte(tok))
			}))
			t.Cleanup(srv.Close)
			uri = srv.URL + "/list"
			issued, err := idp.IssueCredential(pidType, map[string]any{"given_name": "Maria", "status": map[string]any{
				"status_list": map[string]any{"idx": 0, "uri": uri}}}, []string{"given_name"}, holder.Public())
			require.NoError(t, err)
			pres, err := dpitest.Present(issued, nil, holder, "https://verifier.example", "vn-1", clk.Now())
			require.NoError(t, err)
			_, err = cv.Verify(ctx(t), pres, identity.Presentation{Audience: "https://verifier.example", Nonce: "vn-1"})
			require.ErrorIs(t, err, identity.ErrUnavailable)
			assert.Contains(t, err.Error(), tt.why)
		})
	}
}
