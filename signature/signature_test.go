package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// clock is a settable test clock shared by the PKI and the validator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	pki   *dpitest.PKI
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := newClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	return &fixture{pki: pki, clock: c}
}

func (f *fixture) issue(t *testing.T, kt dpitest.KeyType) *dpitest.Credential {
	t.Helper()
	cred, err := f.pki.Issue(dpitest.CertOptions{CommonName: "Agency " + kt.String(), KeyType: kt, Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	return cred
}

func (f *fixture) policy() *signature.Policy {
	return &signature.Policy{Roots: f.pki.Pool(), Now: f.clock.Now}
}

// sign makes a signature for the validator's tests, as a signer that does not check
// revocation would (the validator must catch what such a signer lets through); at the
// long-term levels, or with revocation data given, the signer checks. The Signer's own
// check is tested in sign_certificate_test.go.
func (f *fixture) sign(t *testing.T, cred *dpitest.Credential, opts signature.SignerOptions, doc []byte) []byte {
	t.Helper()
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	if opts.Level != signature.LevelLT && opts.Level != signature.LevelLTA && opts.CRLs == nil && opts.OCSPResponses == nil {
		opts.SkipRevocationCheckUnsafe = true
	}
	s, err := signature.NewSigner(cred.Key, cred.Chain, opts)
	require.NoError(t, err)
	sig, err := s.Sign(context.Background(), bytes.NewReader(doc))
	require.NoError(t, err)
	return sig
}

func validate(t *testing.T, doc, sig []byte, p *signature.Policy) *signature.Report {
	t.Helper()
	r, err := signature.Validate(context.Background(), bytes.NewReader(doc), sig, p)
	require.NoError(t, err)
	require.NotNil(t, r)
	return r
}

var document = []byte("Certificate of residence no. 2026-0042\nissued by the civil registry\n")

func TestSignValidateRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.ECDSAP384, dpitest.RSA2048, dpitest.RSA3072, dpitest.Ed25519} {
		cred := f.issue(t, kt)
		for _, format := range []signature.Format{signature.CAdES, signature.JAdES} {
			t.Run(kt.String()+"/"+string(format), func(t *testing.T) {
				sig := f.sign(t, cred, signature.SignerOptions{Format: format}, document)
				r := validate(t, document, sig, f.policy())
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				assert.Empty(t, r.SubIndication)
				assert.True(t, r.Passed())
				want := "CAdES-BASELINE-B"
				if format == signature.JAdES {
					want = "JAdES-BASELINE-B"
				}
				assert.Equal(t, want, r.Format)
				assert.Contains(t, r.SignedBy, "CN=Agency "+kt.String())
				require.NotNil(t, r.SigningTime)
				assert.True(t, r.SigningTime.Equal(f.clock.Now()))
				assert.Len(t, r.Chain, 3)
				require.Len(t, r.Revocation, 2)
				assert.Equal(t, "good", r.Revocation[0].Status)
				assert.Equal(t, "OCSP", r.Revocation[0].Source)
				assert.Empty(t, r.Errors)

				tampered := append([]byte(nil), document...)
				tampered[0] ^= 1
				r = validate(t, tampered, sig, f.policy())
				assert.Equal(t, signature.TotalFailed, r.Indication)
				if format == signature.CAdES {
					assert.Equal(t, signature.HashFailure, r.SubIndication)
				} else {
					// A JWS signs the payload directly: there is no separate digest to compare.
					assert.Equal(t, signature.SigCryptoFailure, r.SubIndication)
				}
			})
		}
	}
}

func TestTimestampedSignature(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, signature.SignerOptions{TSAURL: f.pki.TSAURL}, document)
	signedAt := f.clock.Now()
	f.clock.Add(2 * time.Hour)

	r := validate(t, document, sig, f.policy())
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-T", r.Format)
	require.NotNil(t, r.Timestamp)
	assert.True(t, r.Timestamp.Valid, r.Timestamp.Reason)
	assert.True(t, r.BestSignatureTime.Equal(signedAt), "best signature time is the time-stamp's")

	// A TSA that is not trusted gives no proof of existence: the time-stamp is ignored.
	other := newFixture(t)
	p := f.policy()
	p.TSARoots = other.pki.Pool()
	r = validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication)
	assert.False(t, r.Timestamp.Valid)
	assert.NotEmpty(t, r.Warnings)
	assert.True(t, r.BestSignatureTime.Equal(f.clock.Now()))
}

