// Package pdftest makes small PDFs for tests: pages of text, with a classic
// cross-reference table or a cross-reference stream (ISO 32000-1 §7.5.4, §7.5.8), written
// here so that fixtures live in code, not in large files.
package pdftest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Options shapes a PDF.
type Options struct {
	// Pages is the number of pages; 0 means 1.
	Pages int
	// Text is written on each page, followed by the page number; "" means "Test document".
	Text string
	// XRefStream writes a cross-reference stream (PDF 1.5) instead of a table.
	XRefStream bool
	// Form adds an AcroForm with one text field "Name" on the first page.
	Form bool
	// ImageBytes, when positive, draws on each page an uncompressed 8-bit gray image of
	// that many bytes (rounded up to a multiple of 1024), as a scanned document has: for
	// tests of what reading a large PDF costs.
	ImageBytes int
}

// New returns a PDF made to o.
func New(o Options) []byte {
	if o.Pages <= 0 {
		o.Pages = 1
	}
	if o.Text == "" {
		o.Text = "Test document"
	}
	var objs []string
	add := func(s string) int { objs = append(objs, s); return len(objs) }
	catalog := add("") // filled below
	pages := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	var field int
	for i := 1; i <= o.Pages; i++ {
		text := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(fmt.Sprintf("%s, page %d", o.Text, i))
		content := fmt.Sprintf("BT /F1 18 Tf 72 720 Td (%s) Tj ET", text)
		xobj := ""
		if o.ImageBytes > 0 {
			h := (o.ImageBytes + 1023) / 1024
			img := make([]byte, 1024*h)
			for j := range img {
				img[j] = byte(j*7 + i)
			}
			im := add(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 1024 /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream", h, len(img), img))
			content = "q 540 0 0 640 36 36 cm /Im0 Do Q " + content
			xobj = fmt.Sprintf(" /XObject << /Im0 %d 0 R >>", im)
		}
		c := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		annots := ""
		if o.Form && i == 1 {
			field = len(objs) + 2
			annots = fmt.Sprintf(" /Annots [%d 0 R]", field)
		}
		p := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >>%s >> /Contents %d 0 R%s >>", pages, font, xobj, c, annots))
		kids = append(kids, fmt.Sprintf("%d 0 R", p))
		if o.Form && i == 1 {
			add(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Tx /T (Name) /V (Ana) /Rect [72 600 300 630] /P %d 0 R /F 4 >>", p))
		}
	}
	objs[pages-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), o.Pages)
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages)
	if o.Form {
		objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R /AcroForm << /Fields [%d 0 R] >> >>", pages, field)
	}

	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs)+1)
	for i, s := range objs {
		offs[i+1] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, s)
	}
	id := "<0123456789abcdef0123456789abcdef>"
	if !o.XRefStream {
		xref := b.Len()
		fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objs)+1)
		for _, off := range offs[1:] {
			fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, catalog, id, id, xref)
		return b.Bytes()
	}
	xrefNr := len(objs) + 1
	xref := b.Len()
	var rows bytes.Buffer
	row := func(typ byte, off int, gen uint16) {
		rows.WriteByte(typ)
		binary.Write(&rows, binary.BigEndian, uint32(off))
		binary.Write(&rows, binary.BigEndian, gen)
	}
	row(0, 0, 65535)
	for _, off := range offs[1:] {
		row(1, off, 0)
	}
	row(1, xref, 0)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /ID [%s %s] /Length %d >>\nstream\n", xrefNr, xrefNr+1, catalog, id, id, rows.Len())
	b.Write(rows.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}
