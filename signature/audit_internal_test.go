package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// A protected header member that differs from a known one only in case (or by Unicode
// folding) is refused: encoding/json would read it as that member, other JOSE libraries
// would not.
func TestJWSHeaderCaseVariants(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	thumb := sha256.Sum256(cred.Cert.Raw)
	x5c, err := json.Marshal([]string{base64.StdEncoding.EncodeToString(cred.Cert.Raw), base64.StdEncoding.EncodeToString(cred.Chain[1].Raw)})
	require.NoError(t, err)
	common := fmt.Sprintf(`"alg":"ES256","crit":["b64"],"x5t#S256":%q,"x5c":%s,"iat":%d`,
		encodeSeg(thumb[:]), x5c, time.Now().Unix())
	doc := []byte("document")
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{
		{"plain", `{"b64":false,` + common + `}`, true},
		{"b64 true then B64 false", `{"b64":true,` + common + `,"B64":false}`, false},
		{"folded sigT", `{"b64":false,` + common + `,"ſigT":"2020-01-01T00:00:00Z"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encodeSeg([]byte(tc.header))
			d := sha256.Sum256(append([]byte(enc+"."), doc...))
			sv, err := signJWSDigest(cred.Key, jwsAlgs["ES256"], d[:])
			require.NoError(t, err)
			sig := []byte(enc + ".." + encodeSeg(sv))
			r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, TotalPassed, r.Indication, r.Errors)
				return
			}
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}
