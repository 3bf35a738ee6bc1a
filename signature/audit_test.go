package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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

// miniCA is a one-level CA whose key the test holds, so that it can issue the revocation
// data an attacker could replay or pick from the CA's own (validly signed) publications.
type miniCA struct {
	root *x509.Certificate
	key  crypto.Signer
	srv  *httptest.Server
	mu   sync.Mutex
	body map[string][]byte
}

func newMiniCA(t *testing.T) *miniCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Mini Root"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	root, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	m := &miniCA{root: root, key: key, body: map[string][]byte{}}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		b, ok := m.body[r.URL.Path]
		m.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *miniCA) serve(path string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body[path] = b
}

func (m *miniCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(m.root)
	return p
}

// issue returns a document signer's key and certificate, edited by edit before signing.
func (m *miniCA) issue(t *testing.T, edit func(*x509.Certificate)) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	require.NoError(t, err)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Mini Signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		CRLDistributionPoints: []string{m.srv.URL + "/ca.crl"}}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.root, key.Public(), m.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return key, cert
}

func (m *miniCA) crl(t *testing.T, tmpl *x509.RevocationList) []byte {
	t.Helper()
	if tmpl.Number == nil {
		tmpl.Number = big.NewInt(1)
	}
	if tmpl.ThisUpdate.IsZero() {
		tmpl.ThisUpdate = time.Now().Add(-time.Minute)
		tmpl.NextUpdate = time.Now().Add(time.Hour)
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, m.root, m.key)
	require.NoError(t, err)
	return der
}

func signWith(t *testing.T, key crypto.Signer, chain ...*x509.Certificate) []byte {
	t.Helper()
	s, err := signature.NewSigner(key, chain, signature.SignerOptions{SkipRevocationCheckUnsafe: true})
	require.NoError(t, err)
	sig, err := s.Sign(context.Background(), bytes.NewReader(document))
	require.NoError(t, err)
	return sig
}

// idp encodes an issuing distribution point extension (RFC 5280 §5.2.5).
func idp(t *testing.T, url string, flagTag uint8) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if url != "" {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(url)) })
				})
			})
		}
		if flagTag != 0 {
			b.AddASN1(cbasn1.Tag(flagTag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
		}
	})
	der, err := b.Bytes()
	require.NoError(t, err)
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: der}
}

// A CRL that is not the complete list for the certificate (a delta, another partition,
// CA certificates only, or with a critical extension nobody here understands) must not
// show a revoked certificate as good: the CA publishes such lists, validly signed, and an
// attacker on the path can serve one in place of the full CRL.
func TestCRLMustBeCompleteForTheCertificate(t *testing.T) {
	m := newMiniCA(t)
	key, cert := m.issue(t, nil)
	sig := signWith(t, key, cert)
	url := m.srv.URL + "/ca.crl"
	tests := []struct {
		name   string
		ext    []pkix.Extension
		passes bool
	}{
		{"complete crl", nil, true},
		{"idp naming this distribution point", []pkix.Extension{idp(t, url, 0)}, true},
		{"idp end-entity certificates only", []pkix.Extension{idp(t, "", 1)}, true},
		{"delta crl", []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{0x02, 0x01, 0x01}}}, false},
		{"idp of another partition", []pkix.Extension{idp(t, m.srv.URL+"/part2.crl", 0)}, false},
		{"idp ca certificates only", []pkix.Extension{idp(t, "", 2)}, false},
		{"idp some reasons only", []pkix.Extension{idp(t, "", 3)}, false},
		{"idp indirect", []pkix.Extension{idp(t, "", 4)}, false},
		{"unknown critical extension", []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{0x05, 0x00}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m.serve("/ca.crl", m.crl(t, &x509.RevocationList{ExtraExtensions: tc.ext}))
			r := validate(t, document, sig, &signature.Policy{Roots: m.pool()})
			assertPassedOrTryLater(t, r, tc.passes)
		})
	}
}

