package identity_test

import (
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// app is a relying party on loopback with a login, driven by a real browser-like client.
type app struct {
	*httptest.Server
	login  *identity.Login
	got    chan *identity.Identity
	errs   chan error
	client *http.Client
}

func startApp(t *testing.T, cfg identity.LoginConfig) *app {
	t.Helper()
	a := &app{got: make(chan *identity.Identity, 1), errs: make(chan error, 1)}
	mux := http.NewServeMux()
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	cfg.RedirectURL = a.URL + "/callback"
	cfg.OnLogin = func(w http.ResponseWriter, _ *http.Request, id *identity.Identity) {
		a.got <- id
		fmt.Fprintf(w, "welcome %s", id.GivenName)
	}
	cfg.OnError = func(w http.ResponseWriter, _ *http.Request, err error) {
		a.errs <- err
		http.Error(w, "login failed", http.StatusBadRequest)
	}
	l, err := identity.NewLogin(cfg)
	require.NoError(t, err)
	a.login = l
	mux.Handle("GET /login", l.Start())
	mux.Handle("GET /callback", l.Callback())
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	a.client = &http.Client{Jar: jar}
	return a
}

func (a *app) signIn(t *testing.T) (*http.Response, string) {
	t.Helper()
	res, err := a.client.Get(a.URL + "/login")
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestLoginEndToEnd(t *testing.T) {
	clientKey := ecKey(t)
	rsaClient := rsaKey(t)
	tests := []struct {
		name   string
		client dpitest.IdPClient
		cfg    identity.LoginConfig
	}{
		{"client_secret_basic", dpitest.IdPClient{ID: "test-client", Secret: "s3cret/with:chars"}, identity.LoginConfig{ClientSecret: "s3cret/with:chars"}},
		{"client_secret_post", dpitest.IdPClient{ID: "test-client", Secret: "s3cret"}, identity.LoginConfig{ClientSecret: "s3cret", ClientAuth: identity.ClientSecretPost}},
		{"private_key_jwt ES256", dpitest.IdPClient{ID: "test-client", Keys: []crypto.PublicKey{clientKey.Public()}}, identity.LoginConfig{ClientKey: clientKey, ClientKeyID: "k1"}},
		{"private_key_jwt RS256", dpitest.IdPClient{ID: "test-client", Keys: []crypto.PublicKey{rsaClient.Public()}}, identity.LoginConfig{ClientKey: rsaClient}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := startIdP(t, dpitest.IdPOptions{Clients: []dpitest.IdPClient{tt.client}})
			tt.cfg.Verifier = newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
			tt.cfg.MinLoA = identity.LoASubstantial
			tt.cfg.Claims = json.RawMessage(`{"id_token":{"acr":{"essential":true}}}`)
			a := startApp(t, tt.cfg)
			res, body := a.signIn(t)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Equal(t, "welcome Maria", body)
			id := <-a.got
			assert.Equal(t, dpitest.TestSubject, id.Subject)
			assert.Equal(t, identity.LoASubstantial, id.Assurance.LoA)

			// The state cookie is single-use: replaying the callback fails.
			cb := res.Request.URL.String()
			res2, err := a.client.Get(cb)
			require.NoError(t, err)
			res2.Body.Close()
			assert.Equal(t, http.StatusBadRequest, res2.StatusCode)
			assert.ErrorIs(t, <-a.errs, identity.ErrLogin)
		})
	}
}

func TestLoginRefusesForgedCallbacks(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	a := startApp(t, identity.LoginConfig{Verifier: v, ClientSecret: "test-secret"})
	noRedirect := &http.Client{Jar: a.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Start a login in the victim's browser, stop before the IdP.
	res, err := noRedirect.Get(a.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	authURL, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	state := authURL.Query().Get("state")
	assert.Equal(t, "S256", authURL.Query().Get("code_challenge_method"))
	assert.NotEmpty(t, authURL.Query().Get("nonce"))

	call := func(c *http.Client, q url.Values) error {
		res, err := c.Get(a.URL + "/callback?" + q.Encode())
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		return <-a.errs
	}
	// CSRF: an attacker's code with no login started in this browser.
	assert.ErrorIs(t, call(&http.Client{}, url.Values{"code": {"x"}, "state": {state}}), identity.ErrLogin)
	// Wrong state.
	assert.ErrorIs(t, call(noRedirect, url.Values{"code": {"x"}, "state": {"forged"}}), identity.ErrLogin)

	// Mix-up: a response claiming another issuer.
	res, err = noRedirect.Get(a.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	assert.ErrorIs(t, call(noRedirect, url.Values{"code": {"x"}, "state": {loc.Query().Get("state")}, "iss": {"https://evil.example"}}), identity.ErrLogin)

	// An IdP error is reported, not trusted.
	res, err = noRedirect.Get(a.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	loc, _ = url.Parse(res.Header.Get("Location"))
	assert.ErrorIs(t, call(noRedirect, url.Values{"error": {"access_denied"}, "state": {loc.Query().Get("state")}}), identity.ErrLogin)

	// A code for which the PKCE verifier is unknown: start a fresh login, but redeem the
	// code with a cookie from another login.
	res, err = noRedirect.Get(a.URL + "/login")
	require.NoError(t, err)
	res.Body.Close()
	loc, _ = url.Parse(res.Header.Get("Location"))
	idpRes, err := noRedirect.Get(loc.String())
	require.NoError(t, err)
	idpRes.Body.Close()
	cb, _ := url.Parse(idpRes.Header.Get("Location"))
	q := cb.Query()
	res, err = noRedirect.Get(a.URL + "/login") // overwrites the cookie with another verifier
	require.NoError(t, err)
	res.Body.Close()
	assert.ErrorIs(t, call(noRedirect, q), identity.ErrLogin, "state differs with the new cookie")
}

func TestLoginRequiresConfig(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	ok := func(http.ResponseWriter, *http.Request, *identity.Identity) {}
	for name, cfg := range map[string]identity.LoginConfig{
		"no verifier":        {RedirectURL: "https://rp.example/cb", ClientSecret: "s", OnLogin: ok},
		"no on-login":        {Verifier: v, RedirectURL: "https://rp.example/cb", ClientSecret: "s"},
		"http redirect":      {Verifier: v, RedirectURL: "http://rp.example/cb", ClientSecret: "s", OnLogin: ok},
		"no secret":          {Verifier: v, RedirectURL: "https://rp.example/cb", OnLogin: ok},
		"pkjwt without key":  {Verifier: v, RedirectURL: "https://rp.example/cb", ClientAuth: identity.PrivateKeyJWT, OnLogin: ok},
		"short cookie key":   {Verifier: v, RedirectURL: "https://rp.example/cb", ClientSecret: "s", CookieKey: []byte("short"), OnLogin: ok},
		"bad claims request": {Verifier: v, RedirectURL: "https://rp.example/cb", ClientSecret: "s", Claims: json.RawMessage("{"), OnLogin: ok},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := identity.NewLogin(cfg)
			assert.ErrorIs(t, err, identity.ErrConfig)
		})
	}
}

func TestLoginLogoutURL(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	a := startApp(t, identity.LoginConfig{Verifier: v, ClientSecret: "test-secret", PostLogoutRedirectURL: "http://127.0.0.1/bye"})
	u, err := a.login.LogoutURL(ctx(t))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, idp.Issuer()+"/logout?"))
	assert.Contains(t, u, "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%2Fbye")
}
