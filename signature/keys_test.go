package signature_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func samePublic(t *testing.T, want crypto.PublicKey, got crypto.Signer) {
	t.Helper()
	require.NotNil(t, got)
	assert.True(t, want.(interface{ Equal(crypto.PublicKey) bool }).Equal(got.Public()), "public key differs")
}

func TestLoadPrivateKeyForms(t *testing.T) {
	ec256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return der
	}
	sec1 := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		return der
	}
	for _, tc := range []struct {
		name string
		in   []byte
		pub  crypto.PublicKey
	}{
		{"pkcs8 pem p256", pemBlock("PRIVATE KEY", pkcs8(ec256)), ec256.Public()},
		{"pkcs8 pem p384", pemBlock("PRIVATE KEY", pkcs8(ec384)), ec384.Public()},
		{"pkcs8 pem rsa", pemBlock("PRIVATE KEY", pkcs8(rsa2048)), rsa2048.Public()},
		{"pkcs8 pem ed25519", pemBlock("PRIVATE KEY", pkcs8(ed)), ed.Public()},
		{"pkcs1 pem", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048)), rsa2048.Public()},
		{"sec1 pem", pemBlock("EC PRIVATE KEY", sec1(ec256)), ec256.Public()},
		{"sec1 pem after a certificate", append(pemBlock("CERTIFICATE", []byte{1}), pemBlock("EC PRIVATE KEY", sec1(ec384))...), ec384.Public()},
		{"pkcs8 der", pkcs8(ec256), ec256.Public()},
		{"pkcs1 der", x509.MarshalPKCS1PrivateKey(rsa2048), rsa2048.Public()},
		{"sec1 der", sec1(ec384), ec384.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := signature.LoadPrivateKey(tc.in, nil)
			require.NoError(t, err)
			samePublic(t, tc.pub, k)
		})
	}
}

func TestLoadPrivateKeyRejects(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ec224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	ec224DER, err := x509.MarshalPKCS8PrivateKey(ec224)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)

	_, err = signature.LoadPrivateKey(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024)), nil)
	var ke *signature.KeyError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "RSA", ke.Type)
	assert.Equal(t, 1024, ke.Bits)

	_, err = signature.LoadPrivateKey(pemBlock("PRIVATE KEY", ec224DER), nil)
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "ECDSA", ke.Type)

	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"garbage", []byte("garbage")},
		{"certificate only", pemBlock("CERTIFICATE", []byte{0x30, 0x00})},
		{"two keys", append(pemBlock("EC PRIVATE KEY", ecDER), pemBlock("EC PRIVATE KEY", ecDER)...)},
		{"truncated", pemBlock("EC PRIVATE KEY", ecDER[:20])},
		{"legacy encryption", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1}})},
		{"huge", make([]byte, 2<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signature.LoadPrivateKey(tc.in, nil)
			assert.ErrorIs(t, err, signature.ErrKeyFormat)
		})
	}
}

