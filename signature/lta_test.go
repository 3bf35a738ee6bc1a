package signature_test

import (
	"bytes"
	"context"
	"crypto"
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
	"github.com/dpiblocks/dpi/signature"
)

const year = 365 * 24 * time.Hour

// newLongFixture is a PKI whose CAs outlive a decade of time travel, and whose signature
// time-stamp authority expires after two years.
func newLongFixture(t *testing.T) *fixture {
	t.Helper()
	c := newClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: c.Now, CAValidity: 40 * year, TSAValidity: 2 * year})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	return &fixture{pki: pki, clock: c}
}

func (f *fixture) extend(t *testing.T, doc, sig []byte, level signature.Level, tsaURL string) []byte {
	t.Helper()
	out, err := signature.Extend(context.Background(), bytes.NewReader(doc), sig, signature.ExtendOptions{
		Level: level, TSAURL: tsaURL, Roots: f.pki.Pool(), Now: f.clock.Now})
	require.NoError(t, err)
	return out
}

// A B-LTA signature made in one go validates, and openssl still verifies it.
func TestSignLTA(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	opts := ltOptions(f)
	opts.Level = signature.LevelLTA
	sig := f.sign(t, cred, opts, document)
	p, requests := f.offlinePolicy()
	r := validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LTA", r.Format, r.Warnings)
	require.Len(t, r.ArchiveTimestamps, 1)
	assert.True(t, r.ArchiveTimestamps[0].Valid)
	assert.Empty(t, r.Warnings)
	assert.Zero(t, requests.n.Load(), "nothing is fetched")

	r = validate(t, append([]byte("x"), document...), sig, p)
	assert.Equal(t, signature.HashFailure, r.SubIndication)

	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	root := writeFile(t, dir, "root.pem", f.pki.RootsPEM())
	sigPath := writeFile(t, dir, "sig.der", sig)
	runTool(t, openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", sigPath,
		"-content", docPath, "-CAfile", root, "-purpose", "any", "-out", os.DevNull)
}

// The long-term promise (EN 319 102-1 §5.6.3): a B-LTA signature validates ten years on,
// with the network off, after the signer's certificate and its time-stamp authority's have
// expired and the signer's certificate was revoked; the same signature at B-LT does not.
// Renewed before the first archive authority expires, it validates past that too.
func TestLTAOutlivesItsCertificates(t *testing.T) {
	f := newLongFixture(t)
	archive1, err := f.pki.AddTSA("archive-1", 8*year)
	require.NoError(t, err)
	cred := f.issue(t, dpitest.ECDSAP256) // valid one year
	lt := f.sign(t, cred, ltOptions(f), document)
	f.clock.Add(time.Hour)
	lta := f.extend(t, document, lt, signature.LevelLTA, archive1.URL)

	f.clock.Add(3 * year)
	require.NoError(t, f.pki.Revoke(cred.Cert, f.clock.Now()))
	f.clock.Add(3 * year) // 2032: the signer's and the TSA's certificates have expired
	require.True(t, f.clock.Now().After(f.pki.TSA().Cert.NotAfter))

	p, requests := f.offlinePolicy()
	r := validate(t, document, lta, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LTA", r.Format, r.Warnings)
	assert.Zero(t, requests.n.Load(), "nothing is fetched")
	require.NotNil(t, r.Timestamp)
	assert.True(t, r.Timestamp.Valid, r.Timestamp.Reason)

	// The caller's current CRL shows the revocation; it came after the signature's proof of
	// existence and changes nothing.
	withCRL := *p
	withCRL.CRLs = mustCRLs(t, must(t)(f.pki.CRL()))
	r = validate(t, document, lta, &withCRL)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Contains(t, joinLines(r.Warnings), "after the best signature time")

	r = validate(t, document, lt, p)
	assert.Equal(t, signature.Indeterminate, r.Indication)
	assert.Equal(t, signature.OutOfBoundsNoPOE, r.SubIndication, r.Errors)
	assert.Contains(t, joinLines(r.Warnings), "expired before the time-stamp's proof of existence")

	// Renewal, with the network back, by an authority whose certificate is fresh.
	f.pki.SetOCSPAvailable(true)
	f.pki.SetCRLAvailable(true)
	archive2, err := f.pki.AddTSA("archive-2", 10*year)
	require.NoError(t, err)
	renewed := f.extend(t, document, lta, signature.LevelLTA, archive2.URL)

	f.clock.Add(4 * year) // 2036: the first archive authority has expired too
	p, requests = f.offlinePolicy()
	r = validate(t, document, renewed, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LTA", r.Format, r.Warnings)
	require.Len(t, r.ArchiveTimestamps, 2)
	for _, a := range r.ArchiveTimestamps {
		assert.True(t, a.Valid, a.Reason)
	}
	assert.Zero(t, requests.n.Load(), "nothing is fetched")

	r = validate(t, document, lta, p)
	assert.NotEqual(t, signature.TotalPassed, r.Indication, "without renewal the first archive time-stamp has expired")
}

// Extend takes a B-B signature to each level; each validates at the level reached, and a
// tampered archive time-stamped signature loses its archive time-stamp.
func TestExtendLevels(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	bb := f.sign(t, cred, signature.SignerOptions{}, document)
	for _, tc := range []struct {
		level  signature.Level
		format string
	}{
		{signature.LevelT, "CAdES-BASELINE-T"},
		{signature.LevelLT, "CAdES-BASELINE-LT"},
		{signature.LevelLTA, "CAdES-BASELINE-LTA"},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			sig := f.extend(t, document, bb, tc.level, f.pki.TSAURL)
			r := validate(t, document, sig, f.policy())
			assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
			assert.Equal(t, tc.format, r.Format, r.Warnings)
		})
	}

	lta := f.extend(t, document, bb, signature.LevelLTA, f.pki.TSAURL)
	_, err := signature.Extend(context.Background(), bytes.NewReader(append([]byte("x"), document...)), bb,
		signature.ExtendOptions{Level: signature.LevelLTA, TSAURL: f.pki.TSAURL, Roots: f.pki.Pool()})
	assert.ErrorIs(t, err, signature.ErrNotExtendable)
	for _, bad := range []signature.ExtendOptions{
		{Level: signature.LevelB, TSAURL: f.pki.TSAURL},
		{Level: signature.LevelLT, TSAURL: f.pki.TSAURL},
		{Level: signature.LevelT},
	} {
		_, err := signature.Extend(context.Background(), bytes.NewReader(document), bb, bad)
		assert.Error(t, err, bad)
	}

	// An element the archive time-stamp covers is removed: the intermediate certificate,
	// which the signer's chain finds in the policy instead.
	tampered := removeCertificate(t, lta, f.pki.Intermediate.Raw)
	p := f.policy()
	p.Intermediates = f.pki.Pool()
	p.Intermediates.AddCert(f.pki.Intermediate)
	r := validate(t, document, tampered, p)
	assert.NotEqual(t, "CAdES-BASELINE-LTA", r.Format)
	assert.Contains(t, joinLines(r.Warnings), "no longer holds")
}

