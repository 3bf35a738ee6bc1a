package signature

import (
	"bytes"
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// A certificate issued for another purpose (a TSA, a TLS server) must not make a document
// signature that validates, even from the same trusted CA and with a digitalSignature key
// usage. The Signer is built by hand because NewSigner refuses such certificates too.
func TestSigningCertificatePurpose(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	tls, err := pki.Issue(dpitest.CertOptions{CommonName: "www.agency.example", Usage: dpitest.UsageTLS})
	require.NoError(t, err)
	signing, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	tests := []struct {
		name string
		cred *dpitest.Credential
		ok   bool
	}{
		{"document signer", signing, true},
		{"tls server", tls, false},
		{"time-stamping authority", pki.TSA(), false},
	}
	doc := []byte("document")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Signer{key: tc.cred.Key, chain: tc.cred.Chain, format: CAdES, hash: crypto.SHA256, now: time.Now}
			sig, err := s.Sign(context.Background(), bytes.NewReader(doc))
			require.NoError(t, err)
			r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
			require.NoError(t, err)
			_, newErr := NewSigner(tc.cred.Key, tc.cred.Chain, SignerOptions{})
			if tc.ok {
				assert.Equal(t, TotalPassed, r.Indication, r.Errors)
				assert.NoError(t, newErr)
				return
			}
			assert.Equal(t, Indeterminate, r.Indication, r.Errors)
			assert.Equal(t, ChainConstraintsFailure, r.SubIndication)
			assert.ErrorIs(t, newErr, ErrCertificate)
		})
	}
}
