package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// FuzzVerify feeds arbitrary tokens to a Verifier that trusts a live test IdP: no panic,
// every failure is a typed rejection or ErrUnavailable, and nothing but the IdP's own
// tokens is accepted.
func FuzzVerify(f *testing.F) {
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer idp.Close()
	good, err := idp.MintIDToken(map[string]any{"nonce": "n"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(strings.Replace(good, ".", ".e30.", 1))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add(good[:len(good)-4])
	v, err := identity.NewVerifier(identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
	if err != nil {
		f.Fatal(err)
	}
	defer v.Close()
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := v.Verify(t.Context(), tok, identity.Expect{Nonce: "n"})
		if err == nil {
			if tok != good {
				// Only a token the IdP signed can pass; the fuzzer cannot forge ES256.
				t.Fatalf("accepted a token the IdP did not mint")
			}
			if id.Subject != dpitest.TestSubject {
				t.Fatal("wrong subject")
			}
		}
	})
}

// FuzzCredentialVerify feeds arbitrary SD-JWT presentations (issuer JWT, disclosures, key
// binding JWT) to a CredentialVerifier that trusts a live test IdP: no panic, and only the
// presentation the holder made is accepted.
func FuzzCredentialVerify(f *testing.F) {
	now := time.Now()
	clock := func() time.Time { return now }
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{Now: clock})
	if err != nil {
		f.Fatal(err)
	}
	defer idp.Close()
	holder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	issued, err := idp.IssueCredential("urn:eudi:pid:1", map[string]any{"given_name": "Maria", "birthdate": "1990-04-12",
		"address": map[string]any{"country": "BR"}}, []string{"given_name", "birthdate"}, holder.Public())
	if err != nil {
		f.Fatal(err)
	}
	good, err := dpitest.Present(issued, []string{"given_name"}, holder, "https://verifier.example", "n", now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(issued)
	f.Add(strings.Replace(good, "~", "~~", 1))
	f.Add("e30.e30.~WyJzIiwiYSIsMV0~")
	cv, err := identity.NewCredentialVerifier(identity.CredentialConfig{Now: clock,
		Issuers: []identity.CredentialIssuer{{URL: idp.Issuer(), Types: []string{"urn:eudi:pid:1"}}}})
	if err != nil {
		f.Fatal(err)
	}
	defer cv.Close()
	f.Fuzz(func(t *testing.T, pres string) {
		cred, err := cv.Verify(t.Context(), pres, identity.Presentation{Audience: "https://verifier.example", Nonce: "n"})
		if err == nil {
			if pres != good {
				t.Fatal("accepted a presentation the holder did not make")
			}
			if !cred.KeyBound {
				t.Fatal("accepted without key binding")
			}
		}
	})
}
