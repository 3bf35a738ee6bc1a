package identity_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// TestVerifyTokensSignedByJWCrypto checks the verifier against ID tokens that python-jwcrypto
// signed, served from a discovery endpoint on loopback.
func TestVerifyTokensSignedByJWCrypto(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			var jwks json.RawMessage
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
				_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
			})
			mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwks) })

			now := time.Now()
			claims, _ := json.Marshal(map[string]any{
				"iss": srv.URL, "sub": "py-person", "aud": "rp", "nonce": "n",
				"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "acr": "high",
			})
			out, err := exec.Command(py, "testdata/jwcrypto_sign.py", alg, string(claims)).Output()
			require.NoError(t, err)
			var res struct {
				JWKS  json.RawMessage `json:"jwks"`
				Token string          `json:"token"`
			}
			require.NoError(t, json.Unmarshal(out, &res))
			jwks = res.JWKS

			v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "rp"}}})
			id, err := v.Verify(ctx(t), res.Token, identity.Expect{Nonce: "n", MinLoA: identity.LoAHigh})
			require.NoError(t, err)
			assert.Equal(t, "py-person", id.Subject)
		})
	}
}

// TestJWCryptoVerifiesDpitestTokens checks the test IdP's tokens and key set with
// python-jwcrypto, so dpitest is not only checked by the code it tests.
func TestJWCryptoVerifiesDpitestTokens(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			idp := startIdP(t, dpitest.IdPOptions{Algorithm: alg})
			tok := mint(t, idp, nil)
			out, err := exec.Command(py, "testdata/jwcrypto_verify.py", string(idp.JWKS()), tok).CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Contains(t, string(out), dpitest.TestSubject)
		})
	}
}

// TestUserInfoEncryptedByJWCrypto decrypts and verifies a nested (signed, then encrypted)
// userinfo JWT that python-jwcrypto produced, as eSignet sends it.
func TestUserInfoEncryptedByJWCrypto(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	rpKey := ecKey(t)
	pub, err := json.Marshal(jose.JSONWebKey{Key: rpKey.Public()})
	require.NoError(t, err)

	var jwks json.RawMessage
	var userinfo string
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks", "userinfo_endpoint": srv.URL + "/userinfo"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwks) })
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		_, _ = w.Write([]byte(userinfo))
	})
	claims, _ := json.Marshal(map[string]any{"iss": srv.URL, "aud": "rp", "sub": "psut-1", "name": "Amina Diallo", "birthdate": "1985-02-03"})
	out, err := exec.Command(py, "testdata/jwcrypto_userinfo.py", string(pub), string(claims)).Output()
	require.NoError(t, err)
	var res struct {
		JWKS json.RawMessage `json:"jwks"`
		JWE  string          `json:"jwe"`
	}
	require.NoError(t, json.Unmarshal(out, &res))
	jwks, userinfo = res.JWKS, res.JWE

	p, err := identity.LookupProfile("esignet")
	require.NoError(t, err)
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "rp", Profile: p, DecryptionKey: rpKey}}})
	id, err := v.UserInfo(ctx(t), &identity.Identity{Issuer: srv.URL, Subject: "psut-1"}, "at-1")
	require.NoError(t, err)
	assert.Equal(t, "Amina Diallo", id.Name)
	assert.Equal(t, "1985-02-03", id.BirthDate)

	_, err = v.UserInfo(ctx(t), &identity.Identity{Issuer: srv.URL, Subject: "someone-else"}, "at-1")
	assert.ErrorIs(t, err, identity.ErrClaims, "userinfo about another subject")

	other := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "rp", Profile: p, DecryptionKey: ecKey(t)}}})
	_, err = other.UserInfo(ctx(t), &identity.Identity{Issuer: srv.URL, Subject: "psut-1"}, "at-1")
	assert.ErrorIs(t, err, identity.ErrSignature, "not encrypted to this key")
}
