package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/signature/pades"
)

// signDocument: the civil registry signs the certificate it issues (CAdES-BASELINE-T, with a
// time-stamp from a TSA), and anyone holding the national root validates it, with
// revocation checked against the CA's OCSP responder. A copy altered by one character is
// then rejected.
func signDocument(j *journey) error {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		return fmt.Errorf("start test pki: %w", err)
	}
	j.cleanup = append(j.cleanup, pki.Close)
	agency, err := pki.Issue(dpitest.CertOptions{CommonName: "Civil Registry", Usage: dpitest.UsageSigning})
	if err != nil {
		return fmt.Errorf("issue agency certificate: %w", err)
	}
	j.logf("test PKI on loopback: root CA, intermediate CA, OCSP, CRL and time-stamp authority")

	doc := []byte("CERTIFICATE OF RESIDENCE\nNo. 2026-0042\nThe civil registry certifies the residence of the holder.\n")
	signer, err := signature.NewSigner(agency.Key, agency.Chain, signature.SignerOptions{TSAURL: pki.TSAURL})
	if err != nil {
		return err
	}
	sig, err := signer.Sign(j.ctx, bytes.NewReader(doc))
	if err != nil {
		return err
	}
	j.logf("the agency signed the %d-byte certificate: a %d-byte detached CAdES signature", len(doc), len(sig))

	report, err := signature.Validate(j.ctx, bytes.NewReader(doc), sig, &signature.Policy{Roots: pki.Pool()})
	if err != nil {
		return err
	}
	if !report.Passed() {
		return fmt.Errorf("validation: %s %s: %v", report.Indication, report.SubIndication, report.Errors)
	}
	j.logf("anyone validates it: %s, %s, signed by %s", report.Indication, report.Format, report.SignedBy)
	if ts := report.Timestamp; ts != nil && ts.Valid {
		j.logf("time-stamped at %s by %s", ts.Time.Format(time.RFC3339), ts.TSA)
	}
	for _, st := range report.Revocation {
		j.logf("revocation of %s: %s (%s)", st.Subject, st.Status, st.Source)
	}

	altered := bytes.Replace(doc, []byte("0042"), []byte("0043"), 1)
	report, err = signature.Validate(j.ctx, bytes.NewReader(altered), sig, &signature.Policy{Roots: pki.Pool()})
	if err != nil {
		return err
	}
	if report.Indication != signature.TotalFailed || report.SubIndication != signature.HashFailure {
		return fmt.Errorf("an altered copy was not rejected: %s %s", report.Indication, report.SubIndication)
	}
	// The indication is TOTAL_FAILED; the sub-indication says why.
	j.logf("an altered copy is rejected: %s", report.SubIndication)
	return signPDF(j, pki, agency, doc)
}

// signPDF: the same certificate as a PDF, as most agencies issue it: notify's letter
// renderer lays it out, and the registry signs it with PAdES-BASELINE-LT, the chain and
// the revocation data kept in the PDF's document security store. It then validates with
// the national root and nothing else: no OCSP request is needed, now or in ten years.
func signPDF(j *journey, pki *dpitest.PKI, agency *dpitest.Credential, doc []byte) error {
	letter := &notify.PDFLetter{From: []string{"Civil Registry", "Av. 18 de Julio 1360", "Montevideo"}}
	pdf, err := letter.RenderLetter(&notify.Delivery{
		ID: "cert-2026-0042", To: "Ana Pereira\nCalle Real 12\n11000 Montevideo", Reference: "2026-0042",
		Content: notify.Content{Subject: "Certificate of residence", Text: string(doc)}, Created: time.Now(),
	})
	if err != nil {
		return fmt.Errorf("render the certificate as a pdf: %w", err)
	}
	cms, err := signature.NewSigner(agency.Key, agency.Chain, signature.SignerOptions{
		Level: signature.LevelLT, TSAURL: pki.TSAURL, Roots: pki.Pool(),
	})
	if err != nil {
		return err
	}
	signer, err := pades.NewSigner(pades.Config{Signer: cms, Reason: "Certificate of residence 2026-0042"})
	if err != nil {
		return err
	}
	var signed bytes.Buffer
	in := pdf.Document
	if err := signer.Sign(j.ctx, bytes.NewReader(in), int64(len(in)), &signed); err != nil {
		return err
	}
	j.logf("the certificate as a %d-byte PDF, signed in place: PAdES, %d bytes with its validation data", len(in), signed.Len())

	// From here on, no OCSP responder and no CRL server answers.
	pki.SetOCSPAvailable(false)
	pki.SetCRLAvailable(false)
	defer pki.SetOCSPAvailable(true)
	defer pki.SetCRLAvailable(true)
	reports, err := pades.Validate(j.ctx, bytes.NewReader(signed.Bytes()), int64(signed.Len()), &signature.Policy{Roots: pki.Pool()})
	if err != nil {
		return err
	}
	for _, r := range reports {
		if !r.Passed() {
			return fmt.Errorf("pdf validation: %s %s: %v", r.Indication, r.SubIndication, r.Errors)
		}
		j.logf("with the revocation servers stopped, the PDF validates: %s, %s, signed by %s", r.Indication, r.Format, r.SignedBy)
		j.logf("the update after the signature holds only its validation data, which the signature allows")
	}
	return nil
}