func TestTimestampUnavailable(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	f.pki.SetTSAAvailable(false)
	s, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{TSAURL: f.pki.TSAURL})
	require.NoError(t, err)
	_, err = s.Sign(context.Background(), bytes.NewReader(document))
	assert.ErrorIs(t, err, signature.ErrTimestamp)
}

func TestRevocation(t *testing.T) {
	tests := []struct {
		name      string
		tsa       bool
		revokeAt  time.Duration // relative to the signing time
		wantInd   signature.Indication
		wantSub   signature.SubIndication
		wantWarns bool
	}{
		{"revoked before signing", false, -time.Minute, signature.TotalFailed, signature.Revoked, false},
		{"revoked after signing, no proof of existence", false, 30 * time.Minute, signature.Indeterminate, signature.RevokedNoPOE, false},
		{"revoked after a time-stamped signature", true, 30 * time.Minute, signature.TotalPassed, "", true},
	}
	t.Run("intermediate revoked", func(t *testing.T) {
		f := newFixture(t)
		cred := f.issue(t, dpitest.ECDSAP256)
		sig := f.sign(t, cred, signature.SignerOptions{}, document)
		f.clock.Add(time.Hour)
		require.NoError(t, f.pki.Revoke(f.pki.Intermediate, f.clock.Now().Add(-time.Minute)))
		r := validate(t, document, sig, f.policy())
		assert.Equal(t, signature.Indeterminate, r.Indication)
		assert.Equal(t, signature.RevokedCANoPOE, r.SubIndication)
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cred := f.issue(t, dpitest.ECDSAP256)
			opts := signature.SignerOptions{}
			if tc.tsa {
				opts.TSAURL = f.pki.TSAURL
			}
			signedAt := f.clock.Now()
			if tc.revokeAt < 0 {
				require.NoError(t, f.pki.Revoke(cred.Cert, signedAt.Add(tc.revokeAt)))
			}
			sig := f.sign(t, cred, opts, document)
			f.clock.Add(time.Hour)
			if tc.revokeAt > 0 {
				require.NoError(t, f.pki.Revoke(cred.Cert, signedAt.Add(tc.revokeAt)))
			}
			r := validate(t, document, sig, f.policy())
			assert.Equal(t, tc.wantInd, r.Indication, r.Errors)
			assert.Equal(t, tc.wantSub, r.SubIndication)
			require.NotEmpty(t, r.Revocation)
			assert.Equal(t, "revoked", r.Revocation[0].Status)
			assert.Equal(t, tc.wantWarns, len(r.Warnings) > 0, r.Warnings)
		})
	}
}

// blockURL is a transport on which one URL is unreachable, as a CRL distribution point
// behind a broken network would be.
type blockURL struct {
	blocked string
}

func (b blockURL) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.String() == b.blocked {
		return nil, errors.New("network unreachable")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestRevocationUnavailable(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, signature.SignerOptions{}, document)
	f.pki.SetOCSPAvailable(false)

	// OCSP down: the CRL answers.
	r := validate(t, document, sig, f.policy())
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	require.NotEmpty(t, r.Revocation)
	assert.Equal(t, "CRL", r.Revocation[0].Source)

	// OCSP down and the CRL unreachable: try later.
	p := f.policy()
	p.HTTPClient = &http.Client{Transport: blockURL{f.pki.CRLURL}}
	r = validate(t, document, sig, p)
	assert.Equal(t, signature.Indeterminate, r.Indication)
	assert.Equal(t, signature.TryLater, r.SubIndication)
	assert.Equal(t, "unknown", r.Revocation[0].Status)
}

func TestUnknownRoot(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	for _, format := range []signature.Format{signature.CAdES, signature.JAdES} {
		sig := f.sign(t, f.issue(t, dpitest.ECDSAP256), signature.SignerOptions{Format: format}, document)
		r := validate(t, document, sig, other.policy())
		assert.Equal(t, signature.Indeterminate, r.Indication)
		assert.Equal(t, signature.NoCertificateChainFound, r.SubIndication)
	}
}