func openssl(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
	require.NoError(t, err, "openssl %v: %s", args, out)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestLoadOpenSSLKeys loads keys written by openssl, including encrypted PKCS#8.
func TestLoadOpenSSLKeys(t *testing.T) {
	bin := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }

	openssl(t, bin, "ecparam", "-genkey", "-name", "prime256v1", "-out", f("ecparam.pem"))
	openssl(t, bin, "genpkey", "-algorithm", "ED25519", "-out", f("ed.pem"))
	openssl(t, bin, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
		"-aes-256-cbc", "-pass", "pass:s3cret", "-out", f("enc256.pem"))
	openssl(t, bin, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f("rsa.pem"))
	openssl(t, bin, "pkcs8", "-topk8", "-in", f("rsa.pem"), "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512",
		"-passout", "pass:s3cret", "-out", f("enc128.pem"))
	openssl(t, bin, "pkcs8", "-topk8", "-in", f("rsa.pem"), "-v2", "aes-128-cbc", "-outform", "DER", "-nocrypt", "-out", f("rsa.der"))
	openssl(t, bin, "pkcs8", "-topk8", "-in", f("rsa.pem"), "-v1", "PBE-SHA1-3DES", "-passout", "pass:s3cret", "-out", f("pbes1.pem"))
	openssl(t, bin, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", f("rsa1024.pem"))
	openssl(t, bin, "ecparam", "-genkey", "-name", "secp256k1", "-out", f("k1.pem"))

	for _, name := range []string{"ecparam.pem", "ed.pem", "rsa.pem", "rsa.der"} {
		_, err := signature.LoadPrivateKey(readFile(t, f(name)), nil)
		assert.NoError(t, err, name)
	}
	for _, name := range []string{"enc256.pem", "enc128.pem"} {
		k, err := signature.LoadPrivateKey(readFile(t, f(name)), []byte("s3cret"))
		require.NoError(t, err, name)
		assert.NotNil(t, k.Public())
		_, err = signature.LoadPrivateKey(readFile(t, f(name)), []byte("wrong"))
		assert.ErrorIs(t, err, signature.ErrKeyPassword, name)
		_, err = signature.LoadPrivateKey(readFile(t, f(name)), nil)
		assert.ErrorIs(t, err, signature.ErrKeyPassword, name)
	}
	plain, err := signature.LoadPrivateKey(readFile(t, f("rsa.pem")), nil)
	require.NoError(t, err)
	enc, err := signature.LoadPrivateKey(readFile(t, f("enc128.pem")), []byte("s3cret"))
	require.NoError(t, err)
	samePublic(t, plain.Public(), enc)

	_, err = signature.LoadPrivateKey(readFile(t, f("pbes1.pem")), []byte("s3cret"))
	assert.ErrorIs(t, err, signature.ErrKeyFormat, "pbes1 is refused")
	var ke *signature.KeyError
	_, err = signature.LoadPrivateKey(readFile(t, f("rsa1024.pem")), nil)
	assert.ErrorAs(t, err, &ke)
	_, err = signature.LoadPrivateKey(readFile(t, f("k1.pem")), nil)
	assert.Error(t, err, "secp256k1 is refused")
}

func TestLoadPKCS12(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "signer"})
	require.NoError(t, err)

	pfx, err := pkcs12.Modern.Encode(cred.Key, cred.Cert, []*x509.Certificate{pki.Intermediate}, "pw")
	require.NoError(t, err)
	key, cert, chain, err := signature.LoadPKCS12(pfx, "pw")
	require.NoError(t, err)
	samePublic(t, cred.Key.Public(), key)
	assert.Equal(t, cred.Cert.Raw, cert.Raw)
	require.Len(t, chain, 1)
	assert.Equal(t, pki.Intermediate.Raw, chain[0].Raw)

	_, _, _, err = signature.LoadPKCS12(pfx, "wrong")
	assert.ErrorIs(t, err, signature.ErrKeyPassword)
	_, _, _, err = signature.LoadPKCS12([]byte("garbage"), "pw")
	assert.ErrorIs(t, err, signature.ErrKeyFormat)

	// A PKCS#12 whose key is not its certificate's.
	other, err := pki.Issue(dpitest.CertOptions{})
	require.NoError(t, err)
	mixed, err := pkcs12.Modern.Encode(other.Key, cred.Cert, nil, "pw")
	require.NoError(t, err)
	_, _, _, err = signature.LoadPKCS12(mixed, "pw")
	assert.ErrorIs(t, err, signature.ErrKeyFormat)

	// A work factor over the cap is refused before any key derivation.
	type digestInfo struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	slow, err := asn1.Marshal(struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  struct {
			Mac        digestInfo
			MacSalt    []byte
			Iterations int
		}
	}{Version: 3, AuthSafe: asn1.RawValue{FullBytes: []byte{0x30, 0x00}}, MacData: struct {
		Mac        digestInfo
		MacSalt    []byte
		Iterations int
	}{Mac: digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}, Digest: make([]byte, 32)},
		MacSalt: make([]byte, 8), Iterations: 1 << 30}})
	require.NoError(t, err)
	_, _, _, err = signature.LoadPKCS12(slow, "pw")
	assert.ErrorIs(t, err, signature.ErrKeyFormat)
	assert.Contains(t, err.Error(), "iterations")

	// And one written by openssl.
	bin := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	keyPEM, err := dpitest.KeyPEM(cred.Key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), dpitest.CertsPEM(cred.Cert), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "inter.pem"), dpitest.CertsPEM(pki.Intermediate), 0o600))
	openssl(t, bin, "pkcs12", "-export", "-inkey", filepath.Join(dir, "key.pem"), "-in", filepath.Join(dir, "cert.pem"),
		"-certfile", filepath.Join(dir, "inter.pem"), "-passout", "pass:pw", "-out", filepath.Join(dir, "id.p12"))
	key, cert, chain, err = signature.LoadPKCS12(readFile(t, filepath.Join(dir, "id.p12")), "pw")
	require.NoError(t, err)
	samePublic(t, cred.Key.Public(), key)
	assert.Equal(t, cred.Cert.Raw, cert.Raw)
	assert.Len(t, chain, 1)
}

