package dpitest_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// The revocation data a verifier can be handed instead of fetching it: the responder's
// answer and both CAs' CRLs, available while the servers are down.
func TestRevocationDataOffline(t *testing.T) {
	for _, opts := range []dpitest.PKIOptions{{}, {DelegatedOCSP: true}, {KeyType: dpitest.Ed25519}} {
		t.Run(opts.KeyType.String(), func(t *testing.T) {
			now := time.Now().UTC().Truncate(time.Second)
			opts.Now = func() time.Time { return now }
			pki := startPKI(t, opts)
			good := issue(t, pki, dpitest.CertOptions{})
			bad := issue(t, pki, dpitest.CertOptions{NoRevocationURLs: true})
			require.NoError(t, pki.Revoke(bad.Cert, now.Add(-time.Minute)))
			pki.SetOCSPAvailable(false)
			pki.SetCRLAvailable(false)
			for _, u := range []string{pki.CRLURL, pki.Intermediate.CRLDistributionPoints[0]} {
				resp, err := http.Get(u)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, u)
			}

			for _, tc := range []struct {
				cert, issuer *x509.Certificate
				status       int
			}{
				{good.Cert, pki.Intermediate, ocsp.Good},
				{bad.Cert, pki.Intermediate, ocsp.Revoked},
				{pki.Intermediate, pki.Root, ocsp.Good},
			} {
				der, err := pki.OCSPResponse(tc.cert)
				require.NoError(t, err)
				r, err := ocsp.ParseResponseForCert(der, tc.cert, tc.issuer)
				require.NoError(t, err)
				assert.Equal(t, tc.status, r.Status)
				assert.True(t, r.ThisUpdate.Equal(now))
				assert.True(t, r.NextUpdate.After(now))
			}
			stranger := startPKI(t, dpitest.PKIOptions{})
			_, err := pki.OCSPResponse(issue(t, stranger, dpitest.CertOptions{}).Cert)
			assert.ErrorIs(t, err, dpitest.ErrUnknownCertificate)
			_, err = pki.OCSPResponse(nil)
			assert.ErrorIs(t, err, dpitest.ErrUnknownCertificate)

			der, err := pki.CRL()
			require.NoError(t, err)
			crl, err := x509.ParseRevocationList(der)
			require.NoError(t, err)
			require.NoError(t, crl.CheckSignatureFrom(pki.Intermediate))
			require.Len(t, crl.RevokedCertificateEntries, 1)
			assert.Equal(t, 0, crl.RevokedCertificateEntries[0].SerialNumber.Cmp(bad.Cert.SerialNumber))
			block, rest := pem.Decode(dpitest.CRLPEM(der))
			require.NotNil(t, block)
			assert.Empty(t, rest)
			assert.Equal(t, "X509 CRL", block.Type)
			assert.Equal(t, der, block.Bytes)

			rootDER, err := pki.RootCRL()
			require.NoError(t, err)
			rootCRL, err := x509.ParseRevocationList(rootDER)
			require.NoError(t, err)
			require.NoError(t, rootCRL.CheckSignatureFrom(pki.Root))
			assert.Empty(t, rootCRL.RevokedCertificateEntries)
		})
	}
}

func TestNoRevocationURLs(t *testing.T) {
	pki := startPKI(t, dpitest.PKIOptions{})
	c := issue(t, pki, dpitest.CertOptions{NoRevocationURLs: true})
	assert.Empty(t, c.Cert.OCSPServer)
	assert.Empty(t, c.Cert.CRLDistributionPoints)
	inter := x509.NewCertPool()
	inter.AddCert(pki.Intermediate)
	_, err := c.Cert.Verify(x509.VerifyOptions{Roots: pki.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	assert.NoError(t, err)
}

// openssl reads the exported CRL (PEM) and OCSP response (DER) on its own, with the
// servers down: `openssl crl -verify` and `openssl ocsp -respin`.
func TestOpenSSLRevocationData(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	for _, opts := range []dpitest.PKIOptions{{}, {DelegatedOCSP: true}} {
		name := "direct"
		if opts.DelegatedOCSP {
			name = "delegated"
		}
		t.Run(name, func(t *testing.T) {
			pki := startPKI(t, opts)
			good := issue(t, pki, dpitest.CertOptions{NoRevocationURLs: true})
			bad := issue(t, pki, dpitest.CertOptions{NoRevocationURLs: true})
			require.NoError(t, pki.Revoke(bad.Cert, time.Now().Add(-time.Minute)))
			pki.SetOCSPAvailable(false)
			pki.SetCRLAvailable(false)
			dir := t.TempDir()
			root := writeFile(t, dir, "root.pem", pki.RootsPEM())
			inter := writeFile(t, dir, "inter.pem", dpitest.CertsPEM(pki.Intermediate))
			der, err := pki.CRL()
			require.NoError(t, err)
			crl := writeFile(t, dir, "crl.pem", dpitest.CRLPEM(der))
			out, err := runOpenSSL(t, openssl, "crl", "-in", crl, "-CAfile", inter, "-noout", "-verify")
			require.NoError(t, err, out)
			assert.Contains(t, out, "verify OK")
			for _, tc := range []struct {
				name string
				cert *x509.Certificate
			}{{"good", good.Cert}, {"revoked", bad.Cert}} {
				leaf := writeFile(t, dir, tc.name+".pem", dpitest.CertsPEM(tc.cert))
				out, err := runOpenSSL(t, openssl, "verify", "-crl_check", "-CRLfile", crl, "-CAfile", root, "-untrusted", inter, leaf)
				assert.Equal(t, tc.name == "good", err == nil, out)
				resp, err := pki.OCSPResponse(tc.cert)
				require.NoError(t, err)
				respFile := writeFile(t, dir, tc.name+".ocsp", resp)
				out, err = runOpenSSL(t, openssl, "ocsp", "-respin", respFile, "-issuer", inter, "-cert", leaf, "-CAfile", root)
				require.NoError(t, err, out)
				assert.Contains(t, out, "Response verify OK")
				assert.Contains(t, out, leaf+": "+tc.name)
			}
		})
	}
}
