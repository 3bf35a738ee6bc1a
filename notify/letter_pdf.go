package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"golang.org/x/text/encoding/charmap"

	"github.com/dpiblocks/dpi/internal/limits"
)

// PDFLetter renders a letter as a PDF document (ISO 32000) on A4 paper, laid out for a
// windowed envelope as DIN 5008 places it: the sender's block at the top, the recipient's
// address in the window (25 mm from the left, 50 mm from the top), the date on the right,
// the reference and the notification's ID, the subject in bold, the notice, and on every
// page a verification line with the notice's SHA-256 ([Content.Hash]) and the page
// number, so that the person can match the letter with the notice in their mailbox and
// with a proof of delivery.
//
// The text is set in the PDF standard fonts Helvetica and Helvetica-Bold, which every PDF
// reader has and which need no font file: they cover Windows-1252, so Spanish, Portuguese,
// French, German and the other Western European languages come out as written (ñ, ç, ã,
// é, €, «»). A notice or an address with a character outside it is refused with ErrInput
// when the message is created ([LetterChannel] is a [ContentChecker]) rather than printed
// wrong. A notice longer than limits.MaxLetterPages pages is refused too.
//
// The document is made with pdfcpu (github.com/pdfcpu/pdfcpu), a maintained PDF library
// in pure Go that the signature block uses for PAdES as well; go-pdf/fpdf, the other pure
// Go PDF writer, is archived. It is immutable and safe for concurrent use.
type PDFLetter struct {
	// From is the sender's name and return address, one line per line.
	From []string
	// Location is the time zone the letter is dated in; nil means UTC.
	Location *time.Location
}

var (
	_ LetterRenderer = (*PDFLetter)(nil)
	_ AddressChecker = (*PDFLetter)(nil)
	_ ContentChecker = (*PDFLetter)(nil)
)

// The page's geometry, in PDF points (1/72 inch) from the upper left corner of an A4 page.
const (
	pdfPageWidth   = 595.0
	pdfPageHeight  = 842.0
	pdfLeft        = 70.9 // 25 mm
	pdfRight       = 56.7 // 20 mm
	pdfTextWidth   = pdfPageWidth - pdfLeft - pdfRight
	pdfFromTop     = 42.5  // 15 mm
	pdfAddressTop  = 141.7 // 50 mm: inside the window of a DL or C5 envelope
	pdfDateTop     = 269.3 // 95 mm
	pdfFirstBody   = 340.0
	pdfNextBody    = 70.9
	pdfBodyBottom  = 770.0
	pdfFooterTop   = 800.0
	pdfFont        = "Helvetica"
	pdfBoldFont    = "Helvetica-Bold"
	pdfBodySize    = 11
	pdfSmallSize   = 8
	pdfLeading     = 14.0
	pdfSmallLeadng = 10.0
)

// pdfText is one line of text in pdfcpu's JSON page description.
type pdfText struct {
	Value string     `json:"value"`
	Pos   [2]float64 `json:"pos"`
	Font  pdfFontRef `json:"font"`
}

type pdfFontRef struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

type pdfContent struct {
	Text []pdfText `json:"text"`
}

type pdfPage struct {
	Content pdfContent `json:"content"`
}

type pdfDescription struct {
	Paper  string             `json:"paper"`
	Origin string             `json:"origin"`
	Pages  map[string]pdfPage `json:"pages"`
}

// CheckAddress accepts a postal address the letter's font can print.
func (p *PDFLetter) CheckAddress(to string) error {
	addr, err := addressLines(to)
	if err != nil {
		return err
	}
	for _, l := range addr {
		if err := checkLetterText("postal address", l); err != nil {
			return err
		}
	}
	return nil
}

// CheckContent accepts content that fits the letter's fonts and pages.
func (p *PDFLetter) CheckContent(c *Content) error {
	_, err := layoutLetter(c)
	return err
}

