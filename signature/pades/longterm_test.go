package pades

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

const year = 365 * 24 * time.Hour

// newLongFixture is a PKI whose CAs outlive a decade of time travel, whose signature
// time-stamp authority expires after two years, and whose signer's certificate after one.
func newLongFixture(t *testing.T) *fixture {
	t.Helper()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: c.Now, CAValidity: 40 * year, TSAValidity: 2 * year})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Ana Pérez", KeyType: dpitest.ECDSAP256, Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	require.True(t, cred.Cert.NotAfter.Before(c.Now().Add(2*year)))
	return &fixture{pki: pki, clock: c, cred: cred}
}

func (f *fixture) extend(t *testing.T, in []byte, level Level, tsaURL string) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, Extend(context.Background(), bytes.NewReader(in), int64(len(in)), &out,
		ExtendOptions{Level: level, TSAURL: tsaURL, Roots: f.pki.Pool(), Now: f.clock.Now}))
	require.True(t, bytes.HasPrefix(out.Bytes(), in), "extending appends")
	return out.Bytes()
}

// offline switches the revocation servers off for the rest of the test.
func (f *fixture) offline(on bool) {
	f.pki.SetOCSPAvailable(!on)
	f.pki.SetCRLAvailable(!on)
}

// byKind returns the report of the signature and of each document time-stamp.
func byKind(t *testing.T, reps []Report) (sig Report, ts []Report) {
	t.Helper()
	n := 0
	for _, r := range reps {
		if r.Kind == "signature" {
			sig = r
			n++
		} else {
			ts = append(ts, r)
		}
	}
	require.Equal(t, 1, n, "one signature")
	return sig, ts
}

// The long-term promise of PAdES-BASELINE-LTA (EN 319 142-1 §5.4.3, EN 319 102-1 §5.6.3): a
// B-LT PDF extended to B-LTA by a document time-stamp validates years later, with the
// network off, after the signer's and the signature time-stamp authority's certificates
// expired and the signer's was revoked; the B-LT PDF does not. Renewed (a DSS with the
// document time-stamp's validation data, then a further document time-stamp) before the
// first document time-stamp authority expires, it validates past that too.
func TestLTAOutlivesItsCertificates(t *testing.T) {
	f := newLongFixture(t)
	archive1, err := f.pki.AddTSA("archive-1", 8*year)
	require.NoError(t, err)
	in := pdftest.New(pdftest.Options{Pages: 1})
	lt := f.sign(t, f.signer(t, LevelLT, Config{}), in)
	f.clock.Add(time.Hour)
	lta := f.extend(t, lt, LevelLTA, archive1.URL)

	sig, ts := byKind(t, f.validate(t, lta, f.policy()))
	assert.Equal(t, signature.TotalPassed, sig.Indication, sig.Errors)
	assert.Equal(t, "PAdES-BASELINE-LTA", sig.Format, sig.Warnings)
	require.Len(t, ts, 1)
	assert.Equal(t, signature.TotalPassed, ts[0].Indication, ts[0].Errors)

	f.clock.Add(3 * year)
	require.NoError(t, f.pki.Revoke(f.cred.Cert, f.clock.Now()))
	f.clock.Add(3 * year) // the signer's and the signature TSA's certificates have expired
	require.True(t, f.clock.Now().After(f.pki.TSA().Cert.NotAfter))
	require.True(t, f.clock.Now().After(f.cred.Cert.NotAfter))
	f.offline(true)

	for name, p := range map[string]*signature.Policy{
		"offline": f.policy(),
		// The caller's current CRL shows the revocation, which came after the document
		// time-stamp: it changes nothing.
		"with the current crl": {Roots: f.pki.Pool(), Now: f.clock.Now, CRLs: currentCRL(t, f)},
	} {
		t.Run(name, func(t *testing.T) {
			reps := f.validate(t, lta, p)
			for _, r := range reps {
				assert.Equal(t, signature.TotalPassed, r.Indication, "%s: %v", r.Field, r.Errors)
			}
			sig, _ := byKind(t, reps)
			if name == "offline" {
				// The caller's crl decides the status instead of the dss: no longer lt.
				assert.Equal(t, "PAdES-BASELINE-LTA", sig.Format, sig.Warnings)
			}
			require.NotNil(t, sig.Timestamp)
			assert.True(t, sig.Timestamp.Valid, sig.Timestamp.Reason)
		})
	}
	reps := f.validate(t, lta, &signature.Policy{Roots: f.pki.Pool(), Now: f.clock.Now, CRLs: currentCRL(t, f)})
	sig, _ = byKind(t, reps)
	assert.Contains(t, strings.Join(sig.Warnings, "\n"), "after the best signature time")

	// Without a document time-stamp nothing proves the signature existed while its
	// certificates were valid.
	sig, _ = byKind(t, f.validate(t, lt, f.policy()))
	assert.Equal(t, signature.Indeterminate, sig.Indication)
	assert.Equal(t, signature.OutOfBoundsNoPOE, sig.SubIndication, sig.Errors)
	assert.Contains(t, strings.Join(sig.Warnings, "\n"), "expired before the time-stamp's proof of existence")

	// Renewal, with the network back, by an authority whose certificate is fresh.
	f.offline(false)
	archive2, err := f.pki.AddTSA("archive-2", 10*year)
	require.NoError(t, err)
	renewed := f.extend(t, lta, LevelLTA, archive2.URL)

	f.clock.Add(4 * year) // the first document time-stamp's authority has expired too
	require.True(t, f.clock.Now().After(archive1.Credential.Cert.NotAfter))
	f.offline(true)
	reps = f.validate(t, renewed, f.policy())
	for _, r := range reps {
		assert.Equal(t, signature.TotalPassed, r.Indication, "%s: %v", r.Field, r.Errors)
	}
	sig, ts = byKind(t, reps)
	assert.Equal(t, "PAdES-BASELINE-LTA", sig.Format, sig.Warnings)
	require.Len(t, ts, 2)

	sig, ts = byKind(t, f.validate(t, lta, f.policy()))
	assert.NotEqual(t, signature.TotalPassed, sig.Indication, "without renewal the document time-stamp has expired")
	assert.Equal(t, signature.OutOfBoundsNoPOE, ts[0].SubIndication, ts[0].Errors)
}

