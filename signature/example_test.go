package signature_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// An agency signs a document with a CAdES-BASELINE-T signature: the document is streamed,
// and a time-stamping authority stamps the signature.
func ExampleSigner_Sign() {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pki.Close()
	agency, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry", Usage: dpitest.UsageSigning})
	if err != nil {
		log.Fatal(err)
	}

	signer, err := signature.NewSigner(agency.Key, agency.Chain, signature.SignerOptions{TSAURL: pki.TSAURL})
	if err != nil {
		log.Fatal(err)
	}
	sig, err := signer.Sign(context.Background(), strings.NewReader("Certificate of residence no. 2026-0042"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("DER CMS:", sig[0] == 0x30)
	// Output: DER CMS: true
}

// Anyone validates a signature against the trust anchors they choose; the report carries
// the ETSI EN 319 102-1 indication.
func ExampleValidate() {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pki.Close()
	agency, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry", Usage: dpitest.UsageSigning})
	if err != nil {
		log.Fatal(err)
	}
	doc := []byte("Certificate of residence no. 2026-0042")
	signer, err := signature.NewSigner(agency.Key, agency.Chain, signature.SignerOptions{Format: signature.JAdES})
	if err != nil {
		log.Fatal(err)
	}
	sig, err := signer.Sign(context.Background(), bytes.NewReader(doc))
	if err != nil {
		log.Fatal(err)
	}

	policy := &signature.Policy{Roots: pki.Pool()}
	report, err := signature.Validate(context.Background(), bytes.NewReader(doc), sig, policy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.Indication, report.Format)
	fmt.Println(report.SignedBy)

	report, err = signature.Validate(context.Background(), strings.NewReader("Certificate of residence no. 2026-0043"), sig, policy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.Indication, report.SubIndication)
	// Output:
	// TOTAL_PASSED JAdES-BASELINE-B
	// CN=Civil Registry,O=dpitest
	// TOTAL_FAILED SIG_CRYPTO_FAILURE
}

// An archive keeps a CAdES-BASELINE-LT signature: it carries the validation data, so it
// validates when the certification authority's responders cannot be reached.
func ExampleLevelLT() {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pki.Close()
	agency, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry", Usage: dpitest.UsageSigning})
	if err != nil {
		log.Fatal(err)
	}
	doc := []byte("Resolution 2026-117")
	signer, err := signature.NewSigner(agency.Key, agency.Chain, signature.SignerOptions{
		Level: signature.LevelLT, TSAURL: pki.TSAURL, Roots: pki.Pool()})
	if err != nil {
		log.Fatal(err)
	}
	sig, err := signer.Sign(context.Background(), bytes.NewReader(doc))
	if err != nil {
		log.Fatal(err)
	}

	pki.SetOCSPAvailable(false)
	pki.SetCRLAvailable(false)
	report, err := signature.Validate(context.Background(), bytes.NewReader(doc), sig, &signature.Policy{Roots: pki.Pool()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.Indication, report.Format)
	// Output: TOTAL_PASSED CAdES-BASELINE-LT
}

// An archive receives a plain CAdES-BASELINE-B signature and extends it to
// CAdES-BASELINE-LTA: a signature time-stamp, the validation data, and an archive
// time-stamp over all of it. Before the archive time-stamp authority's certificate
// expires, Extend at LevelLTA again adds a further one.
func ExampleExtend() {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pki.Close()
	agency, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry", Usage: dpitest.UsageSigning})
	if err != nil {
		log.Fatal(err)
	}
	doc := []byte("Resolution 42: the housing benefit is granted.")
	signer, err := signature.NewSigner(agency.Key, agency.Chain, signature.SignerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	sig, err := signer.Sign(context.Background(), bytes.NewReader(doc))
	if err != nil {
		log.Fatal(err)
	}

	lta, err := signature.Extend(context.Background(), bytes.NewReader(doc), sig, signature.ExtendOptions{
		Level: signature.LevelLTA, TSAURL: pki.TSAURL, Roots: pki.Pool()})
	if err != nil {
		log.Fatal(err)
	}
	pki.SetOCSPAvailable(false) // the archive validates from the signature's own data
	pki.SetCRLAvailable(false)
	report, err := signature.Validate(context.Background(), bytes.NewReader(doc), lta, &signature.Policy{Roots: pki.Pool()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.Indication, report.Format, len(report.ArchiveTimestamps))
	// Output: TOTAL_PASSED CAdES-BASELINE-LTA 1
}
