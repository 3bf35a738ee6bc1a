package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"time"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// Verify an ID token from a national IdP, here the test IdP of package dpitest, and read
// who the person is and how sure the IdP is.
func ExampleVerifier_Verify() {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{ACR: "http://eidas.europa.eu/LoA/substantial"})
	if err != nil {
		panic(err)
	}
	defer idp.Close()
	rawIDToken, _ := idp.MintIDToken(map[string]any{"nonce": "nonce-sent-at-login"})

	// A profile is data: where the IdP puts the national number, how its acr maps.
	profile := &identity.Profile{
		Name:       "example",
		NationalID: &identity.NationalIDSource{Claims: []string{"cpf"}, Country: "BR", Scheme: "cpf"},
	}
	v, err := identity.NewVerifier(identity.Config{
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: profile}},
		MinLoA:  identity.LoASubstantial,
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	id, err := v.Verify(context.Background(), rawIDToken, identity.Expect{Nonce: "nonce-sent-at-login"})
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(id.Name, "born", id.BirthDate)
	fmt.Println("level of assurance:", id.Assurance.LoA)
	fmt.Println("CPF:", id.NationalID.Formatted())
	// Output:
	// Maria da Silva born 1990-04-12
	// level of assurance: substantial
	// CPF: 529.982.247-25
}

// Mount a login (authorization code flow with PKCE, state and nonce) in a service; the
// verified identity arrives in OnLogin.
func ExampleLogin() {
	idp, _ := dpitest.StartIdP(dpitest.IdPOptions{})
	defer idp.Close()
	v, _ := identity.NewVerifier(identity.Config{
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}},
	})
	defer v.Close()

	mux := http.NewServeMux()
	service := httptest.NewServer(mux)
	defer service.Close()
	login, err := identity.NewLogin(identity.LoginConfig{
		Verifier:     v,
		RedirectURL:  service.URL + "/callback",
		ClientSecret: "test-secret",
		MinLoA:       identity.LoASubstantial,
		OnLogin: func(w http.ResponseWriter, r *http.Request, id *identity.Identity) {
			// Here the service starts its own session for id.Subject.
			fmt.Fprintf(w, "welcome %s (%s)", id.GivenName, id.Assurance.LoA)
		},
	})
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /login", login.Start())
	mux.Handle("GET /callback", login.Callback())

	// A browser: follows redirects and keeps cookies.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	res, err := browser.Get(service.URL + "/login")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	fmt.Println(string(page))
	// Output:
	// welcome Maria (substantial)
}

// Verify an SD-JWT verifiable credential that a wallet presents: the holder disclosed
// only some claims and proved possession of the credential's key for this verifier and
// nonce.
func ExampleCredentialVerifier_Verify() {
	issuer, _ := dpitest.StartIdP(dpitest.IdPOptions{})
	defer issuer.Close()

	// The wallet's key, the credential, and a presentation that discloses the birth date only.
	holder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issued, _ := issuer.IssueCredential("urn:eudi:pid:1",
		map[string]any{"given_name": "Maria", "family_name": "da Silva", "birthdate": "1990-04-12"},
		[]string{"given_name", "family_name", "birthdate"}, holder.Public())
	presentation, _ := dpitest.Present(issued, []string{"birthdate"}, holder,
		"https://agency.example", "nonce-from-the-agency", time.Now())

	cv, err := identity.NewCredentialVerifier(identity.CredentialConfig{
		Issuers: []identity.CredentialIssuer{{URL: issuer.Issuer(), Types: []string{"urn:eudi:pid:1"}}},
	})
	if err != nil {
		panic(err)
	}
	defer cv.Close()
	cred, err := cv.Verify(context.Background(), presentation,
		identity.Presentation{Audience: "https://agency.example", Nonce: "nonce-from-the-agency"})
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(cred.Type, "disclosed:", cred.Disclosed, "key bound:", cred.KeyBound)
	// Output:
	// urn:eudi:pid:1 disclosed: [birthdate] key bound: true
}
