package pades

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A signature's FieldMDP transform (ISO 32000-1 Table 256) decides whether filling the
// field "amount" after it is allowed: /Include locks the fields named, /Exclude every field
// but those named, /All and an unknown action every field.
func TestFieldMDP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		params  string
		allowed bool
	}{
		{"no fieldmdp", "", true},
		{"include amount", "/Action /Include /Fields [(amount)]", false},
		{"include another field", "/Action /Include /Fields [(approval)]", true},
		{"exclude amount", "/Action /Exclude /Fields [(amount)]", true},
		{"exclude another field", "/Action /Exclude /Fields [(approval)]", false},
		{"exclude nothing", "/Action /Exclude /Fields []", false},
		{"exclude, amount as a hex string", "/Action /Exclude /Fields [<616d6f756e74>]", true},
		{"all", "/Action /All", false},
		{"unknown action", "/Action /Some", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] /Contents <3000>"
			if tc.params != "" {
				sig += " /Reference [<< /Type /SigRef /TransformMethod /FieldMDP /TransformParams << /Type /TransformParams " + tc.params + " /V /1.2 >> >>]"
			}
			p := newTestPDF(t, 1,
				tObj{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R >>"},
				tObj{2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
				tObj{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R] >>"},
				tObj{4, tStream("", "BT /F1 24 Tf 72 700 Td (Pay 100 EUR to ACME) Tj ET")},
				tObj{5, "<< /Fields [7 0 R 8 0 R] /SigFlags 3 >>"},
				tObj{6, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"},
				tObj{7, "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100) /Rect [72 600 272 620] /P 3 0 R /AP << /N 9 0 R >> >>"},
				tObj{8, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (approval) /V 10 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>"},
				tObj{9, tStream("/Type /XObject /Subtype /Form /BBox [0 0 200 20]", "BT /F1 12 Tf 2 5 Td (100) Tj ET")},
				tObj{10, sig + " >>"},
			)
			signedEnd := int64(len(p.buf))
			p.update(t, formFill...)
			doc := p.bytes()
			d, err := readDocument(context.Background(), bytes.NewReader(doc), int64(len(doc)))
			require.NoError(t, err)
			sigDict := d.dict(ref(10))
			require.NotNil(t, sigDict)
			perm := Permissions{DocMDP: 2}
			d.fieldMDP(sigDict, &perm)
			changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, perm)
			require.NoError(t, err)
			require.NotEmpty(t, changes)
			for _, c := range changes {
				assert.Equal(t, tc.allowed, c.Allowed, "%+v", c)
			}
		})
	}
}
