package dpitest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

func startTestIdP(t *testing.T, o dpitest.IdPOptions) *dpitest.IdP {
	t.Helper()
	idp, err := dpitest.StartIdP(o)
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	return idp
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize runs the authorization request and returns the redirect's query.
func authorize(t *testing.T, idp *dpitest.IdP, q url.Values) (int, url.Values) {
	t.Helper()
	res, err := noFollow.Get(idp.Issuer() + "/authorize?" + q.Encode())
	require.NoError(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return res.StatusCode, nil
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	return res.StatusCode, loc.Query()
}

func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authQuery(challenge string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {"test-client"}, "redirect_uri": {"http://127.0.0.1/cb"},
		"scope": {"openid profile"}, "state": {"st"}, "nonce": {"nn"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

func token(t *testing.T, idp *dpitest.IdP, form url.Values, basic ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, idp.Issuer()+"/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestIdPDiscoveryAndJWKS(t *testing.T) {
	idp := startTestIdP(t, dpitest.IdPOptions{Algorithm: "PS256"})
	res, err := http.Get(idp.Issuer() + "/.well-known/openid-configuration")
	require.NoError(t, err)
	var d map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&d))
	res.Body.Close()
	assert.Equal(t, idp.Issuer(), d["issuer"])
	assert.Equal(t, []any{"PS256"}, d["id_token_signing_alg_values_supported"])
	assert.Equal(t, []any{"S256"}, d["code_challenge_methods_supported"])

	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(idp.JWKS(), &set))
	require.Len(t, set.Keys, 1)
	assert.True(t, set.Keys[0].IsPublic(), "only public keys are published")
	old := idp.KeyID()
	require.NoError(t, idp.RotateKey())
	require.NoError(t, json.Unmarshal(idp.JWKS(), &set))
	assert.Len(t, set.Keys, 2, "the previous key stays published after a rotation")
	assert.NotEqual(t, old, idp.KeyID())
	require.NoError(t, idp.RotateKey())
	require.NoError(t, json.Unmarshal(idp.JWKS(), &set))
	assert.Len(t, set.Keys, 2, "only one previous key")
}

func TestIdPMintIDToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	idp := startTestIdP(t, dpitest.IdPOptions{Now: func() time.Time { return now }, ACR: "high"})
	tok, err := idp.MintIDToken(map[string]any{"exp": nil, "extra": "x"})
	require.NoError(t, err)
	parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	require.NoError(t, err)
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(idp.JWKS(), &set))
	var claims map[string]any
	require.NoError(t, parsed.Claims(set.Keys[0].Key, &claims))
	assert.NotContains(t, claims, "exp", "a nil value removes the claim")
	assert.Equal(t, "x", claims["extra"])
	assert.Equal(t, "high", claims["acr"])
	assert.Equal(t, float64(now.Unix()), claims["iat"])
	assert.Equal(t, "52998224725", claims["cpf"])

	_, err = dpitest.StartIdP(dpitest.IdPOptions{Algorithm: "HS256"})
	assert.Error(t, err)
	_, err = dpitest.StartIdP(dpitest.IdPOptions{Subject: "nobody"})
	assert.Error(t, err)
}

func TestIdPAuthorizationCodeFlow(t *testing.T) {
	idp := startTestIdP(t, dpitest.IdPOptions{})
	verifier, challenge := pkce()
	code, q := authorize(t, idp, authQuery(challenge))
	require.Equal(t, http.StatusFound, code)
	assert.Equal(t, "st", q.Get("state"))
	assert.Equal(t, idp.Issuer(), q.Get("iss"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}

	status, body := token(t, idp, form, "test-client", "wrong")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_client", body["error"])

	// The failed attempt above did not consume the code (client auth failed first).
	status, body = token(t, idp, form, "test-client", "test-secret")
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "Bearer", body["token_type"])
	access := body["access_token"].(string)

	status, _ = token(t, idp, form, "test-client", "test-secret")
	assert.Equal(t, http.StatusBadRequest, status, "a code is redeemed once")

	req, _ := http.NewRequest(http.MethodGet, idp.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var ui map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&ui))
	res.Body.Close()
	assert.Equal(t, dpitest.TestSubject, ui["sub"])

	req.Header.Set("Authorization", "Bearer forged")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
}

func TestIdPRefusesBadRequests(t *testing.T) {
	idp := startTestIdP(t, dpitest.IdPOptions{Clients: []dpitest.IdPClient{{ID: "test-client", Secret: "test-secret", RedirectURIs: []string{"http://127.0.0.1/cb"}}}})
	verifier, challenge := pkce()

	q := authQuery(challenge)
	q.Set("redirect_uri", "http://127.0.0.1/evil")
	status, _ := authorize(t, idp, q)
	assert.Equal(t, http.StatusBadRequest, status, "never redirect to an unregistered URI")

	q = authQuery(challenge)
	q.Del("code_challenge")
	_, back := authorize(t, idp, q)
	assert.Equal(t, "invalid_request", back.Get("error"), "PKCE is required")

	q = authQuery(challenge)
	q.Set("code_challenge_method", "plain")
	_, back = authorize(t, idp, q)
	assert.Equal(t, "invalid_request", back.Get("error"), "only S256")

	_, back = authorize(t, idp, authQuery(challenge))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier + "x"}}
	status, body := token(t, idp, form, "test-client", "test-secret")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", body["error"], "PKCE verifier mismatch")
}

func TestIdPPrivateKeyJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	idp := startTestIdP(t, dpitest.IdPOptions{Clients: []dpitest.IdPClient{{ID: "test-client", Keys: []crypto.PublicKey{key.Public()}}}})
	assertion := func(jti string, signer crypto.Signer) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: signer}, nil)
		require.NoError(t, err)
		now := time.Now()
		out, err := josejwt.Signed(s).Claims(josejwt.Claims{
			Issuer: "test-client", Subject: "test-client", Audience: josejwt.Audience{idp.Issuer() + "/token"},
			ID: jti, IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
		}).Serialize()
		require.NoError(t, err)
		return out
	}
	run := func(a string) (int, map[string]any) {
		verifier, challenge := pkce()
		_, back := authorize(t, idp, authQuery(challenge))
		return token(t, idp, url.Values{
			"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"},
			"code_verifier": {verifier}, "client_id": {"test-client"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a},
		})
	}
	status, body := run(assertion("jti-1", key))
	require.Equal(t, http.StatusOK, status, body)
	status, _ = run(assertion("jti-1", key))
	assert.Equal(t, http.StatusUnauthorized, status, "a client assertion is used once")
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	status, _ = run(assertion("jti-2", other))
	assert.Equal(t, http.StatusUnauthorized, status, "signed by a key the client did not register")
}
