package signature

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// seedSignatures returns real CAdES-T and JAdES signatures, for malformed-input tests and
// as fuzz seeds.
func seedSignatures(t testing.TB) (cades, jades []byte) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Seed", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{TSAURL: pki.TSAURL})
	require.NoError(t, err)
	cades, err = s.Sign(context.Background(), bytes.NewReader([]byte("seed")))
	require.NoError(t, err)
	j, err := NewSigner(cred.Key, cred.Chain, SignerOptions{Format: JAdES})
	require.NoError(t, err)
	jades, err = j.Sign(context.Background(), bytes.NewReader([]byte("seed")))
	require.NoError(t, err)
	return cades, jades
}

func TestMalformedSignatures(t *testing.T) {
	cades, jades := seedSignatures(t)
	b64 := func(s string) string { return encodeSeg([]byte(s)) }
	tests := []struct {
		name string
		sig  []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a signature")},
		{"truncated cms", cades[:len(cades)/2]},
		{"trailing data", append(append([]byte(nil), cades...), 0)},
		{"huge length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x09}},
		{"ber without end-of-contents", append([]byte{0x30, 0x80}, cades[4:]...)},
		{"not signed-data", []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x00}},
		{"jws two parts", []byte("a.b")},
		{"jws attached payload", bytes.Replace(jades, []byte(".."), []byte(".cGF5bG9hZA."), 1)},
		{"jws truncated", jades[:len(jades)/2]},
		{"jws header not json", []byte(b64("nope") + "..c2ln")},
		{"jws alg none", []byte(b64(`{"alg":"none","b64":false,"crit":["b64"]}`) + "..c2ln")},
		{"jws alg hmac", []byte(b64(`{"alg":"HS256","b64":false,"crit":["b64"]}`) + "..c2ln")},
		{"jws embedded jwk", []byte(b64(`{"alg":"ES256","b64":false,"crit":["b64"],"jwk":{}}`) + "..c2ln")},
		{"jws jku", []byte(b64(`{"alg":"ES256","b64":false,"crit":["b64"],"jku":"http://x"}`) + "..c2ln")},
		{"jws unknown crit", []byte(b64(`{"alg":"ES256","b64":false,"crit":["b64","exp"],"exp":1}`) + "..c2ln")},
		{"jws crit names absent header", []byte(b64(`{"alg":"ES256","b64":false,"crit":["b64","sigT"]}`) + "..c2ln")},
		{"jws encoded payload", []byte(b64(`{"alg":"ES256"}`) + "..c2ln")},
		{"jws duplicate member", []byte(b64(`{"alg":"ES256","alg":"none","b64":false,"crit":["b64"]}`) + "..c2ln")},
		{"jws bad x5c", []byte(b64(`{"alg":"ES256","b64":false,"crit":["b64"],"x5c":["AAAA"]}`) + "..c2ln")},
	}
	policy := &Policy{Roots: x509PoolForTest(t)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Validate(context.Background(), bytes.NewReader([]byte("seed")), tc.sig, policy)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, ErrMalformed)
			var fe *FormatError
			assert.True(t, errors.As(err, &fe))
		})
	}
}

func TestSignatureTooLarge(t *testing.T) {
	big := make([]byte, 5<<20)
	_, err := Validate(context.Background(), bytes.NewReader(nil), big, &Policy{Roots: x509PoolForTest(t)})
	assert.ErrorIs(t, err, ErrTooLarge)
}

// Our time-stamp requests produce tokens that OpenSSL's own RFC 3161 verifier accepts for
// the imprint we compute over the signature value.
func TestOpenSSLVerifiesTimestampToken(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{TSAURL: pki.TSAURL})
	require.NoError(t, err)
	sig, err := s.Sign(context.Background(), bytes.NewReader([]byte("document")))
	require.NoError(t, err)
	parsed, err := parseCMS(sig)
	require.NoError(t, err)
	require.Len(t, parsed.tsTokens, 1)

	dir := t.TempDir()
	tok := filepath.Join(dir, "token.der")
	require.NoError(t, os.WriteFile(tok, parsed.tsTokens[0], 0o600))
	root := filepath.Join(dir, "root.pem")
	require.NoError(t, os.WriteFile(root, pki.RootsPEM(), 0o600))
	untrusted := filepath.Join(dir, "untrusted.pem")
	require.NoError(t, os.WriteFile(untrusted, dpitest.CertsPEM(pki.TSA().Chain...), 0o600))
	imprint := hex.EncodeToString(digestOf(parsed.hash, parsed.sigValue))
	out, err := exec.Command(openssl, "ts", "-verify", "-token_in", "-in", tok, "-digest", imprint,
		"-CAfile", root, "-untrusted", untrusted).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "Verification: OK")

	// And the same token against another imprint fails.
	other := hex.EncodeToString(digestOf(parsed.hash, []byte("another signature")))
	assert.Error(t, exec.Command(openssl, "ts", "-verify", "-token_in", "-in", tok, "-digest", other,
		"-CAfile", root, "-untrusted", untrusted).Run())

	// Our own check agrees, and refuses a token moved onto another signature.
	tsTime, _, err := checkTimestamp(parsed.tsTokens[0], parsed.sigValue, pki.Pool(), nil)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), tsTime, time.Minute)
	_, _, err = checkTimestamp(parsed.tsTokens[0], []byte("another signature"), pki.Pool(), nil)
	assert.Error(t, err)
}

