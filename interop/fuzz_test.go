package interop_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// FuzzParseClientID checks that parsing never panics, and that what parses formats to a
// text that parses to the same identifier.
func FuzzParseClientID(f *testing.F) {
	for _, s := range []string{"INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1", "DEV/COM/222", "EE/GOV/1/a%3Fb", "%45E/GOV/1/S", "a/b/c/%", "EE/GOV/1/%C3%84"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := interop.ParseClientID(s)
		if err != nil {
			return
		}
		require.NoError(t, id.Validate())
		again, err := interop.ParseClientID(id.String())
		require.NoError(t, err)
		require.Equal(t, id, again)
	})
}

// FuzzParseServiceID is FuzzParseClientID for service identifiers and represented parties.
func FuzzParseServiceID(f *testing.F) {
	for _, s := range []string{"DEV/COM/222/TESTSERVICE/petstore", "EE/GOV/1/s/c/v1", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", "MEMBERCLASS/MEMBERCODE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := interop.ParseServiceID(s); err == nil {
			require.NoError(t, id.Validate())
			again, err := interop.ParseServiceID(id.String())
			require.NoError(t, err)
			require.Equal(t, id, again)
		}
		if p, err := interop.ParseRepresentedParty(s); err == nil {
			require.NoError(t, p.Validate())
			again, err := interop.ParseRepresentedParty(p.String())
			require.NoError(t, err)
			require.Equal(t, p, again)
		}
	})
}

// FuzzEnvelope sends requests with arbitrary envelopes (JWS headers and signatures),
// Content-Digest fields and /r1 targets to a handler: none may panic, reach the handler, or
// be answered other than in X-Road's error form.
func FuzzEnvelope(f *testing.F) {
	w := &world{}
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(f, err)
	f.Cleanup(pki.Close)
	w.pki = pki
	w.b, err = pki.Issue(dpitest.CertOptions{CommonName: "agency B"})
	require.NoError(f, err)
	w.signB, err = interop.NewSigner(w.b.Key, w.b.Chain)
	require.NoError(f, err)
	dir, err := interop.NewStaticDirectory(interop.Member{ID: agencyA.MemberID(), Certificates: w.b.Chain[:1]})
	require.NoError(f, err)
	v, err := interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
	require.NoError(f, err)
	h, err := interop.NewHandler(interop.HandlerConfig{Provider: agencyB, Signer: w.signB, Verifier: v},
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { f.Fatal("a forged request reached the handler") }))
	require.NoError(f, err)

	f.Add("/r1/EE/GOV/70000002/registry/person/v1/x", "eyJhbGciOiJFUzI1NiJ9..c2ln", "")
	f.Add("/r1/EE/GOV/70000002/registry/person", "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwaS1pbnRlcm9wK2p3cyIsIng1YyI6WyJNSUlCIl0sImlhdCI6MH0..AAAA", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
	f.Add("/r1/EE/GOV/70000002/registry/person", "eyJhbGciOiJub25lIn0..", "sha-256=::")
	f.Add("/r2/x", "a.b.c", "x")
	f.Fuzz(func(t *testing.T, target, envelope, digest string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RequestURI = target
		req.Header.Set(interop.HeaderClient, agencyA.String())
		req.Header.Set(interop.HeaderID, "fuzz-1")
		req.Header.Set(interop.HeaderEnvelope, envelope)
		if digest != "" {
			req.Header.Set(interop.HeaderContentDigest, digest)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 400 || rec.Header().Get(interop.HeaderError) == "" {
			t.Fatalf("answered %d without an X-Road error", rec.Code)
		}
	})
}
