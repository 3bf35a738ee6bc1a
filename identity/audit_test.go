package identity_test

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// mutableJWKS serves a key set that the test can change.
type mutableJWKS struct {
	mu   sync.Mutex
	keys []jose.JSONWebKey
}

func (m *mutableJWKS) set(keys ...jose.JSONWebKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = keys
}

func (m *mutableJWKS) serve(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: m.keys})
}

func pubJWK(k *ecdsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"}
}

// Two issuers publishing one key set (two tenants of one IdP, or an issuer naming
// another's jwks_uri) must each see the IdP remove a key: a removed key, perhaps a
// compromised one, must not stay trusted for the issuer that fetched first.
func TestSharedJWKSURLRefreshesEveryIssuer(t *testing.T) {
	clk := newClock()
	k1, k2 := ecKey(t), ecKey(t)
	set := &mutableJWKS{}
	set.set(pubJWK(k1, "k1"))
	jwks := startJWKS(t, set.serve)
	const a, b = "https://a.example", "https://b.example"
	v := newVerifier(t, identity.Config{Now: clk.Now, KeyMaxAge: time.Hour, InsecureSkipNonce: true,
		Issuers: []identity.Issuer{
			{URL: a, ClientID: "c", JWKSURL: jwks.URL, SkipDiscovery: true},
			{URL: b, ClientID: "c", JWKSURL: jwks.URL, SkipDiscovery: true},
		}})
	token := func(iss string, k *ecdsa.PrivateKey, kid string) string {
		now := clk.Now()
		return signWith(t, jose.ES256, k, kid, nil, map[string]any{
			"iss": iss, "sub": "s", "aud": "c", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		})
	}
	for _, iss := range []string{a, b} {
		_, err := v.Verify(ctx(t), token(iss, k1, "k1"), identity.Expect{})
		require.NoError(t, err, iss)
	}
	// The IdP rotates: k1 is withdrawn, k2 published.
	set.set(pubJWK(k2, "k2"))
	clk.Advance(2 * time.Hour)
	for _, iss := range []string{a, b} {
		_, err := v.Verify(ctx(t), token(iss, k1, "k1"), identity.Expect{})
		assert.ErrorIs(t, err, identity.ErrUnknownKey, "withdrawn key still trusted for %s", iss)
		_, err = v.Verify(ctx(t), token(iss, k2, "k2"), identity.Expect{})
		assert.NoError(t, err, iss)
	}
}

// gov.br puts the CPF in sub and sub in the levels API path: a failed call must not put
// the URL, and so the CPF, in the error a service logs.
func TestLevelsAPIErrorDoesNotLeakTheNationalNumber(t *testing.T) {
	cpf := "52998224725"
	idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", Users: map[string]map[string]any{cpf: {"name": "Maria"}}})
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connection refused
	p := profile(t, "gov.br")
	p.Levels.URL = down.URL + "/confiabilidades/v3/contas/{sub}/niveis"
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: p}}})
	a := startApp(t, identity.LoginConfig{Verifier: v, ClientSecret: "test-secret"})
	res, _ := a.signIn(t)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	err := <-a.errs
	require.ErrorIs(t, err, identity.ErrUnavailable)
	assert.NotContains(t, err.Error(), cpf)
}

