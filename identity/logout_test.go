package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
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

func mintLogout(t *testing.T, idp *dpitest.IdP, claims map[string]any) string {
	t.Helper()
	tok, err := idp.MintLogoutToken(claims)
	require.NoError(t, err)
	return tok
}

// OpenID Connect Back-Channel Logout 1.0 §2.6, Logout Token Validation, one row per step.
func TestVerifyLogoutToken(t *testing.T) {
	idp, v, clk := setup(t, dpitest.IdPOptions{}, identity.Config{ExpirySkew: 30 * time.Second})
	now := clk.Now()
	l, err := v.VerifyLogoutToken(ctx(t), mintLogout(t, idp, nil))
	require.NoError(t, err)
	assert.Equal(t, idp.Issuer(), l.Issuer)
	assert.Equal(t, dpitest.TestSubject, l.Subject)
	assert.Equal(t, "test-session", l.SessionID)
	assert.NotEmpty(t, l.TokenID)

	for _, tt := range []struct {
		name   string
		header map[string]any // nil: MintLogoutToken's typ logout+jwt
		claims map[string]any
		want   error
		check  string // "" when accepted
	}{
		{"sid only (§2.4: sub or sid)", nil, map[string]any{"sub": nil}, nil, ""},
		{"sub only", nil, map[string]any{"sid": nil}, nil, ""},
		{"typ application/logout+jwt", map[string]any{"typ": "application/logout+jwt"}, nil, nil, ""},
		{"§2.6 step 5: neither sub nor sid", nil, map[string]any{"sub": nil, "sid": nil}, identity.ErrClaims, "sub"},
		{"§2.6 step 6: no events", nil, map[string]any{"events": nil}, identity.ErrClaims, "events"},
		{"§2.6 step 6: another event", nil, map[string]any{"events": map[string]any{"https://example/other": map[string]any{}}}, identity.ErrClaims, "events"},
		{"§2.6 step 6: event not an object", nil, map[string]any{"events": map[string]any{dpitest.BackChannelLogoutEvent: true}}, identity.ErrClaims, "events"},
		{"§2.6 step 7: a nonce", nil, map[string]any{"nonce": "n"}, identity.ErrNonce, "nonce"},
		{"§2.4: no jti", nil, map[string]any{"jti": nil}, identity.ErrClaims, "jti"},
		{"§2.6 step 4: aud of another client", nil, map[string]any{"aud": "other"}, identity.ErrAudience, "aud"},
		{"§2.6 step 4: extra untrusted audience", nil, map[string]any{"aud": []string{"test-client", "other"}, "azp": "test-client"}, identity.ErrAudience, "aud"},
		{"§2.6 step 4: iss not configured", nil, map[string]any{"iss": "https://evil.example"}, identity.ErrIssuer, "iss"},
		{"§2.6 step 4: expired", nil, map[string]any{"exp": now.Add(-time.Minute).Unix()}, identity.ErrExpired, "exp"},
		{"§2.4: no exp", nil, map[string]any{"exp": nil}, identity.ErrExpired, "exp"},
		{"§2.6 step 4: no iat", nil, map[string]any{"iat": nil}, identity.ErrIssuedAt, "iat"},
		{"§2.6 step 4: iat in the future", nil, map[string]any{"iat": now.Add(time.Hour).Unix()}, identity.ErrIssuedAt, "iat"},
		{"§2.4: typ JWT (an ID token's)", map[string]any{"typ": "JWT"}, nil, identity.ErrHeader, "typ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var tok string
			if tt.header == nil {
				tok = mintLogout(t, idp, tt.claims)
			} else {
				base := map[string]any{"iss": idp.Issuer(), "aud": "test-client", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
					"jti": "j", "sub": "s", "events": map[string]any{dpitest.BackChannelLogoutEvent: map[string]any{}}}
				var err error
				tok, err = idp.MintToken(tt.header, base)
				require.NoError(t, err)
			}
			_, err := v.VerifyLogoutToken(ctx(t), tok)
			if tt.check == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			var re *identity.RejectedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.check, re.Check)
		})
	}

	t.Run("an ID token is not a logout token, nor the reverse", func(t *testing.T) {
		_, err := v.VerifyLogoutToken(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}))
		assert.ErrorIs(t, err, identity.ErrHeader)
		_, err = v.Verify(ctx(t), mintLogout(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
		assert.ErrorIs(t, err, identity.ErrHeader)
	})
}

