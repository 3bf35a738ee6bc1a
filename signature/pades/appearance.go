package pades

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// appearanceStream draws a visible signature in a w×h box: a thin frame and the lines in
// Helvetica, sized to fit the box's height, clipped to the box.
func appearanceStream(w, h float64, lines []string) []byte {
	size := h / (float64(len(lines))*1.25 + 0.5)
	if size > 10 {
		size = 10
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "q 0 0 %s %s re W n 0.5 w 0.25 0.25 0.25 RG 0.25 0.25 %s %s re S\n", num(w), num(h), num(w-0.5), num(h-0.5))
	fmt.Fprintf(&b, "BT /F1 %s Tf %s TL 0 g %s %s Td\n", num(size), num(size*1.25), num(size/2), num(h-size*1.25))
	for i, l := range lines {
		if i > 0 {
			b.WriteString("T* ")
		}
		b.WriteString(winAnsiLiteral(l))
		b.WriteString(" Tj\n")
	}
	b.WriteString("ET Q")
	return b.Bytes()
}

// num formats a number for a content stream or an array: no exponent, at most 3 decimals.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

// winAnsiLiteral writes s as a PDF literal string in WinAnsiEncoding (ISO 32000-1 Annex
// D): ASCII as is but the delimiters, Latin-1 letters as octal escapes, anything else '?'.
func winAnsiLiteral(s string) string {
	var b bytes.Buffer
	b.WriteByte('(')
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	b.WriteByte(')')
	return b.String()
}
