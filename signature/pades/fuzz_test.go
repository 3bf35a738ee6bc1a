package pades

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// fuzzSeeds are PDFs worth mutating: the change analysis fixtures with their updates, the
// pdftest documents, and a PDF signed at B-LTA (a signature, a DSS and a document
// time-stamp) when the test PKI starts.
func fuzzSeeds(f testing.TB) [][]byte {
	f.Helper()
	p := signedFormPDF(f)
	seeds := [][]byte{p.bytes()}
	p.update(f, newSignature...)
	p.update(f, newDSS...)
	seeds = append(seeds, p.bytes())
	q := signedFormPDF(f)
	q.updateCompressed(f, 30, 31, formFill...)
	// A comment whose popup names another annotation, listed on no page, as its /Parent.
	c := signedFormPDF(f)
	c.updateTrailer(f, c.lastXRef(f), " /Info 20 0 R", tObj{20, "<< /Title (t) >>"})
	c.update(f, append([]tObj{
		{17, "<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (ok) /Popup 18 0 R >>"},
		{18, "<< /Type /Annot /Subtype /Popup /Parent 19 0 R /Rect [30 30 200 100] >>"},
		{19, "<< /Type /Annot /Subtype /FreeText /Rect [0 0 612 792] /Contents (x) /Popup 18 0 R >>"},
		{20, "<< /Title (u) >>"},
	}, newAnnotation[1])...)
	seeds = append(seeds, q.bytes(), c.bytes(),
		pdftest.New(pdftest.Options{Form: true}),
		pdftest.New(pdftest.Options{XRefStream: true, Pages: 2}))

	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Fuzz", KeyType: dpitest.ECDSAP256, Usage: dpitest.UsageSigning})
	if err != nil {
		f.Fatal(err)
	}
	cms, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{Level: signature.LevelLT, TSAURL: pki.TSAURL, Roots: pki.Pool()})
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSigner(Config{Signer: cms, Level: LevelLTA})
	if err != nil {
		f.Fatal(err)
	}
	in := pdftest.New(pdftest.Options{Form: true})
	var out bytes.Buffer
	if err := s.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out); err != nil {
		f.Fatal(err)
	}
	return append(seeds, out.Bytes())
}

// analyzeChanges on arbitrary bytes and an arbitrary end of the signed revision: a list of
// changes or an error of this package, never a panic or a hang.
func FuzzAnalyzeChanges(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint32(len(s)/2), uint8(0))
		if i := bytes.Index(s, []byte("%%EOF")); i > 0 {
			f.Add(s, uint32(i+6), uint8(2))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, cut uint32, p uint8) {
		if len(doc) == 0 {
			return
		}
		end := int64(cut)%int64(len(doc)) + 1
		perm := Permissions{DocMDP: int(p % 4), LockAll: p&4 != 0}
		changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), end, perm)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("an error that is not a *pades.Error: %v", err)
			}
			return
		}
		for _, c := range changes {
			if c.Kind == "" || c.Object == "" {
				t.Fatalf("an unnamed change: %+v", c)
			}
		}
	})
}

// The byte-range and /Contents reader (checkSignature) and the DSS reader on every signature
// field of arbitrary bytes.
func FuzzByteRangeAndDSS(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := readDocument(context.Background(), bytes.NewReader(doc), int64(len(doc)))
		if err != nil {
			return
		}
		cat, err := d.catalog()
		if err != nil {
			return
		}
		_ = d.readDSS(cat)
		fields, err := d.signatureFields(cat)
		if err != nil {
			return
		}
		for _, fl := range fields {
			it := d.checkSignature(fl)
			if it.problem == "" && (it.br[0] != 0 || it.end > int64(len(doc)) || it.br[1] >= it.br[2]) {
				t.Fatalf("a byte range accepted that is not one: %v", it.br)
			}
		}
	})
}

// Validate on arbitrary bytes, with trust anchors that trust nothing (so no network is
// touched): reports or an error, never a panic or a hang.
func FuzzValidate(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	policy := &signature.Policy{Roots: x509.NewCertPool()}
	f.Fuzz(func(t *testing.T, doc []byte) {
		reps, err := Validate(context.Background(), bytes.NewReader(doc), int64(len(doc)), policy)
		if err != nil {
			return
		}
		for _, r := range reps {
			if r.Indication == signature.TotalPassed {
				t.Fatalf("a signature passed with no trust anchors: %+v", r)
			}
		}
	})
}
