package main

import (
	"encoding/json"
	"encoding/pem"
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

// signFixture is a test PKI with one signing credential written to files, and a CA
// certificate with signing key usage (caKey, caCert) that must not sign. Beside them: a
// revoked, an expired and a credential whose certificate names no responder (key and
// certificate followed by the intermediate), and revocation data as a validator may hold
// it, made when the fixture is: the intermediate's CRL (PEM, listing the revoked one),
// the root's CRL (DER), OCSP responses for cred (DER) and for the intermediate (PEM).
type signFixture struct {
	pki                          *dpitest.PKI
	cred                         *dpitest.Credential
	dir, key, cert, chain, roots string
	caKey, caCert                string
	doc                          string

	revoked, offline                     *dpitest.Credential
	revokedKey, revokedCert              string
	expiredKey, expiredCert              string
	offlineKey, offlineCert              string
	crl, rootCRL, ocspResp, interOCSPPEM string
}

func newSignFixture(t *testing.T) *signFixture {
	t.Helper()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	keyPEM, err := dpitest.KeyPEM(cred.Key)
	require.NoError(t, err)
	dir := t.TempDir()
	f := &signFixture{pki: pki, cred: cred, dir: dir}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	f.key = write("key.pem", keyPEM)
	f.cert = write("cert.pem", dpitest.CertsPEM(cred.Cert))
	f.chain = write("chain.pem", dpitest.CertsPEM(cred.Chain[1:]...))
	f.roots = write("roots.pem", pki.RootsPEM())
	ca, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry CA", Usage: dpitest.UsageSigning, IsCA: true})
	require.NoError(t, err)
	caKeyPEM, err := dpitest.KeyPEM(ca.Key)
	require.NoError(t, err)
	f.caKey = write("ca-key.pem", caKeyPEM)
	f.caCert = write("ca-cert.pem", dpitest.CertsPEM(ca.Chain...))
	f.doc = write("certificate.txt", []byte("Certificate of residence no. 2026-0042\n"))

	credFiles := func(name string, o dpitest.CertOptions) (*dpitest.Credential, string, string) {
		o.CommonName, o.Usage = "Civil Registry "+name, dpitest.UsageSigning
		c, err := pki.Issue(o)
		require.NoError(t, err)
		k, err := dpitest.KeyPEM(c.Key)
		require.NoError(t, err)
		return c, write(name+"-key.pem", k), write(name+"-cert.pem", dpitest.CertsPEM(c.Chain...))
	}
	now := time.Now()
	f.revoked, f.revokedKey, f.revokedCert = credFiles("revoked", dpitest.CertOptions{})
	require.NoError(t, pki.Revoke(f.revoked.Cert, now.Add(-time.Minute)))
	_, f.expiredKey, f.expiredCert = credFiles("expired", dpitest.CertOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	f.offline, f.offlineKey, f.offlineCert = credFiles("offline", dpitest.CertOptions{NoRevocationURLs: true})
	crl, err := pki.CRL()
	require.NoError(t, err)
	f.crl = write("intermediate.crl.pem", dpitest.CRLPEM(crl))
	rootCRL, err := pki.RootCRL()
	require.NoError(t, err)
	f.rootCRL = write("root.crl", rootCRL)
	resp, err := pki.OCSPResponse(cred.Cert)
	require.NoError(t, err)
	f.ocspResp = write("cred.ocsp", resp)
	resp, err = pki.OCSPResponse(pki.Intermediate)
	require.NoError(t, err)
	f.interOCSPPEM = write("intermediate.ocsp.pem", pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: resp}))
	return f
}

func TestSignCommand(t *testing.T) {
	f := newSignFixture(t)
	tests := []struct {
		name   string
		args   []string
		format string
	}{
		{"cades", nil, "CAdES-BASELINE-B"},
		{"cades-t", []string{"--tsa", f.pki.TSAURL}, "CAdES-BASELINE-T"},
		{"jades", []string{"--format", "jades"}, "JAdES-BASELINE-B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(f.dir, tc.name+".sig")
			args := append([]string{"sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", out, f.doc}, tc.args...)
			code, stdout, stderr := dpiRun(t, "", args...)
			require.Equal(t, exitOK, code, stderr)
			assert.Empty(t, stdout)

			code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, out)
			assert.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stdout, "TOTAL_PASSED")
			assert.Contains(t, stdout, tc.format)
			assert.Contains(t, stdout, "CN=Civil Registry")
		})
	}
}

