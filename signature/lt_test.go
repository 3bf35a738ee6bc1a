package signature_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

func ltOptions(f *fixture) signature.SignerOptions {
	return signature.SignerOptions{Level: signature.LevelLT, TSAURL: f.pki.TSAURL, Roots: f.pki.Pool()}
}

// offlinePolicy takes the responders and the CRL distribution points down and returns a
// policy whose client counts every request it makes.
func (f *fixture) offlinePolicy() (*signature.Policy, *counting) {
	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	c := &counting{}
	p := f.policy()
	p.HTTPClient = &http.Client{Transport: c}
	return p, c
}

// A B-LT signature carries its chains and their revocation data, and validates from them
// alone: the responders are down and nothing is fetched, now and a month later, when the
// OCSP responses it carries have long been superseded. The same signature at B-T is
// TRY_LATER then.
func TestLTValidatesWithoutTheNetwork(t *testing.T) {
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			f := newFixture(t)
			cred := f.issue(t, kt)
			lt := f.sign(t, cred, ltOptions(f), document)
			bt := f.sign(t, cred, signature.SignerOptions{TSAURL: f.pki.TSAURL}, document)
			signedAt := f.clock.Now()
			p, requests := f.offlinePolicy()
			for _, later := range []time.Duration{0, 30 * 24 * time.Hour} {
				f.clock.Add(later)
				r := validate(t, document, lt, p)
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				assert.Equal(t, "CAdES-BASELINE-LT", r.Format, r.Warnings)
				require.NotNil(t, r.Timestamp)
				assert.True(t, r.Timestamp.Time.Equal(signedAt))
				require.Len(t, r.Revocation, 2)
				for _, st := range r.Revocation {
					assert.Equal(t, "good", st.Status)
					assert.True(t, st.Embedded, st)
					assert.False(t, st.Offline)
				}
				assert.Empty(t, r.Warnings)
				assert.Zero(t, requests.n.Load(), "nothing is fetched")

				r = validate(t, document, bt, p)
				assert.Equal(t, signature.TryLater, r.SubIndication)
				assert.NotZero(t, requests.n.Load())
				requests.n.Store(0)
			}
		})
	}
}

// A revocation after the signature time-stamp does not change the result: the validation
// is at the validation time, and the signature time-stamp proves that the signature existed
// before the revocation (EN 319 102-1 §5.5, as for B-T). A B-T signature learns of the
// revocation from the responder and warns; a B-LT one is validated from its own data and
// fetches nothing, so it does not learn of it. A revocation dated before the time-stamp
// cannot be shown as "good" by the data the signature carries, which was issued after it.
func TestRevocationAfterSigning(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	lt := f.sign(t, cred, ltOptions(f), document)
	bt := f.sign(t, cred, signature.SignerOptions{TSAURL: f.pki.TSAURL}, document)
	f.clock.Add(time.Hour)
	require.NoError(t, f.pki.Revoke(cred.Cert, f.clock.Now()))
	f.clock.Add(time.Minute)

	c := &counting{}
	p := f.policy()
	p.HTTPClient = &http.Client{Transport: c}
	r := validate(t, document, lt, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LT", r.Format)
	assert.Zero(t, c.n.Load())

	r = validate(t, document, bt, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Contains(t, joinLines(r.Warnings), "after the best signature time")
}

// B-LT signing refuses what it cannot embed: a status nobody can tell (for the signer's
// issuing CA as for the signer), or a revoked certificate.
func TestLTSigningRefuses(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	s, err := signature.NewSigner(cred.Key, cred.Chain, withClock(f, ltOptions(f)))
	require.NoError(t, err)

	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	_, err = s.Sign(context.Background(), bytes.NewReader(document))
	assert.ErrorIs(t, err, signature.ErrRevocationUnknown)

	// The signer's own certificate is found good in the data given; its CA's is not.
	opts := withClock(f, ltOptions(f))
	opts.OCSPResponses = [][]byte{must(t)(f.pki.OCSPResponse(cred.Cert))}
	s, err = signature.NewSigner(cred.Key, cred.Chain, opts)
	require.NoError(t, err)
	_, err = s.Sign(context.Background(), bytes.NewReader(document))
	var ce *signature.CertificateError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Reason, "signing chain: ca certificate: status unknown")

	// With the CA's CRL too, nothing is fetched, and what was given is embedded.
	opts.CRLs = mustCRLs(t, must(t)(f.pki.RootCRL()))
	s, err = signature.NewSigner(cred.Key, cred.Chain, opts)
	require.NoError(t, err)
	_, err = s.Sign(context.Background(), bytes.NewReader(document))
	assert.ErrorIs(t, err, signature.ErrRevocationUnknown, "the tsa's status is still unknown")
	opts.OCSPResponses = append(opts.OCSPResponses, must(t)(f.pki.OCSPResponse(f.pki.TSA().Cert)))
	s, err = signature.NewSigner(cred.Key, cred.Chain, opts)
	require.NoError(t, err)
	sig, err := s.Sign(context.Background(), bytes.NewReader(document))
	require.NoError(t, err)
	p, requests := f.offlinePolicy()
	r := validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LT", r.Format, r.Warnings)
	assert.Equal(t, "CRL", r.Revocation[1].Source)
	assert.Zero(t, requests.n.Load())

	f.pki.SetOCSPAvailable(true)
	f.pki.SetCRLAvailable(true)
	require.NoError(t, f.pki.Revoke(f.pki.Intermediate, f.clock.Now().Add(-time.Minute)))
	s, err = signature.NewSigner(cred.Key, cred.Chain, withClock(f, ltOptions(f)))
	require.NoError(t, err)
	_, err = s.Sign(context.Background(), bytes.NewReader(document))
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, signature.ErrCertificate)
	assert.Equal(t, "revocation", ce.Check)
}