// signJWSHeader signs doc under an arbitrary protected header, to test header rules.
func signJWSHeader(t *testing.T, cred *dpitest.Credential, header map[string]any, doc []byte) []byte {
	t.Helper()
	hj, err := json.Marshal(header)
	require.NoError(t, err)
	enc := encodeSeg(hj)
	d := sha256.Sum256(append([]byte(enc+"."), doc...))
	sig, err := signJWSDigest(cred.Key, jwsAlgs["ES256"], d[:])
	require.NoError(t, err)
	return []byte(enc + ".." + encodeSeg(sig))
}

func TestJAdESHeaderRules(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	thumb := sha256.Sum256(cred.Cert.Raw)
	x5c := []string{base64.StdEncoding.EncodeToString(cred.Cert.Raw), base64.StdEncoding.EncodeToString(cred.Chain[1].Raw)}
	now := time.Now().UTC().Truncate(time.Second)
	base := func() map[string]any {
		return map[string]any{"alg": "ES256", "b64": false, "crit": []string{"b64"}, "x5c": x5c,
			"x5t#S256": encodeSeg(thumb[:]), "iat": now.Unix()}
	}
	doc := []byte("document")
	tests := []struct {
		name    string
		edit    func(h map[string]any)
		wantInd Indication
		wantSub SubIndication
	}{
		{"iat only", func(map[string]any) {}, TotalPassed, ""},
		{"sigT only", func(h map[string]any) {
			delete(h, "iat")
			h["sigT"] = now.Format(sigTLayout)
			h["crit"] = []string{"b64", "sigT"}
		}, TotalPassed, ""},
		{"iat and sigT disagree", func(h map[string]any) {
			h["sigT"] = now.Add(time.Hour).Format(sigTLayout)
			h["crit"] = []string{"b64", "sigT"}
		}, TotalFailed, FormatFailure},
		{"no signing time", func(h map[string]any) { delete(h, "iat") }, TotalFailed, FormatFailure},
		{"no x5t#S256", func(h map[string]any) { delete(h, "x5t#S256") }, TotalFailed, FormatFailure},
		{"x5t#S256 of another certificate", func(h map[string]any) {
			other := sha256.Sum256(cred.Chain[1].Raw)
			h["x5t#S256"] = encodeSeg(other[:])
		}, Indeterminate, NoSigningCertificateFound},
		{"no x5c", func(h map[string]any) { delete(h, "x5c") }, Indeterminate, NoSigningCertificateFound},
		{"alg of another key type", func(h map[string]any) { h["alg"] = "PS256" }, Indeterminate, CryptoConstraintsFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := base()
			tc.edit(h)
			sig := signJWSHeader(t, cred, h, doc)
			r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
			require.NoError(t, err)
			assert.Equal(t, tc.wantInd, r.Indication, r.Errors)
			assert.Equal(t, tc.wantSub, r.SubIndication)
		})
	}
}

// TestBERSignatureReadAsDER: a CMS in BER (an indefinite length, as NSS writes it) is read
// as its DER form and validates as the DER one does.
func TestBERSignatureReadAsDER(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "BER", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{})
	require.NoError(t, err)
	der, err := s.Sign(context.Background(), bytes.NewReader([]byte("doc")))
	require.NoError(t, err)
	require.Equal(t, []byte{0x30, 0x82}, der[:2])
	berSig := append([]byte{0x30, 0x80}, append(append([]byte(nil), der[4:]...), 0, 0)...)
	for _, sig := range [][]byte{der, berSig} {
		r, err := Validate(context.Background(), bytes.NewReader([]byte("doc")), sig, &Policy{Roots: pki.Pool()})
		require.NoError(t, err)
		assert.Equal(t, TotalPassed, r.Indication, r.Errors)
	}
	r, err := Validate(context.Background(), bytes.NewReader([]byte("other")), berSig, &Policy{Roots: pki.Pool()})
	require.NoError(t, err)
	assert.Equal(t, HashFailure, r.SubIndication)
}
