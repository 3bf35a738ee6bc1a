package pades

// The attacks on PDF signatures of the "PDF insecurity" research, each built by byte surgery
// and appended incremental updates on a PDF that Sign produced, and each refused by Validate
// with a named reason:
//
//   - Mladenov, Mainka, Meyer zu Selhausen, Grothe, Schwenk, "1 Trillion Dollar Refund: How
//     To Spoof PDF Signatures", CCS 2019: universal signature forgery (USF), incremental saving
//     attack (ISA), signature wrapping (SWA).
//   - Mainka, Mladenov, Rohlmann, Schwenk, "Attacks Bypassing the Signature Validation in PDF"
//     (shadow attacks), NDSS 2021: hide, replace, hide-and-replace.

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// Object numbers of pdftest.New(pdftest.Options{Form: true}).
const (
	ptCatalog = 1
	ptPages   = 2
	ptFont    = 3
	ptContent = 4
	ptPage    = 5
	ptField   = 6
)

var (
	trailerRE   = regexp.MustCompile(`(?s)trailer\s*<<.*?/Size\s+(\d+).*?/Root\s+(\d+)\s+0\s+R`)
	startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
)

// lastTrailer reads the last classic trailer of doc: its startxref, /Size and /Root.
func lastTrailer(t testing.TB, doc []byte) (xref int64, size, root int) {
	t.Helper()
	m := startxrefRE.FindSubmatch(doc)
	require.NotNil(t, m, "no startxref")
	xref, err := strconv.ParseInt(string(m[1]), 10, 64)
	require.NoError(t, err)
	all := trailerRE.FindAllSubmatch(doc, -1)
	require.NotEmpty(t, all, "no classic trailer")
	last := all[len(all)-1]
	size, _ = strconv.Atoi(string(last[1]))
	root, _ = strconv.Atoi(string(last[2]))
	return xref, size, root
}

// appendRevision appends an incremental update to any classic-xref PDF. extra is added to
// the trailer (a " /Root 9 0 R" given there wins over the previous root, read first).
func appendRevision(t testing.TB, doc []byte, extra string, objs ...tObj) []byte {
	t.Helper()
	xref, size, root := lastTrailer(t, doc)
	p := &testPDF{buf: bytes.Clone(doc), size: size, root: root, xref: xref}
	if m := regexp.MustCompile(`/Root\s+(\d+)\s+0\s+R`).FindStringSubmatch(extra); m != nil {
		p.root, _ = strconv.Atoi(m[1])
		extra = strings.Replace(extra, m[0], "", 1)
	}
	p.updateTrailer(t, xref, extra, objs...)
	return p.buf
}

// objectBody returns the body of the last "nr 0 obj" of doc.
func objectBody(t testing.TB, doc []byte, nr int) string {
	t.Helper()
	re := regexp.MustCompile(fmt.Sprintf(`(?s)(?:^|\n)%d 0 obj\s*(.*?)\s*endobj`, nr))
	all := re.FindAllSubmatch(doc, -1)
	require.NotEmpty(t, all, "object %d not found", nr)
	return string(all[len(all)-1][1])
}

// sigDict locates the last signature dictionary's /ByteRange array and /Contents hex string.
type sigDict struct {
	brStart, brEnd int // the "[...]" of /ByteRange
	ctStart, ctEnd int // the "<...>" of /Contents
	br             [4]int64
}

func findSigDict(t testing.TB, doc []byte) sigDict {
	t.Helper()
	var s sigDict
	i := bytes.LastIndex(doc, []byte("/ByteRange"))
	require.Positive(t, i)
	s.brStart = i + bytes.IndexByte(doc[i:], '[')
	s.brEnd = s.brStart + bytes.IndexByte(doc[s.brStart:], ']') + 1
	for k, f := range strings.Fields(string(doc[s.brStart+1 : s.brEnd-1])) {
		n, err := strconv.ParseInt(f, 10, 64)
		require.NoError(t, err)
		s.br[k] = n
	}
	s.ctStart, s.ctEnd = int(s.br[1]), int(s.br[2])
	require.Equal(t, byte('<'), doc[s.ctStart])
	require.Equal(t, byte('>'), doc[s.ctEnd-1])
	return s
}

// replaceSameLength overwrites doc[start:end] with s padded with spaces (the offsets of the
// file stay as they were).
func replaceSameLength(t testing.TB, doc []byte, start, end int, s string) []byte {
	t.Helper()
	require.LessOrEqual(t, len(s), end-start)
	out := bytes.Clone(doc)
	copy(out[start:end], s+strings.Repeat(" ", end-start-len(s)))
	return out
}

