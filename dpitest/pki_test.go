package dpitest_test

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
)

func startPKI(t *testing.T, opts dpitest.PKIOptions) *dpitest.PKI {
	t.Helper()
	pki, err := dpitest.StartPKI(opts)
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	return pki
}

func issue(t *testing.T, pki *dpitest.PKI, o dpitest.CertOptions) *dpitest.Credential {
	t.Helper()
	c, err := pki.Issue(o)
	require.NoError(t, err)
	return c
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// runOpenSSL runs openssl with args and returns its combined output and error.
func runOpenSSL(t *testing.T, openssl string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), openssl, args...).CombinedOutput()
	return string(out), err
}

func TestIssueChainsToRoot(t *testing.T) {
	for _, caKey := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(caKey.String(), func(t *testing.T) {
			pki := startPKI(t, dpitest.PKIOptions{KeyType: caKey})
			for _, tc := range []struct {
				usage dpitest.Usage
				key   dpitest.KeyType
				eku   x509.ExtKeyUsage
			}{
				{dpitest.UsageSigning, dpitest.ECDSAP384, x509.ExtKeyUsageAny},
				{dpitest.UsageTLS, dpitest.ECDSAP256, x509.ExtKeyUsageServerAuth},
				{dpitest.UsageTimeStamping, dpitest.Ed25519, x509.ExtKeyUsageTimeStamping},
			} {
				c := issue(t, pki, dpitest.CertOptions{CommonName: "leaf", KeyType: tc.key, Usage: tc.usage})
				inter := x509.NewCertPool()
				inter.AddCert(pki.Intermediate)
				_, err := c.Cert.Verify(x509.VerifyOptions{Roots: pki.Pool(), Intermediates: inter,
					KeyUsages: []x509.ExtKeyUsage{tc.eku}})
				assert.NoError(t, err, "usage %d", tc.usage)
				assert.Equal(t, []string{pki.OCSPURL}, c.Cert.OCSPServer)
				assert.Equal(t, []string{pki.CRLURL}, c.Cert.CRLDistributionPoints)
				require.Len(t, c.Chain, 2)
				assert.Equal(t, c.Cert, c.Chain[0])
				assert.Equal(t, pki.Intermediate, c.Chain[1])
			}
		})
	}
}

func TestIssueOptions(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	pki := startPKI(t, dpitest.PKIOptions{Now: func() time.Time { return now }})

	c := issue(t, pki, dpitest.CertOptions{})
	assert.Equal(t, now.Add(-time.Hour), c.Cert.NotBefore)
	assert.Equal(t, now.Add(365*24*time.Hour), c.Cert.NotAfter)
	assert.Equal(t, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, c.Cert.KeyUsage)
	assert.Empty(t, c.Cert.ExtKeyUsage)
	assert.True(t, c.Cert.BasicConstraintsValid)
	assert.False(t, c.Cert.IsCA)

	// A CA certificate with signing key usage, for tests that it is refused as a signer.
	ca := issue(t, pki, dpitest.CertOptions{Usage: dpitest.UsageSigning, IsCA: true})
	assert.True(t, ca.Cert.BasicConstraintsValid)
	assert.True(t, ca.Cert.IsCA)
	assert.Equal(t, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, ca.Cert.KeyUsage)
	require.NoError(t, pki.Revoke(ca.Cert, now), "the pki knows what it issued")

	tlsCert := issue(t, pki, dpitest.CertOptions{Usage: dpitest.UsageTLS, DNSNames: []string{"agency.test"}})
	assert.Equal(t, []string{"agency.test"}, tlsCert.Cert.DNSNames)
	assert.Len(t, tlsCert.Cert.IPAddresses, 2)

	tsa := pki.TSA().Cert
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, tsa.ExtKeyUsage)
	var critical bool
	for _, e := range tsa.Extensions {
		if e.Id.String() == "2.5.29.37" {
			critical = e.Critical
		}
	}
	assert.True(t, critical, "RFC 3161 §2.3: the TSA's extended key usage must be critical")

	_, err := pki.Issue(dpitest.CertOptions{NotBefore: now, NotAfter: now.Add(-time.Second)})
	assert.ErrorIs(t, err, dpitest.ErrInvalidOptions)
	_, err = pki.Issue(dpitest.CertOptions{KeyType: dpitest.KeyType(99)})
	assert.ErrorIs(t, err, dpitest.ErrUnsupportedKeyType)
	_, err = dpitest.StartPKI(dpitest.PKIOptions{KeyType: dpitest.RSA1024})
	assert.ErrorIs(t, err, dpitest.ErrUnsupportedKeyType)

	other := startPKI(t, dpitest.PKIOptions{})
	foreign := issue(t, other, dpitest.CertOptions{})
	assert.ErrorIs(t, pki.Revoke(foreign.Cert, now), dpitest.ErrUnknownCertificate)
	assert.ErrorIs(t, pki.Revoke(nil, now), dpitest.ErrUnknownCertificate)
}

