package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
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
	return nil
}
