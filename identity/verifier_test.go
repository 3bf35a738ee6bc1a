package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

const nonce = "n-0S6_WzA2Mj"

func TestVerifyAlgorithms(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			idp, v, _ := setup(t, dpitest.IdPOptions{Algorithm: alg}, identity.Config{})
			id, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
			require.NoError(t, err)
			assert.Equal(t, idp.Issuer(), id.Issuer)
			assert.Equal(t, dpitest.TestSubject, id.Subject)
			assert.Equal(t, "Maria da Silva", id.Name)
			assert.Equal(t, "1990-04-12", id.BirthDate)
			assert.Equal(t, identity.LoASubstantial, id.Assurance.LoA)
			assert.Equal(t, "acr", id.AssuranceSource)
			var claims map[string]any
			require.NoError(t, json.Unmarshal(id.Claims, &claims))
			assert.Equal(t, "52998224725", claims["cpf"])
		})
	}
}

func TestVerifyRejectsClaims(t *testing.T) {
	idp, v, clk := setup(t, dpitest.IdPOptions{}, identity.Config{ExpirySkew: 30 * time.Second, IssuedAtSkew: 10 * time.Second})
	now := clk.Now()
	tests := []struct {
		name   string
		claims map[string]any
		expect identity.Expect
		want   error
		check  string
	}{
		{"missing exp", map[string]any{"exp": nil}, identity.Expect{Nonce: nonce}, identity.ErrExpired, "exp"},
		{"expired beyond skew", map[string]any{"exp": now.Add(-31 * time.Second).Unix()}, identity.Expect{Nonce: nonce}, identity.ErrExpired, "exp"},
		{"exp as string", map[string]any{"exp": "tomorrow"}, identity.Expect{Nonce: nonce}, identity.ErrClaims, "claims"},
		{"nbf in the future", map[string]any{"nbf": now.Add(time.Minute).Unix()}, identity.Expect{Nonce: nonce}, identity.ErrNotYetValid, "nbf"},
		{"missing iat", map[string]any{"iat": nil}, identity.Expect{Nonce: nonce}, identity.ErrIssuedAt, "iat"},
		{"iat in the future", map[string]any{"iat": now.Add(11 * time.Second).Unix()}, identity.Expect{Nonce: nonce}, identity.ErrIssuedAt, "iat"},
		{"wrong audience", map[string]any{"aud": "other-client"}, identity.Expect{Nonce: nonce}, identity.ErrAudience, "aud"},
		{"extra untrusted audience without azp", map[string]any{"aud": []string{"test-client", "other"}}, identity.Expect{Nonce: nonce}, identity.ErrAudience, "aud"},
		{"azp of another client", map[string]any{"azp": "other"}, identity.Expect{Nonce: nonce}, identity.ErrAudience, "azp"},
		{"untrusted issuer", map[string]any{"iss": "https://evil.example"}, identity.Expect{Nonce: nonce}, identity.ErrIssuer, "iss"},
		{"missing sub", map[string]any{"sub": nil}, identity.Expect{Nonce: nonce}, identity.ErrClaims, "sub"},
		{"nonce differs", nil, identity.Expect{Nonce: "another"}, identity.ErrNonce, "nonce"},
		{"nonce missing in token", map[string]any{"nonce": nil}, identity.Expect{Nonce: nonce}, identity.ErrNonce, "nonce"},
		{"no expected nonce", nil, identity.Expect{}, identity.ErrNonce, "nonce"},
		{"at_hash mismatch", map[string]any{"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, identity.Expect{Nonce: nonce, AccessToken: "access"}, identity.ErrHash, "at_hash"},
		{"c_hash mismatch", map[string]any{"c_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, identity.Expect{Nonce: nonce, Code: "code"}, identity.ErrHash, "c_hash"},
		{"auth_time too old", map[string]any{"auth_time": now.Add(-2 * time.Hour).Unix()}, identity.Expect{Nonce: nonce, MaxAge: time.Hour}, identity.ErrAuthTime, "auth_time"},
		{"auth_time missing with max_age", map[string]any{"auth_time": nil}, identity.Expect{Nonce: nonce, MaxAge: time.Hour}, identity.ErrAuthTime, "auth_time"},
		{"auth_time in the future", map[string]any{"auth_time": now.Add(time.Hour).Unix()}, identity.Expect{Nonce: nonce}, identity.ErrAuthTime, "auth_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{"nonce": nonce}
			for k, v := range tt.claims {
				claims[k] = v
			}
			_, err := v.Verify(ctx(t), mint(t, idp, claims), tt.expect)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			var re *identity.RejectedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.check, re.Check)
			assert.NotContains(t, err.Error(), "52998224725", "errors never carry personal numbers")
		})
	}
}

func TestVerifyAcceptsWithinSkewAndHashes(t *testing.T) {
	idp, v, clk := setup(t, dpitest.IdPOptions{}, identity.Config{ExpirySkew: 30 * time.Second})
	now := clk.Now()
	access := "an-access-token"
	sum := sha256.Sum256([]byte(access))
	tok := mint(t, idp, map[string]any{
		"nonce": nonce, "exp": now.Add(-20 * time.Second).Unix(),
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
	})
	_, err := v.Verify(ctx(t), tok, identity.Expect{Nonce: nonce, AccessToken: access, MaxAge: time.Minute})
	require.NoError(t, err)
}

func TestVerifyInsecureSkipNonce(t *testing.T) {
	idp, v, _ := setup(t, dpitest.IdPOptions{}, identity.Config{InsecureSkipNonce: true})
	_, err := v.Verify(ctx(t), mint(t, idp, nil), identity.Expect{})
	require.NoError(t, err)
	// A nonce given is still checked.
	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": "x"}), identity.Expect{Nonce: "y"})
	assert.ErrorIs(t, err, identity.ErrNonce)
}

func TestVerifyRefusedByConstruction(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	v := newVerifier(t, identity.Config{Now: clk.Now, Issuers: []identity.Issuer{{
		URL: idp.Issuer(), ClientID: "test-client", Algorithms: []string{"ES256", "RS256"},
	}}})
	good := claimsFor(idp, clk.Now())
	attacker := ecKey(t)
	attackerJWK := jose.JSONWebKey{Key: attacker.Public()}
	jwks := idp.JWKS()

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"alg none", raw(t, map[string]any{"alg": "none", "kid": idp.KeyID()}, good, func([]byte) []byte { return nil }), identity.ErrAlgorithm},
		{"alg none with signature", raw(t, map[string]any{"alg": "none"}, good, func([]byte) []byte { return []byte("x") }), identity.ErrAlgorithm},
		{"alg None", raw(t, map[string]any{"alg": "None"}, good, func([]byte) []byte { return nil }), identity.ErrAlgorithm},
		{"missing alg", raw(t, map[string]any{"kid": idp.KeyID()}, good, func([]byte) []byte { return nil }), identity.ErrAlgorithm},
		{"HS256 keyed with the JWKS", raw(t, map[string]any{"alg": "HS256", "kid": idp.KeyID()}, good, hs256(jwks)), identity.ErrAlgorithm},
		{"HS512", raw(t, map[string]any{"alg": "HS512", "kid": idp.KeyID()}, good, hs256(jwks)), identity.ErrAlgorithm},
		{"algorithm not allowed for issuer", signWith(t, jose.PS256, rsaKey(t), idp.KeyID(), nil, good), identity.ErrAlgorithm},
		{"embedded jwk", signWith(t, jose.ES256, attacker, "", map[string]any{"jwk": attackerJWK}, good), identity.ErrHeader},
		{"jku", signWith(t, jose.ES256, attacker, idp.KeyID(), map[string]any{"jku": "https://evil.example/jwks"}, good), identity.ErrHeader},
		{"x5u", signWith(t, jose.ES256, attacker, idp.KeyID(), map[string]any{"x5u": "https://evil.example/cert"}, good), identity.ErrHeader},
		{"x5c", signWith(t, jose.ES256, attacker, idp.KeyID(), map[string]any{"x5c": []string{"MIIB"}}, good), identity.ErrHeader},
		{"unknown crit", signWith(t, jose.ES256, attacker, idp.KeyID(), map[string]any{"crit": []string{"exp"}, "exp": 1}, good), identity.ErrHeader},
		{"b64 false", raw(t, map[string]any{"alg": "ES256", "kid": idp.KeyID(), "b64": false, "crit": []string{"b64"}}, good, func([]byte) []byte { return make([]byte, 64) }), identity.ErrHeader},
		{"access token typ", signWith(t, jose.ES256, attacker, idp.KeyID(), map[string]any{"typ": "at+jwt"}, good), identity.ErrHeader},
		{"kid of an EC key on an RSA token", signWith(t, jose.RS256, rsaKey(t), idp.KeyID(), nil, good), identity.ErrKeyMismatch},
		{"attacker key with the IdP's kid", signWith(t, jose.ES256, attacker, idp.KeyID(), nil, good), identity.ErrSignature},
		{"not a jws", "not.a.token.at.all", identity.ErrMalformed},
		{"two parts", "abc.def", identity.ErrMalformed},
		{"padding in header", strings.Replace(mint(t, idp, nil), ".", "=.", 1), identity.ErrMalformed},
		{"header not json", b64([]byte("[1]")) + ".e30.", identity.ErrMalformed},
		{"huge token", strings.Repeat("a", 70<<10) + ".b.c", identity.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(ctx(t), tt.token, identity.Expect{Nonce: nonce})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestVerifyTamperedPayload(t *testing.T) {
	idp, v, _ := setup(t, dpitest.IdPOptions{}, identity.Config{})
	parts := strings.Split(mint(t, idp, map[string]any{"nonce": nonce}), ".")
	forged := mint(t, idp, map[string]any{"nonce": nonce, "sub": "someone-else"})
	parts[1] = strings.Split(forged, ".")[1]
	parts[2] = strings.Split(mint(t, idp, map[string]any{"nonce": nonce}), ".")[2]
	_, err := v.Verify(ctx(t), strings.Join(parts, "."), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrSignature)
}

func TestVerifyEdDSAKeyTypeConfusion(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now, Algorithm: "EdDSA"})
	v := newVerifier(t, identity.Config{Now: clk.Now, Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	// An ES256 token whose kid names the IdP's Ed25519 key.
	_, err = v.Verify(ctx(t), signWith(t, jose.ES256, ecKey(t), idp.KeyID(), nil, claimsFor(idp, clk.Now())), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrKeyMismatch)
	// An EdDSA token signed by another Ed25519 key.
	_, err = v.Verify(ctx(t), signWith(t, jose.EdDSA, priv, idp.KeyID(), nil, claimsFor(idp, clk.Now())), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrSignature)
}

func TestVerifyKeyRotation(t *testing.T) {
	idp, v, _ := setup(t, dpitest.IdPOptions{}, identity.Config{})
	before := mint(t, idp, map[string]any{"nonce": nonce})
	_, err := v.Verify(ctx(t), before, identity.Expect{Nonce: nonce}) // caches the first key set
	require.NoError(t, err)
	require.NoError(t, idp.RotateKey())
	after := mint(t, idp, map[string]any{"nonce": nonce})
	_, err = v.Verify(ctx(t), after, identity.Expect{Nonce: nonce}) // unknown kid: refresh
	require.NoError(t, err)
	_, err = v.Verify(ctx(t), before, identity.Expect{Nonce: nonce}) // old key still published
	require.NoError(t, err)
}

func TestUnknownKidFloodIsRateLimited(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	jwks := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(idp.JWKS()) })
	v := newVerifier(t, identity.Config{Now: clk.Now, KeyRefreshInterval: time.Minute,
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", JWKSURL: jwks.URL}}})
	attacker := ecKey(t)
	for i := range 50 {
		tok := signWith(t, jose.ES256, attacker, fmt.Sprintf("kid-%d", i), nil, claimsFor(idp, clk.Now()))
		_, err := v.Verify(ctx(t), tok, identity.Expect{Nonce: nonce})
		require.ErrorIs(t, err, identity.ErrUnknownKey)
	}
	assert.Equal(t, int64(2), jwks.n.Load(), "the first fetch, then one forced refresh for the whole flood")

	clk.Advance(61 * time.Second)
	_, err := v.Verify(ctx(t), signWith(t, jose.ES256, attacker, "kid-x", nil, claimsFor(idp, clk.Now())), identity.Expect{Nonce: nonce})
	require.ErrorIs(t, err, identity.ErrUnknownKey)
	assert.Equal(t, int64(3), jwks.n.Load(), "one forced refresh per interval")
}

func TestKeyMaxAgeForcesRefetch(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	jwks := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=31536000")
		_, _ = w.Write(idp.JWKS())
	})
	v := newVerifier(t, identity.Config{Now: clk.Now, KeyMaxAge: time.Hour,
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", JWKSURL: jwks.URL}}})
	for range 3 {
		_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), jwks.n.Load())
	clk.Advance(2 * time.Hour)
	_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	assert.Equal(t, int64(2), jwks.n.Load(), "a year of max-age is capped by KeyMaxAge")
}

func TestExpiredKeyRefused(t *testing.T) {
	clk := newClock()
	idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
	jwks := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) {
		var set map[string][]map[string]any
		_ = json.Unmarshal(idp.JWKS(), &set)
		set["keys"][0]["exp"] = clk.Now().Add(-time.Minute).Unix()
		_ = json.NewEncoder(w).Encode(set)
	})
	v := newVerifier(t, identity.Config{Now: clk.Now,
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", JWKSURL: jwks.URL}}})
	_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrKeyMismatch)
}

func TestBadKeySetEndpoints(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request)
	}{
		{"garbage", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>not json</html>")) }},
		{"huge", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[`))
			chunk := []byte(strings.Repeat(`{"kty":"oct","k":"AAAA"},`, 1000))
			for range 4000 { // ~100 MB unless the reader stops early
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
		{"too many keys", func(w http.ResponseWriter, _ *http.Request) {
			k := ecKey(t)
			jwk := jose.JSONWebKey{Key: k.Public(), KeyID: "k"}
			set := jose.JSONWebKeySet{}
			for range 150 {
				set.Keys = append(set.Keys, jwk)
			}
			_ = json.NewEncoder(w).Encode(set)
		}},
		{"only symmetric keys", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`))
		}},
		{"server error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/jwks", http.StatusFound)
		}},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
			jwks := startJWKS(t, tt.serve)
			v := newVerifier(t, identity.Config{Now: clk.Now, HTTPClient: &http.Client{Timeout: 2 * time.Second},
				Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", JWKSURL: jwks.URL}}})
			_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
			require.Error(t, err)
			assert.ErrorIs(t, err, identity.ErrUnavailable)
			// A second token in the same interval does not ask the broken endpoint again.
			_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
			assert.ErrorIs(t, err, identity.ErrUnavailable)
			assert.Equal(t, int64(1), jwks.n.Load(), "a failing key set is not asked again within the refresh interval")
		})
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	disc := startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
		res, err := idp.HTTPClient().Get(idp.Issuer() + r.URL.Path)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		var d map[string]any
		_ = json.NewDecoder(res.Body).Decode(&d)
		_ = json.NewEncoder(w).Encode(d) // still names the real IdP as issuer
	})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: disc.URL, ClientID: "test-client"}}})
	tok := mint(t, idp, map[string]any{"nonce": nonce, "iss": disc.URL})
	_, err := v.Verify(ctx(t), tok, identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrUnavailable)
}

func TestNewVerifierRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  identity.Config
	}{
		{"no issuer", identity.Config{}},
		{"http issuer off loopback", identity.Config{Issuers: []identity.Issuer{{URL: "http://idp.example", ClientID: "c"}}}},
		{"no client id", identity.Config{Issuers: []identity.Issuer{{URL: "https://idp.example"}}}},
		{"HS256 allowed", identity.Config{Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c", Algorithms: []string{"HS256"}}}}},
		{"none allowed", identity.Config{Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c", Algorithms: []string{"none"}}}}},
		{"negative skew", identity.Config{ExpirySkew: -time.Second, Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c"}}}},
		{"huge skew", identity.Config{IssuedAtSkew: time.Hour, Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c"}}}},
		{"duplicate issuer", identity.Config{Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c"}, {URL: "https://idp.example", ClientID: "d"}}}},
		{"http jwks", identity.Config{Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c", JWKSURL: "http://keys.example"}}}},
		{"skip discovery without jwks", identity.Config{Issuers: []identity.Issuer{{URL: "https://idp.example", ClientID: "c", SkipDiscovery: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := identity.NewVerifier(tt.cfg)
			assert.ErrorIs(t, err, identity.ErrConfig)
		})
	}
}

func TestMinLoA(t *testing.T) {
	idp, v, _ := setup(t, dpitest.IdPOptions{ACR: "low"}, identity.Config{MinLoA: identity.LoASubstantial})
	_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	var le *identity.LoAError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, identity.ErrLoA)
	assert.Equal(t, identity.LoALow, le.Got)
	assert.Equal(t, identity.LoASubstantial, le.Want)

	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce, "acr": "http://eidas.europa.eu/LoA/high"}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce, "acr": "urn:unknown"}), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrLoA, "an unmapped acr is below any minimum")
	_, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce, "acr": "substantial"}), identity.Expect{Nonce: nonce, MinLoA: identity.LoAHigh})
	assert.ErrorIs(t, err, identity.ErrLoA, "Expect.MinLoA raises the minimum")
}

func TestErrorsAreMatchable(t *testing.T) {
	err := error(&identity.RejectedError{Check: "exp", Err: identity.ErrExpired})
	assert.True(t, errors.Is(err, identity.ErrExpired))
	assert.Equal(t, "identity: token rejected: exp check failed", err.Error())
}

func TestClosedVerifierDoesNotHang(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{})
	v, err := identity.NewVerifier(identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	require.NoError(t, err)
	v.Close()
	_, err = v.Verify(context.Background(), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrUnavailable)
}

func TestHugeDiscoveryAndUserInfoAreCapped(t *testing.T) {
	huge := func(w http.ResponseWriter) {
		_, _ = w.Write([]byte(`{"issuer":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 1600 { // 100 MB unless the reader stops early
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	disc := startJWKS(t, func(w http.ResponseWriter, _ *http.Request) { huge(w) })
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: disc.URL, ClientID: "c"}}})
	_, err := v.Verify(ctx(t), raw(t, map[string]any{"alg": "ES256"}, map[string]any{"iss": disc.URL}, func([]byte) []byte { return make([]byte, 64) }), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrUnavailable)

	idp := startIdP(t, dpitest.IdPOptions{})
	var srv *countingJWKS
	srv = startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks", "userinfo_endpoint": srv.URL + "/userinfo"})
		case "/jwks":
			_, _ = w.Write(idp.JWKS())
		default:
			huge(w)
		}
	})
	v = newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "test-client"}}})
	id, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce, "iss": srv.URL}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	_, err = v.UserInfo(ctx(t), id, "at")
	assert.ErrorIs(t, err, identity.ErrUnavailable)
}