func currentCRL(t *testing.T, f *fixture) []*x509.RevocationList {
	t.Helper()
	der, err := f.pki.CRL()
	require.NoError(t, err)
	l, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	return []*x509.RevocationList{l}
}

// Extend takes each level to the one asked for, and refuses what it cannot extend.
func TestExtend(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{Pages: 1, Form: true})
	bt := f.sign(t, f.signer(t, LevelT, Config{}), in)
	for _, tc := range []struct {
		name   string
		in     []byte
		level  Level
		format string
		stamps int
	}{
		{"B-T to B-LT", bt, LevelLT, "PAdES-BASELINE-LT", 0},
		{"B-T to B-LTA", bt, LevelLTA, "PAdES-BASELINE-LTA", 1},
		{"B-LTA renewed", f.sign(t, f.signer(t, LevelLTA, Config{}), in), LevelLTA, "PAdES-BASELINE-LTA", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := f.extend(t, tc.in, tc.level, f.pki.TSAURL)
			f.offline(true)
			defer f.offline(false)
			reps := f.validate(t, out, f.policy())
			for _, r := range reps {
				assert.Equal(t, signature.TotalPassed, r.Indication, "%s: %v", r.Field, r.Errors)
				for _, c := range r.Changes {
					assert.True(t, c.Allowed, "%s: %+v", r.Field, c)
				}
			}
			sig, ts := byKind(t, reps)
			assert.Equal(t, tc.format, sig.Format, sig.Warnings)
			assert.Len(t, ts, tc.stamps)
		})
	}
	t.Run("B-LT to B-LT writes the input", func(t *testing.T) {
		lt := f.sign(t, f.signer(t, LevelLT, Config{}), in)
		assert.Equal(t, lt, f.extend(t, lt, LevelLT, ""))
	})

	bb := f.sign(t, f.signer(t, LevelB, Config{}), in)
	tampered := bytes.Clone(bt)
	i := bytes.Index(tampered, []byte("/MediaBox"))
	require.Positive(t, i)
	tampered[i+1] = 'm'
	for _, tc := range []struct {
		name string
		in   []byte
		opts ExtendOptions
		err  error
	}{
		{"a B-B signature", bb, ExtendOptions{Level: LevelLTA, TSAURL: f.pki.TSAURL, Roots: f.pki.Pool()}, signature.ErrNotExtendable},
		{"a signature that does not validate", tampered, ExtendOptions{Level: LevelLT, Roots: f.pki.Pool()}, signature.ErrNotExtendable},
		{"no signature", in, ExtendOptions{Level: LevelLT, Roots: f.pki.Pool()}, signature.ErrNotExtendable},
		{"no roots", bt, ExtendOptions{Level: LevelLT}, ErrConfig},
		{"level B-T", bt, ExtendOptions{Level: LevelT, Roots: f.pki.Pool()}, ErrConfig},
		{"B-LTA without a tsa", bt, ExtendOptions{Level: LevelLTA, Roots: f.pki.Pool()}, ErrConfig},
		{"not a pdf", []byte("not a pdf"), ExtendOptions{Level: LevelLT, Roots: f.pki.Pool()}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = f.clock.Now
			var out bytes.Buffer
			err := Extend(context.Background(), bytes.NewReader(tc.in), int64(len(tc.in)), &out, tc.opts)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.err), "%v", err)
			assert.Zero(t, out.Len(), "nothing is written")
		})
	}
}