// refused validates doc and requires the signature in field to be TOTAL_FAILED with an error
// that contains reason; it returns the report.
func refused(t *testing.T, f *fixture, doc []byte, field, reason string) Report {
	t.Helper()
	reps := f.validate(t, doc, f.policy())
	for _, r := range reps {
		if r.Field != field {
			continue
		}
		assert.Equal(t, signature.TotalFailed, r.Indication, "errors: %v, changes: %+v", r.Errors, r.Changes)
		assert.Contains(t, strings.Join(r.Errors, "\n"), reason)
		return r
	}
	t.Fatalf("no report for field %q in %+v", field, reps)
	return Report{}
}

func refusedChange(t *testing.T, r Report, kind string) {
	t.Helper()
	for _, c := range r.Changes {
		if c.Kind == kind && !c.Allowed {
			return
		}
	}
	t.Errorf("no refused change of kind %q in %+v", kind, r.Changes)
}

// Universal signature forgery: a signature dictionary whose /ByteRange or /Contents is
// missing, null, empty or pointing elsewhere, so that a careless validator checks nothing.
func TestAttackUniversalSignatureForgery(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, f.signer(t, LevelB, Config{}), pdftest.New(pdftest.Options{Form: true}))
	require.Equal(t, signature.TotalPassed, f.validate(t, signed, f.policy())[0].Indication)
	sd := findSigDict(t, signed)
	size := int64(len(signed))
	brAt := bytes.LastIndex(signed, []byte("/ByteRange"))
	ctAt := bytes.LastIndex(signed[:sd.ctStart], []byte("/Contents"))
	require.Positive(t, ctAt)

	tests := []struct {
		name   string
		doc    []byte
		reason string
	}{
		{"byteRange missing", replaceSameLength(t, signed, brAt, brAt+len("/ByteRange"), "/ByteRangX"), "byteRange: missing"},
		{"byteRange null", replaceSameLength(t, signed, sd.brStart, sd.brEnd, "null"), "byteRange: missing"},
		{"byteRange [0 0 0 0]", replaceSameLength(t, signed, sd.brStart, sd.brEnd, "[0 0 0 0]"), "byteRange: the gap for /Contents is empty"},
		{"byteRange covering nothing after the gap", replaceSameLength(t, signed, sd.brStart, sd.brEnd, fmt.Sprintf("[0 %d %d 0]", sd.br[1], sd.br[2])), "byteRange: does not end at the end of a revision"},
		{"byteRange with the gap elsewhere", replaceSameLength(t, signed, sd.brStart, sd.brEnd, fmt.Sprintf("[0 10 20 %d]", size-20)), "contents: the gap of the byte range is not a hex string"},
		{"byteRange not starting at 0", replaceSameLength(t, signed, sd.brStart, sd.brEnd, fmt.Sprintf("[1 %d %d %d]", sd.br[1]-1, sd.br[2], sd.br[3])), "byteRange: does not start at 0"},
		{"byteRange past the end", replaceSameLength(t, signed, sd.brStart, sd.brEnd, fmt.Sprintf("[0 %d %d %d]", sd.br[1], sd.br[2], sd.br[3]+100)), "byteRange: beyond the end of the file"},
		{"byteRange negative", replaceSameLength(t, signed, sd.brStart, sd.brEnd, fmt.Sprintf("[0 %d %d -%d]", sd.br[1], sd.br[2], sd.br[3])), "byteRange: a negative number"},
		{"byteRange of three numbers", replaceSameLength(t, signed, sd.brStart, sd.brEnd, fmt.Sprintf("[0 %d %d]", sd.br[1], sd.br[2])), "byteRange: 3 numbers, not 4"},
		{"contents missing", replaceSameLength(t, signed, ctAt, ctAt+len("/Contents"), "/Contentz"), "contents: /Contents is not a direct hex string"},
		{"contents empty", replaceSameLength(t, signed, sd.ctStart+1, sd.ctEnd-1, strings.Repeat("0", sd.ctEnd-sd.ctStart-2)), "cms"},
		{"contents padded with non-zero bytes after the cms", func() []byte {
			d := bytes.Clone(signed)
			copy(d[sd.ctEnd-9:sd.ctEnd-1], "45766521")
			return d
		}(), "contents: non-zero bytes after the cms in /Contents"},
		{"contents not a hex string", func() []byte {
			d := bytes.Clone(signed)
			d[sd.ctStart], d[sd.ctEnd-1] = '(', ')'
			return d
		}(), "contents: the gap of the byte range is not a hex string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, f, tc.doc, "Signature1", tc.reason)
		})
	}
}

