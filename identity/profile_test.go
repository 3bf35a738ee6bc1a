package identity_test

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

func profile(t *testing.T, name string) *identity.Profile {
	t.Helper()
	p, err := identity.LookupProfile(name)
	require.NoError(t, err)
	return p
}

// TestProfilesAreValid checks every registered profile by its properties, not against a
// list, so that a profile a fork adds in one file (docs/forking.md) is checked too and
// needs no edit here.
func TestProfilesAreValid(t *testing.T) {
	names := identity.Profiles()
	assert.Subset(t, names, []string{"claveunica", "esignet", "gov.br", "iduruguay", "miargentina", "tara"}, "the built-in profiles")
	assert.True(t, sort.StringsAreSorted(names))
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			p := profile(t, n)
			assert.Equal(t, n, p.Name)
			assert.Equal(t, strings.ToLower(n), n, "LookupProfile finds lower-case names only")
			assert.NotEmpty(t, p.Source, "the documentation the profile was written from")
			if p.Country != "" {
				assert.Regexp(t, `^[A-Z]{2}$`, p.Country, "an ISO 3166-1 alpha-2 code")
			}
			for _, u := range []string{p.Issuer, p.Staging} {
				if u != "" {
					assert.True(t, strings.HasPrefix(u, "https://"), "issuer %s", u)
				}
			}
			if nid := p.NationalID; nid != nil && !nid.CountryPrefix && p.Country != "" {
				assert.Equal(t, p.Country, nid.Country, "the national number is the IdP's country's")
			}
			url := p.Issuer
			if url == "" {
				url = "https://" + n + ".example" // a multi-country profile (eSignet): each deployment sets its issuer
			}
			v, err := identity.NewVerifier(identity.Config{Issuers: []identity.Issuer{{URL: url, ClientID: "c", Profile: p}}})
			require.NoError(t, err, "NewVerifier accepts the profile")
			v.Close()
		})
	}
	_, err := identity.LookupProfile("atlantis")
	assert.ErrorIs(t, err, identity.ErrConfig)
}

func TestLookupProfileReturnsACopy(t *testing.T) {
	p := profile(t, "tara")
	p.ACR["low"] = identity.Assurance{LoA: identity.LoAHigh}
	assert.Equal(t, identity.LoALow, profile(t, "tara").ACR["low"].LoA)
}

func TestGovBRCPFInSubAndLevels(t *testing.T) {
	cpf := "52998224725"
	idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", ACR: "urn:unmapped", Users: map[string]map[string]any{
		cpf: {"name": "Maria da Silva", "email": "maria@example.org"},
	}})
	levels := startJWKS(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" || r.URL.Path != "/confiabilidades/v3/contas/"+cpf+"/niveis" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`[{"id":"1","dataAtualizacao":"2024-01-01"},{"id":"2","dataAtualizacao":"2024-02-01"}]`))
	})
	p := profile(t, "gov.br")
	p.Levels.URL = levels.URL + "/confiabilidades/v3/contas/{sub}/niveis"
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: p}}})

	a := startApp(t, identity.LoginConfig{Verifier: v, ClientSecret: "test-secret", MinLoA: identity.LoASubstantial})
	res, body := a.signIn(t)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	id := <-a.got
	require.NotNil(t, id.NationalID)
	assert.Equal(t, identity.NationalID{Country: "BR", Scheme: "cpf", Value: cpf, Validated: true}, *id.NationalID)
	assert.Equal(t, "529.982.247-25", id.NationalID.Formatted())
	assert.Equal(t, identity.LoASubstantial, id.Assurance.LoA, "prata from the levels API")
	assert.Equal(t, "levels", id.AssuranceSource)
	assert.Equal(t, 2, id.Assurance.IAL)
}

func TestGovBRInvalidCPFIsRejected(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", Users: map[string]map[string]any{"52998224724": {"name": "X"}}})
	p := profile(t, "gov.br")
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: p}}})
	_, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	assert.ErrorIs(t, err, identity.ErrNationalID)
	assert.NotContains(t, err.Error(), "52998224724")
}

func TestClaveUnicaRolUnicoFromPostUserInfo(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", Users: map[string]map[string]any{"2594": {
		"RolUnico": map[string]any{"numero": 44444444, "DV": "4", "tipo": "RUN"},
		"name":     map[string]any{"nombres": []string{"José", "Manuel"}, "apellidos": []string{"Pérez", "González"}},
	}}, Clients: []dpitest.IdPClient{{ID: "test-client", Secret: "s", BareIDToken: true}}})
	p := profile(t, "claveunica")
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: p}}})
	a := startApp(t, identity.LoginConfig{Verifier: v, ClientSecret: "s"})
	res, body := a.signIn(t)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	id := <-a.got
	require.NotNil(t, id.NationalID)
	assert.Equal(t, "CL", id.NationalID.Country)
	assert.True(t, id.NationalID.Validated)
	assert.Equal(t, "José Manuel", id.GivenName)
	assert.Equal(t, "Pérez González", id.FamilyName)
}

