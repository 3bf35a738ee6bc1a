package pades

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPDFTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"D:20261201103000Z", time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC), true},
		{"D:20261201103000+02'00'", time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC), true},
		{"D:20261201103000-03'00", time.Date(2026, 12, 1, 13, 30, 0, 0, time.UTC), true},
		{"D:2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"D:202612", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), true},
		{"D:20", time.Time{}, false},       // fewer than four year digits
		{"D:20xx1201", time.Time{}, false}, // the year is not digits
		{"D:2026120", time.Time{}, false},  // a month of one digit
		{"D:20261201103000+2", time.Time{}, false},
		{"D:20261301", time.Time{}, false}, // month 13
		{"", time.Time{}, false},
	} {
		got, ok := pdfTime(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		if tc.ok {
			assert.True(t, tc.want.Equal(got), "%s: %v", tc.in, got)
		}
	}
}

// TestRevisionEndNeedsTrailer: five bytes "%%EOF" inside a stream are not the end of a
// revision; one after startxref and its offset is.
func TestRevisionEndNeedsTrailer(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"trailer", "trailer\n<<>>\nstartxref\n1234\n%%EOF\n", true},
		{"crlf", "startxref\r\n9\r\n%%EOF\r\n", true},
		{"no eol", "startxref\n9\n%%EOF", true},
		{"inside a stream", "stream\nBT (x) Tj ET\n%%EOF\nendstream", false},
		{"no offset", "startxref\n%%EOF\n", false},
		{"no keyword", "1234\n%%EOF\n", false},
		{"two eols", "startxref\n9\n%%EOF\n\n", false},
	} {
		r := bytes.NewReader([]byte(tc.in))
		end := int64(len(tc.in))
		if tc.name == "inside a stream" {
			end = int64(bytes.Index([]byte(tc.in), []byte("%%EOF")) + len("%%EOF\n"))
		}
		assert.Equal(t, tc.ok, isRevisionEnd(r, end), tc.name)
	}
}