// Incremental saving attack: an update after the signature that replaces what a page shows,
// with a cross-reference section and trailer (every reader sees it) or without (a reader that
// repairs the file sees it).
func TestAttackIncrementalSaving(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, f.signer(t, LevelT, Config{}), pdftest.New(pdftest.Options{Form: true}))
	evil := tStream("", "BT /F1 18 Tf 72 720 Td (Pay 1,000,000 EUR to Eve) Tj ET")

	t.Run("with xref and trailer", func(t *testing.T) {
		doc := appendRevision(t, signed, "", tObj{ptContent, evil})
		r := refused(t, f, doc, "Signature1", "changes:")
		refusedChange(t, r, ChangePageContent)
	})
	t.Run("a new page with xref and trailer", func(t *testing.T) {
		pages := strings.Replace(objectBody(t, signed, ptPages), fmt.Sprintf("[%d 0 R]", ptPage), fmt.Sprintf("[%d 0 R 40 0 R]", ptPage), 1)
		pages = strings.Replace(pages, "/Count 1", "/Count 2", 1)
		doc := appendRevision(t, signed, "",
			tObj{ptPages, pages},
			tObj{40, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents 41 0 R >>", ptPages)},
			tObj{41, evil})
		r := refused(t, f, doc, "Signature1", "changes:")
		refusedChange(t, r, ChangePageTree)
	})
	t.Run("without xref and trailer", func(t *testing.T) {
		doc := append(bytes.Clone(signed), fmt.Sprintf("%d 0 obj\n%s\nendobj\n", ptContent, evil)...)
		reps, err := Validate(t.Context(), bytes.NewReader(doc), int64(len(doc)), f.policy())
		if err != nil {
			assert.ErrorIs(t, err, ErrMalformed)
			return
		}
		r := refused(t, f, doc, "Signature1", "changes:")
		refusedChange(t, r, ChangeUnreferencedData)
		_ = reps
	})
	t.Run("with a trailer whose startxref points into the signed revision", func(t *testing.T) {
		xref, _, _ := lastTrailer(t, signed)
		doc := append(bytes.Clone(signed), fmt.Sprintf("%d 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n", ptContent, evil, xref)...)
		r := refused(t, f, doc, "Signature1", "changes:")
		refusedChange(t, r, ChangeUnreferencedData)
	})
}

// Signature wrapping: the signed bytes after /Contents are moved to the end of the file and the
// gap of a new /ByteRange holds, besides the original /Contents, a new signature dictionary and
// new page content; an update at the end points the document at them. The signed bytes are
// intact, so the digest matches: only the check that the gap is exactly the signature's
// /Contents refuses it.
func TestAttackSignatureWrapping(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, f.signer(t, LevelB, Config{}), pdftest.New(pdftest.Options{Form: true}))
	sd := findSigDict(t, signed)
	a, b := int(sd.br[1]), int(sd.br[2])
	sigNr := sigObjectNumber(t, signed, sd)

	// The gap: the original /Contents, then the attacker's objects.
	var gap bytes.Buffer
	gap.Write(signed[a:b])
	gap.WriteString("\n")
	evilAt := a + gap.Len()
	fmt.Fprintf(&gap, "%d 0 obj\n%s\nendobj\n", ptContent, tStream("", "BT /F1 18 Tf 72 720 Td (Pay Eve) Tj ET"))
	sigAt := a + gap.Len()
	newB := 0
	// The new /ByteRange needs the final offset of the relocated part, which depends on the
	// length of the new signature dictionary: settle it with a fixed-width number.
	sigBody := func(bStart int) string {
		body := objectBody(t, signed, sigNr)
		i := strings.Index(body, "/ByteRange")
		j := i + strings.Index(body[i:], "]") + 1
		body = body[:i] + fmt.Sprintf("/ByteRange [0 %d %010d %d]", a, bStart, sd.br[3]) + body[j:]
		// The copy's /Contents is the same hex string.
		return body
	}
	sigObj := fmt.Sprintf("%d 0 obj\n%s\nendobj\n", sigNr, sigBody(0))
	newB = sigAt + len(sigObj)
	sigObj = fmt.Sprintf("%d 0 obj\n%s\nendobj\n", sigNr, sigBody(newB))
	require.Equal(t, newB, sigAt+len(sigObj))
	gap.WriteString(sigObj)

	doc := append(bytes.Clone(signed[:a]), gap.Bytes()...)
	doc = append(doc, signed[b:]...)
	// The update that makes the document use the objects in the gap, and finds again the
	// objects of the signed revision that moved with the relocated part.
	xref, size, root := lastTrailer(t, doc)
	shift := newB - b
	revStart := bytes.LastIndex(signed[:a], []byte("%%EOF")) + len("%%EOF")
	offs := map[int]int{ptContent: evilAt, sigNr: sigAt}
	for _, m := range regexp.MustCompile(`(?m)^(\d+) 0 obj`).FindAllSubmatchIndex(signed[revStart:], -1) {
		nr, _ := strconv.Atoi(string(signed[revStart+m[2] : revStart+m[3]]))
		off := revStart + m[0]
		if off >= b {
			off += shift
		}
		if _, ok := offs[nr]; !ok {
			offs[nr] = off
		}
	}
	start := len(doc)
	doc = append(doc, "xref\n"...)
	for nr, off := range offs {
		doc = fmt.Appendf(doc, "%d 1\n%010d 00000 n \n", nr, off)
	}
	doc = fmt.Appendf(doc, "trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", size, root, xref, start)
	// pdfcpu reads the wrapped document as the attacker meant it: the new signature
	// dictionary and the new page content.
	x, err := readRevisionPrefix(bytes.NewReader(doc), int64(len(doc)))
	require.NoError(t, err)
	sig, _, err := resolveIn(x, types.IndirectRef{ObjectNumber: types.Integer(sigNr)})
	require.NoError(t, err)
	br := fmt.Sprint(changeDict(sig)["ByteRange"])
	require.Equal(t, fmt.Sprintf("[0 %d %d %d]", a, newB, sd.br[3]), br)

	// The signed bytes are exactly those of the original signature.
	signedBytes := append(bytes.Clone(doc[:a]), doc[newB:newB+int(sd.br[3])]...)
	require.Equal(t, append(bytes.Clone(signed[:a]), signed[b:]...), signedBytes)

	refused(t, f, doc, "Signature1", "contents: the gap of the byte range is not a hex string")
}

