package pades

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// tObj is one indirect object written by testPDF: its number and what goes between
// "N 0 obj" and "endobj".
type tObj struct {
	nr   int
	body string
}

// tStream makes the body of a stream object.
func tStream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// testPDF writes PDFs and incremental updates with classic cross-reference tables, for the
// change analysis and the attacks: the byte surgery a forger does, in a few lines.
type testPDF struct {
	buf  []byte
	size int // trailer /Size
	root int
	xref int64 // offset of the last cross-reference section
}

func newTestPDF(t testing.TB, root int, objs ...tObj) *testPDF {
	t.Helper()
	p := &testPDF{buf: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), root: root}
	p.section(t, objs, -1, "")
	return p
}

// update appends an incremental update with objs and a cross-reference section chained to the
// previous one, and returns the offset where the update begins.
func (p *testPDF) update(t testing.TB, objs ...tObj) int64 {
	t.Helper()
	start := int64(len(p.buf))
	p.section(t, objs, p.lastXRef(t), "")
	return start
}

// updateTrailer appends an update whose trailer carries extra entries (a new /Root, no /Prev).
func (p *testPDF) updateTrailer(t testing.TB, prev int64, extra string, objs ...tObj) {
	t.Helper()
	p.section(t, objs, prev, extra)
}

func (p *testPDF) lastXRef(t testing.TB) int64 {
	t.Helper()
	require.Positive(t, p.xref)
	return p.xref
}

func (p *testPDF) section(t testing.TB, objs []tObj, prev int64, extra string) {
	t.Helper()
	offs := make(map[int]int, len(objs))
	for _, o := range objs {
		offs[o.nr] = len(p.buf)
		p.buf = fmt.Appendf(p.buf, "%d 0 obj\n%s\nendobj\n", o.nr, o.body)
		p.size = max(p.size, o.nr+1)
	}
	xref := len(p.buf)
	p.xref = int64(xref)
	p.buf = append(p.buf, "xref\n"...)
	if prev < 0 {
		p.buf = append(p.buf, "0 1\n0000000000 65535 f \n"...)
	}
	nrs := make([]int, 0, len(offs))
	for nr := range offs {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	for _, nr := range nrs {
		p.buf = fmt.Appendf(p.buf, "%d 1\n%010d 00000 n \n", nr, offs[nr])
	}
	p.buf = fmt.Appendf(p.buf, "trailer\n<< /Size %d /Root %d 0 R", p.size, p.root)
	if prev >= 0 {
		p.buf = fmt.Appendf(p.buf, " /Prev %d", prev)
	}
	p.buf = fmt.Appendf(p.buf, "%s >>\nstartxref\n%d\n%%%%EOF\n", extra, xref)
}

func (p *testPDF) bytes() []byte { return bytes.Clone(p.buf) }

// The document the change analysis tests start from: one page with a text, a filled text
// field and a signed signature field, plus an object no page uses (what a shadow attack hides).
func signedFormPDF(t testing.TB) *testPDF {
	return newTestPDF(t, 1,
		tObj{1, "<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R >>"},
		tObj{2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		tObj{3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [7 0 R 8 0 R] >>"},
		tObj{4, tStream("", "BT /F1 24 Tf 72 700 Td (Pay 100 EUR to ACME) Tj ET")},
		tObj{5, "<< /Fields [7 0 R 8 0 R] /SigFlags 3 >>"},
		tObj{6, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"},
		tObj{7, "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100) /Rect [72 600 272 620] /P 3 0 R /AP << /N 9 0 R >> >>"},
		tObj{8, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (approval) /V 10 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>"},
		tObj{9, tStream("/Type /XObject /Subtype /Form /BBox [0 0 200 20]", "BT /F1 12 Tf 2 5 Td (100) Tj ET")},
		tObj{10, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] /Contents <3000> >>"},
		tObj{11, tStream("", "BT /F1 24 Tf 72 700 Td (Pay 100000 EUR to EVIL) Tj ET")},
	)
}

// updateCompressed appends an incremental update written the PDF 1.5 way: objs packed into an
// object stream (number objStm) and a cross-reference stream (number xrefNr), both without a
// filter so that the test reads as text.
func (p *testPDF) updateCompressed(t testing.TB, objStm, xrefNr int, objs ...tObj) {
	t.Helper()
	prev := p.lastXRef(t)
	var head, body bytes.Buffer
	for _, o := range objs {
		fmt.Fprintf(&head, "%d %d ", o.nr, body.Len())
		body.WriteString(o.body + "\n")
		p.size = max(p.size, o.nr+1)
	}
	p.size = max(p.size, objStm+1, xrefNr+1)
	data := head.String() + body.String()
	stmOff := len(p.buf)
	p.buf = fmt.Appendf(p.buf, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		objStm, len(objs), head.Len(), len(data), data)
	xrefOff := len(p.buf)
	p.xref = int64(xrefOff)
	var rows []byte
	var index []byte
	row := func(typ byte, a uint32, b uint16) {
		rows = append(rows, typ, byte(a>>24), byte(a>>16), byte(a>>8), byte(a), byte(b>>8), byte(b))
	}
	for i, o := range objs {
		index = fmt.Appendf(index, "%d 1 ", o.nr)
		row(2, uint32(objStm), uint16(i))
	}
	index = fmt.Appendf(index, "%d 1 %d 1", objStm, xrefNr)
	row(1, uint32(stmOff), 0)
	row(1, uint32(xrefOff), 0)
	p.buf = fmt.Appendf(p.buf, "%d 0 obj\n<< /Type /XRef /Size %d /Root %d 0 R /Prev %d /W [1 4 2] /Index [%s] /Length %d >>\nstream\n",
		xrefNr, p.size, p.root, prev, index, len(rows))
	p.buf = append(p.buf, rows...)
	p.buf = fmt.Appendf(p.buf, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOff)
}