// RenderLetter renders d as a PDF letter.
func (p *PDFLetter) RenderLetter(d *Delivery) (*LetterDocument, error) {
	if err := p.CheckAddress(d.To); err != nil {
		return nil, err
	}
	addr, _ := addressLines(d.To)
	for _, l := range p.From {
		if err := checkLetterText("return address", l); err != nil {
			return nil, err
		}
	}
	body, err := layoutLetter(&d.Content)
	if err != nil {
		return nil, err
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	var first []pdfText
	y := pdfFromTop
	for _, l := range p.From {
		first = appendLine(first, l, pdfLeft, y, pdfFont, pdfSmallSize)
		y += pdfSmallLeadng
	}
	y = pdfAddressTop
	for _, l := range addr {
		first = appendLine(first, l, pdfLeft, y, pdfFont, pdfBodySize)
		y += pdfLeading
	}
	date := d.Created.In(loc).Format(time.DateOnly)
	w, err := textWidth(date, pdfFont, pdfBodySize)
	if err != nil {
		return nil, err
	}
	first = appendLine(first, date, pdfPageWidth-pdfRight-w, pdfDateTop, pdfFont, pdfBodySize)
	y = pdfDateTop + pdfLeading
	if d.Reference != "" {
		first = appendLine(first, "Ref.: "+d.Reference, pdfLeft, y, pdfFont, pdfBodySize)
		y += pdfLeading
	}
	first = appendLine(first, "ID: "+d.ID, pdfLeft, y, pdfFont, pdfBodySize)

	desc := pdfDescription{Paper: "A4P", Origin: "UpperLeft", Pages: map[string]pdfPage{}}
	for i, page := range body {
		var texts []pdfText
		if i == 0 {
			texts = first
		}
		for _, l := range page {
			texts = appendLine(texts, l.text, pdfLeft, l.y, l.font, pdfBodySize)
		}
		footer := fmt.Sprintf("SHA-256: %s    %s    %d/%d", d.Content.Hash(), d.ID, i+1, len(body))
		texts = appendLine(texts, footer, pdfLeft, pdfFooterTop, pdfFont, pdfSmallSize)
		desc.Pages[strconv.Itoa(i+1)] = pdfPage{Content: pdfContent{Text: texts}}
	}
	js, err := json.Marshal(desc)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	if err := api.Create(nil, bytes.NewReader(js), &out, conf); err != nil {
		return nil, &Error{Check: "letter", Reason: "the PDF library failed", Err: ErrPermanent}
	}
	return &LetterDocument{ID: d.ID, Reference: d.Reference, Address: addr, ContentType: "application/pdf", Document: out.Bytes()}, nil
}

// appendLine adds a line of text at x, y, cut at each '%': pdfcpu reads "%p", "%P", "%t"
// and "%v" in a text as the page number, the page count, the time and its version, and a
// value from the sending service must come out as written. A piece that ends in "%%"
// prints one '%' and nothing after it is read as a placeholder; the next piece starts
// where the '%' ends.
func appendLine(texts []pdfText, s string, x, y float64, fontName string, size int) []pdfText {
	for s != "" {
		piece, rest, cut := strings.Cut(s, "%")
		value := piece
		if cut {
			piece += "%"
			value = piece + "%"
		}
		if piece != "" {
			texts = append(texts, pdfText{Value: value, Pos: [2]float64{x, y}, Font: pdfFontRef{Name: fontName, Size: size}})
		}
		w, _ := textWidth(piece, fontName, size)
		x += w
		s = rest
	}
	return texts
}

// textWidth is the width of s, in points, set in a standard font, whose widths pdfcpu
// gives per Windows-1252 byte.
func textWidth(s, fontName string, size int) (float64, error) {
	return font.TextWidth(model.DecodeUTF8ToByte(s), fontName, size)
}

// checkLetterText refuses what the letter's fonts cannot print: a control character, or a
// character outside Windows-1252 (which pdfcpu would print as a space).
func checkLetterText(check, s string) error {
	for _, r := range s {
		b, ok := charmap.Windows1252.EncodeRune(r)
		if !ok || b < 0x20 || b == 0x7f || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fail(ErrInput, check, "a letter prints the characters of Windows-1252 only (U+%04X is not one)", r)
		}
	}
	return nil
}

// letterLine is one line of the letter's body, at its height on its page.
type letterLine struct {
	text string
	font string
	y    float64
}

// layoutLetter breaks the subject and text of c into lines that fit the page's width and
// the lines into pages: the first starts under the date and references, the next ones at
// the top.
func layoutLetter(c *Content) ([][]letterLine, error) {
	var pages [][]letterLine
	var page []letterLine
	y := pdfFirstBody
	add := func(text, fontName string) error {
		if y > pdfBodyBottom {
			pages = append(pages, page)
			if len(pages) >= limits.MaxLetterPages {
				return fail(ErrInput, "letter", "more than %d pages", limits.MaxLetterPages)
			}
			page, y = nil, pdfNextBody
		}
		if text != "" {
			page = append(page, letterLine{text: text, font: fontName, y: y})
		}
		y += pdfLeading
		return nil
	}
	para := func(s, fontName string) error {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\t", "    ")
		for _, p := range strings.Split(s, "\n") {
			if err := checkLetterText("letter", p); err != nil {
				return err
			}
			lines, err := wrap(p, fontName, pdfBodySize, pdfTextWidth)
			if err != nil {
				return err
			}
			for _, l := range lines {
				if err := add(l, fontName); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if c.Subject != "" {
		if err := para(c.Subject, pdfBoldFont); err != nil {
			return nil, err
		}
		if err := add("", pdfFont); err != nil {
			return nil, err
		}
	}
	if err := para(c.Text, pdfFont); err != nil {
		return nil, err
	}
	return append(pages, page), nil
}

// wrap breaks one paragraph into lines no wider than width, at spaces, and inside a word
// longer than a line (a URL). An empty paragraph is one empty line. The standard fonts
// have no kerning, so a line's width is the sum of its characters'.
func wrap(p, fontName string, size int, width float64) ([]string, error) {
	p = strings.TrimRight(p, " ")
	if p == "" {
		return []string{""}, nil
	}
	space, err := textWidth(" ", fontName, size)
	if err != nil {
		return nil, err
	}
	var lines []string
	var line strings.Builder
	lw := 0.0
	for word := range strings.SplitSeq(p, " ") {
		ww, err := textWidth(word, fontName, size)
		if err != nil {
			return nil, err
		}
		if line.Len() > 0 && lw+space+ww <= width {
			line.WriteString(" " + word)
			lw += space + ww
			continue
		}
		if line.Len() > 0 {
			lines = append(lines, line.String())
			line.Reset()
			lw = 0
		}
		if ww <= width {
			line.WriteString(word)
			lw = ww
			continue
		}
		for _, r := range word {
			rw, err := textWidth(string(r), fontName, size)
			if err != nil {
				return nil, err
			}
			if line.Len() > 0 && lw+rw > width {
				lines = append(lines, line.String())
				line.Reset()
				lw = 0
			}
			line.WriteRune(r)
			lw += rw
		}
	}
	return append(lines, line.String()), nil
}
