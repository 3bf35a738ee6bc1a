package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

func testToken(t *testing.T, tsa *dpitest.Credential) []byte {
	t.Helper()
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: make([]byte, 32), Time: time.Now().UTC(),
		Policy: []int{2, 999, 3161, 1}, Nonce: big.NewInt(7), AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(tsa.Cert, tsa.Key, crypto.SHA256)
	require.NoError(t, err)
	parsed, err := timestamp.ParseResponse(resp)
	require.NoError(t, err)
	return parsed.RawToken
}

// pkcs7Accepts is what parseSignedToken replaced: digitorus/pkcs7's Parse and Verify, the
// signed content typed id-ct-TSTInfo, and a certificate carried.
func pkcs7Accepts(b []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	p7, err := pkcs7.Parse(b)
	if err != nil || len(p7.Certificates) == 0 || p7.Verify() != nil {
		return false
	}
	parts, err := splitCMS(b, "time-stamp token")
	return err == nil && string(parts.eContentType) == "\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x04"
}

// The token reader accepts nothing that digitorus/pkcs7, which it replaced, refuses: every
// single-byte change of a real token is tried, and one that parseSignedToken takes must
// also parse and verify there. The unchanged token, and its BER form, are accepted. (Some
// changes are refused here only: a malformed certificate, an eContent that is not an
// OCTET STRING, and signed attributes that digitorus/pkcs7 re-encodes into the bytes
// that were signed.)
func TestSignedTokenNoLaxerThanPKCS7(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	tok := testToken(t, pki.TSA())

	st, err := parseSignedToken(tok)
	require.NoError(t, err)
	require.True(t, pkcs7Accepts(tok))
	assert.True(t, st.onlySigner().Equal(pki.TSA().Cert))

	// BER: the outer SEQUENCE with an indefinite length.
	body := tok[2:]
	if tok[1]&0x80 != 0 {
		body = tok[2+int(tok[1]&0x7f):]
	}
	berTok := append(append([]byte{0x30, 0x80}, body...), 0, 0)
	_, err = parseSignedToken(berTok)
	assert.NoError(t, err, "ber")

	accepted, stricter := 0, 0
	for i := range tok {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := append([]byte(nil), tok...)
			m[i] ^= x
			_, err := parseSignedToken(m)
			theirs := pkcs7Accepts(m)
			if err == nil {
				accepted++
				assert.True(t, theirs, "byte %d ^ %#x accepted here, refused by digitorus/pkcs7", i, x)
			} else if theirs {
				stricter++
			}
		}
	}
	t.Logf("of %d changed tokens, %d accepted (changes to unsigned parts), %d refused here only", 3*len(tok), accepted, stricter)
}

// A token is refused when its signer is not among its certificates, or when its signing
// time is outside the signer's certificate's validity.
func TestSignedTokenSignerChecks(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	other, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer other.Close()

	// The token names pki's TSA but carries other's TSA certificate.
	tsa := pki.TSA()
	swapped := &dpitest.Credential{Key: tsa.Key, Cert: tsa.Cert}
	tok := testToken(t, swapped)
	st, raw, err := readSignedToken(tok, nil)
	require.NoError(t, err)
	st.certs = []*x509.Certificate{other.TSA().Cert}
	_, err = verifyTokenSigner(st, raw[0])
	assert.ErrorContains(t, err, "no certificate for the signer")

	// digitorus/pkcs7 writes the wall clock as signing time; this certificate expired a
	// year ago. Without signed attributes the signature is over the TSTInfo itself.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "old tsa"},
		NotBefore: time.Now().Add(-3 * 365 * 24 * time.Hour), NotAfter: time.Now().Add(-365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	sign := func(withAttrs bool) []byte {
		sd, err := pkcs7.NewSignedData([]byte{0x30, 0x00})
		require.NoError(t, err)
		sd.SetContentType(oidTSTInfo)
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		if withAttrs {
			require.NoError(t, sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}))
		} else {
			require.NoError(t, sd.SignWithoutAttr(cert, key, pkcs7.SignerInfoConfig{}))
		}
		b, err := sd.Finish()
		require.NoError(t, err)
		return b
	}
	expired := sign(true)
	_, err = parseSignedToken(expired)
	assert.ErrorContains(t, err, "outside of the certificate's validity")
	assert.False(t, pkcs7Accepts(expired))
	bare := sign(false)
	_, err = parseSignedToken(bare)
	assert.NoError(t, err, "no signed attributes")
	assert.True(t, pkcs7Accepts(bare))
}