func TestCertificateValidity(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	cred, err := f.pki.Issue(dpitest.CertOptions{CommonName: "Short-lived", Usage: dpitest.UsageSigning,
		NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(time.Hour)})
	require.NoError(t, err)
	sig := f.sign(t, cred, signature.SignerOptions{}, document)

	// Validated after expiry with no proof of existence from before it.
	f.clock.Add(2 * time.Hour)
	r := validate(t, document, sig, f.policy())
	assert.Equal(t, signature.Indeterminate, r.Indication)
	assert.Equal(t, signature.OutOfBoundsNoPOE, r.SubIndication)

	// Validated as of a time when the certificate was valid.
	p := f.policy()
	p.At = now.Add(time.Minute)
	r = validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.True(t, r.ValidationTime.Equal(p.At))

	// The signer claims to have signed after expiry (a Signer refuses to; another tool
	// may not).
	lateClock := signature.SignerOptions{Now: func() time.Time { return now.Add(90 * time.Minute) }}
	_, err = signature.NewSigner(cred.Key, cred.Chain, lateClock)
	var ce *signature.CertificateError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "validity", ce.Check)
	late, err := signature.SignOutsideValidity(context.Background(), cred.Key, cred.Chain, lateClock, bytes.NewReader(document))
	require.NoError(t, err)
	r = validate(t, document, late, f.policy())
	assert.Equal(t, signature.TotalFailed, r.Indication)
	assert.Equal(t, signature.Expired, r.SubIndication)
}

func TestPolicyRequiresRoots(t *testing.T) {
	for _, p := range []*signature.Policy{nil, {}} {
		r, err := signature.Validate(context.Background(), strings.NewReader("x"), []byte{0x30, 0}, p)
		assert.ErrorIs(t, err, signature.ErrNoTrustAnchors)
		assert.Nil(t, r)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	other := f.issue(t, dpitest.ECDSAP256)
	weak := f.issue(t, dpitest.RSA1024)
	caOnly := selfSigned(t, x509.KeyUsageCertSign)
	ca, err := f.pki.Issue(dpitest.CertOptions{CommonName: "Agency CA", Usage: dpitest.UsageSigning, IsCA: true})
	require.NoError(t, err)
	tests := []struct {
		name  string
		key   crypto.Signer
		chain []*dpitest.Credential
		opts  signature.SignerOptions
		want  error
	}{
		{"key of another certificate", other.Key, []*dpitest.Credential{cred}, signature.SignerOptions{}, signature.ErrKeyMismatch},
		{"sha-1", cred.Key, []*dpitest.Credential{cred}, signature.SignerOptions{Hash: crypto.SHA1}, signature.ErrUnsupported},
		{"rsa 1024", weak.Key, []*dpitest.Credential{weak}, signature.SignerOptions{}, signature.ErrUnsupported},
		{"unknown format", cred.Key, []*dpitest.Credential{cred}, signature.SignerOptions{Format: "xades"}, signature.ErrUnsupported},
		{"tsa url not http", cred.Key, []*dpitest.Credential{cred}, signature.SignerOptions{TSAURL: "file:///etc/passwd"}, signature.ErrTimestamp},
		{"no digital signature key usage", caOnly.Key, []*dpitest.Credential{caOnly}, signature.SignerOptions{}, signature.ErrCertificate},
		{"ca certificate with signing key usage", ca.Key, []*dpitest.Credential{ca}, signature.SignerOptions{}, signature.ErrCertificate},
		{"ca certificate with signing key usage, jades", ca.Key, []*dpitest.Credential{ca}, signature.SignerOptions{Format: signature.JAdES}, signature.ErrCertificate},
		{"no chain", cred.Key, nil, signature.SignerOptions{}, signature.ErrCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var chain []*x509.Certificate
			for _, c := range tc.chain {
				chain = append(chain, c.Chain...)
			}
			_, err := signature.NewSigner(tc.key, chain, tc.opts)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// selfSigned makes a certificate with the given key usage, for cases dpitest does not issue.
func selfSigned(t *testing.T, ku x509.KeyUsage) *dpitest.Credential {
	t.Helper()
	key, err := dpitest.ECDSAP256.GenerateKey()
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "self"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: ku}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &dpitest.Credential{Key: key, Cert: cert, Chain: []*x509.Certificate{cert}}
}

func TestSignerConcurrentAndCancelled(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	for _, format := range []signature.Format{signature.CAdES, signature.JAdES} {
		s, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{Format: format})
		require.NoError(t, err)
		var wg sync.WaitGroup
		sigs := make([][]byte, 8)
		errs := make([]error, 8)
		for i := range sigs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sigs[i], errs[i] = s.Sign(context.Background(), bytes.NewReader(document))
			}()
		}
		wg.Wait()
		for i := range sigs {
			require.NoError(t, errs[i])
			assert.True(t, validate(t, document, sigs[i], f.policy()).Passed())
		}

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = s.Sign(ctx, bytes.NewReader(document))
		assert.ErrorIs(t, err, context.Canceled)
		_, err = signature.Validate(ctx, bytes.NewReader(document), sigs[0], f.policy())
		assert.ErrorIs(t, err, context.Canceled)
	}
}