func TestSignToStdout(t *testing.T) {
	f := newSignFixture(t)
	code, stdout, stderr := dpiRun(t, "", "sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "--format", "jades", f.doc)
	require.Equal(t, exitOK, code, stderr)
	sig := filepath.Join(f.dir, "stdout.jws")
	require.NoError(t, os.WriteFile(sig, []byte(stdout+"\n"), 0o600))
	code, _, stderr = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, sig)
	assert.Equal(t, exitOK, code, stderr)
}

func TestSignUsageErrors(t *testing.T) {
	f := newSignFixture(t)
	other, err := f.pki.Issue(dpitest.CertOptions{Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	otherCert := filepath.Join(f.dir, "other.pem")
	require.NoError(t, os.WriteFile(otherCert, dpitest.CertsPEM(other.Cert), 0o600))
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no key", []string{"sign", "--cert", f.cert, f.doc}, exitUsage},
		{"no document", []string{"sign", "--key", f.key, "--cert", f.cert}, exitUsage},
		{"bad format", []string{"sign", "--key", f.key, "--cert", f.cert, "--format", "xades", f.doc}, exitUsage},
		{"missing key file", []string{"sign", "--key", filepath.Join(f.dir, "nope"), "--cert", f.cert, f.doc}, exitUsage},
		{"key is not a key", []string{"sign", "--key", f.doc, "--cert", f.cert, f.doc}, exitUsage},
		{"missing document", []string{"sign", "--key", f.key, "--cert", f.cert, filepath.Join(f.dir, "nope")}, exitUsage},
		{"key of another certificate", []string{"sign", "--key", f.key, "--cert", otherCert, f.doc}, exitUsage},
		{"ca certificate", []string{"sign", "--key", f.caKey, "--cert", f.caCert, f.doc}, exitUsage},
		{"ca certificate, jades", []string{"sign", "--key", f.caKey, "--cert", f.caCert, "--format", "jades", f.doc}, exitUsage},
		{"tsa down", []string{"sign", "--key", f.key, "--cert", f.cert, "--tsa", "http://127.0.0.1:1/", f.doc}, exitIndeterminate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := dpiRun(t, "", tc.args...)
			assert.Equal(t, tc.want, code)
			assert.NotEmpty(t, stderr)
		})
	}
}

// dpi sign checks the certificate at the signing time: expired or revoked cannot sign (2),
// a status nobody can tell is indeterminate (3); revocation data given on the command line
// is enough with the responders down.
func TestSignChecksTheCertificate(t *testing.T) {
	f := newSignFixture(t)
	tests := []struct {
		name   string
		down   bool
		args   []string
		code   int
		stderr string
	}{
		{"good, from the responder", false, []string{"--key", f.key, "--cert", f.cert, "--chain", f.chain}, exitOK, ""},
		{"revoked, from the responder", false, []string{"--key", f.revokedKey, "--cert", f.revokedCert}, exitUsage, "revocation: revoked at"},
		{"expired", false, []string{"--key", f.expiredKey, "--cert", f.expiredCert}, exitUsage, "validity: expired at"},
		{"good, from an ocsp response given, responders down", true, []string{"--key", f.key, "--cert", f.cert, "--chain", f.chain, "--ocsp", f.ocspResp}, exitOK, ""},
		{"good, from a pem crl given, responders down", true, []string{"--key", f.key, "--cert", f.cert, "--chain", f.chain, "--crl", f.crl}, exitOK, ""},
		{"revoked, in a crl given, responders down", true, []string{"--key", f.revokedKey, "--cert", f.revokedCert, "--crl", f.crl}, exitUsage, "revocation: revoked at"},
		{"names no responder, crl given", false, []string{"--key", f.offlineKey, "--cert", f.offlineCert, "--crl", f.crl}, exitOK, ""},
		{"names no responder, nothing given", false, []string{"--key", f.offlineKey, "--cert", f.offlineCert}, exitIndeterminate, "revocation status unknown"},
		{"responders down, nothing given", true, []string{"--key", f.key, "--cert", f.cert, "--chain", f.chain}, exitIndeterminate, "revocation status unknown"},
		{"no issuer: not checked, with a warning", true, []string{"--key", f.key, "--cert", f.cert}, exitOK, "warning: revocation not checked"},
		{"no issuer for the crl given", false, []string{"--key", f.key, "--cert", f.cert, "--crl", f.crl}, exitUsage, "need the issuer's certificate"},
		{"an ocsp response given as a crl", false, []string{"--key", f.key, "--cert", f.cert, "--chain", f.chain, "--crl", f.ocspResp}, exitUsage, "--crl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.pki.SetOCSPAvailable(!tc.down)
			f.pki.SetCRLAvailable(!tc.down)
			defer f.pki.SetOCSPAvailable(true)
			defer f.pki.SetCRLAvailable(true)
			out := filepath.Join(t.TempDir(), "doc.p7s")
			code, stdout, stderr := dpiRun(t, "", append(append([]string{"sign", "-o", out}, tc.args...), f.doc)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Empty(t, stdout)
			if tc.stderr == "" {
				assert.True(t, strings.HasPrefix(stderr, "signed: ") && strings.Count(stderr, "\n") == 1, "the report only: %q", stderr)
			} else {
				assert.Contains(t, stderr, tc.stderr)
			}
			if tc.code != exitOK {
				assert.NoFileExists(t, out, "nothing is written")
				assert.True(t, strings.HasPrefix(stderr, "dpi: sign: "), stderr)
			} else {
				assert.FileExists(t, out)
			}
		})
	}
}

