package signature_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"

	"github.com/dpiblocks/dpi/signature"
)

// A key file is loaded into a crypto.Signer; keys too weak to sign with are refused with a
// typed error.
func ExampleLoadPrivateKey() {
	// In a service this would be os.ReadFile of the agency's key file.
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		log.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	key, err := signature.LoadPrivateKey(keyPEM, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%T\n", key.Public())

	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		log.Fatal(err)
	}
	_, err = signature.LoadPrivateKey(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)}), nil)
	var ke *signature.KeyError
	fmt.Println(errors.As(err, &ke), ke.Type, ke.Bits)
	// Output:
	// *ecdsa.PublicKey
	// true RSA 1024
}

// An HSM key is opened from an RFC 7512 URI and used like any crypto.Signer, for example
// with signature.NewSigner. (Not run: it needs a token.)
func ExampleOpenPKCS11() {
	key, err := signature.OpenPKCS11(
		"pkcs11:token=agency;object=document-signing?pin-source=file:/run/secrets/hsm-pin",
		signature.PKCS11Options{Module: "/usr/lib/softhsm/libsofthsm2.so"})
	if err != nil {
		log.Fatal(err)
	}
	defer key.Close()
	fmt.Printf("%T\n", key.Public())
}
