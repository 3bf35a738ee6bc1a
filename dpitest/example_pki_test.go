package dpitest_test

import (
	"crypto/x509"
	"fmt"
	"log"

	"github.com/dpiblocks/dpi/dpitest"
)

// A test PKI issues a document signer's certificate that chains to its root and names the
// PKI's OCSP responder.
func ExampleStartPKI() {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pki.Close()

	signer, err := pki.Issue(dpitest.CertOptions{CommonName: "Registry Agency", Usage: dpitest.UsageSigning})
	if err != nil {
		log.Fatal(err)
	}
	intermediates := x509.NewCertPool()
	for _, c := range signer.Chain[1:] {
		intermediates.AddCert(c)
	}
	chains, err := signer.Cert.Verify(x509.VerifyOptions{
		Roots:         pki.Pool(),
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range chains[0] {
		fmt.Println(c.Subject.CommonName)
	}
	fmt.Println("OCSP:", signer.Cert.OCSPServer[0] == pki.OCSPURL)
	// Output:
	// Registry Agency
	// dpitest Intermediate CA
	// dpitest Root CA
	// OCSP: true
}