// driveToCallback starts a login in a browser that does not follow redirects, lets the IdP
// answer, and returns the client and the callback URL the IdP redirected to.
func driveToCallback(t *testing.T, a *app) (*http.Client, *url.URL) {
	t.Helper()
	c := &http.Client{Jar: a.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(a.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	res, err = c.Get(res.Header.Get("Location"))
	require.NoError(t, err)
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	return c, cb
}

// RFC 9207 §2.4: when the IdP's metadata says it sends iss in authorization responses, a
// response without it is refused (it may come from a mix-up).
func TestLoginRequiresIssWhenAdvertised(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	a := startApp(t, identity.LoginConfig{Verifier: v, ClientSecret: "test-secret"})
	c, cb := driveToCallback(t, a)
	q := cb.Query()
	require.Equal(t, idp.Issuer(), q.Get("iss"))
	q.Del("iss")
	cb.RawQuery = q.Encode()
	res, err := c.Get(cb.String())
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	select {
	case err := <-a.errs:
		assert.ErrorIs(t, err, identity.ErrLogin)
	case id := <-a.got:
		t.Fatalf("login accepted without iss for %s", id.Subject)
	}
}

// A login's state cookie is bound to the Login (issuer and redirect URL) that started it:
// two Logins of one service sharing a CookieKey (the documented way to run several
// instances) must not accept each other's state, or a response from one IdP completes a
// login begun with another (OAuth mix-up, RFC 9700 §4.4).
func TestLoginStateIsBoundToItsLogin(t *testing.T) {
	key := make([]byte, 32)
	idpA, idpB := startIdP(t, dpitest.IdPOptions{}), startIdP(t, dpitest.IdPOptions{})
	vA := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idpA.Issuer(), ClientID: "test-client"}}})
	vB := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idpB.Issuer(), ClientID: "test-client"}}})
	appA := startApp(t, identity.LoginConfig{Verifier: vA, ClientSecret: "test-secret", CookieKey: key})
	appB := startApp(t, identity.LoginConfig{Verifier: vB, ClientSecret: "test-secret", CookieKey: key})
	appB.client.Jar = appA.client.Jar // one browser; cookies do not isolate ports

	c := &http.Client{Jar: appA.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(appA.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	authA, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	// IdP A, malicious, forwards the request (state, nonce, PKCE challenge) to IdP B with
	// the service's redirect URL at B.
	q := authA.Query()
	q.Set("redirect_uri", appB.URL+"/callback")
	res, err = c.Get(idpB.Issuer() + "/authorize?" + q.Encode())
	require.NoError(t, err)
	res.Body.Close()
	res, err = c.Get(res.Header.Get("Location"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	select {
	case err := <-appB.errs:
		assert.ErrorIs(t, err, identity.ErrLogin)
	case id := <-appB.got:
		t.Fatalf("login begun with A completed at B for %s", id.Subject)
	}
}

// crypto/ed25519 panics on a public key that is not 32 bytes, and jwx does not check the
// length of an OKP key's x: a key set (or an SD-JWT cnf) with a short Ed25519 key must be
// refused, not crash the service.
func TestShortEd25519KeyDoesNotPanic(t *testing.T) {
	clk := newClock()
	short := b64(make([]byte, 31))
	jwks := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"short","x":"` + short + `"},` +
			`{"kty":"OKP","crv":"Ed25519","kid":"ok","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	})
	const iss = "https://a.example"
	v := newVerifier(t, identity.Config{Now: clk.Now, InsecureSkipNonce: true,
		Issuers: []identity.Issuer{{URL: iss, ClientID: "c", JWKSURL: jwks.URL, SkipDiscovery: true}}})
	now := clk.Now()
	tok := raw(t, map[string]any{"alg": "EdDSA", "kid": "short"},
		map[string]any{"iss": iss, "sub": "s", "aud": "c", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()},
		func([]byte) []byte { return make([]byte, 64) })
	assert.NotPanics(t, func() {
		_, err := v.Verify(ctx(t), tok, identity.Expect{})
		assert.ErrorIs(t, err, identity.ErrUnknownKey)
	})
}

func TestShortEd25519HolderKeyDoesNotPanic(t *testing.T) {
	idp, cv, clk, _ := credentialSetup(t)
	_, signer, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	now := clk.Now()
	issued, err := idp.MintToken(map[string]any{"typ": "dc+sd-jwt"}, map[string]any{
		"iss": idp.Issuer(), "vct": pidType, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"cnf": map[string]any{"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(make([]byte, 31))}},
	})
	require.NoError(t, err)
	sdHash := sha256.Sum256([]byte(issued + "~"))
	kb := raw(t, map[string]any{"alg": "EdDSA", "typ": "kb+jwt"}, map[string]any{
		"iat": now.Unix(), "aud": "https://verifier.example", "nonce": "vn-1", "sd_hash": b64(sdHash[:]),
	}, func(in []byte) []byte { return ed25519.Sign(signer, in) })
	assert.NotPanics(t, func() {
		_, err := cv.Verify(ctx(t), issued+"~"+kb, identity.Presentation{Audience: "https://verifier.example", Nonce: "vn-1"})
		assert.ErrorIs(t, err, identity.ErrClaims)
	})
}

// An encrypted userinfo is refused unless it uses an allowed key management algorithm
// (no RSA1_5, PBES2, dir or AES key wrap) and no compression (zip: DEF).
func TestEncryptedUserInfoAlgorithms(t *testing.T) {
	sig := ecKey(t)
	rp := rsaKey(t)
	jwk := jose.JSONWebKey{Key: sig.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	var body string
	var srv *countingJWKS
	srv = startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks", "userinfo_endpoint": srv.URL + "/userinfo"})
		case "/jwks":
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
		default:
			w.Header().Set("Content-Type", "application/jwt")
			_, _ = w.Write([]byte(body))
		}
	})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "rp", DecryptionKey: rp}}})
	id := &identity.Identity{Issuer: srv.URL, Subject: "s1"}
	signed := signWith(t, jose.ES256, sig, "k1", nil, map[string]any{"iss": srv.URL, "aud": "rp", "sub": "s1", "name": "Ana"})
	encrypt := func(r jose.Recipient, opts *jose.EncrypterOptions) string {
		enc, err := jose.NewEncrypter(jose.A256GCM, r, opts)
		require.NoError(t, err)
		obj, err := enc.Encrypt([]byte(signed))
		require.NoError(t, err)
		out, err := obj.CompactSerialize()
		require.NoError(t, err)
		return out
	}
	tests := []struct {
		name string
		jwe  string
		want error // nil: accepted
	}{
		{"RSA-OAEP-256", encrypt(jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: rp.Public()}, nil), nil},
		{"RSA1_5", encrypt(jose.Recipient{Algorithm: jose.RSA1_5, Key: rp.Public()}, nil), identity.ErrMalformed},
		{"PBES2", encrypt(jose.Recipient{Algorithm: jose.PBES2_HS256_A128KW, Key: []byte("password"), PBES2Count: 1000}, nil), identity.ErrMalformed},
		{"dir", encrypt(jose.Recipient{Algorithm: jose.DIRECT, Key: make([]byte, 32)}, nil), identity.ErrMalformed},
		{"A256KW", encrypt(jose.Recipient{Algorithm: jose.A256KW, Key: make([]byte, 32)}, nil), identity.ErrMalformed},
		{"zip DEF", encrypt(jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: rp.Public()}, &jose.EncrypterOptions{Compression: jose.DEFLATE}), identity.ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body = tt.jwe
			got, err := v.UserInfo(ctx(t), id, "at")
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "Ana", got.Name)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, got)
		})
	}
}

