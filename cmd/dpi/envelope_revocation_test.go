package main

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// TestRevocationCheckerLoopback asks dpitest's OCSP responder and CRL server, on loopback,
// through the checker dpi envelope open wires: OCSP first, the CRL when OCSP does not
// answer, unknown when neither does; a revoked certificate is revoked by either.
func TestRevocationCheckerLoopback(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	good, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A"})
	require.NoError(t, err)
	revoked, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A, revoked"})
	require.NoError(t, err)
	require.NoError(t, pki.Revoke(revoked.Cert, time.Now().Add(-time.Hour)))
	chain := func(c *dpitest.Credential) []*x509.Certificate {
		return []*x509.Certificate{c.Cert, pki.Intermediate, pki.Root}
	}
	ctx := context.Background()
	tests := []struct {
		name      string
		ocsp, crl bool
		cred      *dpitest.Credential
		want      interop.RevocationStatus
	}{
		{"good by OCSP", true, false, good, interop.RevocationGood},
		{"good by CRL, OCSP down", false, true, good, interop.RevocationGood},
		{"unknown, OCSP and CRL down", false, false, good, interop.RevocationUnknown},
		{"revoked by OCSP", true, false, revoked, interop.RevocationRevoked},
		{"revoked by CRL, OCSP down", false, true, revoked, interop.RevocationRevoked},
		{"unknown for a revoked one, OCSP and CRL down", false, false, revoked, interop.RevocationUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pki.SetOCSPAvailable(tc.ocsp)
			pki.SetCRLAvailable(tc.crl)
			t.Cleanup(func() { pki.SetOCSPAvailable(true); pki.SetCRLAvailable(true) })
			st, err := newRevocationChecker(nil, nil).CheckRevocation(ctx, chain(tc.cred))
			assert.Equal(t, tc.want, st)
			if tc.want == interop.RevocationUnknown {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
	st, err := newRevocationChecker(nil, nil).CheckRevocation(ctx, []*x509.Certificate{good.Cert})
	assert.Equal(t, interop.RevocationUnknown, st, "a chain without an issuer")
	assert.Error(t, err)
}

// TestRevocationCheckerFaults wires the checker into agency B's handler and sends A's
// signed requests over loopback: a good signer is served, a revoked one refused as X-Road
// refuses it (400 Client.CertValidation), and one whose status nobody can give answered
// Server.ServerProxy.MissingValidationInfo (500), never served.
func TestRevocationCheckerFaults(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	a, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A"})
	require.NoError(t, err)
	b, err := pki.Issue(dpitest.CertOptions{CommonName: "agency B"})
	require.NoError(t, err)
	clientID := interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000001", Subsystem: "benefits"}
	provider := interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}
	dir, err := interop.NewStaticDirectory(
		interop.Member{ID: clientID, Certificates: []*x509.Certificate{a.Cert}},
		interop.Member{ID: provider, Certificates: []*x509.Certificate{b.Cert}},
	)
	require.NoError(t, err)
	checked, err := interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, Revocation: newRevocationChecker(nil, nil)})
	require.NoError(t, err)
	// A checks B's responses without asking: this test is about B's refusals.
	lenient, err := interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
	require.NoError(t, err)
	signA, err := interop.NewSigner(a.Key, a.Chain)
	require.NoError(t, err)
	signB, err := interop.NewSigner(b.Key, b.Chain)
	require.NoError(t, err)
	served := 0
	h, err := interop.NewHandler(interop.HandlerConfig{Provider: provider, Signer: signB, Verifier: checked},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++; _, _ = w.Write([]byte("record")) }))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tr, err := interop.NewTransport(interop.TransportConfig{Client: clientID, Service: interop.ServiceID{Provider: provider, Code: "person"},
		Signer: signA, Verifier: lenient})
	require.NoError(t, err)
	client := &http.Client{Transport: tr}
	get := func() *http.Response {
		resp, err := client.Get(srv.URL + "/v1/persons/42")
		require.NoError(t, err)
		return resp
	}

	resp := get()
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "record", string(body))

	pki.SetOCSPAvailable(false)
	pki.SetCRLAvailable(false)
	resp = get()
	f, err := interop.ReadFault(resp)
	require.NoError(t, err)
	require.NotNil(t, f)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "Server.ServerProxy.MissingValidationInfo", f.Type)
	assert.Equal(t, "the revocation status of the signer's certificate is unknown: try again later", f.Message)
	assert.NotContains(t, f.Message, "127.0.0.1", "the fault names no responder")

	pki.SetCRLAvailable(true)
	require.NoError(t, pki.Revoke(a.Cert, time.Now().Add(-time.Minute)))
	resp = get()
	f, err = interop.ReadFault(resp)
	require.NoError(t, err)
	require.NotNil(t, f)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "Client.CertValidation", f.Type)
	assert.Equal(t, 1, served, "only the good signer's request reached the service")
}

// TestEnvelopeOpenRevocationServers runs dpi envelope open against the signer's own OCSP
// responder and CRL server: valid (0) while either answers, indeterminate (3) when neither
// does.
func TestEnvelopeOpenRevocationServers(t *testing.T) {
	f := newEnvelopeFixture(t)
	signed := f.seal(t)
	for _, tc := range []struct {
		name      string
		ocsp, crl bool
		code      int
	}{
		{"OCSP and CRL up", true, true, exitOK},
		{"OCSP down, CRL up", false, true, exitOK},
		{"OCSP and CRL down", false, false, exitIndeterminate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.pki.SetOCSPAvailable(tc.ocsp)
			f.pki.SetCRLAvailable(tc.crl)
			t.Cleanup(func() { f.pki.SetOCSPAvailable(true); f.pki.SetCRLAvailable(true) })
			code, _, errOut := contractRun(t, "", "envelope", "open", "--trust", f.roots, signed)
			assert.Equal(t, tc.code, code, errOut)
			if tc.code == exitIndeterminate {
				assert.Contains(t, errOut, "indeterminate")
			}
		})
	}
}
