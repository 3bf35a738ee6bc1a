package dpitest_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// queryOCSP asks the responder about cert over POST (or GET) and returns the parsed,
// signature-checked response.
func queryOCSP(t *testing.T, pki *dpitest.PKI, cert, issuer *x509.Certificate, get bool) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	require.NoError(t, err)
	var resp *http.Response
	if get {
		resp, err = http.Get(pki.OCSPURL + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
	} else {
		resp, err = http.Post(pki.OCSPURL, "application/ocsp-request", bytes.NewReader(req))
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/ocsp-response", resp.Header.Get("Content-Type"))
	der, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r, err := ocsp.ParseResponseForCert(der, cert, issuer)
	require.NoError(t, err)
	return r
}

func TestOCSP(t *testing.T) {
	for _, opts := range []dpitest.PKIOptions{
		{},
		{DelegatedOCSP: true},
		{KeyType: dpitest.Ed25519},
		{KeyType: dpitest.RSA2048},
	} {
		name := opts.KeyType.String()
		if opts.DelegatedOCSP {
			name += "-delegated"
		}
		t.Run(name, func(t *testing.T) {
			now := time.Now().UTC().Truncate(time.Second)
			opts.Now = func() time.Time { return now }
			pki := startPKI(t, opts)
			c := issue(t, pki, dpitest.CertOptions{})

			for _, get := range []bool{false, true} {
				r := queryOCSP(t, pki, c.Cert, pki.Intermediate, get)
				assert.Equal(t, ocsp.Good, r.Status)
				assert.Equal(t, now, r.ThisUpdate)
				assert.True(t, r.NextUpdate.After(now))
			}

			revokedAt := now.Add(-time.Minute)
			require.NoError(t, pki.Revoke(c.Cert, revokedAt))
			for _, get := range []bool{false, true} {
				r := queryOCSP(t, pki, c.Cert, pki.Intermediate, get)
				assert.Equal(t, ocsp.Revoked, r.Status)
				assert.Equal(t, revokedAt, r.RevokedAt)
			}

			// A serial the intermediate never issued is unknown.
			ghost := *c.Cert
			ghost.SerialNumber = big.NewInt(42)
			assert.Equal(t, ocsp.Unknown, queryOCSP(t, pki, &ghost, pki.Intermediate, false).Status)

			// The responder answers for the intermediate too, signed for the root.
			assert.Equal(t, ocsp.Good, queryOCSP(t, pki, pki.Intermediate, pki.Root, false).Status)
		})
	}
}

func TestOCSPRevocationInTheFuture(t *testing.T) {
	now := time.Now()
	pki := startPKI(t, dpitest.PKIOptions{Now: func() time.Time { return now }})
	c := issue(t, pki, dpitest.CertOptions{})
	require.NoError(t, pki.Revoke(c.Cert, now.Add(time.Hour)))
	assert.Equal(t, ocsp.Good, queryOCSP(t, pki, c.Cert, pki.Intermediate, false).Status)
}

func TestOCSPErrors(t *testing.T) {
	pki := startPKI(t, dpitest.PKIOptions{})
	c := issue(t, pki, dpitest.CertOptions{})
	other := startPKI(t, dpitest.PKIOptions{})

	post := func(body []byte) (int, []byte) {
		resp, err := http.Post(pki.OCSPURL, "application/ocsp-request", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}

	code, body := post([]byte("not der"))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, ocsp.MalformedRequestErrorResponse, body)

	code, body = post(make([]byte, 1<<20))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, ocsp.MalformedRequestErrorResponse, body)

	// A request about another PKI's certificate: this responder is not authorised.
	foreign := issue(t, other, dpitest.CertOptions{})
	req, err := ocsp.CreateRequest(foreign.Cert, other.Intermediate, nil)
	require.NoError(t, err)
	_, body = post(req)
	assert.Equal(t, ocsp.UnauthorizedErrorResponse, body)

	resp, err := http.Get(pki.OCSPURL + "/not-base64!")
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, ocsp.MalformedRequestErrorResponse, body)

	// Down: HTTP 503, the signal of a verifier's TRY_LATER.
	pki.SetOCSPAvailable(false)
	req, err = ocsp.CreateRequest(c.Cert, pki.Intermediate, nil)
	require.NoError(t, err)
	code, _ = post(req)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	pki.SetOCSPAvailable(true)
	code, _ = post(req)
	assert.Equal(t, http.StatusOK, code)
}

// TestOpenSSLOCSP asks the responder with `openssl ocsp`, an independent client that
// checks the response signature and the responder's authorisation.
func TestOpenSSLOCSP(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	for _, tc := range []struct {
		name string
		opts dpitest.PKIOptions
	}{
		{"direct", dpitest.PKIOptions{}},
		{"delegated", dpitest.PKIOptions{DelegatedOCSP: true}},
		{"rsa", dpitest.PKIOptions{KeyType: dpitest.RSA3072}},
		{"ed25519 delegated", dpitest.PKIOptions{KeyType: dpitest.Ed25519}},
	} {
		opts := tc.opts
		t.Run(tc.name, func(t *testing.T) {
			pki := startPKI(t, opts)
			c := issue(t, pki, dpitest.CertOptions{})
			dir := t.TempDir()
			root := writeFile(t, dir, "root.pem", pki.RootsPEM())
			inter := writeFile(t, dir, "inter.pem", dpitest.CertsPEM(pki.Intermediate))
			leaf := writeFile(t, dir, "leaf.pem", dpitest.CertsPEM(c.Cert))
			ask := func() string {
				out, err := runOpenSSL(t, openssl, "ocsp", "-issuer", inter, "-cert", leaf, "-url", pki.OCSPURL,
					"-CAfile", root, "-no_nonce")
				require.NoError(t, err, out)
				assert.Contains(t, out, "Response verify OK")
				return out
			}
			assert.Contains(t, ask(), leaf+": good")
			require.NoError(t, pki.Revoke(c.Cert, time.Now().Add(-time.Minute)))
			assert.Contains(t, ask(), leaf+": revoked")
		})
	}
}

// BenchmarkOCSP measures one OCSP request and signed response over loopback HTTP.
func BenchmarkOCSP(b *testing.B) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(b, err)
	b.Cleanup(pki.Close)
	c, err := pki.Issue(dpitest.CertOptions{})
	require.NoError(b, err)
	req, err := ocsp.CreateRequest(c.Cert, pki.Intermediate, nil)
	require.NoError(b, err)
	for b.Loop() {
		resp, err := http.Post(pki.OCSPURL, "application/ocsp-request", bytes.NewReader(req))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