func TestLoadCertificates(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{})
	require.NoError(t, err)

	certs, err := signature.LoadCertificates(dpitest.CertsPEM(cred.Chain...))
	require.NoError(t, err)
	require.Len(t, certs, 2)
	assert.Equal(t, cred.Cert.Raw, certs[0].Raw)

	certs, err = signature.LoadCertificates(append(append([]byte{}, cred.Cert.Raw...), pki.Root.Raw...))
	require.NoError(t, err)
	assert.Len(t, certs, 2)

	for _, in := range [][]byte{nil, []byte("junk"), pemBlock("CERTIFICATE", []byte{0x30, 0x01}), pemBlock("PRIVATE KEY", []byte{1})} {
		_, err := signature.LoadCertificates(in)
		assert.ErrorIs(t, err, signature.ErrKeyFormat)
	}
}

// FuzzLoadPrivateKey feeds arbitrary bytes to the key loader: an error or a key that passes
// the policy, never a panic.
func FuzzLoadPrivateKey(f *testing.F) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(f, err)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(f, err)
	sec1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(f, err)
	f.Add(pemBlock("PRIVATE KEY", der), []byte(nil))
	f.Add(der, []byte(nil))
	f.Add(pemBlock("EC PRIVATE KEY", sec1), []byte(nil))
	// An encrypted PKCS#8 written by openssl (P-256, aes-256-cbc, password "pw", 2048 iterations).
	f.Add([]byte(encryptedSeed), []byte("pw"))
	f.Fuzz(func(t *testing.T, in, password []byte) {
		k, err := signature.LoadPrivateKey(in, password)
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
		_, _ = signature.LoadCertificates(in)
	})
}

const encryptedSeed = `-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhvHlVOmIyy3gICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEMSydwm0xNbtW7ZclqthbNoEgZCO
iJSideBz9e4NsZ/Fjd1JmTIwE21QdgH301Vyg4gF2RPF68qTXNxRLWe1FPhU7mZX
c29TWtQ6Sw2A6gPv+V5cMZuuk0aS3li3JiOiI/zbFDOH+HVfr9ShQvtBxL5u1Xt4
Ha0Q4wiWGp1MM3ej/V6S7KFeQm/xqg5+xLQ+pwqsB3cN7boF73y7IVsAYkpwFOU=
-----END ENCRYPTED PRIVATE KEY-----
`

func TestLoadEncryptedSeed(t *testing.T) {
	k, err := signature.LoadPrivateKey([]byte(encryptedSeed), []byte("pw"))
	require.NoError(t, err)
	_, ok := k.Public().(*ecdsa.PublicKey)
	assert.True(t, ok)
}
