package signature_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// A Signer refuses a certificate that is expired, not yet valid or (unless
// SkipRevocationCheckUnsafe, the zero value checks) revoked at the signing time, with a *CertificateError naming the check; a status nobody
// can tell is ErrRevocationUnknown, not a verdict on the certificate.
func TestSignerChecksTheCertificateAtSigningTime(t *testing.T) {
	type setup struct {
		cert    dpitest.CertOptions
		revoke  bool          // a minute before signing
		down    bool          // OCSP responder and CRL distribution points
		later   time.Duration // the clock moves on between NewSigner and Sign
		noChain bool          // the chain holds the signing certificate alone
		opts    func(t *testing.T, f *fixture, cred *dpitest.Credential) signature.SignerOptions
	}
	check := signature.SignerOptions{}
	unchecked := func(*testing.T, *fixture, *dpitest.Credential) signature.SignerOptions {
		return signature.SignerOptions{SkipRevocationCheckUnsafe: true}
	}
	offline := func(t *testing.T, f *fixture, cred *dpitest.Credential) signature.SignerOptions {
		o := offlineData{ocsp: [][]byte{must(t)(f.pki.OCSPResponse(cred.Cert))}}.policy(t, &signature.Policy{})
		return signature.SignerOptions{OCSPResponses: o.OCSPResponses}
	}
	offlineCRL := func(t *testing.T, f *fixture, _ *dpitest.Credential) signature.SignerOptions {
		lists, err := signature.LoadCRLs(dpitest.CRLPEM(must(t)(f.pki.CRL())))
		require.NoError(t, err)
		return signature.SignerOptions{CRLs: lists}
	}
	tests := []struct {
		name      string
		setup     setup
		atNew     bool   // refused by NewSigner rather than by Sign
		check     string // "" when the signature is made
		sentinel  error
		reason    string
		noFetches bool
	}{
		{name: "valid, revocation not checked (unsafe)", setup: setup{down: true, opts: unchecked}, noFetches: true},
		{name: "the zero value checks: unknown, responders down", setup: setup{down: true},
			check: "revocation", sentinel: signature.ErrRevocationUnknown, reason: "status unknown"},
		{name: "expired", setup: setup{cert: dpitest.CertOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}},
			atNew: true, check: "validity", sentinel: signature.ErrCertificate, reason: "expired at"},
		{name: "not yet valid", setup: setup{cert: dpitest.CertOptions{NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour)}},
			atNew: true, check: "validity", sentinel: signature.ErrCertificate, reason: "not valid before"},
		{name: "expires while the signer lives", setup: setup{cert: dpitest.CertOptions{NotAfter: time.Now().Add(time.Hour)}, later: 2 * time.Hour},
			check: "validity", sentinel: signature.ErrCertificate, reason: "expired at"},
		{name: "good, from the responder", setup: setup{opts: func(*testing.T, *fixture, *dpitest.Credential) signature.SignerOptions { return check }}},
		{name: "revoked, from the responder", setup: setup{revoke: true, opts: func(*testing.T, *fixture, *dpitest.Credential) signature.SignerOptions { return check }},
			check: "revocation", sentinel: signature.ErrCertificate, reason: "revoked at"},
		{name: "good, from an ocsp response held, responders down", setup: setup{down: true, opts: offline}, noFetches: true},
		{name: "revoked, in a crl held, responders down", setup: setup{revoke: true, down: true, opts: offlineCRL},
			check: "revocation", sentinel: signature.ErrCertificate, reason: "revoked at", noFetches: true},
		{name: "good, certificate names no responder, crl held", setup: setup{cert: dpitest.CertOptions{NoRevocationURLs: true}, opts: offlineCRL}, noFetches: true},
		{name: "unknown, responders down", setup: setup{down: true, opts: func(*testing.T, *fixture, *dpitest.Credential) signature.SignerOptions { return check }},
			check: "revocation", sentinel: signature.ErrRevocationUnknown, reason: "status unknown"},
		{name: "unknown, certificate names no responder", setup: setup{cert: dpitest.CertOptions{NoRevocationURLs: true},
			opts: func(*testing.T, *fixture, *dpitest.Credential) signature.SignerOptions { return check }},
			check: "revocation", sentinel: signature.ErrRevocationUnknown, reason: "names no ocsp responder", noFetches: true},
		{name: "stale crl held, responders down", setup: setup{down: true, later: 25 * time.Hour, cert: dpitest.CertOptions{NotAfter: time.Now().Add(72 * time.Hour)}, opts: offlineCRL},
			check: "revocation", sentinel: signature.ErrRevocationUnknown, reason: "crl is stale"},
		{name: "no issuer to check revocation with", setup: setup{noChain: true, opts: func(*testing.T, *fixture, *dpitest.Credential) signature.SignerOptions { return check }},
			atNew: true, check: "revocation", sentinel: signature.ErrCertificate, reason: "issuer's certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			o := tc.setup.cert
			o.Usage, o.CommonName = dpitest.UsageSigning, "Registry"
			cred, err := f.pki.Issue(o)
			require.NoError(t, err)
			if tc.setup.revoke {
				require.NoError(t, f.pki.Revoke(cred.Cert, f.clock.Now().Add(-time.Minute)))
			}
			var opts signature.SignerOptions
			if tc.setup.opts != nil {
				opts = tc.setup.opts(t, f, cred)
			}
			net := &counting{}
			opts.HTTPClient = &http.Client{Transport: net}
			opts.Now = f.clock.Now
			if tc.setup.down {
				f.pki.SetOCSPAvailable(false)
				f.pki.SetCRLAvailable(false)
			}
			chain := cred.Chain
			if tc.setup.noChain {
				chain = chain[:1]
			}
			s, err := signature.NewSigner(cred.Key, chain, opts)
			var sig []byte
			if err == nil {
				assert.False(t, tc.atNew, "NewSigner refuses")
				f.clock.Add(tc.setup.later)
				sig, err = s.Sign(context.Background(), bytes.NewReader(document))
			}
			if tc.noFetches {
				assert.Zero(t, net.n.Load(), "nothing is fetched")
			}
			if tc.check == "" {
				require.NoError(t, err)
				f.pki.SetOCSPAvailable(true)
				f.pki.SetCRLAvailable(true)
				p := f.policy()
				p.CRLs, p.OCSPResponses = opts.CRLs, opts.OCSPResponses // the same data serves the validator
				r := validate(t, document, sig, p)
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				return
			}
			assert.Nil(t, sig, "no signature")
			var ce *signature.CertificateError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.check, ce.Check)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Contains(t, ce.Reason, tc.reason)
			assert.NotContains(t, err.Error(), "Registry", "the subject is not named")
			if tc.sentinel == signature.ErrRevocationUnknown {
				assert.NotErrorIs(t, err, signature.ErrCertificate, "nothing was decided about the certificate")
			}
		})
	}
}

func TestSignerRevocationOptions(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	lists, err := signature.LoadCRLs(must(t)(f.pki.CRL()))
	require.NoError(t, err)
	_, err = signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{CRLs: lists, SkipRevocationCheckUnsafe: true})
	assert.ErrorIs(t, err, signature.ErrUnsupported, "revocation data with the check skipped")
	_, err = signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{Level: signature.LevelLT, TSAURL: f.pki.TSAURL,
		Roots: f.pki.Pool(), SkipRevocationCheckUnsafe: true})
	assert.ErrorIs(t, err, signature.ErrUnsupported, "b-lt without the revocation check")

	other := newFixture(t)
	_, err = signature.NewSigner(cred.Key, []*x509.Certificate{cred.Cert, other.pki.Intermediate}, signature.SignerOptions{})
	var ce *signature.CertificateError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "chain", ce.Check)
}
