package identity_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// testCA issues certificates for the x5c tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key := ecKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Trust Anchor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) leaf(t *testing.T, dns string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := ecKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dns}, DNSNames: []string{dns},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// x5cCredential signs a credential whose claims are all in the clear, with the leaf's
// certificate in x5c.
func x5cCredential(t *testing.T, iss string, leaf *x509.Certificate, key *ecdsa.PrivateKey, holder *ecdsa.PrivateKey) string {
	t.Helper()
	claims := map[string]any{
		"iss": iss, "vct": pidType, "iat": time.Now().Unix(), "given_name": "Amina",
		"cnf": map[string]any{"jwk": jose.JSONWebKey{Key: holder.Public()}},
	}
	header := map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(leaf.Raw)}}
	opts := (&jose.SignerOptions{}).WithType("dc+sd-jwt")
	for k, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	return signWithOpts(t, jose.ES256, key, opts, claims) + "~"
}

func TestCredentialX5CAnchoredIssuer(t *testing.T) {
	const iss = "https://pid-provider.example"
	ca := newTestCA(t)
	holder := ecKey(t)
	want := identity.Presentation{Audience: "https://verifier.example", Nonce: "n-1"}
	cv, err := identity.NewCredentialVerifier(identity.CredentialConfig{Issuers: []identity.CredentialIssuer{
		{URL: iss, Types: []string{pidType}, Roots: ca.pool()},
		{URL: "https://jwks-issuer.example", Types: []string{pidType}, JWKSURL: "https://jwks-issuer.example/jwks"},
	}})
	require.NoError(t, err)
	t.Cleanup(cv.Close)
	present := func(issued string) string {
		p, err := dpitest.Present(issued, nil, holder, want.Audience, want.Nonce, time.Now())
		require.NoError(t, err)
		return p
	}

	leaf, key := ca.leaf(t, "pid-provider.example")
	cred, err := cv.Verify(ctx(t), present(x5cCredential(t, iss, leaf, key, holder)), want)
	require.NoError(t, err)
	assert.Equal(t, iss, cred.Issuer)
	assert.True(t, cred.KeyBound)

	otherLeaf, otherKey := ca.leaf(t, "someone-else.example")
	_, err = cv.Verify(ctx(t), present(x5cCredential(t, iss, otherLeaf, otherKey, holder)), want)
	assert.ErrorIs(t, err, identity.ErrCertificate, "leaf names another host")

	rogue := newTestCA(t)
	rogueLeaf, rogueKey := rogue.leaf(t, "pid-provider.example")
	_, err = cv.Verify(ctx(t), present(x5cCredential(t, iss, rogueLeaf, rogueKey, holder)), want)
	assert.ErrorIs(t, err, identity.ErrCertificate, "chain to an untrusted root")

	_, err = cv.Verify(ctx(t), present(x5cCredential(t, iss, leaf, ecKey(t), holder)), want)
	assert.ErrorIs(t, err, identity.ErrSignature, "signed by a key other than the certificate's")

	jwksLeaf, jwksKey := ca.leaf(t, "jwks-issuer.example")
	_, err = cv.Verify(ctx(t), present(x5cCredential(t, "https://jwks-issuer.example", jwksLeaf, jwksKey, holder)), want)
	assert.ErrorIs(t, err, identity.ErrHeader, "x5c from an issuer trusted through its JWKS only")

	_, err = identity.NewCredentialVerifier(identity.CredentialConfig{Issuers: []identity.CredentialIssuer{
		{URL: iss, Types: []string{pidType}, Roots: ca.pool(), JWKSURL: "https://pid-provider.example/jwks"},
	}})
	assert.ErrorIs(t, err, identity.ErrConfig)
}
