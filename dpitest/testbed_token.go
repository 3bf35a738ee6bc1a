package dpitest

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// testbedShape is how one national IdP shapes the test person in its ID tokens: where the
// national number goes, which other claims it sends, and which acr value (if any) says
// each level of assurance. It is the IdP side of the identity package's profiles, kept as
// data here so that dpitest does not depend on identity.
type testbedShape struct {
	// claims returns the person's claims as this IdP sends them (sub included).
	claims func() map[string]any
	// acr maps low, substantial and high to this IdP's acr values; nil means the IdP sends
	// no acr (gov.br gives levels through a separate API, Mi Argentina and ClaveÚnica none).
	acr map[string]string
	amr []string
	// bare leaves every personal claim out, as MOSIP eSignet does (they come from userinfo).
	bare bool
}

// testbedShapes are keyed by the identity profile's name without dots ("govbr" for
// "gov.br"); the national numbers are synthetic and valid.
var testbedShapes = map[string]testbedShape{
	"govbr": {claims: func() map[string]any {
		c := TestPersonClaims()
		c["sub"] = c["cpf"] // gov.br's sub is the CPF
		delete(c, "cpf")
		return c
	}},
	"tara": {
		claims: func() map[string]any {
			return map[string]any{"sub": "EE38001085718", "profile_attributes": map[string]any{
				"given_name": "MARIA", "family_name": "DA SILVA", "date_of_birth": "1990-04-12"}}
		},
		acr: map[string]string{"low": "low", "substantial": "substantial", "high": "high"},
		amr: []string{"idcard"},
	},
	"iduruguay": {
		claims: func() map[string]any {
			return map[string]any{"sub": TestSubject, "nombre_completo": "María Silva", "primer_nombre": "María",
				"primer_apellido": "Silva", "numero_documento": "12345672"}
		},
		acr: map[string]string{"low": "urn:iduruguay:nid:1", "substantial": "urn:iduruguay:nid:2", "high": "urn:iduruguay:nid:3"},
	},
	"miargentina": {claims: func() map[string]any {
		return map[string]any{"sub": TestSubject, "given_name": "María", "family_name": "Silva", "dni_number": "20123456"}
	}},
	// ClaveÚnica's ID token carries no person: the RUN and the names come from userinfo.
	"claveunica": {claims: func() map[string]any { return map[string]any{"sub": TestSubject} }, bare: true},
	"esignet": {
		claims: func() map[string]any { return map[string]any{"sub": TestSubject} },
		acr:    map[string]string{"low": "mosip:idp:acr:password", "substantial": "mosip:idp:acr:biometrics", "high": "mosip:idp:acr:biometrics"},
		bare:   true,
	},
}

// TestbedProfiles lists the profile names GET /testbed/token understands.
func TestbedProfiles() []string { return slices.Sorted(maps.Keys(testbedShapes)) }

// ServeTestbedToken answers GET /testbed/token?aud=A[&nonce=N][&loa=low|substantial|high]
// [&profile=NAME] with {"id_token": ..., "expires_in": ...}: an ID token for the test
// person, for audience A, signed with the IdP's current key, with acr saying the level
// (default substantial). With profile (gov.br or govbr, tara, iduruguay, miargentina,
// claveunica, esignet) the token is shaped as that IdP shapes it: its claim for the national
// number, its names, its acr values or none. The algorithm stays the IdP's: start the IdP
// with one the profile accepts (RS256 suits every built-in profile). It is served only when
// [IdPOptions.TestbedTokens] is set: it hands a token to anyone who asks.
func (p *IdP) ServeTestbedToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aud := q.Get("aud")
	if aud == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "aud is required")
		return
	}
	loa := q.Get("loa")
	if loa == "" {
		loa = "substantial"
	}
	if loa != "low" && loa != "substantial" && loa != "high" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "loa must be low, substantial or high")
		return
	}
	now := p.now()
	claims := p.idTokenClaims(IdPClient{ID: aud}, p.subject, now)
	claims["acr"] = loa
	if name := strings.ReplaceAll(strings.ToLower(q.Get("profile")), ".", ""); name != "" {
		shape, ok := testbedShapes[name]
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_request", "unknown profile; known: "+strings.Join(TestbedProfiles(), ", "))
			return
		}
		for k := range p.users[p.subject] {
			delete(claims, k)
		}
		person := shape.claims()
		if shape.bare {
			person = map[string]any{"sub": person["sub"]}
		}
		maps.Copy(claims, person)
		delete(claims, "acr")
		if v, ok := shape.acr[loa]; ok {
			claims["acr"] = v
		}
		if len(shape.amr) > 0 {
			claims["amr"] = shape.amr
		}
	}
	if n := q.Get("nonce"); n != "" {
		claims["nonce"] = n
	}
	tok, err := p.MintToken(nil, claims)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id_token": tok, "expires_in": int(p.lifetime.Seconds())})
}
