package signature_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// onPath is a transport that answers some URLs itself, as an attacker between the validator
// and a plain-http OCSP responder or CRL distribution point can: everything else goes to
// the real servers.
type onPath struct {
	answers map[string][]byte // URL prefix → body
}

func (o onPath) RoundTrip(req *http.Request) (*http.Response, error) {
	for prefix, body := range o.answers {
		if strings.HasPrefix(req.URL.String(), prefix) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: req,
				Body: io.NopCloser(bytes.NewReader(body))}, nil
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A certificate the CA issued for document signing must not be able to sign OCSP responses
// for that CA: only a delegated responder with id-kp-OCSPSigning may (RFC 6960 §4.2.2.2).
func TestOCSPResponderMustBeAuthorised(t *testing.T) {
	f := newFixture(t)
	victim := f.issue(t, dpitest.ECDSAP256)
	require.NoError(t, f.pki.Revoke(victim.Cert, f.clock.Now().Add(-time.Minute)))
	sig := f.sign(t, victim, signature.SignerOptions{}, document)

	mallory := f.issue(t, dpitest.ECDSAP256) // any other certificate from the same CA
	now := f.clock.Now()
	forged, err := ocsp.CreateResponse(f.pki.Intermediate, mallory.Cert, ocsp.Response{
		Status: ocsp.Good, SerialNumber: victim.Cert.SerialNumber, Certificate: mallory.Cert,
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
	}, mallory.Key)
	require.NoError(t, err)

	p := f.policy()
	p.HTTPClient = &http.Client{Transport: onPath{map[string][]byte{f.pki.OCSPURL: forged}}}
	r := validate(t, document, sig, p)
	assert.NotEqual(t, signature.TotalPassed, r.Indication)
	assert.Equal(t, signature.Revoked, r.SubIndication, r.Errors) // the CRL still says so
	require.NotEmpty(t, r.Revocation)
	assert.Equal(t, "CRL", r.Revocation[0].Source)
}
