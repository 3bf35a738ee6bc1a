package interop_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// agencies sets up what each agency holds in production: its key and certificate chain, the
// roots it trusts and a directory of the members it deals with. Here a test PKI issues both
// certificates.
func agencies() (pki *dpitest.PKI, a, b *interop.Signer, verifier *interop.Verifier) {
	pki, _ = dpitest.StartPKI(dpitest.PKIOptions{})
	credA, _ := pki.Issue(dpitest.CertOptions{CommonName: "Benefits Agency"})
	credB, _ := pki.Issue(dpitest.CertOptions{CommonName: "Population Register"})
	a, _ = interop.NewSigner(credA.Key, credA.Chain)
	b, _ = interop.NewSigner(credB.Key, credB.Chain)
	dir, _ := interop.NewStaticDirectory(
		interop.Member{ID: interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000001"}, Certificates: credA.Chain[:1]},
		interop.Member{ID: interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002"}, Certificates: credB.Chain[:1]},
	)
	// In production, Revocation asks the CA's OCSP responder or CRLs; this example has
	// none to ask, and says so.
	verifier, _ = interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
	return pki, a, b, verifier
}

// The server side: the population register serves EE/GOV/70000002/registry/person. Every
// request reaching the service was signed by a member of the directory, and every answer is
// signed and bound to its request.
func ExampleNewHandler() {
	pki, a, b, verifier := agencies()
	defer pki.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/persons/{id}", func(w http.ResponseWriter, r *http.Request) {
		msg, _ := interop.MessageFrom(r.Context())
		fmt.Printf("%s asks for person %s, signed by %s\n", msg.Client, r.PathValue("id"), msg.Signer.Subject.CommonName)
		fmt.Fprintln(w, `{"name":"Ana Souza"}`)
	})
	provider, _ := interop.ParseClientID("EE/GOV/70000002/registry")
	h, err := interop.NewHandler(interop.HandlerConfig{Provider: provider, Signer: b, Verifier: verifier}, mux)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// A client signing as the benefits agency, and one that does not sign.
	client, _ := interop.ParseClientID("EE/GOV/70000001/benefits")
	service, _ := interop.ParseServiceID("EE/GOV/70000002/registry/person")
	t, _ := interop.NewTransport(interop.TransportConfig{Client: client, Service: service, Signer: a, Verifier: verifier})
	resp, err := (&http.Client{Transport: t}).Get(srv.URL + "/v1/persons/42")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/r1/EE/GOV/70000002/registry/person/v1/persons/42", nil)
	req.Header.Set(interop.HeaderClient, "EE/GOV/70000001/benefits")
	req.Header.Set(interop.HeaderID, "unsigned-1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fault, _ := interop.ReadFault(resp)
	fmt.Println(resp.StatusCode, fault.Type)
	// Output:
	// EE/GOV/70000001/benefits asks for person 42, signed by Benefits Agency
	// 400 Client.MissingSignature
}

// The client side: the benefits agency calls the register's service through an
// http.Client whose transport signs each request and verifies each response.
func ExampleNewTransport() {
	pki, a, b, verifier := agencies()
	defer pki.Close()
	provider, _ := interop.ParseClientID("EE/GOV/70000002/registry")
	h, _ := interop.NewHandler(interop.HandlerConfig{Provider: provider, Signer: b, Verifier: verifier},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintln(w, `{"name":"Ana Souza"}`)
		}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	client, _ := interop.ParseClientID("EE/GOV/70000001/benefits")
	service, _ := interop.ParseServiceID("EE/GOV/70000002/registry/person")
	t, err := interop.NewTransport(interop.TransportConfig{Client: client, Service: service, Signer: a, Verifier: verifier})
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/persons/42", nil)
	req.Header.Set(interop.HeaderUserID, "EE38001085718")
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // the body is trusted once read to its end without error
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	fmt.Println(resp.Header.Get(interop.HeaderService))
	// Output:
	// 200 {"name":"Ana Souza"}
	// EE/GOV/70000002/registry/person
}

// Identifiers are parsed, checked against PR-REST §4.8 and formatted percent-encoded.
func ExampleParseServiceID() {
	s, err := interop.ParseServiceID("INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE")
	fmt.Println(s.Provider, s.Code, err)
	_, err = interop.ParseClientID("EE/GOV/70000001/sub_system")
	fmt.Println(err)
	// Output:
	// INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2 BARSERVICE <nil>
	// interop: invalid identifier: identifier: subsystem code: character at byte 3 is not allowed (PR-REST §4.8)
}

// hsmKey stands for a key in an HSM or a KMS: it decrypts, and never gives its private
// part away. A PKCS#11 or cloud KMS wrapper implements the same two methods.
type hsmKey struct{ key *rsa.PrivateKey }

func (k hsmKey) Public() crypto.PublicKey { return &k.key.PublicKey }

func (k hsmKey) Decrypt(rand io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return k.key.Decrypt(rand, msg, opts)
}

// An Opener decrypts with a key it may not read: a crypto.Decrypter holding an RSA key (or
// an interop.ECDHKey on P-256), asked to unwrap each message's key with RSA-OAEP-256.
func ExampleNewOpener_decrypter() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048) // in an HSM, in production
	if err != nil {
		panic(err)
	}
	var key crypto.Decrypter = hsmKey{priv}

	sealed, err := interop.Seal([]byte(`{"person":"42"}`), "application/json",
		interop.Recipient{Key: key.Public(), KeyID: "registry-2026"})
	if err != nil {
		panic(err)
	}
	opener, err := interop.NewOpener(interop.OpenerConfig{Key: key})
	if err != nil {
		panic(err)
	}
	body, contentType, err := opener.Open(sealed)
	if err != nil {
		panic(err)
	}
	fmt.Println(contentType, string(body))
	// Output: application/json {"person":"42"}
}