// §2.4: typ is optional; a logout token without one is judged by its claims.
func TestVerifyLogoutTokenWithoutTyp(t *testing.T) {
	k := ecKey(t)
	var srv *countingJWKS
	srv = startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks" {
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pubJWK(k, "k1")}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
	})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "c"}}})
	now := time.Now()
	tok := signWithOpts(t, jose.ES256, jose.JSONWebKey{Key: k, KeyID: "k1"}, &jose.SignerOptions{}, map[string]any{
		"iss": srv.URL, "aud": "c", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j1", "sid": "s1",
		"events": map[string]any{dpitest.BackChannelLogoutEvent: map[string]any{}}})
	require.False(t, strings.Contains(tok[:strings.IndexByte(tok, '.')], "dHlw"), "no typ header")
	l, err := v.VerifyLogoutToken(ctx(t), tok)
	require.NoError(t, err)
	assert.Equal(t, "s1", l.SessionID)
}

func postLogout(t *testing.T, h http.Handler, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(ctx(t), http.MethodPost, "/backchannel-logout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// §2.5, §2.8: POST logout_token; 200 on success, 400 otherwise; Cache-Control no-store;
// a jti accepted once is refused after (§2.6 step 8).
func TestLogoutHandler(t *testing.T) {
	idp, v, clk := setup(t, dpitest.IdPOptions{}, identity.Config{})
	var mu sync.Mutex
	var got []identity.Logout
	failNext := false
	h, err := identity.NewLogoutHandler(identity.LogoutConfig{Verifier: v, OnLogout: func(_ context.Context, l *identity.Logout) error {
		mu.Lock()
		defer mu.Unlock()
		if failNext {
			failNext = false
			return errors.New("session store down")
		}
		got = append(got, *l)
		return nil
	}})
	require.NoError(t, err)

	tok := mintLogout(t, idp, nil)
	rec := postLogout(t, h, url.Values{"logout_token": {tok}})
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.Len(t, got, 1)
	assert.Equal(t, "test-session", got[0].SessionID)
	assert.Equal(t, dpitest.TestSubject, got[0].Subject)

	rec = postLogout(t, h, url.Values{"logout_token": {tok}})
	assert.Equal(t, http.StatusBadRequest, rec.Code, "replayed jti")
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Contains(t, rec.Body.String(), "jti check failed")
	assert.Len(t, got, 1)

	for name, form := range map[string]url.Values{
		"no token":     {},
		"two tokens":   {"logout_token": {tok, tok}},
		"nonce":        {"logout_token": {mintLogout(t, idp, map[string]any{"nonce": "n"})}},
		"not a token":  {"logout_token": {"garbage"}},
		"wrong client": {"logout_token": {mintLogout(t, idp, map[string]any{"aud": "other"})}},
	} {
		rec := postLogout(t, h, form)
		assert.Equal(t, http.StatusBadRequest, rec.Code, name)
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), name)
		var body map[string]string
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), name)
		assert.NotEmpty(t, body["error"], name)
		assert.NotContains(t, rec.Body.String(), tok[strings.LastIndexByte(tok, '.')+1:], "a token is never echoed")
	}

	// A logout the service could not perform answers 400 and may be retried.
	failNext = true
	retry := mintLogout(t, idp, map[string]any{"sid": "s2"})
	assert.Equal(t, http.StatusBadRequest, postLogout(t, h, url.Values{"logout_token": {retry}}).Code)
	assert.Equal(t, http.StatusOK, postLogout(t, h, url.Values{"logout_token": {retry}}).Code)

	// Not a POST form.
	req := httptest.NewRequestWithContext(ctx(t), http.MethodGet, "/backchannel-logout?logout_token="+tok, nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	req = httptest.NewRequestWithContext(ctx(t), http.MethodPost, "/backchannel-logout", strings.NewReader(`{"logout_token":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)

	// After it expires a jti is forgotten; the token no longer verifies anyway.
	clk.Advance(time.Hour)
	assert.Equal(t, http.StatusBadRequest, postLogout(t, h, url.Values{"logout_token": {tok}}).Code)
}

// The jti set is bounded: when full, the entry closest to expiry goes first.
func TestLogoutReplaySetBounded(t *testing.T) {
	idp, v, _ := setup(t, dpitest.IdPOptions{}, identity.Config{})
	h, err := identity.NewLogoutHandler(identity.LogoutConfig{Verifier: v, MaxReplayEntries: 2,
		OnLogout: func(context.Context, *identity.Logout) error { return nil }})
	require.NoError(t, err)
	soon := mintLogout(t, idp, map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	var later []string
	for range 2 {
		later = append(later, mintLogout(t, idp, map[string]any{"exp": time.Now().Add(2 * time.Hour).Unix()}))
	}
	for _, tok := range append([]string{soon}, later...) {
		require.Equal(t, http.StatusOK, postLogout(t, h, url.Values{"logout_token": {tok}}).Code)
	}
	for _, tok := range later {
		assert.Equal(t, http.StatusBadRequest, postLogout(t, h, url.Values{"logout_token": {tok}}).Code, "still remembered")
	}

	_, err = identity.NewLogoutHandler(identity.LogoutConfig{Verifier: v})
	assert.ErrorIs(t, err, identity.ErrConfig)
}