// tsaServer is an RFC 3161 time-stamp authority over HTTP whose certificate and token
// digest the test chooses.
func tsaServer(t *testing.T, cert *x509.Certificate, key crypto.Signer, h crypto.Hash) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		q, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, "parse", http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{HashAlgorithm: q.HashAlgorithm, HashedMessage: q.HashedMessage,
			Time: time.Now().Add(-time.Minute), Policy: asn1.ObjectIdentifier{2, 999, 1}, Nonce: q.Nonce,
			AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(cert, key, h)
		if err != nil {
			http.Error(w, "sign", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A signature time-stamp moves the best signature time back, so it is a proof of
// existence only from a TSA certificate for that purpose alone (RFC 3161 §2.3: a critical
// extended key usage with id-kp-timeStamping only) and a token digest the policy allows.
func TestTimestampTokenRules(t *testing.T) {
	m := newMiniCA(t)
	key, cert := m.issue(t, nil)
	tsaCert := func(eku []x509.ExtKeyUsage, critical bool) (crypto.Signer, *x509.Certificate) {
		return m.issue(t, func(c *x509.Certificate) {
			c.Subject.CommonName = "Mini TSA"
			c.ExtKeyUsage = eku
			if critical {
				v, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
				require.NoError(t, err)
				c.ExtKeyUsage = nil
				c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: v}}
			}
		})
	}
	tests := []struct {
		name  string
		eku   []x509.ExtKeyUsage
		crit  bool
		hash  crypto.Hash
		valid bool
	}{
		{"critical timeStamping, sha-256", nil, true, crypto.SHA256, true},
		{"critical timeStamping, sha-1 token", nil, true, crypto.SHA1, false},
		{"non-critical timeStamping", []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, false, crypto.SHA256, false},
		{"timeStamping among others", []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageServerAuth}, false, crypto.SHA256, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m.serve("/ca.crl", m.crl(t, &x509.RevocationList{}))
			tkey, tcert := tsaCert(tc.eku, tc.crit)
			s, err := signature.NewSigner(key, []*x509.Certificate{cert},
				signature.SignerOptions{TSAURL: tsaServer(t, tcert, tkey, tc.hash), SkipRevocationCheckUnsafe: true})
			require.NoError(t, err)
			sig, err := s.Sign(context.Background(), bytes.NewReader(document))
			require.NoError(t, err)
			r := validate(t, document, sig, &signature.Policy{Roots: m.pool()})
			require.NotNil(t, r.Timestamp)
			assert.Equal(t, tc.valid, r.Timestamp.Valid, r.Timestamp.Reason)
			assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
		})
	}
}

// An OCSP answer without nextUpdate is fresh only for a while: recorded once, it must not
// vouch for the certificate for ever (an on-path replay after revocation).
func TestOCSPWithoutNextUpdateAges(t *testing.T) {
	m := newMiniCA(t)
	key, cert := m.issue(t, func(c *x509.Certificate) {
		c.CRLDistributionPoints = nil
		c.OCSPServer = []string{m.srv.URL + "/ocsp"}
	})
	sig := signWith(t, key, cert)
	for _, tc := range []struct {
		name   string
		age    time.Duration
		passes bool
	}{
		{"an hour old", time.Hour, true},
		{"a month old", 30 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := ocsp.CreateResponse(m.root, m.root, ocsp.Response{Status: ocsp.Good,
				SerialNumber: cert.SerialNumber, ThisUpdate: time.Now().Add(-tc.age)}, m.key)
			require.NoError(t, err)
			m.serve("/ocsp", resp)
			r := validate(t, document, sig, &signature.Policy{Roots: m.pool()})
			assertPassedOrTryLater(t, r, tc.passes)
		})
	}
}

// An OCSP answer is about a certificate only if its CertID names that certificate's
// issuer: a response the same key signed about another CA's certificate with the same
// serial number (a responder serving both, a CA re-issued under a new name) says nothing
// about this one.
func TestOCSPCertIDMustNameTheIssuer(t *testing.T) {
	m := newMiniCA(t)
	key, cert := m.issue(t, func(c *x509.Certificate) {
		c.CRLDistributionPoints = nil
		c.OCSPServer = []string{m.srv.URL + "/ocsp"}
	})
	sig := signWith(t, key, cert)
	other := *m.root
	other.RawSubject = []byte{0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 'O', 't', 'h', 'r'}
	for _, tc := range []struct {
		name   string
		issuer *x509.Certificate
		passes bool
	}{
		{"this issuer", m.root, true},
		{"another issuer's certificate, same serial", &other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := ocsp.CreateResponse(tc.issuer, m.root, ocsp.Response{Status: ocsp.Good,
				SerialNumber: cert.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute),
				NextUpdate: time.Now().Add(time.Hour)}, m.key)
			require.NoError(t, err)
			m.serve("/ocsp", resp)
			r := validate(t, document, sig, &signature.Policy{Roots: m.pool()})
			assertPassedOrTryLater(t, r, tc.passes)
		})
	}
}