// sigObjectNumber finds the number of the object that holds the signature dictionary.
func sigObjectNumber(t testing.TB, doc []byte, sd sigDict) int {
	t.Helper()
	heads := regexp.MustCompile(`(?m)^(\d+) 0 obj`).FindAllSubmatchIndex(doc[:sd.brStart], -1)
	require.NotEmpty(t, heads)
	last := heads[len(heads)-1]
	nr, err := strconv.Atoi(string(doc[last[2]:last[3]]))
	require.NoError(t, err)
	return nr
}

// Shadow attacks: the attacker prepares the document before it is signed, with content that
// nothing shows (hide), or that a later update may legitimately replace (replace), or a whole
// shadow document (hide-and-replace), and after the signature only switches to it.
func TestAttackShadow(t *testing.T) {
	f := newFixture(t)
	evil := "BT /F1 18 Tf 72 720 Td (Pay 1,000,000 EUR to Eve) Tj ET"
	// The shadow document the attacker hands in for signing: objects 7 to 10 that nothing uses.
	shadowed := appendRevision(t, pdftest.New(pdftest.Options{Form: true}), "",
		tObj{7, tStream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>", evil)},
		tObj{8, tStream("", evil)},
		tObj{9, "<< /Type /Pages /Kids [10 0 R] /Count 1 >>"},
		tObj{10, fmt.Sprintf("<< /Type /Page /Parent 9 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents 8 0 R >>", ptFont)},
	)
	sign := func(t *testing.T, c Certification) []byte {
		doc := f.sign(t, f.signer(t, LevelB, Config{Certify: c}), shadowed)
		reps := f.validate(t, doc, f.policy())
		require.Len(t, reps, 1)
		require.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
		return doc
	}
	page := func(t *testing.T, doc []byte, from, to string) tObj {
		body := objectBody(t, doc, ptPage)
		require.Contains(t, body, from)
		return tObj{ptPage, strings.Replace(body, from, to, 1)}
	}

	t.Run("hide: the page's content switched to the hidden stream", func(t *testing.T) {
		doc := sign(t, Approval)
		doc = appendRevision(t, doc, "", page(t, doc, fmt.Sprintf("/Contents %d 0 R", ptContent), "/Contents 8 0 R"))
		refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangePageContent)
	})
	// overlayForm7 adds a page-size stamp annotation, object 30, whose appearance is the
	// form XObject 7.
	overlayForm7 := func(t *testing.T, doc []byte) []byte {
		annots := objectBody(t, doc, ptPage)
		loc := regexp.MustCompile(`/Annots\s*\[`).FindStringIndex(annots)
		require.NotNil(t, loc)
		pg := tObj{ptPage, annots[:loc[1]] + "30 0 R " + annots[loc[1]:]}
		return appendRevision(t, doc, "", pg,
			tObj{30, fmt.Sprintf("<< /Type /Annot /Subtype /Stamp /Rect [0 0 612 792] /P %d 0 R /AP << /N 7 0 R >> >>", ptPage)})
	}
	for _, c := range []Certification{Approval, CertifyAnnotate} {
		t.Run(fmt.Sprintf("hide: an overlay annotation shows the hidden form, certification %d", c), func(t *testing.T) {
			doc := sign(t, c)
			doc = overlayForm7(t, doc)
			refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangeAnnotation)
		})
	}
	// /Info and the XMP /Metadata are metadata: what only they reach is not shown, so it is
	// as hidden as an object nothing uses.
	for _, holder := range []string{"/Info", "/Metadata"} {
		t.Run("hide: an overlay shows a form only "+holder+" held, certification 3", func(t *testing.T) {
			base := pdftest.New(pdftest.Options{Form: true})
			form := tObj{7, tStream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>", evil)}
			var held []byte
			if holder == "/Info" {
				held = appendRevision(t, base, " /Info 11 0 R", form, tObj{11, "<< /Title (Register) /Thumbnail 7 0 R >>"})
			} else {
				_, _, root := lastTrailer(t, base)
				cat := strings.Replace(objectBody(t, base, root), "/Type /Catalog", "/Type /Catalog /Metadata 11 0 R", 1)
				held = appendRevision(t, base, "", form, tObj{root, cat},
					tObj{11, tStream("/Type /Metadata /Subtype /XML /Thumbnail 7 0 R", "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")})
			}
			doc := f.sign(t, f.signer(t, LevelB, Config{Certify: CertifyAnnotate}), held)
			doc = overlayForm7(t, doc)
			refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangeAnnotation)
		})
	}
	t.Run("replace: the font replaced", func(t *testing.T) {
		doc := sign(t, CertifyAnnotate)
		doc = appendRevision(t, doc, "", tObj{ptFont, "<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>"})
		refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangePageContent)
	})
	t.Run("replace: a form field's value and appearance under a no-changes certification", func(t *testing.T) {
		doc := sign(t, CertifyNoChanges)
		field := objectBody(t, doc, ptField)
		field = strings.Replace(field, "/V (Ana)", "/V (Eve) /AP << /N 31 0 R >>", 1)
		doc = appendRevision(t, doc, "", tObj{ptField, field},
			tObj{31, tStream("/Type /XObject /Subtype /Form /BBox [0 0 228 30]", "BT /F1 12 Tf 2 8 Td (Eve) Tj ET")})
		refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangeFormFill)
	})
	t.Run("replace: a form field's appearance replaced by the hidden form under form fill", func(t *testing.T) {
		doc := sign(t, CertifyFormFill)
		field := strings.Replace(objectBody(t, doc, ptField), "/V (Ana)", "/V (Ana) /AP << /N 7 0 R >>", 1)
		doc = appendRevision(t, doc, "", tObj{ptField, field})
		refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangeFormFill)
	})
	t.Run("hide-and-replace: a new catalog points at the shadow page tree", func(t *testing.T) {
		doc := sign(t, Approval)
		_, _, root := lastTrailer(t, doc)
		cat := objectBody(t, doc, root)
		cat = strings.Replace(cat, fmt.Sprintf("/Pages %d 0 R", ptPages), "/Pages 9 0 R", 1)
		doc = appendRevision(t, doc, " /Root 32 0 R", tObj{32, cat})
		r := refused(t, f, doc, "Signature1", "changes:")
		assert.NotEmpty(t, r.Changes)
	})
	t.Run("hide-and-replace: the shadow page tree through the same catalog", func(t *testing.T) {
		doc := sign(t, Approval)
		_, _, root := lastTrailer(t, doc)
		cat := strings.Replace(objectBody(t, doc, root), fmt.Sprintf("/Pages %d 0 R", ptPages), "/Pages 9 0 R", 1)
		doc = appendRevision(t, doc, "", tObj{root, cat})
		refusedChange(t, refused(t, f, doc, "Signature1", "changes:"), ChangePageContent)
	})
}

