package pades

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	pki   *dpitest.PKI
	clock *clock
	cred  *dpitest.Credential
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Ana Pérez", KeyType: dpitest.ECDSAP256, Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	return &fixture{pki: pki, clock: c, cred: cred}
}

func (f *fixture) policy() *signature.Policy {
	return &signature.Policy{Roots: f.pki.Pool(), Now: f.clock.Now}
}

// signer builds a PAdES signer at level (with Certify and Visible from cfg).
func (f *fixture) signer(t *testing.T, level Level, cfg Config) *Signer {
	t.Helper()
	opts := signature.SignerOptions{Now: f.clock.Now}
	switch level {
	case LevelT:
		opts.TSAURL = f.pki.TSAURL
	case LevelLT, LevelLTA:
		opts.Level, opts.TSAURL, opts.Roots = signature.LevelLT, f.pki.TSAURL, f.pki.Pool()
	}
	sig, err := signature.NewSigner(f.cred.Key, f.cred.Chain, opts)
	require.NoError(t, err)
	cfg.Signer, cfg.Level = sig, level
	s, err := NewSigner(cfg)
	require.NoError(t, err)
	return s
}

func (f *fixture) sign(t *testing.T, s *Signer, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, s.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out))
	return out.Bytes()
}

func (f *fixture) validate(t *testing.T, pdf []byte, p *signature.Policy) []Report {
	t.Helper()
	reps, err := Validate(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), p)
	require.NoError(t, err)
	return reps
}

// Every level signs, keeps the original as a byte-exact prefix, and validates
// TOTAL_PASSED with the format of its level; B-LT and B-LTA also with the revocation
// servers down.
func TestSignLevels(t *testing.T) {
	for _, tc := range []struct {
		level   Level
		format  string
		reports int
		xref    bool
	}{
		{LevelB, "PAdES-BASELINE-B", 1, false},
		{LevelT, "PAdES-BASELINE-T", 1, false},
		{LevelLT, "PAdES-BASELINE-LT", 1, false},
		{LevelLTA, "PAdES-BASELINE-LTA", 2, false},
		{LevelB, "PAdES-BASELINE-B", 1, true},
		{LevelLTA, "PAdES-BASELINE-LTA", 2, true},
	} {
		name := string(tc.level)
		if tc.xref {
			name += "/xref-stream"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			in := pdftest.New(pdftest.Options{Pages: 2, XRefStream: tc.xref})
			out := f.sign(t, f.signer(t, tc.level, Config{Reason: "Aprobación"}), in)
			require.True(t, bytes.HasPrefix(out, in), "the original is a prefix of the signed pdf")

			p := f.policy()
			if tc.level == LevelLT || tc.level == LevelLTA {
				f.pki.SetOCSPAvailable(false)
				f.pki.SetCRLAvailable(false)
			}
			reps := f.validate(t, out, p)
			require.Len(t, reps, tc.reports)
			r := reps[0]
			assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
			assert.Equal(t, tc.format, r.Format, r.Warnings)
			assert.Equal(t, "Signature1", r.Field)
			assert.Equal(t, "signature", r.Kind)
			assert.Equal(t, 2, r.Revision)
			assert.Equal(t, tc.level == LevelB || tc.level == LevelT, r.CoversWholeDocument)
			require.NotNil(t, r.SigningTime)
			assert.True(t, r.SigningTime.Equal(f.clock.Now()))
			if tc.reports == 2 {
				ts := reps[1]
				assert.Equal(t, signature.TotalPassed, ts.Indication, ts.Errors)
				assert.Equal(t, "documentTimestamp", ts.Kind)
				assert.Equal(t, "PAdES-DOCUMENT-TIMESTAMP", ts.Format)
				assert.True(t, ts.CoversWholeDocument)
				assert.Equal(t, 4, ts.Revision)
			}
		})
	}
}

// A byte changed inside the signed ranges is TOTAL_FAILED/HASH_FAILURE.
func TestTamperedByte(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{})
	out := f.sign(t, f.signer(t, LevelB, Config{}), in)
	i := bytes.Index(out, []byte("Test document, page 1"))
	require.Positive(t, i)
	out[i] = 'B'
	reps := f.validate(t, out, f.policy())
	require.Len(t, reps, 1)
	assert.Equal(t, signature.TotalFailed, reps[0].Indication)
	assert.Equal(t, signature.HashFailure, reps[0].SubIndication, reps[0].Errors)
}

// Two approval signatures on one document, each in its own update: both validate, the
// first does not cover the whole document, and the second signature is a change it allows.
func TestTwoSignatures(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{Form: true})
	once := f.sign(t, f.signer(t, LevelT, Config{}), in)
	twice := f.sign(t, f.signer(t, LevelB, Config{Visible: &Appearance{Page: 1, X: 300, Y: 72, W: 180, H: 50}}), once)
	require.True(t, bytes.HasPrefix(twice, once))
	reps := f.validate(t, twice, f.policy())
	require.Len(t, reps, 2)
	for i, r := range reps {
		assert.Equal(t, signature.TotalPassed, r.Indication, "signature %d: %v", i+1, r.Errors)
		assert.Equal(t, i+2, r.Revision)
		assert.Equal(t, "Signature"+string(rune('1'+i)), r.Field)
	}
	assert.False(t, reps[0].CoversWholeDocument)
	assert.True(t, reps[1].CoversWholeDocument)
	for _, c := range reps[0].Changes {
		assert.True(t, c.Allowed, c)
	}
}

