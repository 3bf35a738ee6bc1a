package identity

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// FuzzParseToken feeds arbitrary compact tokens to the JWS parser and the claim decoder:
// no panic, and anything accepted has a supported algorithm and no forbidden header.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwiZXhwIjoxfQ.AAAA",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
		"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYiJdfQ.e30.",
		"eyJhbGciOiJFUzI1NiIsImp3ayI6e319.e30.",
		"..", "a.b.c", "e30.e30.e30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		j, err := splitJWS(tok)
		if err != nil {
			return
		}
		if algorithms[j.header.Alg] == nil {
			t.Fatalf("accepted unsupported alg %q", j.header.Alg)
		}
		if len(j.header.JWK)+len(j.header.JKU)+len(j.header.X5U)+len(j.header.X5C)+len(j.header.Crit) > 0 {
			t.Fatal("accepted a forbidden header")
		}
		var c idClaims
		_ = decodeClaims(j.payload, &c)
		src := &claimSource{raw: j.payload}
		_, _ = src.get("a.b.c")
		_, _ = src.get("sub")
	})
}

// FuzzKeySet feeds arbitrary JWK set documents through the same parse and conversion the
// key cache applies, then looks a key up and verifies with it under every algorithm: no
// panic (a short Ed25519 x once made ed25519.Verify panic), and no key that does not fit an
// algorithm is ever returned for it.
func FuzzKeySet(f *testing.F) {
	for _, s := range []string{
		`{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
		`{"keys":[{"kty":"RSA","kid":"r","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`,
		`{"keys":[]}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(s), "k")
	}
	v := &Verifier{now: time.Now}
	f.Fuzz(func(t *testing.T, doc []byte, kid string) {
		set, err := jwk.Parse(doc, jwk.WithIgnoreParseError(true))
		if err != nil {
			return
		}
		ks, err := v.convertKeys(set)
		if err != nil {
			return
		}
		for _, a := range algorithms {
			key, err := findKey(ks, kid, a, time.Now())
			if err == nil && fits(a, key) != "" {
				t.Fatalf("key of the wrong kind returned for %s", a.name)
			}
			if err == nil && verifySignature(a, key, "input", make([]byte, 64)) {
				t.Fatalf("a zero signature verified under %s", a.name)
			}
		}
	})
}

// FuzzDisclosures feeds arbitrary issuer payloads and disclosures to the SD-JWT digest
// resolution: no panic, bounded depth, and every accepted disclosure was referenced.
func FuzzDisclosures(f *testing.F) {
	f.Add([]byte(`{"_sd":["jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"],"a":[{"...":"x"}]}`),
		"WyJzYWx0IiwgImdpdmVuX25hbWUiLCAiSm9obiJd")
	f.Add([]byte(`{"_sd":"x"}`), "")
	f.Add([]byte(`{"a":{"b":{"c":{"_sd":[]}}}}`), "WyJzIiwiYSJd")
	f.Fuzz(func(t *testing.T, payload []byte, disclosures string) {
		var ds []string
		if disclosures != "" {
			ds = strings.Split(disclosures, "~")
		}
		out, paths, err := resolveDisclosures(payload, ds)
		if err != nil {
			return
		}
		if len(ds) > len(paths) {
			t.Fatalf("%d disclosures accepted but only %d placed", len(ds), len(paths))
		}
		if bytes.Contains(out, []byte(`"_sd"`)) && !bytes.Contains(payload, []byte(`"_sd"`)) {
			t.Fatal("digests appeared from nowhere")
		}
	})
}
