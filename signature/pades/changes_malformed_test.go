package pades

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// Updates written as PDF 1.5 object and cross-reference streams are compared like classic
// ones: an identical rewrite is no change, a changed page is.
func TestAnalyzeChangesCompressedUpdates(t *testing.T) {
	tests := []struct {
		name string
		objs []tObj
		want []kindAllowed
	}{
		{name: "identical rewrite", objs: []tObj{
			{2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
			{6, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"},
		}},
		{name: "font replaced", objs: []tObj{
			{6, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"},
		}, want: []kindAllowed{{ChangePageContent, false}}},
		{name: "a later signature without a widget on a page", objs: newSignature[:3:3], want: []kindAllowed{{ChangeSignature, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := signedFormPDF(t)
			signedEnd := int64(len(p.buf))
			p.updateCompressed(t, 30, 31, tc.objs...)
			doc := p.bytes()
			changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, Permissions{})
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, summarize(changes), "changes: %+v", changes)
		})
	}
}

// Malformed, encrypted, huge and deeply nested input ends in a named error or a list of
// changes: never a panic, a hang or unbounded memory.
func TestAnalyzeChangesBadInput(t *testing.T) {
	base := signedFormPDF(t)
	signedEnd := int64(len(base.buf))

	withTail := func(tail string) []byte { return append(base.bytes(), tail...) }
	deepArray := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	deepDict := strings.Repeat("<< /A ", 5000) + strings.Repeat(">> ", 5000)

	refChain := func(n int) []byte {
		p := signedFormPDF(t)
		objs := []tObj{{4, tStream("/Next 100 0 R", "BT ET")}}
		for i := 100; i < 100+n; i++ {
			objs = append(objs, tObj{i, fmt.Sprintf("[%d 0 R]", i+1)})
		}
		p.update(t, objs...)
		return p.bytes()
	}

	tests := []struct {
		name string
		doc  []byte
		want error // nil: a report is fine
		kind string
	}{
		{name: "not a pdf", doc: append([]byte("hello"), make([]byte, signedEnd)...), want: ErrMalformed},
		{name: "garbage after the signed revision", doc: withTail("\x00\xff garbage"), kind: ChangeUnreferencedData},
		{name: "an update without xref and trailer", doc: withTail("4 0 obj\n" + tStream("", "BT (evil) Tj ET") + "\nendobj\n"), kind: ChangeUnreferencedData},
		{name: "a truncated update", doc: withTail("4 0 obj\n<< /Length 100 >>\nstream\nBT"), kind: ChangeUnreferencedData},
		{name: "startxref pointing nowhere", doc: withTail("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 12 /Root 1 0 R >>\nstartxref\n999999999\n%%EOF\n"), kind: ChangeUnreferencedData},
		{name: "an array nested 5000 deep", doc: func() []byte {
			p := signedFormPDF(t)
			p.update(t, tObj{3, "<< /Type /Page /Parent 2 0 R /MediaBox " + deepArray + " >>"})
			return p.bytes()
		}()},
		{name: "a dictionary nested 5000 deep", doc: func() []byte {
			p := signedFormPDF(t)
			p.update(t, tObj{6, deepDict})
			return p.bytes()
		}()},
		{name: "a chain of 20000 references", doc: refChain(20000)},
		{name: "encrypted", doc: func() []byte {
			p := signedFormPDF(t)
			p.updateTrailer(t, p.lastXRef(t), " /Encrypt 40 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]",
				tObj{40, "<< /Filter /Standard /V 2 /R 3 /Length 128 /O <" + strings.Repeat("00", 32) + "> /U <" + strings.Repeat("00", 32) + "> /P -4 >>"})
			return p.bytes()
		}(), want: ErrEncrypted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := analyzeChanges(bytes.NewReader(tc.doc), int64(len(tc.doc)), signedEnd, Permissions{DocMDP: 3})
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
				return
			}
			if err != nil {
				// A named refusal is as good as a report.
				assert.True(t, isChangesError(err), "unnamed error: %v", err)
				return
			}
			if tc.kind != "" {
				assert.Contains(t, kinds(changes), tc.kind, "changes: %+v", changes)
			}
			for _, c := range changes {
				if c.Kind == ChangeUnreferencedData || c.Kind == ChangePageContent {
					assert.False(t, c.Allowed)
				}
			}
		})
	}
}