func withClock(f *fixture, o signature.SignerOptions) signature.SignerOptions {
	o.Now = f.clock.Now
	return o
}

func mustCRLs(t *testing.T, der []byte) []*x509.RevocationList {
	t.Helper()
	l, err := signature.LoadCRLs(der)
	require.NoError(t, err)
	return l
}

// SignerOptions.Level is checked once, by NewSigner.
func TestSignerLevelOptions(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	other, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	tsa, roots := f.pki.TSAURL, f.pki.Pool()
	tests := []struct {
		name string
		opts signature.SignerOptions
		ok   bool
	}{
		{"zero is b-b", signature.SignerOptions{}, true},
		{"a tsa is b-t", signature.SignerOptions{TSAURL: tsa}, true},
		{"b-b", signature.SignerOptions{Level: signature.LevelB}, true},
		{"b-t", signature.SignerOptions{Level: signature.LevelT, TSAURL: tsa}, true},
		{"b-lt", signature.SignerOptions{Level: signature.LevelLT, TSAURL: tsa, Roots: roots}, true},
		{"b-b with a tsa", signature.SignerOptions{Level: signature.LevelB, TSAURL: tsa}, false},
		{"b-t without a tsa", signature.SignerOptions{Level: signature.LevelT}, false},
		{"b-lt without a tsa", signature.SignerOptions{Level: signature.LevelLT, Roots: roots}, false},
		{"b-lt without roots", signature.SignerOptions{Level: signature.LevelLT, TSAURL: tsa}, false},
		{"b-lt in jades", signature.SignerOptions{Format: signature.JAdES, Level: signature.LevelLT, TSAURL: tsa, Roots: roots}, true},
		{"b-lta", signature.SignerOptions{Level: signature.LevelLTA, TSAURL: tsa, Roots: roots}, true},
		{"b-lta without roots", signature.SignerOptions{Level: signature.LevelLTA, TSAURL: tsa}, false},
		{"b-lta in jades", signature.SignerOptions{Format: signature.JAdES, Level: signature.LevelLTA, TSAURL: tsa, Roots: roots}, true},
		{"unknown", signature.SignerOptions{Level: "LT", TSAURL: tsa, Roots: roots}, false},
		{"roots without b-lt", signature.SignerOptions{TSAURL: tsa, Roots: roots}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signature.NewSigner(cred.Key, cred.Chain, withClock(f, tc.opts))
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, signature.ErrUnsupported)
			}
		})
	}
	// Roots that do not anchor the signer's chain: refused when the Signer is built.
	_, err = signature.NewSigner(cred.Key, cred.Chain, withClock(f, signature.SignerOptions{Level: signature.LevelLT, TSAURL: tsa, Roots: other.Pool()}))
	var ce *signature.CertificateError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, "chain", ce.Check)
}

// The intermediate CA is in the signer's chain and in the TSA's: its status is found once
// per validation, so a B-T signature costs three OCSP requests (signer, TSA, CA), not four.
func TestSharedCAStatusFetchedOnce(t *testing.T) {
	f := newFixture(t)
	sig := f.sign(t, f.issue(t, dpitest.ECDSAP256), signature.SignerOptions{TSAURL: f.pki.TSAURL}, document)
	c := &counting{}
	p := f.policy()
	p.HTTPClient = &http.Client{Transport: c}
	r := validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, int32(3), c.n.Load())
}
