package identity_test

import (
	"strings"
	"testing"

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
