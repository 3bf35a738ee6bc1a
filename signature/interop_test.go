package signature_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/digitorus/pkcs7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %v: %s", name, args, stderr.String())
	return out
}

// Our CAdES-B and CAdES-T signatures verify with OpenSSL's CMS implementation, which also
// checks the ESS signing-certificate-v2 attribute (-cades).
func TestOpenSSLVerifiesOurCAdES(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	root := writeFile(t, dir, "root.pem", f.pki.RootsPEM())
	// Ed25519 is left out: OpenSSL 3.0's CMS cannot sign or verify with it ("eddsa digest
	// signverify init: invalid digest", fixed in OpenSSL 3.2).
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.ECDSAP384, dpitest.RSA2048, dpitest.RSA3072} {
		for _, tsa := range []bool{false, true} {
			name := kt.String()
			opts := signature.SignerOptions{}
			if tsa {
				name += "/T"
				opts.TSAURL = f.pki.TSAURL
			}
			t.Run(name, func(t *testing.T) {
				sig := f.sign(t, f.issue(t, kt), opts, document)
				sigPath := writeFile(t, dir, "sig.der", sig)
				runTool(t, openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", sigPath,
					"-content", docPath, "-CAfile", root, "-purpose", "any", "-out", os.DevNull)

				tampered := writeFile(t, dir, "tampered.txt", append([]byte("x"), document...))
				err := exec.Command(openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", sigPath,
					"-content", tampered, "-CAfile", root, "-purpose", "any", "-out", os.DevNull).Run()
				assert.Error(t, err, "openssl must reject a tampered document")
			})
		}
	}
}

// OpenSSL accepts our CAdES-BASELINE-LT signatures: a SignedData of version 5 whose crls
// hold CRLs and OCSP responses (RFC 5940 other revocation info), with the TSA's chain and
// the trust anchor among the certificates. It checks the signature and the chain; the
// revocation data is ours to read.
func TestOpenSSLVerifiesOurCAdESLT(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	root := writeFile(t, dir, "root.pem", f.pki.RootsPEM())
	cred := f.issue(t, dpitest.ECDSAP256)
	opts := ltOptions(f)
	// The CA's status comes from its CRL, the others' from OCSP: both kinds of
	// RevocationInfoChoice are in the signature.
	opts.CRLs = mustCRLs(t, must(t)(f.pki.RootCRL()))
	sig := f.sign(t, cred, opts, document)
	r := validate(t, document, sig, f.policy())
	require.Equal(t, "CAdES-BASELINE-LT", r.Format, r.Warnings)
	require.Equal(t, "CRL", r.Revocation[1].Source)
	sigPath := writeFile(t, dir, "sig.der", sig)
	for _, cades := range [][]string{{"-cades"}, nil} {
		args := append([]string{"cms", "-verify"}, cades...)
		runTool(t, openssl, append(args, "-binary", "-inform", "DER", "-in", sigPath,
			"-content", docPath, "-CAfile", root, "-purpose", "any", "-out", os.DevNull)...)
	}
	out := runTool(t, openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", sigPath)
	assert.Contains(t, string(out), "version: 5")
	assert.Contains(t, string(out), "1.3.6.1.5.5.7.16.2")
	assert.Contains(t, string(out), "dpitest TSA")

	tampered := writeFile(t, dir, "tampered.txt", append([]byte("x"), document...))
	err := exec.Command(openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", sigPath,
		"-content", tampered, "-CAfile", root, "-purpose", "any", "-out", os.DevNull).Run()
	assert.Error(t, err, "openssl must reject a tampered document")
}

// CMS signatures made by OpenSSL validate with ours; a SHA-1 or RSA-1024 one is refused by
// the algorithm policy.
func TestWeValidateOpenSSLCAdES(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	tests := []struct {
		name    string
		kt      dpitest.KeyType
		md      string
		plain   bool // without -cades: no signing-certificate-v2
		wantInd signature.Indication
		wantSub signature.SubIndication
	}{
		{"ecdsa sha256", dpitest.ECDSAP256, "sha256", false, signature.TotalPassed, ""},
		{"rsa sha512", dpitest.RSA2048, "sha512", false, signature.TotalPassed, ""},
		{"ecdsa p-384 sha384", dpitest.ECDSAP384, "sha384", false, signature.TotalPassed, ""},
		{"sha-1", dpitest.ECDSAP256, "sha1", false, signature.Indeterminate, signature.CryptoConstraintsFailure},
		{"rsa 1024", dpitest.RSA1024, "sha256", false, signature.Indeterminate, signature.CryptoConstraintsFailure},
		{"plain cms, not cades", dpitest.ECDSAP256, "sha256", true, signature.TotalFailed, signature.FormatFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cred := f.issue(t, tc.kt)
			keyPEM, err := dpitest.KeyPEM(cred.Key)
			require.NoError(t, err)
			keyPath := writeFile(t, dir, "key.pem", keyPEM)
			certPath := writeFile(t, dir, "cert.pem", dpitest.CertsPEM(cred.Cert))
			chainPath := writeFile(t, dir, "chain.pem", dpitest.CertsPEM(cred.Chain[1:]...))
			sigPath := filepath.Join(dir, "sig.der")
			args := []string{"cms", "-sign", "-binary", "-in", docPath, "-signer", certPath,
				"-inkey", keyPath, "-certfile", chainPath, "-md", tc.md, "-outform", "DER", "-out", sigPath}
			if !tc.plain {
				args = append(args, "-cades")
			}
			runTool(t, openssl, args...)
			sig, err := os.ReadFile(sigPath)
			require.NoError(t, err)
			r := validate(t, document, sig, f.policy())
			assert.Equal(t, tc.wantInd, r.Indication, r.Errors)
			assert.Equal(t, tc.wantSub, r.SubIndication)
			if tc.wantInd == signature.TotalPassed {
				assert.Equal(t, "CAdES-BASELINE-B", r.Format)
				assert.NotNil(t, r.SigningTime)
				r = validate(t, append([]byte("x"), document...), sig, f.policy())
				assert.Equal(t, signature.HashFailure, r.SubIndication)
			}
		})
	}
}

