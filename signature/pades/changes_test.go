package pades

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// kindAllowed is what a test expects of a change: its kind and whether it is allowed.
type kindAllowed struct {
	Kind    string
	Allowed bool
}

func summarize(changes []Change) []kindAllowed {
	var out []kindAllowed
	for _, c := range changes {
		k := kindAllowed{c.Kind, c.Allowed}
		seen := false
		for _, o := range out {
			seen = seen || o == k
		}
		if !seen {
			out = append(out, k)
		}
	}
	return out
}

// Updates applied to signedFormPDF.
var (
	newSignature = []tObj{
		{12, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (second) /V 13 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>"},
		{13, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <3000> >>"},
		{5, "<< /Fields [7 0 R 8 0 R 12 0 R] /SigFlags 3 >>"},
		{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 12 0 R] >>"},
	}
	newDocTimeStamp = []tObj{
		{12, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (dts) /V 13 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>"},
		{13, "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [0 1 2 3] /Contents <3000> >>"},
		{5, "<< /Fields [7 0 R 8 0 R 12 0 R] /SigFlags 3 >>"},
		{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 12 0 R] >>"},
	}
	newDSS = []tObj{
		{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R /DSS 14 0 R /Extensions << /ESIC << /BaseVersion /1.7 /ExtensionLevel 1 >> >> >>"},
		{14, "<< /Certs [15 0 R] /OCSPs [] /CRLs [] >>"},
		{15, tStream("", "certificate")},
	}
	formFill = []tObj{
		{7, "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (200) /Rect [72 600 272 620] /P 3 0 R /AP << /N 16 0 R >> >>"},
		{16, tStream("/Type /XObject /Subtype /Form /BBox [0 0 200 20]", "BT /F1 12 Tf 2 5 Td (200) Tj ET")},
	}
	newAnnotation = []tObj{
		{17, "<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (ok) >>"},
		{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 17 0 R] >>"},
	}
)

func TestAnalyzeChanges(t *testing.T) {
	tests := []struct {
		name   string
		update [][]tObj
		perm   Permissions
		want   []kindAllowed
	}{
		{name: "nothing after the signature", want: nil},
		{name: "objects rewritten with the same content", update: [][]tObj{{
			{2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
			{4, tStream("", "BT /F1 24 Tf 72 700 Td (Pay 100 EUR to ACME) Tj ET")},
		}}},
		{name: "page tree renumbered with the same content", update: [][]tObj{{
			{1, "<< /Type /Catalog /Pages 20 0 R /AcroForm 5 0 R >>"},
			{20, "<< /Type /Pages /Kids [21 0 R] /Count 1 >>"},
			{21, "<< /Type /Page /Parent 20 0 R /MediaBox [0 0 612 792] /Contents 22 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R] >>"},
			{22, tStream("", "BT /F1 24 Tf 72 700 Td (Pay 100 EUR to ACME) Tj ET")},
		}}},
		{name: "a later signature, approval", update: [][]tObj{newSignature},
			want: []kindAllowed{{ChangeSignature, true}}},
		{name: "a later signature, form fill certified", update: [][]tObj{newSignature}, perm: Permissions{DocMDP: 2},
			want: []kindAllowed{{ChangeSignature, true}}},
		{name: "a later signature, no changes certified", update: [][]tObj{newSignature}, perm: Permissions{DocMDP: 1},
			want: []kindAllowed{{ChangeSignature, false}}},
		{name: "a document time-stamp, no changes certified", update: [][]tObj{newDocTimeStamp}, perm: Permissions{DocMDP: 1},
			want: []kindAllowed{{ChangeDocumentTimeStamp, true}}},
		{name: "a DSS, no changes certified", update: [][]tObj{newDSS}, perm: Permissions{DocMDP: 1},
			want: []kindAllowed{{ChangeDSS, true}}},
		{name: "DSS then document time-stamp (B-LTA)", update: [][]tObj{newDSS, newDocTimeStamp}, perm: Permissions{DocMDP: 1},
			want: []kindAllowed{{ChangeDSS, true}, {ChangeDocumentTimeStamp, true}}},
		{name: "form fill, approval", update: [][]tObj{formFill},
			want: []kindAllowed{{ChangeFormFill, true}}},
		{name: "form fill, form fill certified", update: [][]tObj{formFill}, perm: Permissions{DocMDP: 2},
			want: []kindAllowed{{ChangeFormFill, true}}},
		{name: "form fill, no changes certified", update: [][]tObj{formFill}, perm: Permissions{DocMDP: 1},
			want: []kindAllowed{{ChangeFormFill, false}}},
		{name: "form fill of a locked field", update: [][]tObj{formFill}, perm: Permissions{DocMDP: 2, LockedFields: []string{"amount"}},
			want: []kindAllowed{{ChangeField, false}}},
		{name: "form fill, all fields locked", update: [][]tObj{formFill}, perm: Permissions{LockAll: true},
			want: []kindAllowed{{ChangeField, false}}},
		{name: "annotation, annotations certified", update: [][]tObj{newAnnotation}, perm: Permissions{DocMDP: 3},
			want: []kindAllowed{{ChangeAnnotation, true}}},
		{name: "annotation showing an object hidden at signing, annotations certified", update: [][]tObj{{
			{17, "<< /Type /Annot /Subtype /Stamp /Rect [0 0 612 792] /AP << /N 11 0 R >> >>"},
			{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 17 0 R] >>"},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangeAnnotation, false}}},
		{name: "form fill showing an object hidden at signing", update: [][]tObj{{
			{7, "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (200) /Rect [72 600 272 620] /P 3 0 R /AP << /N 11 0 R >> >>"},
		}}, perm: Permissions{DocMDP: 2}, want: []kindAllowed{{ChangeFormFill, false}, {ChangeFormFill, true}}},
		{name: "annotation with JavaScript, annotations certified", update: [][]tObj{{
			{17, "<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << /S /JavaScript /JS (app.alert(1)) >> >>"},
			{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 17 0 R] >>"},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangeAnnotation, false}}},
		{name: "link annotation to a URI, annotations certified", update: [][]tObj{{
			{17, "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://example.org/) >> >>"},
			{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 17 0 R] >>"},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangeAnnotation, true}}},
		{name: "annotation, form fill certified", update: [][]tObj{newAnnotation}, perm: Permissions{DocMDP: 2},
			want: []kindAllowed{{ChangeAnnotation, false}}},
		{name: "annotation, approval", update: [][]tObj{newAnnotation},
			want: []kindAllowed{{ChangeAnnotation, false}}},
		{name: "page content replaced", update: [][]tObj{{
			{4, tStream("", "BT /F1 24 Tf 72 700 Td (Pay 100000 EUR to EVIL) Tj ET")},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangePageContent, false}}},
		{name: "font replaced", update: [][]tObj{{
			{6, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangePageContent, false}}},
		{name: "media box changed", update: [][]tObj{{
			{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R] >>"},
		}}, want: []kindAllowed{{ChangePageContent, false}}},
		{name: "open action with JavaScript added", update: [][]tObj{{
			{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangeCatalog, false}}},
		{name: "names added", update: [][]tObj{{
			{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R /Names << /JavaScript 18 0 R >> >>"},
			{18, "<< /Names [(a) << /S /JavaScript /JS (1) >>] >>"},
		}}, want: []kindAllowed{{ChangeCatalog, false}}},
		{name: "a page added", update: [][]tObj{{
			{2, "<< /Type /Pages /Kids [3 0 R 19 0 R] /Count 2 >>"},
			{19, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 11 0 R /Resources << /Font << /F1 6 0 R >> >> >>"},
		}}, want: []kindAllowed{{ChangePageTree, false}}},
		{name: "the signed field's value replaced", update: [][]tObj{{
			{8, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (approval) /V 13 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>"},
			{13, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <3000> >>"},
		}}, want: []kindAllowed{{ChangeField, false}}},
		{name: "a text field added", update: [][]tObj{{
			{12, "<< /Type /Annot /Subtype /Widget /FT /Tx /T (extra) /V (x) /Rect [0 0 100 100] /P 3 0 R >>"},
			{5, "<< /Fields [7 0 R 8 0 R 12 0 R] /SigFlags 3 >>"},
			{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 12 0 R] >>"},
		}}, perm: Permissions{DocMDP: 2}, want: []kindAllowed{{ChangeField, false}}},
		{name: "a widget without a field", update: [][]tObj{{
			{12, "<< /Type /Annot /Subtype /Widget /Rect [0 0 612 792] /AP << /N 11 0 R >> >>"},
			{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R 12 0 R] >>"},
		}}, perm: Permissions{DocMDP: 3}, want: []kindAllowed{{ChangeField, false}}},
		{name: "a field removed", update: [][]tObj{{
			{5, "<< /Fields [8 0 R] /SigFlags 3 >>"},
		}}, want: []kindAllowed{{ChangeField, false}}},
		{name: "NeedAppearances set", update: [][]tObj{{
			{5, "<< /Fields [7 0 R 8 0 R] /SigFlags 3 /NeedAppearances true >>"},
		}}, want: []kindAllowed{{ChangeField, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := signedFormPDF(t)
			signedEnd := int64(len(p.buf))
			for _, u := range tc.update {
				p.update(t, u...)
			}
			doc := p.bytes()
			changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, tc.perm)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, summarize(changes), "changes: %+v", changes)
			for _, c := range changes {
				assert.NotEmpty(t, c.Object)
				assert.NotEmpty(t, c.Detail)
				assert.GreaterOrEqual(t, c.Revision, 2, "a change after the signature is in revision 2 or later")
			}
		})
	}
}

func TestAnalyzeChangesRevisionNumbers(t *testing.T) {
	p := signedFormPDF(t)
	signedEnd := int64(len(p.buf))
	p.update(t, newDSS...)
	p.update(t, newDocTimeStamp...)
	doc := p.bytes()
	changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, Permissions{})
	require.NoError(t, err)
	revs := map[string]int{}
	for _, c := range changes {
		revs[c.Kind] = c.Revision
	}
	assert.Equal(t, map[string]int{ChangeDSS: 2, ChangeDocumentTimeStamp: 3}, revs)
}

func TestAnalyzeChangesRefusesBadArguments(t *testing.T) {
	p := signedFormPDF(t)
	doc := p.bytes()
	for _, tc := range []struct {
		name      string
		signedEnd int64
		perm      Permissions
	}{
		{"signed end zero", 0, Permissions{}},
		{"signed end past the file", int64(len(doc)) + 1, Permissions{}},
		{"DocMDP 4", int64(len(doc)), Permissions{DocMDP: 4}},
		{"DocMDP negative", int64(len(doc)), Permissions{DocMDP: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), tc.signedEnd, tc.perm)
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// A content stream whose /Length is an indirect object: a later revision that only changes the
// length makes the same bytes of the signed revision a different stream.
func TestAnalyzeChangesIndirectLength(t *testing.T) {
	content := "BT /F1 24 Tf 72 700 Td (Pay 100 EUR) Tj ET"
	hidden := "\nendstream\nendobj\n% BT /F1 24 Tf 72 650 Td (and 1,000,000 EUR to Eve) Tj ET"
	p := newTestPDF(t, 1,
		tObj{1, "<< /Type /Catalog /Pages 2 0 R >>"},
		tObj{2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		tObj{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"},
		tObj{4, "<< /Length 5 0 R >>\nstream\n" + content + hidden + "\nendstream"},
		tObj{5, fmt.Sprint(len(content))},
	)
	signedEnd := int64(len(p.buf))
	p.update(t, tObj{5, fmt.Sprint(len(content) + len(hidden))})
	doc := p.bytes()
	changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, Permissions{DocMDP: 3})
	require.NoError(t, err)
	assert.Equal(t, []kindAllowed{{ChangePageContent, false}}, summarize(changes), "%+v", changes)
}

// The document information dictionary (the trailer's /Info, ISO 32000-1 §14.3.3) changed
// after the signature, or the catalog's XMP /Metadata stream (§14.3.2): a change of what the
// document says about itself, not of what a page shows, so reported and allowed at every
// level, a no-changes certification included (tools that add a DSS update /ModDate).
func TestAnalyzeChangesDocumentMetadata(t *testing.T) {
	type update struct {
		trailer string
		objs    []tObj
	}
	const info = " /Info 20 0 R"
	title := func(s string) []tObj {
		return []tObj{{20, "<< /Title (" + s + ") /Author 21 0 R /Producer (dpi) >>"}}
	}
	const xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><dc:title>Invoice %d</dc:title></x:xmpmeta>"
	catalog := tObj{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R /Metadata 23 0 R >>"}
	// The signed revision: signedFormPDF with an information dictionary whose /Author is an
	// indirect string, and an XMP metadata stream.
	signed := func(t *testing.T) *testPDF {
		p := signedFormPDF(t)
		p.updateTrailer(t, p.lastXRef(t), info, append(title("Invoice 42"), tObj{21, "(ACME)"}, catalog,
			tObj{23, tStream("/Type /Metadata /Subtype /XML", fmt.Sprintf(xmp, 42))})...)
		return p
	}
	changedTitle := []update{{info, title("Invoice 43")}}
	dss := append([]tObj{{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R /Metadata 23 0 R /DSS 14 0 R /Extensions << /ESIC << /BaseVersion /1.7 /ExtensionLevel 1 >> >> >>"}}, newDSS[1:]...)
	tests := []struct {
		name    string
		updates []update
		perms   []int // the DocMDP levels tried
		want    func(docMDP int) []kindAllowed
	}{
		{"/Title changed", changedTitle, []int{0, 1, 2, 3}, func(p int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}}
		}},
		{"an indirect /Author changed", []update{{info, []tObj{{21, "(Eve)"}}}}, []int{0, 1, 3}, func(p int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}}
		}},
		{"/Info pointed at a new dictionary", []update{{" /Info 22 0 R", []tObj{{22, "<< /Title (Invoice 43) >>"}}}}, []int{0, 1, 2}, func(p int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}}
		}},
		{"/Info pointed at a copy under another number", []update{{" /Info 22 0 R", []tObj{{22, "<< /Title (Invoice 42) /Author (ACME) /Producer (dpi) >>"}}}}, []int{1}, func(int) []kindAllowed {
			return nil
		}},
		{"/Info rewritten with the same content", []update{{info, title("Invoice 42")}}, []int{1}, func(int) []kindAllowed {
			return nil
		}},
		{"/Info pointed at an object that does not exist", []update{{" /Info 99 0 R", []tObj{{6, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}}}}, []int{0, 1}, func(p int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}}
		}},
		{"/Title changed with a DSS and a document time-stamp", []update{{info, append(title("Invoice 43"), dss...)}, {info, newDocTimeStamp}}, []int{0, 1}, func(p int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}, {ChangeDSS, true}, {ChangeDocumentTimeStamp, true}}
		}},
		{"the XMP metadata stream rewritten", []update{{info, []tObj{{23, tStream("/Type /Metadata /Subtype /XML", fmt.Sprintf(xmp, 43))}}}}, []int{0, 1, 3}, func(int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}}
		}},
		{"the catalog's /Metadata pointed at a new stream", []update{{info, []tObj{
			{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R /Metadata 24 0 R >>"},
			{24, tStream("/Type /Metadata /Subtype /XML", fmt.Sprintf(xmp, 44))}}}}, []int{1}, func(int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}}
		}},
		{"/Title changed with a later signature", []update{{info, append(title("Invoice 43"), newSignature...)}}, []int{0, 1, 2}, func(p int) []kindAllowed {
			return []kindAllowed{{ChangeMetadata, true}, {ChangeSignature, p != 1}}
		}},
	}
	for _, tc := range tests {
		for _, level := range tc.perms {
			t.Run(fmt.Sprintf("%s, DocMDP %d", tc.name, level), func(t *testing.T) {
				p := signed(t)
				signedEnd := int64(len(p.buf))
				for _, u := range tc.updates {
					p.updateTrailer(t, p.lastXRef(t), u.trailer, u.objs...)
				}
				doc := p.bytes()
				changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, Permissions{DocMDP: level})
				require.NoError(t, err)
				assert.ElementsMatch(t, tc.want(level), summarize(changes), "changes: %+v", changes)
				for _, c := range changes {
					assert.NotEmpty(t, c.Object)
					assert.NotEmpty(t, c.Detail)
					assert.GreaterOrEqual(t, c.Revision, 3, "a change after the signature is in revision 3 or later")
				}
			})
		}
	}
}

// The same through Validate, on PDFs signed here: the signer carries /Info over unchanged,
// so a second signature is no metadata change; an information dictionary rewritten after
// the signature is reported, and refused only under a no-changes certification.
func TestValidateDocumentMetadata(t *testing.T) {
	f := newFixture(t)
	in := appendRevision(t, pdftest.New(pdftest.Options{Form: true}), " /Info 20 0 R",
		tObj{20, "<< /Title (Contract 7) /Author (ACME) >>"})
	retitle := func(t *testing.T, doc []byte) []byte {
		return appendRevision(t, doc, " /Info 20 0 R", tObj{20, "<< /Title (Contract 8) /Author (Eve) >>"})
	}
	tests := []struct {
		name   string
		cert   Certification
		update func(t *testing.T, signed []byte) []byte
		want   []kindAllowed // nil: no change reported
		pass   bool
	}{
		{"a second signature", Approval, func(t *testing.T, d []byte) []byte {
			return f.sign(t, f.signer(t, LevelB, Config{}), d)
		}, []kindAllowed{{ChangeSignature, true}}, true},
		{"/Info rewritten after an approval signature", Approval, retitle, []kindAllowed{{ChangeMetadata, true}}, true},
		{"/Info rewritten under form fill", CertifyFormFill, retitle, []kindAllowed{{ChangeMetadata, true}}, true},
		{"/Info rewritten under annotations", CertifyAnnotate, retitle, []kindAllowed{{ChangeMetadata, true}}, true},
		{"/Info rewritten under no changes", CertifyNoChanges, retitle, []kindAllowed{{ChangeMetadata, true}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signed := f.sign(t, f.signer(t, LevelB, Config{Certify: tc.cert}), in)
			reps := f.validate(t, tc.update(t, signed), f.policy())
			require.NotEmpty(t, reps)
			r := reps[0]
			require.Equal(t, "Signature1", r.Field)
			assert.ElementsMatch(t, tc.want, summarize(r.Changes), "changes: %+v", r.Changes)
			if tc.pass {
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				return
			}
			assert.Equal(t, signature.TotalFailed, r.Indication)
			assert.Equal(t, signature.HashFailure, r.SubIndication)
		})
	}
}