func TestESignetSignedAndEncryptedUserInfo(t *testing.T) {
	rpEnc := ecKey(t)
	clientKey := ecKey(t)
	for _, enc := range []bool{false, true} {
		t.Run(map[bool]string{false: "signed", true: "signed and encrypted"}[enc], func(t *testing.T) {
			c := dpitest.IdPClient{ID: "test-client", Keys: []crypto.PublicKey{clientKey.Public()}, BareIDToken: true, SignedUserInfo: true}
			if enc {
				c.UserInfoEncryptionKey = rpEnc.Public()
			}
			idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", ACR: "mosip:idp:acr:biometrics", Clients: []dpitest.IdPClient{c}})
			p := profile(t, "esignet")
			v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: p, DecryptionKey: rpEnc}}})
			a := startApp(t, identity.LoginConfig{Verifier: v, ClientKey: clientKey, MinLoA: identity.LoASubstantial})
			res, body := a.signIn(t)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			id := <-a.got
			assert.Equal(t, "Maria", id.GivenName, "names come from userinfo")
			var claims map[string]any
			require.NoError(t, json.Unmarshal(id.Claims, &claims))
			assert.NotContains(t, claims, "name", "the ID token itself is bare")
			assert.Equal(t, identity.LoASubstantial, id.Assurance.LoA)
		})
	}
}

func TestESignetRequiresSignedUserInfo(t *testing.T) {
	clientKey := ecKey(t)
	idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", ACR: "mosip:idp:acr:biometrics",
		Clients: []dpitest.IdPClient{{ID: "test-client", Keys: []crypto.PublicKey{clientKey.Public()}, BareIDToken: true}}})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: profile(t, "esignet")}}})
	a := startApp(t, identity.LoginConfig{Verifier: v, ClientKey: clientKey})
	res, _ := a.signIn(t)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.ErrorIs(t, <-a.errs, identity.ErrSignature)
}

func TestTARACountryPrefixAndShortACR(t *testing.T) {
	idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", ACR: "high", AMR: []string{"idcard"}, Users: map[string]map[string]any{
		"EE38001085718":  {"profile_attributes": map[string]any{"given_name": "MARY ÄNN", "family_name": "O’CONNEŽ-ŠUSLIK TESTNUMBER", "date_of_birth": "1980-01-08"}},
		"LV010180-12345": {"profile_attributes": map[string]any{"given_name": "JĀNIS"}},
	}, Subject: "EE38001085718"})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: profile(t, "tara")}}})
	id, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce, MinLoA: identity.LoAHigh})
	require.NoError(t, err)
	assert.Equal(t, "MARY ÄNN", id.GivenName)
	assert.Equal(t, "1980-01-08", id.BirthDate)
	assert.Equal(t, identity.LoAHigh, id.Assurance.LoA)
	assert.Equal(t, identity.NationalID{Country: "EE", Scheme: "ik", Value: "38001085718"}, *id.NationalID)

	id, err = v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce, "sub": "LV010180-12345"}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	assert.Equal(t, "LV", id.NationalID.Country, "cross-border login keeps the issuing country")
	assert.False(t, id.NationalID.Validated)
}

func TestIDUruguayACR(t *testing.T) {
	for acr, want := range map[string]identity.LoA{
		"urn:iduruguay:nid:0": identity.LoAUnknown, "urn:iduruguay:nid:1": identity.LoALow,
		"urn:iduruguay:nid:2": identity.LoASubstantial, "urn:iduruguay:nid:3": identity.LoAHigh,
	} {
		idp := startIdP(t, dpitest.IdPOptions{Algorithm: "RS256", ACR: acr})
		v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: profile(t, "iduruguay")}}})
		id, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce, "numero_documento": "12345672", "nombre_completo": "Ana Pérez"}), identity.Expect{Nonce: nonce})
		require.NoError(t, err, acr)
		assert.Equal(t, want, id.Assurance.LoA, acr)
		assert.Equal(t, "Ana Pérez", id.Name)
		assert.Equal(t, "UY", id.NationalID.Country)
	}
}

func TestAMRMapsWhenNoACRIsMapped(t *testing.T) {
	p := &identity.Profile{Name: "amr-only", AMR: map[string]identity.Assurance{
		"pwd": {LoA: identity.LoALow, IAL: 1, AAL: 1},
		"hwk": {LoA: identity.LoAHigh, IAL: 3, AAL: 3},
	}}
	idp := startIdP(t, dpitest.IdPOptions{ACR: "urn:unmapped", AMR: []string{"pwd", "hwk"}})
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: p}}})
	id, err := v.Verify(ctx(t), mint(t, idp, map[string]any{"nonce": nonce}), identity.Expect{Nonce: nonce})
	require.NoError(t, err)
	assert.Equal(t, identity.Assurance{LoA: identity.LoAHigh, IAL: 3, AAL: 3}, id.Assurance, "the strongest amr wins")
	assert.Equal(t, "amr", id.AssuranceSource)
}

func TestSignedUserInfoChecks(t *testing.T) {
	key := ecKey(t)
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}
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
	v := newVerifier(t, identity.Config{Issuers: []identity.Issuer{{URL: srv.URL, ClientID: "rp"}}})
	id := &identity.Identity{Issuer: srv.URL, Subject: "s1"}
	for _, tt := range []struct {
		name   string
		claims map[string]any
		signer *ecdsa.PrivateKey
		want   error
	}{
		{"good", map[string]any{"iss": srv.URL, "aud": "rp", "sub": "s1", "name": "Ana"}, key, nil},
		{"other issuer", map[string]any{"iss": "https://evil.example", "aud": "rp", "sub": "s1"}, key, identity.ErrIssuer},
		{"other audience", map[string]any{"iss": srv.URL, "aud": "other", "sub": "s1"}, key, identity.ErrAudience},
		{"other subject", map[string]any{"iss": srv.URL, "aud": "rp", "sub": "s2"}, key, identity.ErrClaims},
		{"forged signature", map[string]any{"iss": srv.URL, "aud": "rp", "sub": "s1"}, ecKey(t), identity.ErrSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body = signWith(t, jose.ES256, tt.signer, "k1", nil, tt.claims)
			got, err := v.UserInfo(ctx(t), id, "at")
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "Ana", got.Name)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}