// A CMS signature made by openssl is extended to B-LTA; it validates, and openssl still
// verifies it.
func TestExtendOpenSSLSignature(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	cred := f.issue(t, dpitest.ECDSAP256)
	keyPEM, err := dpitest.KeyPEM(cred.Key)
	require.NoError(t, err)
	keyPath := writeFile(t, dir, "key.pem", keyPEM)
	certPath := writeFile(t, dir, "cert.pem", dpitest.CertsPEM(cred.Cert))
	chainPath := writeFile(t, dir, "chain.pem", dpitest.CertsPEM(cred.Chain[1:]...))
	sigPath := writeFile(t, dir, "sig.der", nil)
	runTool(t, openssl, "cms", "-sign", "-cades", "-binary", "-in", docPath, "-signer", certPath,
		"-inkey", keyPath, "-certfile", chainPath, "-md", "sha256", "-outform", "DER", "-out", sigPath)
	sig, err := os.ReadFile(sigPath)
	require.NoError(t, err)

	lta := f.extend(t, document, sig, signature.LevelLTA, f.pki.TSAURL)
	p, _ := f.offlinePolicy()
	r := validate(t, document, lta, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LTA", r.Format, r.Warnings)

	ltaPath := writeFile(t, dir, "lta.der", lta)
	root := writeFile(t, dir, "root.pem", f.pki.RootsPEM())
	runTool(t, openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", ltaPath,
		"-content", docPath, "-CAfile", root, "-purpose", "any", "-out", os.DevNull)
	tampered := writeFile(t, dir, "tampered.txt", append([]byte("x"), document...))
	err = exec.Command(openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", ltaPath,
		"-content", tampered, "-CAfile", root, "-purpose", "any", "-out", os.DevNull).Run()
	assert.Error(t, err)
}

func removeCertificate(t *testing.T, sig, cert []byte) []byte {
	t.Helper()
	out, err := signature.RemoveCertificate(sig, cert)
	require.NoError(t, err)
	return out
}

// An independent reading of EN 319 122-1 §5.5.3 (testdata/ats_v3_imprint.py, Python's
// standard library and its own DER walker) computes the imprint of our archive time-stamp
// from the finished signature, and openssl ts -verify finds that imprint in the token: the
// bytes we hash are the bytes the standard names. After a renewal, the same holds for the
// latest archive time-stamp, and not for the document changed.
func TestArchiveImprintIndependently(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	py := testenv.Tool(t, "python3")
	f := newFixture(t)
	dir := t.TempDir()
	cred := f.issue(t, dpitest.RSA2048)
	opts := ltOptions(f)
	opts.Level = signature.LevelLTA
	opts.Hash = crypto.SHA384
	lta := f.sign(t, cred, opts, document)
	renewed := f.extend(t, document, lta, signature.LevelLTA, f.pki.TSAURL)
	root := writeFile(t, dir, "root.pem", f.pki.RootsPEM())
	chain := writeFile(t, dir, "chain.pem", dpitest.CertsPEM(f.pki.Intermediate))
	docPath := writeFile(t, dir, "doc.txt", document)
	other := writeFile(t, dir, "other.txt", append([]byte("x"), document...))
	for name, sig := range map[string][]byte{"signed at B-LTA": lta, "renewed": renewed} {
		t.Run(name, func(t *testing.T) {
			sigPath := writeFile(t, dir, "sig.der", sig)
			token := filepath.Join(dir, "token.der")
			imprint := strings.TrimSpace(string(runTool(t, py, "testdata/ats_v3_imprint.py", sigPath, docPath, token)))
			require.Len(t, imprint, 96, "sha-384, the signature's digest")
			runTool(t, openssl, "ts", "-verify", "-token_in", "-in", token, "-digest", imprint,
				"-CAfile", root, "-untrusted", chain)
			wrong := strings.TrimSpace(string(runTool(t, py, "testdata/ats_v3_imprint.py", sigPath, other, token)))
			err := exec.Command(openssl, "ts", "-verify", "-token_in", "-in", token, "-digest", wrong,
				"-CAfile", root, "-untrusted", chain).Run()
			assert.Error(t, err)
		})
	}
}