// A delegated responder (id-kp-OCSPSigning, issued by the CA) still answers.
func TestDelegatedOCSPResponderAccepted(t *testing.T) {
	c := newClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: c.Now, DelegatedOCSP: true})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	f := &fixture{pki: pki, clock: c}
	sig := f.sign(t, cred, signature.SignerOptions{}, document)
	r := validate(t, document, sig, f.policy())
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	require.NotEmpty(t, r.Revocation)
	assert.Equal(t, "OCSP", r.Revocation[0].Source)
}

// A time-stamp is a proof of existence only while its TSA certificate is not revoked:
// whoever holds a compromised TSA key can date a signature before its signer's revocation.
func TestRevokedTSAProvesNothing(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	signedAt := f.clock.Now()
	sig := f.sign(t, cred, signature.SignerOptions{TSAURL: f.pki.TSAURL}, document)
	f.clock.Add(time.Hour)
	require.NoError(t, f.pki.Revoke(cred.Cert, signedAt.Add(30*time.Minute)))

	r := validate(t, document, sig, f.policy())
	require.NotNil(t, r.Timestamp)
	assert.True(t, r.Timestamp.Valid, r.Timestamp.Reason)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)

	require.NoError(t, f.pki.Revoke(f.pki.TSA().Cert, signedAt.Add(10*time.Minute)))
	r = validate(t, document, sig, f.policy())
	require.NotNil(t, r.Timestamp)
	assert.False(t, r.Timestamp.Valid)
	assert.Contains(t, r.Timestamp.Reason, "revoked")
	assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
	assert.Equal(t, signature.RevokedNoPOE, r.SubIndication)
}

// A CA that signs its OCSP answers itself may include its own certificate: that is not a
// delegated responder and needs no id-kp-OCSPSigning.
func TestOCSPSignedByIssuerWithItsCertificate(t *testing.T) {
	m := newMiniCA(t)
	key, cert := m.issue(t, func(c *x509.Certificate) {
		c.CRLDistributionPoints = nil
		c.OCSPServer = []string{m.srv.URL + "/ocsp"}
	})
	resp, err := ocsp.CreateResponse(m.root, m.root, ocsp.Response{Status: ocsp.Good, Certificate: m.root,
		SerialNumber: cert.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}, m.key)
	require.NoError(t, err)
	m.serve("/ocsp", resp)
	r := validate(t, document, signWith(t, key, cert), &signature.Policy{Roots: m.pool()})
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
}

// An intermediate CA limited to TLS (extended key usage serverAuth, clientAuth) does not
// issue document signing certificates, even ones without an extended key usage of their own.
func TestIssuingCAPurpose(t *testing.T) {
	for _, tc := range []struct {
		name   string
		eku    []x509.ExtKeyUsage
		passes bool
	}{
		{"no extended key usage", nil, true},
		{"emailProtection", []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageClientAuth}, true},
		{"tls only", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMiniCA(t)
			ikey, inter := m.issue(t, func(c *x509.Certificate) {
				c.Subject.CommonName = "Mini Intermediate"
				c.IsCA, c.BasicConstraintsValid = true, true
				c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
				c.ExtKeyUsage = tc.eku
			})
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			require.NoError(t, err)
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Signer"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
				KeyUsage:              x509.KeyUsageDigitalSignature,
				CRLDistributionPoints: []string{m.srv.URL + "/inter.crl"}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, inter, key.Public(), ikey)
			require.NoError(t, err)
			leaf, err := x509.ParseCertificate(der)
			require.NoError(t, err)
			icrl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
				ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}, inter, ikey)
			require.NoError(t, err)
			m.serve("/inter.crl", icrl)
			m.serve("/ca.crl", m.crl(t, &x509.RevocationList{}))
			r := validate(t, document, signWith(t, key, leaf, inter), &signature.Policy{Roots: m.pool()})
			if tc.passes {
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				return
			}
			assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
			assert.Equal(t, signature.ChainConstraintsFailure, r.SubIndication)
		})
	}
}