func isChangesError(err error) bool {
	for _, s := range []error{ErrMalformed, ErrEncrypted, ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func kinds(changes []Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Kind)
	}
	return out
}

// 100,000 incremental updates after a signature: refused by the cap on revisions, after
// reading the file once.
func TestAnalyzeChangesManyUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10 MB PDF")
	}
	p := signedFormPDF(t)
	signedEnd := int64(len(p.buf))
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("DPI_TEST_PADES_UPDATES")); err == nil {
		n = v
	}
	for i := range n {
		p.update(t, tObj{6, fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /N %d >>", i)})
	}
	doc := p.bytes()
	changes, err := analyzeChanges(bytes.NewReader(doc), int64(len(doc)), signedEnd, Permissions{})
	if err == nil {
		assert.Contains(t, kinds(changes), ChangePageContent)
		return
	}
	assert.True(t, isChangesError(err), "unnamed error: %v", err)
}

// Validate on bad input built from a signed PDF: a named error or reports, never a panic, a
// hang or unbounded memory.
func TestValidateBadInput(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, f.signer(t, LevelB, Config{}), pdftest.New(pdftest.Options{Form: true}))
	signedXS := f.sign(t, f.signer(t, LevelB, Config{}), pdftest.New(pdftest.Options{XRefStream: true}))
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)

	manyUpdates := func(n int) []byte {
		xref, size, root := lastTrailer(t, signed)
		p := &testPDF{buf: bytes.Clone(signed), size: size, root: root, xref: xref}
		for i := range n {
			p.update(t, tObj{ptFont, fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /N %d >>", i)})
		}
		return p.buf
	}
	tests := []struct {
		name string
		doc  []byte
		err  error // the error Validate must return; nil: reports, each not TOTAL_PASSED
		// refused, when set, is the kind of change that the one report must refuse.
		refused string
	}{
		{name: "empty", doc: nil, err: ErrMalformed},
		{name: "not a pdf", doc: []byte("GIF89a" + strings.Repeat("x", 100)), err: ErrMalformed},
		// pdfcpu repairs what it can: the original document, with a signature or none.
		{name: "truncated in the signature", doc: signed[:len(signed)/2]},
		{name: "an array nested 100,000 deep in an update", doc: appendRevision(t, signed, "", tObj{ptFont, deep})},
		{name: "a dictionary nested 100,000 deep in an update", doc: appendRevision(t, signed, "",
			tObj{ptFont, strings.Repeat("<< /A ", 100_000) + strings.Repeat(">> ", 100_000)})},
		{name: "100,000 incremental updates", doc: manyUpdates(100_000), err: ErrTooLarge},
		{name: "an object-stream update after a signed xref-stream pdf", refused: ChangePageContent, doc: func() []byte {
			p := &testPDF{buf: bytes.Clone(signedXS), root: 1}
			m := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(signedXS)
			require.NotNil(t, m)
			p.xref, _ = strconv.ParseInt(string(m[1]), 10, 64)
			p.size = 40
			p.updateCompressed(t, 41, 42, tObj{ptFont, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"})
			return p.buf
		}()},
		{name: "encrypted after signing", doc: appendRevision(t, signed, " /Encrypt 40 0 R",
			tObj{40, "<< /Filter /Standard /V 2 /R 3 /Length 128 /O <" + strings.Repeat("00", 32) + "> /U <" + strings.Repeat("00", 32) + "> /P -4 >>"}),
			err: ErrEncrypted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reps, err := Validate(t.Context(), bytes.NewReader(tc.doc), int64(len(tc.doc)), f.policy())
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				var e *Error
				assert.True(t, errors.As(err, &e), "not a *pades.Error: %v", err)
				return
			}
			if err != nil {
				var e *Error
				require.True(t, errors.As(err, &e), "not a *pades.Error: %v", err)
				return
			}
			for _, r := range reps {
				assert.NotEqual(t, signature.TotalPassed, r.Indication, "%s: %+v", r.Field, r.Changes)
			}
			if tc.refused != "" {
				require.Len(t, reps, 1)
				refusedChange(t, reps[0], tc.refused)
			}
		})
	}
}
