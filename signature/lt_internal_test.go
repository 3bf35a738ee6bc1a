package signature

import (
	"bytes"
	"context"
	"encoding/asn1"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"

	"github.com/dpiblocks/dpi/dpitest"
)

// testClock is a settable clock that the PKI's server goroutines read.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *testClock) set(t time.Time) func() {
	old := c.ns.Swap(t.UnixNano())
	return func() { c.ns.Store(old) }
}
func (c *testClock) before(d time.Duration) func() { return c.set(c.Now().Add(-d)) }

type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// ltSignature signs a B-LT signature, then rebuilds it with other revocation data in crls:
// what another signer, or an attacker, could have embedded.
func ltSignature(t *testing.T, pki *dpitest.PKI, cred *dpitest.Credential, clock *testClock, revocation func(embedded [][]byte) [][]byte) []byte {
	t.Helper()
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{Level: LevelLT, TSAURL: pki.TSAURL, Roots: pki.Pool(), Now: clock.Now})
	require.NoError(t, err)
	sig, err := s.Sign(context.Background(), bytes.NewReader(document))
	require.NoError(t, err)
	if revocation == nil {
		return sig
	}
	var ci contentInfo
	_, err = asn1.Unmarshal(sig, &ci)
	require.NoError(t, err)
	var sd signedData
	_, err = asn1.Unmarshal(ci.Content.Bytes, &sd)
	require.NoError(t, err)
	var embedded [][]byte
	for in := cryptobyte.String(sd.CRLs.Bytes); !in.Empty(); {
		var el cryptobyte.String
		require.True(t, in.ReadAnyASN1Element(&el, nil))
		embedded = append(embedded, el)
	}
	p, err := parseCMS(sig)
	require.NoError(t, err)
	alg, err := cmsSignatureAlgorithm(p.signer.PublicKey, p.hash)
	require.NoError(t, err)
	out, err := buildSignedDataWith(p.hash, alg, p.signedAttrs, p.sigValue, p.certs, p.tsTokens[0], revocation(embedded))
	require.NoError(t, err)
	return out
}

// replaceStatus replaces the signer's OCSP response among the embedded revocation data.
func replaceStatus(cred *dpitest.Credential, pki *dpitest.PKI, replacement []byte) func([][]byte) [][]byte {
	return func(embedded [][]byte) [][]byte {
		var out [][]byte
		for _, e := range embedded {
			if p, err := parseRevocationChoices(e); err == nil && len(p.ocsp) == 1 {
				if tbs, err := ocspTBS(p.ocsp[0]); err == nil && certIDNamesIssuer(tbs, cred.Cert, pki.Intermediate) == nil {
					continue
				}
			}
			out = append(out, e)
		}
		return append(out, replacement)
	}
}

// document is the signed document of the internal tests.
var document = []byte("Certificate of residence no. 2026-0042\n")

// Revocation data in the signature that does not count (stale at the signature time-stamp,
// signed by another CA of the same name, about another certificate) is not used: the
// status is fetched, the report says why, and the level reached is B-T. With the
// responders down, the signature is TRY_LATER.
func TestEmbeddedRevocationDataThatDoesNotCount(t *testing.T) {
	clock := newTestClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: clock.Now})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	other, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Registry", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	otherCred, err := pki.Issue(dpitest.CertOptions{CommonName: "Other", Usage: dpitest.UsageSigning})
	require.NoError(t, err)

	restore := clock.before(2 * time.Hour)
	stale, err := pki.OCSPResponse(cred.Cert)
	require.NoError(t, err)
	restore()
	otherCRL, err := other.CRL()
	require.NoError(t, err)
	anotherCert, err := pki.OCSPResponse(otherCred.Cert)
	require.NoError(t, err)

	replace := func(replacement []byte) func([][]byte) [][]byte {
		return replaceStatus(cred, pki, replacement)
	}
	tests := []struct {
		name, reason string
		revocation   func([][]byte) [][]byte
	}{
		{"stale at the time-stamp", "ocsp response in the signature: response is stale", replace(ocspChoice(stale))},
		{"another ca's crl of the same name", "crl in the signature: signature:", replace(otherCRL)},
		{"about another certificate", "no crl or ocsp response in the signature is about this certificate", replace(ocspChoice(anotherCert))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := ltSignature(t, pki, cred, clock, tc.revocation)
			requests := &countingTransport{}
			p := &Policy{Roots: pki.Pool(), Now: clock.Now, HTTPClient: &http.Client{Transport: requests}}
			r, err := Validate(context.Background(), bytes.NewReader(document), sig, p)
			require.NoError(t, err)
			assert.Equal(t, TotalPassed, r.Indication, r.Errors)
			assert.Equal(t, "CAdES-BASELINE-T", r.Format)
			require.Len(t, r.Revocation, 2)
			assert.False(t, r.Revocation[0].Embedded)
			assert.True(t, r.Revocation[1].Embedded)
			warnings := strings.Join(r.Warnings, "\n")
			assert.Contains(t, warnings, `revocation data in the signature does not establish the status of "Registry"`)
			assert.Contains(t, warnings, tc.reason)
			assert.Contains(t, warnings, `not cades-baseline-lt: the revocation status of "Registry" is not in the signature`)
			assert.NotZero(t, requests.n.Load())

			pki.SetOCSPAvailable(false)
			pki.SetCRLAvailable(false)
			defer pki.SetOCSPAvailable(true)
			defer pki.SetCRLAvailable(true)
			r, err = Validate(context.Background(), bytes.NewReader(document), sig, p)
			require.NoError(t, err)
			assert.Equal(t, TryLater, r.SubIndication)
		})
	}
}

// Revocation data issued after the signature time-stamp speaks for it (the certificate
// was not revoked then either), as long as it was not issued after the validation time.
func TestEmbeddedRevocationDataIssuedLater(t *testing.T) {
	clock := newTestClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: clock.Now})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Registry", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	restore := clock.set(clock.Now().Add(3 * time.Hour))
	later, err := pki.OCSPResponse(cred.Cert)
	require.NoError(t, err)
	restore()
	sig := ltSignature(t, pki, cred, clock, replaceStatus(cred, pki, ocspChoice(later)))
	pki.SetOCSPAvailable(false)
	pki.SetCRLAvailable(false)
	p := &Policy{Roots: pki.Pool(), Now: clock.Now}
	r, err := Validate(context.Background(), bytes.NewReader(document), sig, p)
	require.NoError(t, err)
	assert.Equal(t, TryLater, r.SubIndication, "issued after the validation time: from the future")

	clock.Add(4 * time.Hour)
	r, err = Validate(context.Background(), bytes.NewReader(document), sig, p)
	require.NoError(t, err)
	assert.Equal(t, TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "CAdES-BASELINE-LT", r.Format, r.Warnings)
}