// TestOpenSSLVerify checks the chains against an independent X.509 implementation, with
// the purpose each usage is for.
func TestOpenSSLVerify(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	for _, caKey := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(caKey.String(), func(t *testing.T) {
			pki := startPKI(t, dpitest.PKIOptions{KeyType: caKey})
			dir := t.TempDir()
			root := writeFile(t, dir, "root.pem", pki.RootsPEM())
			inter := writeFile(t, dir, "inter.pem", dpitest.CertsPEM(pki.Intermediate))
			for _, tc := range []struct {
				name    string
				usage   dpitest.Usage
				key     dpitest.KeyType
				purpose string
			}{
				{"signing", dpitest.UsageSigning, dpitest.ECDSAP256, "smimesign"},
				{"signing-rsa", dpitest.UsageSigning, dpitest.RSA2048, "smimesign"},
				{"tls", dpitest.UsageTLS, dpitest.ECDSAP384, "sslserver"},
				{"tsa", dpitest.UsageTimeStamping, dpitest.ECDSAP256, "timestampsign"},
			} {
				c := issue(t, pki, dpitest.CertOptions{CommonName: tc.name, KeyType: tc.key, Usage: tc.usage})
				leaf := writeFile(t, dir, tc.name+".pem", dpitest.CertsPEM(c.Cert))
				out, err := runOpenSSL(t, openssl, "verify", "-CAfile", root, "-untrusted", inter, leaf)
				assert.NoError(t, err, out)
				assert.Contains(t, out, ": OK")
				out, err = runOpenSSL(t, openssl, "verify", "-purpose", tc.purpose, "-CAfile", root, "-untrusted", inter, leaf)
				assert.NoError(t, err, "purpose %s: %s", tc.purpose, out)
			}
			tsa := writeFile(t, dir, "tsa.pem", dpitest.CertsPEM(pki.TSA().Cert))
			out, err := runOpenSSL(t, openssl, "verify", "-purpose", "timestampsign", "-CAfile", root, "-untrusted", inter, tsa)
			assert.NoError(t, err, out)
		})
	}
}

