package bench

import (
	"context"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// BenchmarkIDToken verifies the same cached-key ID token with dpi's identity.Verifier and
// with go-oidc's IDTokenVerifier, side by side. Both have fetched discovery and keys
// before the timer starts; each iteration checks signature, iss, aud, exp and iat (dpi
// also checks the nonce, which go-oidc leaves to the caller, and computes the LoA).
func BenchmarkIDToken(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256"} {
		idp, err := dpitest.StartIdP(dpitest.IdPOptions{Algorithm: alg})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := idp.MintIDToken(map[string]any{"nonce": "bench-nonce"})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()

		v, err := identity.NewVerifier(identity.Config{Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client"}}})
		if err != nil {
			b.Fatal(err)
		}
		want := identity.Expect{Nonce: "bench-nonce"}
		if _, err := v.Verify(ctx, tok, want); err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/dpi", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok, want); err != nil {
					b.Fatal(err)
				}
			}
		})

		provider, err := oidc.NewProvider(ctx, idp.Issuer())
		if err != nil {
			b.Fatal(err)
		}
		ov := provider.Verifier(&oidc.Config{ClientID: "test-client"})
		if _, err := ov.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/go-oidc", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := ov.Verify(ctx, tok)
				if err != nil || t.Nonce != "bench-nonce" {
					b.Fatal(err)
				}
			}
		})
		v.Close()
		idp.Close()
	}
}