// Sneaky signature attack (Mainka, Mladenov, Rohlmann, Schwenk, "Breaking the Specification:
// PDF Certification", S&P 2021): after a signature, a new signature or document time-stamp
// field whose widget covers the page with the forger's appearance. Adding signatures is
// allowed, so each variant is an overlay that no valid later signature vouches for: an
// unsigned field, a "document time-stamp" (even under no-changes certification), a garbage
// signature, one by a signer the policy does not trust, or a second field that reuses the
// signed signature dictionary.
func TestAttackSneakySignature(t *testing.T) {
	f := newFixture(t)
	overlay := tStream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>",
		"1 1 1 rg 0 0 612 792 re f 0 g BT /F1 18 Tf 72 720 Td (Pay 1,000,000 EUR to Eve) Tj ET")
	const fullPage = "/Rect [0 0 612 792] /F 4 /AP << /N 22 0 R >>"
	// addField appends an update with the signature field 20 on the page and in the form.
	addField := func(t *testing.T, doc []byte, field string, objs ...tObj) []byte {
		t.Helper()
		_, _, root := lastTrailer(t, doc)
		sd := findSigDict(t, doc)
		sigField := fmt.Sprintf("%d 0 R]", sigObjectNumber(t, doc, sd)+1)
		cat := objectBody(t, doc, root)
		require.Contains(t, cat, sigField)
		cat = strings.Replace(cat, sigField, strings.TrimSuffix(sigField, "]")+" 20 0 R]", 1)
		pg := strings.Replace(objectBody(t, doc, ptPage), sigField, strings.TrimSuffix(sigField, "]")+" 20 0 R]", 1)
		objs = append([]tObj{{root, cat}, {ptPage, pg},
			{20, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Evil) /P %d 0 R %s >>", ptPage, field)}}, objs...)
		return appendRevision(t, doc, "", objs...)
	}
	in := pdftest.New(pdftest.Options{Form: true})
	garbageTS := tObj{21, "<< /Type /DocTimeStamp /SubFilter /ETSI.RFC3161 /ByteRange [0 1 2 3] /Contents <00> >>"}
	garbageSig := tObj{21, "<< /Type /Sig /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> >>"}

	tests := []struct {
		name   string
		cert   Certification
		doc    func(t *testing.T, signed []byte) []byte
		reason string
	}{
		{"a document time-stamp over the page under no-changes certification", CertifyNoChanges, func(t *testing.T, d []byte) []byte {
			return addField(t, d, "/V 21 0 R "+fullPage, garbageTS, tObj{22, overlay})
		}, "documentTimeStamp"},
		{"a document time-stamp over the page under form fill", CertifyFormFill, func(t *testing.T, d []byte) []byte {
			return addField(t, d, "/V 21 0 R "+fullPage, garbageTS, tObj{22, overlay})
		}, "documentTimeStamp"},
		{"a time-stamp typed /Sig over the page", Approval, func(t *testing.T, d []byte) []byte {
			return addField(t, d, "/V 21 0 R "+fullPage, tObj{21, "<< /Type /Sig /SubFilter /ETSI.RFC3161 /ByteRange [0 1 2 3] /Contents <00> >>"}, tObj{22, overlay})
		}, "20 0 R (documentTimeStamp)"},
		{"an unsigned signature field over the page", Approval, func(t *testing.T, d []byte) []byte {
			return addField(t, d, fullPage, tObj{22, overlay})
		}, "20 0 R (signature)"},
		{"an unsigned signature field with only a background over the page", CertifyFormFill, func(t *testing.T, d []byte) []byte {
			return addField(t, d, "/Rect [0 0 612 792] /MK << /BG [1 1 1] >>")
		}, "20 0 R (signature)"},
		{"a garbage signature over the page", Approval, func(t *testing.T, d []byte) []byte {
			return addField(t, d, "/V 21 0 R "+fullPage, garbageSig, tObj{22, overlay})
		}, "a later signature that does not validate draws on the page"},
		{"a signature by a signer the policy does not trust, over the page", CertifyFormFill, func(t *testing.T, d []byte) []byte {
			eve := newFixture(t)
			return eve.sign(t, eve.signer(t, LevelB, Config{Visible: &Appearance{Page: 1, X: 0, Y: 0, W: 612, H: 792}}), d)
		}, "a later signature that does not validate draws on the page"},
		{"a second field reusing the signed signature dictionary", Approval, func(t *testing.T, d []byte) []byte {
			sig := sigObjectNumber(t, d, findSigDict(t, d))
			return addField(t, d, fmt.Sprintf("/V %d 0 R %s", sig, fullPage), tObj{22, overlay})
		}, "field: the signature dictionary is the value of several fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signed := f.sign(t, f.signer(t, LevelB, Config{Certify: tc.cert}), in)
			refused(t, f, tc.doc(t, signed), "Signature1", tc.reason)
		})
	}

	// What a later signer legitimately adds stays allowed: an empty invisible signature
	// field, and a hidden document time-stamp field.
	allowed := []struct {
		name  string
		field string
		objs  []tObj
	}{
		{"an empty invisible signature field", "/Rect [0 0 0 0]", nil},
		{"an empty signature field with the hidden flag", "/Rect [0 0 612 792] /F 2 /AP << /N 22 0 R >>", []tObj{{22, overlay}}},
	}
	for _, tc := range allowed {
		t.Run(tc.name, func(t *testing.T) {
			signed := f.sign(t, f.signer(t, LevelB, Config{Certify: CertifyFormFill}), in)
			reps := f.validate(t, addField(t, signed, tc.field, tc.objs...), f.policy())
			require.Len(t, reps, 1)
			assert.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
		})
	}
}