// A certification signature with /P 1 allows no change: Sign refuses to add a signature
// after it, and one added anyway makes the certification fail.
func TestCertificationNoChanges(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{})
	certified := f.sign(t, f.signer(t, LevelB, Config{Certify: CertifyNoChanges}), in)
	reps := f.validate(t, certified, f.policy())
	require.Len(t, reps, 1)
	assert.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
	assert.Equal(t, CertifyNoChanges, reps[0].Certification)

	approval := f.signer(t, LevelB, Config{})
	err := approval.Sign(context.Background(), bytes.NewReader(certified), int64(len(certified)), &bytes.Buffer{})
	require.ErrorIs(t, err, ErrConfig)

	var out bytes.Buffer
	require.NoError(t, approval.sign(context.Background(), bytes.NewReader(certified), int64(len(certified)), &out, true))
	reps = f.validate(t, out.Bytes(), f.policy())
	require.Len(t, reps, 2)
	assert.NotEqual(t, signature.TotalPassed, reps[0].Indication, "a signature after a /P 1 certification is a change it forbids")
	assert.NotEmpty(t, reps[0].Changes)
	assert.Equal(t, signature.TotalPassed, reps[1].Indication, reps[1].Errors)

	// A certification of a document already signed is refused.
	err = f.signer(t, LevelB, Config{Certify: CertifyFormFill}).Sign(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), &bytes.Buffer{})
	require.ErrorIs(t, err, ErrConfig)
}

// A certification with form filling allowed, then an approval signature: both pass.
func TestCertificationFormFill(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{Form: true})
	certified := f.sign(t, f.signer(t, LevelB, Config{Certify: CertifyFormFill}), in)
	out := f.sign(t, f.signer(t, LevelB, Config{}), certified)
	reps := f.validate(t, out, f.policy())
	require.Len(t, reps, 2)
	assert.Equal(t, CertifyFormFill, reps[0].Certification)
	for _, r := range reps {
		assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors, r.Changes)
	}
}

// OpenSSL, an independent CMS implementation, verifies the CMS over the byte ranges.
func TestOpenSSLVerifiesCMS(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("DPI_TEST_STRICT") != "" {
			t.Fatal("openssl is required")
		}
		t.Skip("openssl not installed")
	}
	f := newFixture(t)
	for _, l := range []Level{LevelB, LevelT} {
		out := f.sign(t, f.signer(t, l, Config{}), pdftest.New(pdftest.Options{}))
		d, err := readDocument(context.Background(), bytes.NewReader(out), int64(len(out)))
		require.NoError(t, err)
		cat, err := d.catalog()
		require.NoError(t, err)
		fields, err := d.signatureFields(cat)
		require.NoError(t, err)
		require.Len(t, fields, 1)
		it := d.checkSignature(fields[0])
		require.Empty(t, it.problem)
		ranges, err := io.ReadAll(it.ranges(bytes.NewReader(out)))
		require.NoError(t, err)
		dir := t.TempDir()
		write := func(name string, b []byte) string {
			p := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(p, b, 0o600))
			return p
		}
		cmd := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", write("sig.der", it.contents),
			"-content", write("ranges", ranges), "-CAfile", write("roots.pem", f.pki.RootsPEM()), "-purpose", "any", "-out", os.DevNull)
		msg, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", msg)
		assert.Contains(t, string(msg), "Verification successful")
	}
}

// An encrypted PDF is refused by name, to sign and to validate.
func TestEncryptedRefused(t *testing.T) {
	in := pdftest.New(pdftest.Options{})
	conf := pdfConfig()
	conf.Cmd, conf.UserPW, conf.OwnerPW, conf.EncryptUsingAES, conf.EncryptKeyLength = model.ENCRYPT, "", "owner", true, 256
	conf.Permissions = model.PermissionsPrint
	var enc bytes.Buffer
	require.NoError(t, api.Encrypt(bytes.NewReader(in), &enc, conf))
	f := newFixture(t)
	_, err := Validate(context.Background(), bytes.NewReader(enc.Bytes()), int64(enc.Len()), f.policy())
	require.ErrorIs(t, err, ErrEncrypted)
	err = f.signer(t, LevelB, Config{}).Sign(context.Background(), bytes.NewReader(enc.Bytes()), int64(enc.Len()), &bytes.Buffer{})
	require.ErrorIs(t, err, ErrEncrypted)
}

// NewSigner refuses what it cannot make.
func TestNewSignerRefuses(t *testing.T) {
	f := newFixture(t)
	b, err := signature.NewSigner(f.cred.Key, f.cred.Chain, signature.SignerOptions{})
	require.NoError(t, err)
	for name, cfg := range map[string]Config{
		"no signer":      {},
		"level above":    {Signer: b, Level: LevelT},
		"lta without lt": {Signer: b, Level: LevelLTA},
		"unknown level":  {Signer: b, Level: "B-X"},
		"certify 4":      {Signer: b, Certify: 4},
		"page 0":         {Signer: b, Visible: &Appearance{W: 10, H: 10}},
		"field name":     {Signer: b, FieldName: "a(b)"},
	} {
		_, err := NewSigner(cfg)
		assert.ErrorIs(t, err, ErrConfig, name)
	}
}