// Our JAdES signatures verify with Python jwcrypto, an independent JOSE implementation that
// supports RFC 7797 detached unencoded payloads.
func TestJWCryptoVerifiesOurJAdES(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	script := writeFile(t, dir, "verify.py", []byte(`
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter, JWSEHeaderRegistry
protected, payload, signature = open(sys.argv[1]).read().strip().split('.')
assert payload == ''
doc = open(sys.argv[2], 'rb').read().decode('utf-8')
cert = open(sys.argv[3], 'rb').read()
registry = JWSEHeaderRegistry({'sigT': JWSEHeaderParameter('claimed signing time', False, True, None)})
key = jwk.JWK.from_pem(cert)
j = jws.JWS(header_registry=registry)
j.allowed_algs = [sys.argv[4]]
# jwcrypto 1.1 has no detached-payload argument: put the unencoded payload back in the
# flattened JSON serialization (RFC 7797 section 5.2), which carries it verbatim.
j.deserialize(json.dumps({'protected': protected, 'payload': doc, 'signature': signature}), key)
assert j.jose_header['b64'] is False
print("ok")
`))
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.ECDSAP384, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			cred := f.issue(t, kt)
			sig := f.sign(t, cred, signature.SignerOptions{Format: signature.JAdES}, document)
			sigPath := writeFile(t, dir, "sig.jws", sig)
			certPath := writeFile(t, dir, "cert.pem", dpitest.CertsPEM(cred.Cert))
			alg := map[dpitest.KeyType]string{dpitest.ECDSAP256: "ES256", dpitest.ECDSAP384: "ES384",
				dpitest.RSA2048: "PS256", dpitest.Ed25519: "EdDSA"}[kt]
			out := runTool(t, py, script, sigPath, docPath, certPath, alg)
			assert.Equal(t, "ok\n", string(out))

			tampered := writeFile(t, dir, "tampered.txt", append([]byte("x"), document...))
			assert.Error(t, exec.Command(py, script, sigPath, tampered, certPath, alg).Run())
		})
	}
}

// digitorus/pkcs7, an independent CMS implementation, verifies our CAdES signatures,
// Ed25519 included (which OpenSSL 3.0 cannot check).
func TestPKCS7VerifiesOurCAdES(t *testing.T) {
	f := newFixture(t)
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.ECDSAP384, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			sig := f.sign(t, f.issue(t, kt), signature.SignerOptions{TSAURL: f.pki.TSAURL}, document)
			p7, err := pkcs7.Parse(sig)
			require.NoError(t, err)
			p7.Content = document
			assert.NoError(t, p7.VerifyWithChain(f.pki.Pool()))
			p7.Content = append([]byte("x"), document...)
			assert.Error(t, p7.VerifyWithChain(f.pki.Pool()))
		})
	}
}
