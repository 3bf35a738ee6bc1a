package pades

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
