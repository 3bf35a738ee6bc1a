package identity_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// The key set is kept for the IdP's Cache-Control max-age, within [KeyRefreshInterval,
// KeyMaxAge], by the Verifier's clock.
func TestKeyCacheFollowsCacheControl(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header string
		kept   time.Duration // refetched after this, not before
	}{
		{"max-age within bounds", "public, max-age=600", 10 * time.Minute},
		{"max-age below the refresh interval", "max-age=1", time.Minute},
		{"no-store", "no-store", time.Minute},
		{"max-age above the maximum", "max-age=31536000", 2 * time.Hour},
		{"no cache header", "", time.Hour}, // limits.DefaultKeyCacheAge
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
			jwks := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("Cache-Control", tt.header)
				}
				_, _ = w.Write(idp.JWKS())
			})
			v := newVerifier(t, identity.Config{Now: clk.Now, KeyRefreshInterval: time.Minute, KeyMaxAge: 2 * time.Hour,
				Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", JWKSURL: jwks.URL, SkipDiscovery: true}}})
			verify := func() {
				t.Helper()
				_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
				require.NoError(t, err)
			}
			verify()
			clk.Advance(tt.kept - time.Second)
			verify()
			assert.Equal(t, int64(1), jwks.n.Load(), "still fresh")
			clk.Advance(2 * time.Second)
			verify()
			assert.Equal(t, int64(2), jwks.n.Load(), "expired: fetched again")
		})
	}
}

// A key set that cannot be refetched once it expired is kept: an IdP's key endpoint
// being down does not lock people out.
func TestExpiredKeysKeptWhenRefreshFails(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	var down atomic.Bool
	jwks := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(idp.JWKS())
	})
	v := newVerifier(t, identity.Config{Now: clk.Now,
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", JWKSURL: jwks.URL, SkipDiscovery: true}}})
	_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	down.Store(true)
	clk.Advance(10 * time.Minute)
	for range 5 {
		_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
		require.NoError(t, err)
	}
	assert.Equal(t, int64(2), jwks.n.Load(), "one failed refresh per interval")
}

// An IdP that rotates its signing key and moves its endpoints (the old jwks_uri answers
// 404) is followed without a restart: the unknown kid refetches discovery, then the keys
// from the new jwks_uri; and discovery is refetched on schedule even without a new key.
func TestFollowsIdPRotatingKeysAndEndpoints(t *testing.T) {
	idp, v, clk := setup(t, dpitest.IdPOptions{}, identity.Config{KeyRefreshInterval: time.Minute, DiscoveryMaxAge: time.Hour})
	l, err := identity.NewLogin(identity.LoginConfig{Verifier: v, ClientSecret: "test-secret", RedirectURL: "http://127.0.0.1/cb",
		PostLogoutRedirectURL: "http://127.0.0.1/bye", OnLogin: func(http.ResponseWriter, *http.Request, *identity.Identity) {}})
	require.NoError(t, err)
	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	out, err := l.LogoutURL(ctx(t))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, idp.Issuer()+"/logout?"), out)

	// Rotation 1: a new key at a new jwks_uri.
	idp.RotateEndpoints()
	require.NoError(t, idp.RotateKey())
	clk.Advance(2 * time.Minute)
	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	require.NoError(t, err, "the new key is found at the new jwks_uri")
	out, err = l.LogoutURL(ctx(t))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, idp.Issuer()+"/e1/logout?"), out)

	// Rotation 2: endpoints only. Until discovery is due the verifier keeps what it has;
	// then it follows.
	idp.RotateEndpoints()
	clk.Advance(30 * time.Minute)
	out, err = l.LogoutURL(ctx(t))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, idp.Issuer()+"/e1/logout?"), "discovery still fresh")
	clk.Advance(31 * time.Minute)
	out, err = l.LogoutURL(ctx(t))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, idp.Issuer()+"/e2/logout?"), out)
	// The keys follow the jwks_uri the new document names (the /e1 one is gone).
	require.NoError(t, idp.RotateKey())
	clk.Advance(2 * time.Minute)
	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
}

func TestKeyRefreshConfigBounds(t *testing.T) {
	is := []identity.Issuer{{URL: "https://idp.example", ClientID: "c"}}
	for name, cfg := range map[string]identity.Config{
		"refresh below the minimum":   {Issuers: is, KeyRefreshInterval: time.Millisecond},
		"max age below refresh":       {Issuers: is, KeyRefreshInterval: time.Hour, KeyMaxAge: time.Minute},
		"max age above the maximum":   {Issuers: is, KeyMaxAge: 365 * 24 * time.Hour},
		"discovery age above maximum": {Issuers: is, DiscoveryMaxAge: 365 * 24 * time.Hour},
	} {
		_, err := identity.NewVerifier(cfg)
		assert.ErrorIs(t, err, identity.ErrConfig, name)
	}
}