// A flood of tokens with unknown kids arriving at once costs the IdP the first fetch and
// one forced refresh, not one request per token.
func TestUnknownKidFloodIsRateLimitedUnderConcurrency(t *testing.T) {
	clk := newClock()
	good := ecKey(t)
	set := &mutableJWKS{}
	set.set(pubJWK(good, "good"))
	jwks := startJWKS(t, set.serve)
	const iss = "https://a.example"
	v := newVerifier(t, identity.Config{Now: clk.Now, InsecureSkipNonce: true,
		Issuers: []identity.Issuer{{URL: iss, ClientID: "c", JWKSURL: jwks.URL, SkipDiscovery: true}}})
	attacker := ecKey(t)
	now := clk.Now()
	claims := map[string]any{"iss": iss, "sub": "s", "aud": "c", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		tok := signWith(t, jose.ES256, attacker, "kid-"+strconv.Itoa(i), nil, claims)
		wg.Go(func() {
			_, err := v.Verify(ctx(t), tok, identity.Expect{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, identity.ErrUnknownKey)
	}
	assert.LessOrEqual(t, jwks.n.Load(), int64(2))
}

// The login state cookie of an https service is __Host- prefixed, Secure, HttpOnly,
// SameSite=Lax, Path=/ and has no Domain; the callback clears it with the same attributes.
func TestLoginCookieAttributes(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	l, err := identity.NewLogin(identity.LoginConfig{Verifier: v, ClientSecret: "test-secret",
		RedirectURL: "https://rp.example/callback", OnLogin: func(http.ResponseWriter, *http.Request, *identity.Identity) {}})
	require.NoError(t, err)
	check := func(res *http.Response) *http.Cookie {
		cookies := res.Cookies()
		require.Len(t, cookies, 1)
		c := cookies[0]
		assert.Equal(t, "__Host-dpi-login", c.Name)
		assert.True(t, c.Secure)
		assert.True(t, c.HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Empty(t, c.Domain)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		return c
	}
	w := httptest.NewRecorder()
	l.Start().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://rp.example/login", nil))
	require.Equal(t, http.StatusFound, w.Code)
	c := check(w.Result())
	assert.Positive(t, c.MaxAge)

	w = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "https://rp.example/callback?state=x&code=y", nil)
	r.AddCookie(c)
	l.Callback().ServeHTTP(w, r)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Negative(t, check(w.Result()).MaxAge)
}

// A key set served gzip-compressed is capped after decompression: a few kilobytes on the
// wire that inflate past limits.MaxJWKSDocument are refused, though the JSON is valid.
func TestGzipKeySetIsCappedAfterDecompression(t *testing.T) {
	clk := newClock()
	k := ecKey(t)
	keyJSON, err := json.Marshal(pubJWK(k, "k1"))
	require.NoError(t, err)
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte(`{"keys":[`))
	_, _ = zw.Write(bytes.Repeat([]byte(" "), 8<<20))
	_, _ = zw.Write(keyJSON)
	_, _ = zw.Write([]byte(`]}`))
	require.NoError(t, zw.Close())
	jwks := startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bomb.Bytes())
	})
	const iss = "https://a.example"
	v := newVerifier(t, identity.Config{Now: clk.Now, InsecureSkipNonce: true,
		Issuers: []identity.Issuer{{URL: iss, ClientID: "c", JWKSURL: jwks.URL, SkipDiscovery: true}}})
	now := clk.Now()
	tok := signWith(t, jose.ES256, k, "k1", nil, map[string]any{"iss": iss, "sub": "s", "aud": "c", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	_, err = v.Verify(ctx(t), tok, identity.Expect{})
	assert.ErrorIs(t, err, identity.ErrUnavailable)
}

// An end-session endpoint that already has a query keeps it: the logout parameters are
// appended with &, not a second ?.
func TestLogoutURLKeepsEndpointQuery(t *testing.T) {
	var srv *countingJWKS
	srv = startJWKS(t, func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
			"end_session_endpoint": srv.URL + "/logout?tenant=gov"})
	})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "rp"}}})
	l, err := identity.NewLogin(identity.LoginConfig{Verifier: v, ClientSecret: "s", RedirectURL: "http://127.0.0.1/cb",
		PostLogoutRedirectURL: "http://127.0.0.1/bye", OnLogin: func(http.ResponseWriter, *http.Request, *identity.Identity) {}})
	require.NoError(t, err)
	raw, err := l.LogoutURL(ctx(t))
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "/logout", u.Path)
	assert.Equal(t, url.Values{"tenant": {"gov"}, "client_id": {"rp"}, "post_logout_redirect_uri": {"http://127.0.0.1/bye"}}, u.Query())
}

