package pades

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

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