// A signing certificate that is itself the trust anchor gives a chain of one.
func TestSignerIsTheTrustAnchor(t *testing.T) {
	cred := selfSigned(t, x509.KeyUsageDigitalSignature)
	pool := x509.NewCertPool()
	pool.AddCert(cred.Cert)
	r := validate(t, document, signWith(t, cred.Key, cred.Cert), &signature.Policy{Roots: pool})
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Len(t, r.Chain, 1)
}

// A CA may forget a certificate once it has expired: a CRL or OCSP answer issued after the
// expiry that does not list it proves nothing, unless it says that it keeps expired
// certificates (expiredCertsOnCRL, archiveCutoff). Otherwise a certificate revoked, then
// expired and dropped, reads as never revoked for a signature dated before its expiry.
func TestRevocationSilenceAfterExpiry(t *testing.T) {
	since := func(t *testing.T, tm time.Time) []byte {
		v, err := asn1.MarshalWithParams(tm.UTC(), "generalized")
		require.NoError(t, err)
		return v
	}
	m := newMiniCA(t)
	notAfter := time.Now().Add(-time.Hour)
	expired := func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = notAfter.Add(-2*time.Hour), notAfter
	}
	sign := func(t *testing.T, key crypto.Signer, cert *x509.Certificate) []byte {
		s, err := signature.NewSigner(key, []*x509.Certificate{cert},
			signature.SignerOptions{Now: func() time.Time { return notAfter.Add(-time.Hour) }, SkipRevocationCheckUnsafe: true})
		require.NoError(t, err)
		sig, err := s.Sign(context.Background(), bytes.NewReader(document))
		require.NoError(t, err)
		return sig
	}
	// Validated as of a time the certificate was valid: the best signature time.
	policy := &signature.Policy{Roots: m.pool(), At: notAfter.Add(-30 * time.Minute)}

	t.Run("crl", func(t *testing.T) {
		key, cert := m.issue(t, expired)
		sig := sign(t, key, cert)
		m.serve("/ca.crl", m.crl(t, &x509.RevocationList{}))
		r := validate(t, document, sig, policy)
		assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
		assert.Equal(t, signature.TryLater, r.SubIndication)

		m.serve("/ca.crl", m.crl(t, &x509.RevocationList{ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 60}, Value: since(t, notAfter.Add(-24*time.Hour))}}}))
		r = validate(t, document, sig, policy)
		assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	})
	t.Run("ocsp", func(t *testing.T) {
		key, cert := m.issue(t, func(c *x509.Certificate) {
			expired(c)
			c.CRLDistributionPoints = nil
			c.OCSPServer = []string{m.srv.URL + "/ocsp"}
		})
		sig := sign(t, key, cert)
		answer := func(ext []pkix.Extension) []byte {
			resp, err := ocsp.CreateResponse(m.root, m.root, ocsp.Response{Status: ocsp.Good, ExtraExtensions: ext,
				SerialNumber: cert.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}, m.key)
			require.NoError(t, err)
			return resp
		}
		m.serve("/ocsp", answer(nil))
		r := validate(t, document, sig, policy)
		assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
		assert.Equal(t, signature.TryLater, r.SubIndication)

		m.serve("/ocsp", answer([]pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6},
			Value: since(t, notAfter.Add(-24*time.Hour))}}))
		r = validate(t, document, sig, policy)
		assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	})
}

// assertPassedOrTryLater checks a report that must pass, or else be INDETERMINATE/TRY_LATER
// because the revocation information it found does not count.
func assertPassedOrTryLater(t *testing.T, r *signature.Report, passes bool) {
	t.Helper()
	if passes {
		assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
		return
	}
	assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
	assert.Equal(t, signature.TryLater, r.SubIndication)
}