// The key that signs an x5c credential is an end-entity certificate's, for digital
// signatures: a CA certificate that happens to name the issuer's host signs certificates,
// not credentials.
func TestCredentialX5CLeafMustBeAnEndEntitySigningCertificate(t *testing.T) {
	const iss = "https://pid-provider.example"
	ca := newTestCA(t)
	holder := ecKey(t)
	want := identity.Presentation{Audience: "https://verifier.example", Nonce: "n-1"}
	cv, err := identity.NewCredentialVerifier(identity.CredentialConfig{Issuers: []identity.CredentialIssuer{
		{URL: iss, Types: []string{pidType}, Roots: ca.pool()},
	}})
	require.NoError(t, err)
	t.Cleanup(cv.Close)
	issue := func(tmpl *x509.Certificate) string {
		key := ecKey(t)
		tmpl.SerialNumber, tmpl.DNSNames = big.NewInt(3), []string{"pid-provider.example"}
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		p, err := dpitest.Present(x5cCredential(t, iss, cert, key, holder), nil, holder, want.Audience, want.Nonce, time.Now())
		require.NoError(t, err)
		return p
	}
	_, err = cv.Verify(ctx(t), issue(&x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}), want)
	assert.ErrorIs(t, err, identity.ErrCertificate, "intermediate CA")
	_, err = cv.Verify(ctx(t), issue(&x509.Certificate{KeyUsage: x509.KeyUsageKeyAgreement}), want)
	assert.ErrorIs(t, err, identity.ErrCertificate, "key agreement only")
	_, err = cv.Verify(ctx(t), issue(&x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature}), want)
	assert.NoError(t, err)
}

