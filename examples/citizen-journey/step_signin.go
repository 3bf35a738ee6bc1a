package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// nationalIdP is the profile of the test national IdP, written as a fork would write its
// own country's: data, not code. It asserts eIDAS acr values and carries the CPF in a cpf
// claim.
var nationalIdP = &identity.Profile{
	Name:       "test-national-idp",
	Country:    "BR",
	Algorithms: []string{"ES256"},
	ClientAuth: identity.PrivateKeyJWT,
	Scopes:     []string{"profile"},
	NationalID: &identity.NationalIDSource{Claims: []string{"cpf"}, Country: "BR", Scheme: "cpf"},
}

// signIn runs a real authorization code + PKCE login against the test national IdP: a
// browser (an http.Client with a cookie jar) goes to the agency's login page, is sent to
// the IdP, comes back with a code, and the agency redeems it with private_key_jwt and
// verifies the ID token at substantial level or above.
func signIn(j *journey) error {
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // the agency's client key
	if err != nil {
		return err
	}
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{
		ACR:     "http://eidas.europa.eu/LoA/substantial",
		Clients: []dpitest.IdPClient{{ID: "agency-portal", Keys: []crypto.PublicKey{clientKey.Public()}}},
	})
	if err != nil {
		return err
	}
	j.idp = idp
	j.cleanup = append(j.cleanup, idp.Close)
	j.logf("test national IdP at %s (%s)", idp.Issuer(), idp.Algorithm())

	v, err := identity.NewVerifier(identity.Config{
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "agency-portal", Profile: nationalIdP}},
		MinLoA:  identity.LoASubstantial,
	})
	if err != nil {
		return err
	}
	j.cleanup = append(j.cleanup, v.Close)

	got := make(chan *identity.Identity, 1)
	failed := make(chan error, 1)
	mux := http.NewServeMux()
	portal := httptest.NewServer(mux)
	j.cleanup = append(j.cleanup, portal.Close)
	login, err := identity.NewLogin(identity.LoginConfig{
		Verifier:    v,
		RedirectURL: portal.URL + "/callback",
		ClientKey:   clientKey,
		OnLogin: func(w http.ResponseWriter, _ *http.Request, id *identity.Identity) {
			got <- id
			fmt.Fprintf(w, "welcome")
		},
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			failed <- err
			http.Error(w, "login failed", http.StatusBadRequest)
		},
	})
	if err != nil {
		return err
	}
	mux.Handle("GET /login", login.Start())
	mux.Handle("GET /callback", login.Callback())

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	res, err := browser.Get(portal.URL + "/login")
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	var id *identity.Identity
	select {
	case id = <-got:
	case err := <-failed:
		return err
	default:
		return errors.New("the login did not complete")
	}
	j.person = id
	j.logf("code + PKCE (S256) login, client authenticated with private_key_jwt, ID token verified")
	j.logf("signed in: %s, born %s", id.Name, id.BirthDate)
	j.logf("level of assurance: %s (eIDAS; NIST IAL%d/AAL%d) from acr %s", id.Assurance.LoA, id.Assurance.IAL, id.Assurance.AAL, id.ACR)
	if id.NationalID == nil || !id.NationalID.Validated {
		return errors.New("the IdP gave no valid national number")
	}
	j.logf("national number: %s %s %s (check digits valid)", id.NationalID.Country, id.NationalID.Scheme, id.NationalID.Formatted())
	return nil
}
