package pdfread

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/limits"
)

// pdf writes a PDF of the given object bodies (object i+1 is objs[i]), with a classic
// cross-reference table and the trailer entries extra.
func pdf(objs []string, extra string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, extra, xref)
	return b.Bytes()
}

func config() *model.Configuration {
	return &model.Configuration{Reader15: true, ValidationMode: model.ValidationRelaxed, Eol: types.EolLF,
		Offline: true, Limits: model.DefaultResourceLimits()}
}

func read(t *testing.T, doc []byte) (*model.Context, error) {
	t.Helper()
	return ReadWithContext(context.Background(), bytes.NewReader(doc), config())
}

func stream(t *testing.T, ctx *model.Context, nr int) types.StreamDict {
	t.Helper()
	e, ok := ctx.Table[nr]
	require.True(t, ok)
	sd, ok := e.Object.(types.StreamDict)
	require.True(t, ok, "object %d is %T", nr, e.Object)
	return sd
}

// A stream whose length is known stays in the file, where StreamSection says; one whose
// length is missing, or runs past the end of the file, is read when the file is opened,
// as pdfcpu reads it.
func TestStreamContents(t *testing.T) {
	data := strings.Repeat("0123456789", 1000)
	for _, tc := range []struct {
		name     string
		length   string
		extra    string // another object
		deferred bool
	}{
		{"direct length", fmt.Sprint(len(data)), "null", true},
		{"indirect length", "4 0 R", fmt.Sprint(len(data)), true},
		{"missing length", "", "null", false},
		{"length past the end of the file", "99999999", "null", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dict := "<< >>"
			if tc.length != "" {
				dict = "<< /Length " + tc.length + " >>"
			}
			doc := pdf([]string{
				"<< /Type /Catalog /Pages 2 0 R >>",
				"<< /Type /Pages /Kids [] /Count 0 >>",
				dict + "\nstream\n" + data + "\nendstream",
				tc.extra,
			}, "")
			ctx, err := read(t, doc)
			if !tc.deferred && err != nil {
				return // pdfcpu refuses it: a named error, not a panic
			}
			require.NoError(t, err)
			sd := stream(t, ctx, 3)
			off, n, ok := StreamSection(&sd)
			assert.Equal(t, tc.deferred, ok)
			if tc.deferred {
				assert.Nil(t, sd.Raw)
				assert.Equal(t, data, string(doc[off:off+n]))
			} else {
				assert.NotNil(t, sd.Raw)
			}
		})
	}
}

// The reader's memory does not grow with the streams' contents: a 32 MiB stream is not
// read when the file is opened.
func TestLargeStreamNotRead(t *testing.T) {
	data := bytes.Repeat([]byte{0xA5}, 32<<20)
	doc := pdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [] /Count 0 >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data),
	}, "")
	ctx, err := read(t, doc)
	require.NoError(t, err)
	sd := stream(t, ctx, 3)
	assert.Nil(t, sd.Raw)
	_, n, ok := StreamSection(&sd)
	assert.True(t, ok)
	assert.Equal(t, int64(len(data)), n)
}

func TestRefused(t *testing.T) {
	base := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}
	many := pdf(base, "")
	prev := bytes.LastIndex(many, []byte("\nxref\n")) + 1
	for range limits.MaxPDFRevisions + 1 {
		start := len(many)
		many = append(many, fmt.Sprintf("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 3 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", prev, start)...)
		prev = start
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		err  error
	}{
		{"encrypted", pdf(append(base, "<< /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >>"), " /Encrypt 3 0 R /ID [<00> <00>]"), ErrEncrypted},
		{"more sections than MaxPDFRevisions", many, ErrTooManySections},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(t, tc.doc)
			require.ErrorIs(t, err, tc.err)
		})
	}
}

// FuzzRead: any input is an object table or an error, never a panic, a hang or a stream
// read into memory beyond the limits.
func FuzzRead(f *testing.F) {
	f.Add(pdf([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>",
		"<< /Length 5 >>\nstream\nhello\nendstream"}, ""))
	f.Add(pdf([]string{"<< /Type /Catalog >>", "<< /Length 3 0 R >>\nstream\nhello\nendstream", "5"}, ""))
	f.Add([]byte("%PDF-1.7\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		ctx, err := read(t, doc)
		if err != nil {
			return
		}
		for _, e := range ctx.Table {
			if e == nil {
				continue
			}
			if sd, ok := e.Object.(types.StreamDict); ok {
				if off, n, ok := StreamSection(&sd); ok {
					require.True(t, off >= 0 && n > 0 && off+n <= int64(len(doc)), "section %d+%d of %d", off, n, len(doc))
				}
			}
		}
	})
}