// A discovery document is refused when its issuer is not exactly the configured one
// (OpenID Connect Discovery §4.3) or an endpoint is plain http off loopback.
func TestDiscoveryDocumentsRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  func(base string) map[string]string
	}{
		{"valid (control)", func(b string) map[string]string { return map[string]string{"issuer": b, "jwks_uri": b + "/jwks"} }},
		{"trailing slash on issuer", func(b string) map[string]string { return map[string]string{"issuer": b + "/", "jwks_uri": b + "/jwks"} }},
		{"issuer in upper case", func(b string) map[string]string {
			return map[string]string{"issuer": strings.ToUpper(b), "jwks_uri": b + "/jwks"}
		}},
		{"http jwks_uri off loopback", func(b string) map[string]string {
			return map[string]string{"issuer": b, "jwks_uri": "http://keys.example/jwks"}
		}},
		{"http token endpoint off loopback", func(b string) map[string]string {
			return map[string]string{"issuer": b, "jwks_uri": b + "/jwks", "token_endpoint": "http://idp.example/token"}
		}},
		{"no jwks_uri", func(b string) map[string]string { return map[string]string{"issuer": b} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := ecKey(t)
			var srv *countingJWKS
			srv = startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/jwks" {
					_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pubJWK(k, "k1")}})
					return
				}
				_ = json.NewEncoder(w).Encode(tt.doc(srv.URL))
			})
			v := newVerifier(t, identity.Config{InsecureSkipNonce: true, Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "c"}}})
			now := time.Now()
			tok := signWith(t, jose.ES256, k, "k1", nil, map[string]any{"iss": srv.URL, "sub": "s", "aud": "c", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			_, err := v.Verify(ctx(t), tok, identity.Expect{})
			if tt.name == "valid (control)" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, identity.ErrUnavailable)
		})
	}
}

// Absent or null claims fail closed.
func TestMissingClaimsFailClosed(t *testing.T) {
	idp, v, _ := setup(t, dpitest.IdPOptions{}, identity.Config{})
	for _, tt := range []struct {
		name   string
		claims map[string]any
		want   error
	}{
		{"no aud", map[string]any{"aud": nil}, identity.ErrAudience},
		{"empty aud", map[string]any{"aud": []string{}}, identity.ErrAudience},
		{"aud null", map[string]any{"aud": json.RawMessage("null")}, identity.ErrAudience},
		{"aud of empty string", map[string]any{"aud": ""}, identity.ErrAudience},
		{"no iss", map[string]any{"iss": nil}, identity.ErrIssuer},
		{"exp null", map[string]any{"exp": json.RawMessage("null")}, identity.ErrExpired},
		{"iat null", map[string]any{"iat": json.RawMessage("null")}, identity.ErrIssuedAt},
		{"nonce null", map[string]any{"nonce": json.RawMessage("null")}, identity.ErrNonce},
		{"negative exp", map[string]any{"exp": -1}, identity.ErrClaims},
		{"exp NaN-like", map[string]any{"exp": "NaN"}, identity.ErrClaims},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := map[string]any{"nonce": nonce}
			for k, val := range tt.claims {
				c[k] = val
			}
			_, err := v.Verify(ctx(t), mint(t, idp, c), identity.Expect{Nonce: nonce})
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// An ES384 token whose kid names a P-256 key is refused before any signature check.
func TestCurveMismatchRefused(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	v := newVerifier(t, identity.Config{Now: clk.Now, Issuers: []identity.Issuer{{
		URL: idp.Issuer(), ClientID: "test-client", Algorithms: []string{"ES256", "ES384"},
	}}})
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, err = v.Verify(ctx(t), signWith(t, jose.ES384, p384, idp.KeyID(), nil, claimsFor(idp, clk.Now())), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrKeyMismatch)
}