func TestCRL(t *testing.T) {
	pki := startPKI(t, dpitest.PKIOptions{})
	good := issue(t, pki, dpitest.CertOptions{})
	bad := issue(t, pki, dpitest.CertOptions{})
	require.NoError(t, pki.Revoke(bad.Cert, time.Now().Add(-time.Minute)))

	resp, err := http.Get(pki.CRLURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/pkix-crl", resp.Header.Get("Content-Type"))
	der, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	crl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(pki.Intermediate))
	require.Len(t, crl.RevokedCertificateEntries, 1)
	assert.Equal(t, 0, crl.RevokedCertificateEntries[0].SerialNumber.Cmp(bad.Cert.SerialNumber))

	// The root's CRL, named by the intermediate, lists the intermediate once revoked.
	require.Len(t, pki.Intermediate.CRLDistributionPoints, 1)
	require.NoError(t, pki.Revoke(pki.Intermediate, time.Now().Add(-time.Minute)))
	rootCRL := fetch(t, pki.Intermediate.CRLDistributionPoints[0])
	rl, err := x509.ParseRevocationList(rootCRL)
	require.NoError(t, err)
	require.NoError(t, rl.CheckSignatureFrom(pki.Root))
	require.Len(t, rl.RevokedCertificateEntries, 1)
	assert.Equal(t, 0, rl.RevokedCertificateEntries[0].SerialNumber.Cmp(pki.Intermediate.SerialNumber))

	// openssl checks the same CRL independently.
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	root := writeFile(t, dir, "root.pem", pki.RootsPEM())
	inter := writeFile(t, dir, "inter.pem", dpitest.CertsPEM(pki.Intermediate))
	crlFile := writeFile(t, dir, "crl.der", der)
	out, err := runOpenSSL(t, openssl, "crl", "-inform", "DER", "-in", crlFile, "-out", crlFile+".pem")
	require.NoError(t, err, out)
	for _, tc := range []struct {
		name    string
		cert    *x509.Certificate
		revoked bool
	}{{"good", good.Cert, false}, {"revoked", bad.Cert, true}} {
		leaf := writeFile(t, dir, tc.name+".pem", dpitest.CertsPEM(tc.cert))
		out, err := runOpenSSL(t, openssl, "verify", "-crl_check", "-CRLfile", crlFile+".pem",
			"-CAfile", root, "-untrusted", inter, leaf)
		if tc.revoked {
			assert.Error(t, err, out)
			assert.Contains(t, out, "certificate revoked")
		} else {
			assert.NoError(t, err, out)
		}
	}
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// TestTLSServer serves HTTPS with an issued TLS certificate and connects with only the root
// as trust anchor.
func TestTLSServer(t *testing.T) {
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			pki := startPKI(t, dpitest.PKIOptions{})
			c := issue(t, pki, dpitest.CertOptions{CommonName: "localhost", KeyType: kt, Usage: dpitest.UsageTLS})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "hello")
			}))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{{
				Certificate: [][]byte{c.Cert.Raw, pki.Intermediate.Raw}, PrivateKey: c.Key, Leaf: c.Cert}}}
			srv.StartTLS()
			t.Cleanup(srv.Close)

			for _, serverName := range []string{"", "localhost"} {
				client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
					RootCAs: pki.Pool(), ServerName: serverName}}}
				resp, err := client.Get(srv.URL)
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				assert.Equal(t, "hello", string(body))
				client.CloseIdleConnections()
			}

			// A client trusting another PKI refuses the server.
			other := startPKI(t, dpitest.PKIOptions{})
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: other.Pool()}}}
			_, err := client.Get(srv.URL)
			var unknown x509.UnknownAuthorityError
			assert.True(t, errors.As(err, &unknown), "got %v", err)
		})
	}
}

func TestCertsPEM(t *testing.T) {
	pki := startPKI(t, dpitest.PKIOptions{})
	c := issue(t, pki, dpitest.CertOptions{})
	p := dpitest.CertsPEM(c.Chain...)
	assert.Equal(t, 2, bytes.Count(p, []byte("-----BEGIN CERTIFICATE-----")))
	k, err := dpitest.KeyPEM(c.Key)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(k), "-----BEGIN PRIVATE KEY-----"))
}

func TestIssueFor(t *testing.T) {
	pki := startPKI(t, dpitest.PKIOptions{})
	key, err := dpitest.RSA2048.GenerateKey()
	require.NoError(t, err)
	cert, err := pki.IssueFor(key.Public(), dpitest.CertOptions{CommonName: "hsm key", KeyType: dpitest.Ed25519})
	require.NoError(t, err)
	assert.True(t, key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey), "the given key, not KeyType")
	require.NoError(t, cert.CheckSignatureFrom(pki.Intermediate))
	require.NoError(t, pki.Revoke(cert, time.Now()), "IssueFor certificates are known to the responder")
}

func BenchmarkIssue(b *testing.B) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(b, err)
	b.Cleanup(pki.Close)
	for b.Loop() {
		if _, err := pki.Issue(dpitest.CertOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
