package pades_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/signature/pades"
)

// Sign a PDF at PAdES-BASELINE-T and validate it.
func Example() {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Registro Civil", Usage: dpitest.UsageSigning})
	if err != nil {
		log.Fatal(err)
	}
	pdf, err := os.ReadFile("testdata/decision.pdf") // the PDF to sign
	if err != nil {
		log.Fatal(err)
	}

	cms, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{TSAURL: pki.TSAURL})
	if err != nil {
		log.Fatal(err)
	}
	signer, err := pades.NewSigner(pades.Config{Signer: cms, Reason: "Certificado de nacimiento"})
	if err != nil {
		log.Fatal(err)
	}
	var signed bytes.Buffer
	if err := signer.Sign(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), &signed); err != nil {
		log.Fatal(err)
	}

	reports, err := pades.Validate(context.Background(), bytes.NewReader(signed.Bytes()), int64(signed.Len()),
		&signature.Policy{Roots: pki.Pool()})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range reports {
		fmt.Println(r.Field, r.Indication, r.Format, r.CoversWholeDocument)
	}
	// Output: Signature1 TOTAL_PASSED PAdES-BASELINE-T true
}
