package interop_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// FuzzOpen opens arbitrary JWE input: nothing may panic, and whatever is refused is refused
// with a typed error; what opens must have been sealed to the key.
func FuzzOpen(f *testing.F) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(f, err)
	o, err := interop.NewOpener(interop.OpenerConfig{Key: ec})
	require.NoError(f, err)
	sealed, err := interop.Seal([]byte("seed"), "text/plain", interop.Recipient{Key: &ec.PublicKey, KeyID: "k"})
	require.NoError(f, err)
	f.Add(sealed)
	f.Add([]byte(`{"protected":"eyJlbmMiOiJBMjU2R0NNIn0","recipients":[{"header":{"alg":"ECDH-ES+A256KW","epk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}},"encrypted_key":"AA"}],"iv":"AA","ciphertext":"AA","tag":"AA"}`))
	f.Add([]byte(`{"protected":"eyJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIn0","recipients":[{"header":{"alg":"RSA-OAEP-256"},"encrypted_key":"AA"}],"iv":"AA","ciphertext":"AA","tag":"AA"}`))
	f.Fuzz(func(t *testing.T, jwe []byte) {
		plaintext, _, err := o.Open(jwe)
		if err != nil {
			var e *interop.Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, interop.ErrRejected)
			return
		}
		require.NotNil(t, plaintext)
	})
}

// FuzzVerifyDirectory verifies arbitrary directory documents: nothing may panic, every
// refusal is an *Error wrapping ErrDirectory, and nothing but documents the anchor's key
// signed verifies (the fuzzer cannot sign).
func FuzzVerifyDirectory(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(f, err)
	f.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "EE central server"})
	require.NoError(f, err)
	s, err := interop.NewSigner(cred.Key, cred.Chain)
	require.NoError(f, err)
	now := time.Now()
	doc, err := interop.SignDirectory(&interop.DirectoryDocument{Instance: "EE", IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		Members: []interop.Member{{ID: agencyA, Certificates: cred.Chain[:1], Endpoint: "https://a.example"}}}, s)
	require.NoError(f, err)
	anchors := []interop.Anchor{{Instance: "EE", Roots: pki.Pool()}}
	f.Add(doc)
	f.Add([]byte("eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwaS1kaXJlY3RvcnkrandzIiwieDVjIjpbXX0.e30.AAAA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := interop.VerifyDirectory(b, anchors, now)
		if err != nil {
			var e *interop.Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, interop.ErrDirectory)
			return
		}
		require.Equal(t, "EE", d.Instance)
		require.Equal(t, cred.Cert.Raw, d.Signer.Raw)
	})
}

// FuzzVerifyMessage verifies arbitrary signed messages: nothing may panic, and every
// refusal is an *Error wrapping ErrRejected.
func FuzzVerifyMessage(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(f, err)
	f.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A"})
	require.NoError(f, err)
	s, err := interop.NewSigner(cred.Key, cred.Chain)
	require.NoError(f, err)
	dir, err := interop.NewStaticDirectory(interop.Member{ID: agencyA.MemberID(), Certificates: cred.Chain[:1]})
	require.NoError(f, err)
	v, err := interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
	require.NoError(f, err)
	msg, err := s.SignMessage(&interop.SignedMessage{Client: agencyA, Service: service, Body: []byte("seed")})
	require.NoError(f, err)
	f.Add(msg)
	f.Add([]byte(`{"protected":"eyJhbGciOiJub25lIn0","payload":"","signature":""}`))
	seen := interop.NewMemorySeenIDs(interop.SeenConfig{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := v.VerifyMessage(context.Background(), b, seen)
		if err != nil {
			var e *interop.Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, interop.ErrRejected)
		}
	})
}

// sendRecorder is a RoundTripper that reads what the transport sends and answers nothing.
type sendRecorder func(*http.Request) error

func (s sendRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, s(r)
}

// FuzzDeclaredDigest gives the client arbitrary Content-Digest values with arbitrary bodies:
// nothing may panic, and a request is sent only with the digest of the body it carries.
func FuzzDeclaredDigest(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(f, err)
	f.Cleanup(pki.Close)
	a, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A"})
	require.NoError(f, err)
	signer, err := interop.NewSigner(a.Key, a.Chain)
	require.NoError(f, err)
	dir, err := interop.NewStaticDirectory(interop.Member{ID: agencyB, Certificates: a.Chain[:1]})
	require.NoError(f, err)
	v, err := interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
	require.NoError(f, err)
	errSent := errors.New("sent")
	tr, err := interop.NewTransport(interop.TransportConfig{Client: agencyA, Service: service, Signer: signer, Verifier: v,
		Base: sendRecorder(func(r *http.Request) error {
			var body []byte
			if r.Body != nil {
				var err error
				if body, err = io.ReadAll(r.Body); err != nil {
					return err
				}
			}
			want, err := interop.ContentDigest(bytes.NewReader(body))
			if err != nil {
				return err
			}
			if got := r.Header.Get(interop.HeaderContentDigest); got != want {
				return fmt.Errorf("sent %q with a body whose digest is %q", got, want)
			}
			return errSent
		})})
	require.NoError(f, err)

	f.Add([]byte(`{"person":"42"}`), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
	f.Add([]byte{}, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
	f.Add([]byte("x"), "sha-256=::")
	f.Add([]byte("x"), "sha-512=:AAAA:, sha-256=:AAAA:")
	f.Fuzz(func(t *testing.T, body []byte, digest string) {
		req, err := http.NewRequest(http.MethodPost, "http://agency-b.example/v1/x", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header[interop.HeaderContentDigest] = []string{digest}
		_, err = tr.RoundTrip(req)
		if err == nil || (!errors.Is(err, errSent) && !errors.Is(err, interop.ErrRejected)) {
			t.Fatalf("RoundTrip: %v", err)
		}
	})
}