// A signature made with a key in SoftHSM2, through a pkcs11: URI, validates.
func TestSignWithPKCS11(t *testing.T) {
	softhsm := testenv.Tool(t, "softhsm2-util")
	module := "/usr/lib/softhsm/libsofthsm2.so"
	if _, err := os.Stat(module); err != nil {
		testenv.Missing(t, module)
	}
	f := newSignFixture(t)
	tokens := filepath.Join(f.dir, "tokens")
	require.NoError(t, os.Mkdir(tokens, 0o700))
	conf := filepath.Join(f.dir, "softhsm2.conf")
	require.NoError(t, os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\n"), 0o600))
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(name string, args ...string) {
		out, err := exec.Command(name, args...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	run(softhsm, "--init-token", "--free", "--label", "dpi", "--so-pin", "5678", "--pin", "1234")
	pk8 := filepath.Join(f.dir, "key.pk8")
	openssl := testenv.Tool(t, "openssl")
	run(openssl, "pkcs8", "-topk8", "-nocrypt", "-in", f.key, "-out", pk8)
	run(softhsm, "--import", pk8, "--token", "dpi", "--label", "agency", "--id", "01", "--pin", "1234")

	t.Setenv("DPI_PKCS11_MODULE", module)
	t.Setenv("DPI_PKCS11_PIN", "1234")
	out := filepath.Join(f.dir, "hsm.sig")
	code, _, stderr := dpiRun(t, "", "sign", "--key", "pkcs11:token=dpi;object=agency", "--cert", f.cert, "--chain", f.chain, "-o", out, f.doc)
	require.Equal(t, exitOK, code, stderr)
	code, stdout, stderr := dpiRun(t, "", "verify", "--trust", f.roots, f.doc, out)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "TOTAL_PASSED")
}

// A B-LT signature validates with the responders and the CRL distribution points down,
// from the revocation data it carries; verify says where each status came from. A B-T
// signature is TRY_LATER then.
func TestSignLevelLT(t *testing.T) {
	f := newSignFixture(t)
	lt := filepath.Join(f.dir, "lt.p7s")
	code, stdout, stderr := dpiRun(t, "", "sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--level", "B-LT", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", lt, f.doc)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout)
	assert.NotContains(t, stderr, "warning", "revocation is checked: no warning")
	bt := filepath.Join(f.dir, "bt.p7s")
	code, _, stderr = dpiRun(t, "", "sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--level", "B-T", "--tsa", f.pki.TSAURL, "-o", bt, f.doc)
	require.Equal(t, exitOK, code, stderr)

	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, lt)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "CAdES-BASELINE-LT")
	assert.Contains(t, stdout, "good (OCSP, in the signature)")
	assert.NotContains(t, stdout, "warning")

	code, stdout, _ = dpiRun(t, "", "verify", "--json", "--trust", f.roots, f.doc, lt)
	assert.Equal(t, exitOK, code)
	var r struct {
		Format     string `json:"format"`
		Revocation []struct {
			Embedded bool `json:"embedded"`
		} `json:"revocation"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &r))
	assert.Equal(t, "CAdES-BASELINE-LT", r.Format)
	require.Len(t, r.Revocation, 2)
	assert.True(t, r.Revocation[0].Embedded)

	code, stdout, _ = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, bt)
	assert.Equal(t, exitIndeterminate, code)
	assert.Contains(t, stdout, "TRY_LATER")
}
