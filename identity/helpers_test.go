package identity_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startIdP(t *testing.T, o dpitest.IdPOptions) *dpitest.IdP {
	t.Helper()
	idp, err := dpitest.StartIdP(o)
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	return idp
}

func newVerifier(t *testing.T, cfg identity.Config) *identity.Verifier {
	t.Helper()
	v, err := identity.NewVerifier(cfg)
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v
}

// setup starts an IdP and a verifier trusting it, sharing one clock.
func setup(t *testing.T, o dpitest.IdPOptions, cfg identity.Config) (*dpitest.IdP, *identity.Verifier, *clock) {
	t.Helper()
	clk := newClock()
	o.Now = clk.Now
	idp := startIdP(t, o)
	if cfg.Issuers == nil {
		cfg.Issuers = []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}
	}
	cfg.Now = clk.Now
	return idp, newVerifier(t, cfg), clk
}

func mint(t *testing.T, idp *dpitest.IdP, claims map[string]any) string {
	t.Helper()
	tok, err := idp.MintIDToken(claims)
	require.NoError(t, err)
	return tok
}

// countingJWKS serves body (or what serve writes) and counts requests.
type countingJWKS struct {
	*httptest.Server
	n atomic.Int64
}

func startJWKS(t *testing.T, serve func(w http.ResponseWriter, r *http.Request)) *countingJWKS {
	t.Helper()
	c := &countingJWKS{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		serve(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// raw builds a compact JWS from a header, claims and signer, for attacks a real signer
// refuses to produce.
func raw(t *testing.T, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	input := b64(h) + "." + b64(c)
	return input + "." + b64(sign([]byte(input)))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func hs256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

// signWith signs claims with an arbitrary key through go-jose, with extra headers.
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, header map[string]any, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	obj, err := s.Sign(payload)
	require.NoError(t, err)
	out, err := obj.CompactSerialize()
	require.NoError(t, err)
	return out
}

// signWithOpts signs claims with key under explicit signer options.
func signWithOpts(t *testing.T, alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	obj, err := s.Sign(payload)
	require.NoError(t, err)
	out, err := obj.CompactSerialize()
	require.NoError(t, err)
	return out
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

func claimsFor(idp *dpitest.IdP, now time.Time) map[string]any {
	return map[string]any{
		"iss": idp.Issuer(), "sub": dpitest.TestSubject, "aud": "test-client",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": "n-0S6_WzA2Mj",
	}
}

var _ crypto.Signer = (*ecdsa.PrivateKey)(nil)

func ctx(t *testing.T) context.Context { return t.Context() }