// Inheritance through /Parent: a page that does not carry its own /Resources, boxes or
// /Rotate takes them from its ancestors, and pdf.js and MuPDF look them up through the
// page's /Parent, not through the tree that lists it. An update that points the page at
// another parent, or redefines its parent, crops, rotates or re-fonts the signed page.
func TestAttackInheritedPageAttributes(t *testing.T) {
	f := newFixture(t)
	// The page inherits its resources and media box from the page tree root.
	inherit := appendRevision(t, pdftest.New(pdftest.Options{Form: true}), "",
		tObj{ptPages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> >>", ptPage, ptFont)},
		tObj{ptPage, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R /Annots [%d 0 R] >>", ptPages, ptContent, ptField)})
	signed := f.sign(t, f.signer(t, LevelB, Config{Certify: CertifyNoChanges}), inherit)
	require.Equal(t, signature.TotalPassed, f.validate(t, signed, f.policy())[0].Indication)
	page := objectBody(t, signed, ptPage)
	parent := fmt.Sprintf("/Parent %d 0 R", ptPages)
	require.Contains(t, page, parent)
	symbol := "<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>"

	tests := []struct {
		name string
		objs []tObj
	}{
		{"the page pointed at a parent that crops and rotates it", []tObj{
			{ptPage, strings.Replace(page, parent, "/Parent 50 0 R", 1)},
			{50, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 /MediaBox [0 0 612 792] /CropBox [0 0 612 500] /Rotate 180 >>", ptPage)},
		}},
		{"the page pointed at a parent with other fonts", []tObj{
			{ptPage, strings.Replace(page, parent, "/Parent 50 0 R", 1)},
			{50, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 /MediaBox [0 0 612 792] /Resources << /Font << /F1 51 0 R >> >> >>", ptPage)},
			{51, symbol},
		}},
		{"a parent in between, listed nowhere", []tObj{
			{ptPage, strings.Replace(page, parent, "/Parent 50 0 R", 1)},
			{50, fmt.Sprintf("<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R] /Count 1 /CropBox [0 0 100 100] >>", ptPages, ptPage)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := refused(t, f, appendRevision(t, signed, "", tc.objs...), "Signature1", "changes:")
			refusedChange(t, r, ChangePageContent)
			assert.Contains(t, fmt.Sprint(r.Changes), "inherited through /Parent")
		})
	}
}

// Inheritance through a widget's /Parent: a widget kid takes its field's value, type and
// flags through /Parent, which pdf.js reads to draw a widget without an appearance. An
// update that points the widget at a field no /Kids lists changes the value shown.
func TestAttackWidgetParent(t *testing.T) {
	f := newFixture(t)
	in := appendRevision(t, pdftest.New(pdftest.Options{Form: true}), "",
		tObj{ptField, "<< /FT /Tx /T (Name) /V (Ana) /Kids [7 0 R] >>"},
		tObj{7, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /Parent %d 0 R /Rect [72 600 300 630] /P %d 0 R /F 4 >>", ptField, ptPage)},
		tObj{ptPage, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R /Annots [7 0 R] >>", ptPages, ptFont, ptContent)})
	widget := func(t *testing.T, doc []byte) string {
		w := objectBody(t, doc, 7)
		require.Contains(t, w, fmt.Sprintf("/Parent %d 0 R", ptField))
		return strings.Replace(w, fmt.Sprintf("/Parent %d 0 R", ptField), "/Parent 50 0 R", 1)
	}
	tests := []struct {
		name string
		cert Certification
		objs func(t *testing.T, doc []byte) []tObj
		pass bool
	}{
		{"the widget pointed at another field, no changes allowed", CertifyNoChanges, func(t *testing.T, d []byte) []tObj {
			return []tObj{{7, widget(t, d)}, {50, "<< /FT /Tx /T (Name) /V (Eve) /Kids [7 0 R] >>"}}
		}, false},
		{"the widget pointed at another field under form fill", CertifyFormFill, func(t *testing.T, d []byte) []tObj {
			return []tObj{{7, widget(t, d)}, {50, "<< /FT /Tx /T (Name) /V (Eve) /Ff 1 /Kids [7 0 R] >>"}}
		}, false},
		{"the field filled in, as a form filler does", CertifyFormFill, func(t *testing.T, d []byte) []tObj {
			return []tObj{{ptField, "<< /FT /Tx /T (Name) /V (Eve) /Kids [7 0 R] >>"}}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signed := f.sign(t, f.signer(t, LevelB, Config{Certify: tc.cert}), in)
			doc := appendRevision(t, signed, "", tc.objs(t, signed)...)
			if tc.pass {
				reps := f.validate(t, doc, f.policy())
				require.Len(t, reps, 1)
				assert.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
				return
			}
			r := refused(t, f, doc, "Signature1", "changes:")
			refusedChange(t, r, ChangeField)
			assert.Contains(t, fmt.Sprint(r.Changes), "inherited through a /Parent that does not list it")
		})
	}
}

// A popup's /Parent (ISO 32000-1 §12.5.6.14) is not a node above it but the markup
// annotation whose text and title the popup shows, and viewers (pdf.js) read them through
// it. An update that points a signed popup at another annotation, one no page lists or one
// hidden at signing, or rewrites the annotation only the popup reaches, changes what the
// popup shows; a /Parent that names a widget draws a field outside the form.
func TestAttackPopupParent(t *testing.T) {
	f := newFixture(t)
	// The signed document: the form's page with a comment (the text annotation 7 and its
	// popup 8) and, listed nowhere, a full-page free text annotation 9 (what a shadow attack
	// hides) and a comment 10 that only the popup 11 on the page reaches.
	const (
		markup = 7
		popup  = 8
		hidden = 9
		only   = 10
		lone   = 11
	)
	overlay := tStream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>",
		"1 1 1 rg 0 0 612 792 re f 0 g BT /F1 18 Tf 72 720 Td (Pay 1,000,000 EUR to Eve) Tj ET")
	popupOf := func(parent int) string {
		return fmt.Sprintf("<< /Type /Annot /Subtype /Popup /Parent %d 0 R /Rect [300 600 500 700] /P %d 0 R /Open true >>", parent, ptPage)
	}
	comment := func(contents string, pop int) string {
		return fmt.Sprintf("<< /Type /Annot /Subtype /Text /Rect [280 680 300 700] /Contents (%s) /T (Ana) /Popup %d 0 R /P %d 0 R >>", contents, pop, ptPage)
	}
	in := appendRevision(t, pdftest.New(pdftest.Options{Form: true}), "",
		tObj{ptPage, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R /Annots [%d 0 R %d 0 R %d 0 R %d 0 R] >>",
			ptPages, ptFont, ptContent, ptField, markup, popup, lone)},
		tObj{markup, comment("Approved as is", popup)},
		tObj{popup, popupOf(markup)},
		tObj{hidden, fmt.Sprintf("<< /Type /Annot /Subtype /FreeText /Rect [0 0 612 792] /Contents (Pay Eve) /DA (/F1 18 Tf 0 g) /AP << /N 12 0 R >> /Popup %d 0 R >>", popup)},
		tObj{only, comment("Checked by Ana", lone)},
		tObj{lone, popupOf(only)},
		tObj{12, overlay},
	)
	// The popup 8 pointed at 40, a new annotation listed on no page.
	newParent := func(parent string) func(t *testing.T, d []byte) []tObj {
		return func(t *testing.T, d []byte) []tObj {
			return []tObj{{popup, popupOf(40)}, {40, parent}, {41, overlay}}
		}
	}
	freeText := fmt.Sprintf("<< /Type /Annot /Subtype /FreeText /Rect [0 0 612 792] /Contents (Pay Eve) /DA (/F1 18 Tf 0 g) /AP << /N 41 0 R >> /Popup %d 0 R /P %d 0 R >>", popup, ptPage)
	tests := []struct {
		name   string
		cert   Certification
		update func(t *testing.T, signed []byte) []tObj
		kind   string // the kind of change refused; "" when the update is allowed
	}{
		{"the popup pointed at a new annotation, no changes allowed", CertifyNoChanges, newParent(freeText), ChangeAnnotation},
		{"the popup pointed at a new annotation under form fill", CertifyFormFill, newParent(freeText), ChangeAnnotation},
		{"the popup pointed at a new annotation after an approval signature", Approval, newParent(freeText), ChangeAnnotation},
		{"the popup pointed at a new annotation under annotations", CertifyAnnotate, newParent(freeText), ""},
		{"the popup pointed at a new annotation with JavaScript under annotations", CertifyAnnotate,
			newParent(fmt.Sprintf("<< /Type /Annot /Subtype /Text /Rect [0 0 20 20] /Contents (ok) /Popup %d 0 R /AA << /PO << /S /JavaScript /JS (app.alert(1)) >> >> >>", popup)),
			ChangeAnnotation},
		{"the popup pointed at a new widget under annotations", CertifyAnnotate,
			newParent(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Tx /T (Amount) /V (1,000,000) /Rect [0 0 612 792] /F 4 /AP << /N 41 0 R >> /P %d 0 R >>", ptPage)),
			ChangeField},
		{"the popup pointed at the annotation hidden at signing under annotations", CertifyAnnotate, func(t *testing.T, d []byte) []tObj {
			return []tObj{{popup, popupOf(hidden)}}
		}, ChangeAnnotation},
		{"the comment only a popup reaches rewritten under form fill", CertifyFormFill, func(t *testing.T, d []byte) []tObj {
			return []tObj{{only, comment("Rejected: pay Eve instead", lone)}}
		}, ChangeAnnotation},
		{"the popup opened, as a reader does, under annotations", CertifyAnnotate, func(t *testing.T, d []byte) []tObj {
			return []tObj{{popup, strings.Replace(popupOf(markup), "/Open true", "/Open false", 1)}}
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signed := f.sign(t, f.signer(t, LevelB, Config{Certify: tc.cert}), in)
			require.Equal(t, signature.TotalPassed, f.validate(t, signed, f.policy())[0].Indication)
			doc := appendRevision(t, signed, "", tc.update(t, signed)...)
			if tc.kind == "" {
				reps := f.validate(t, doc, f.policy())
				require.Len(t, reps, 1)
				assert.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
				assert.NotEmpty(t, reps[0].Changes)
				return
			}
			r := refused(t, f, doc, "Signature1", "changes:")
			refusedChange(t, r, tc.kind)
		})
	}
}