// zeros is an endless reader, to sign a large document that is never in memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestStreamingLargeDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 2 x 3 x 64 MiB")
	}
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	const size = 64 << 20
	for _, format := range []signature.Format{signature.CAdES, signature.JAdES} {
		s, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{Format: format})
		require.NoError(t, err)
		sig, err := s.Sign(context.Background(), io.LimitReader(zeros{}, size))
		require.NoError(t, err)
		r, err := signature.Validate(context.Background(), io.LimitReader(zeros{}, size), sig, f.policy())
		require.NoError(t, err)
		assert.True(t, r.Passed(), r.Errors)
		r, err = signature.Validate(context.Background(), io.LimitReader(zeros{}, size+1), sig, f.policy())
		require.NoError(t, err)
		assert.Equal(t, signature.TotalFailed, r.Indication)
	}
}

// failAfter yields n zero bytes, then an error, like a disk failing under a large file.
type failAfter struct{ n int }

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("input/output error")
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestDocumentReadError(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	s, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{})
	require.NoError(t, err)
	for _, n := range []int{0, 100 << 10, 5 << 20} {
		_, err := s.Sign(context.Background(), &failAfter{n: n})
		assert.ErrorContains(t, err, "reading document")
	}
}

// A signer's claim to have signed later than the validation time (signing-time, sigT) is
// false or from a wrong clock: beyond SigningTimeSkew it is never TOTAL_PASSED, even
// inside the certificate's validity and with a time-stamp that proves the signature older.
func TestFutureSigningTime(t *testing.T) {
	tests := []struct {
		name   string
		ahead  time.Duration
		tsa    bool
		passes bool
	}{
		{"now", 0, false, true},
		{"within the skew", signature.SigningTimeSkew - time.Second, false, true},
		{"just beyond the skew", signature.SigningTimeSkew + time.Second, false, false},
		{"180 days ahead", 180 * 24 * time.Hour, false, false},
		{"180 days ahead, time-stamped now", 180 * 24 * time.Hour, true, false},
	}
	for _, tc := range tests {
		for _, format := range []signature.Format{signature.CAdES, signature.JAdES} {
			if tc.tsa && format == signature.JAdES {
				continue // compact JAdES carries no time-stamp
			}
			t.Run(tc.name+"/"+string(format), func(t *testing.T) {
				f := newFixture(t)
				cred := f.issue(t, dpitest.ECDSAP256)
				require.True(t, cred.Cert.NotAfter.After(f.clock.Now().Add(tc.ahead)), "claimed time inside the validity")
				opts := signature.SignerOptions{Format: format, Now: func() time.Time { return f.clock.Now().Add(tc.ahead) }}
				if tc.tsa {
					opts.TSAURL = f.pki.TSAURL
				}
				sig := f.sign(t, cred, opts, document)
				r := validate(t, document, sig, f.policy())
				if tc.passes {
					assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
					return
				}
				assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
				assert.Equal(t, signature.SigConstraintsFailure, r.SubIndication)
				assert.Contains(t, strings.Join(r.Errors, "\n"), "claimed signing time is after the validation time")
			})
		}
	}
}

// The claimed signing time is judged last (signature acceptance, EN 319 102-1 §5.2.8): it
// does not hide a more conclusive failure, such as a validation time before the
// certificate's validity, which also puts the claim in the future.
func TestFutureSigningTimeDoesNotHideFailures(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, signature.SignerOptions{}, document)
	p := f.policy()
	p.At = cred.Cert.NotBefore.Add(-time.Hour)
	r := validate(t, document, sig, p)
	assert.Equal(t, signature.TotalFailed, r.Indication, r.Errors)
	assert.Equal(t, signature.NotYetValid, r.SubIndication)
	assert.Contains(t, strings.Join(r.Errors, "\n"), "claimed signing time is after the validation time")
}
