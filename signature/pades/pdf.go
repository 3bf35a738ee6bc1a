package pades

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/internal/pdfread"
)

// document is a PDF read by pdfcpu: its object table, as of the last revision.
type document struct {
	r    io.ReaderAt
	size int64
	x    *model.XRefTable
}

// pdfConfig is pdfcpu's default configuration built here, not by
// model.NewDefaultConfiguration, which writes a configuration directory under the user's
// home: a library must not touch the file system, nor set pdfcpu's global ConfigPath.
func pdfConfig() *model.Configuration {
	l := model.DefaultResourceLimits()
	l.MaxStreamBytes, l.MaxDecodeBytes = limits.MaxPDFStream, limits.MaxPDFStream
	l.MaxRecursionDepth = limits.MaxPDFObjectDepth
	return &model.Configuration{
		Reader15:                  true,
		ValidationMode:            model.ValidationRelaxed,
		UnsupportedResourcePolicy: model.UnsupportedResourceSkip,
		Eol:                       types.EolLF,
		Offline:                   true,
		Limits:                    l,
	}
}

// readDocument reads the structure of the PDF in r with pdfcpu's reader as internal/pdfread
// forks it, which leaves stream contents in the file (document.loadStream reads one). An
// encrypted PDF is refused with ErrEncrypted; anything pdfcpu cannot read, or a panic inside
// it, with ErrMalformed.
func readDocument(ctx context.Context, r io.ReaderAt, size int64) (d *document, err error) {
	if size < 8 {
		return nil, malformedError("header", "not a pdf: shorter than its header")
	}
	head := make([]byte, 5)
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("pades: reading the pdf: %w", err)
	}
	if string(head) != "%PDF-" {
		return nil, malformedError("header", "not a pdf: it does not begin with %PDF-")
	}
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, malformedError("structure", "the pdf library failed on this pdf")
		}
	}()
	pc, err := pdfread.ReadWithContext(ctx, io.NewSectionReader(r, 0, size), pdfConfig())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, pdfread.ErrTooManySections) {
			return nil, tooManyRevisions()
		}
		if errors.Is(err, pdfread.ErrEncrypted) || hasEncryptEntry(r, size) {
			return nil, &Error{Check: "encryption", Reason: "encrypted pdfs are not signed or validated", Err: ErrEncrypted}
		}
		return nil, &Error{Check: "structure", Reason: "the pdf library cannot read it", Err: errors.Join(ErrMalformed, err)}
	}
	if pc.XRefTable.Encrypt != nil {
		return nil, &Error{Check: "encryption", Reason: "encrypted pdfs are not signed or validated", Err: ErrEncrypted}
	}
	if pc.XRefTable.Root == nil {
		return nil, malformedError("catalog", "the trailer names no catalog")
	}
	return &document{r: r, size: size, x: pc.XRefTable}, nil
}

// loadStream reads the encoded content of sd, where the reader left it in the file, into
// sd.Raw, refusing more than max bytes.
func (d *document) loadStream(sd *types.StreamDict, max int64) error {
	if sd.Raw != nil {
		return nil
	}
	off, n, ok := pdfread.StreamSection(sd)
	if !ok {
		return fmt.Errorf("pades: a stream without content")
	}
	if n > max {
		return fmt.Errorf("pades: a stream of %d bytes, more than %d", n, max)
	}
	b := make([]byte, n)
	if _, err := d.r.ReadAt(b, off); err != nil {
		return fmt.Errorf("pades: reading a stream: %w", err)
	}
	sd.Raw = b
	return nil
}

// readSignatureFields reads the document in r, and its catalog and signature fields: what
// validating, signing and extending all begin with.
func readSignatureFields(ctx context.Context, r io.ReaderAt, size int64) (*document, types.Dict, []field, error) {
	d, err := readDocument(ctx, r, size)
	if err != nil {
		return nil, nil, nil, err
	}
	cat, err := d.catalog()
	if err != nil {
		return nil, nil, nil, err
	}
	fields, err := d.signatureFields(cat)
	if err != nil {
		return nil, nil, nil, err
	}
	return d, cat, fields, nil
}

// hasEncryptEntry looks for /Encrypt in the last trailer, for the PDFs pdfcpu refuses to
// open without a password.
func hasEncryptEntry(r io.ReaderAt, size int64) bool {
	tail := readTail(r, size, 64<<10)
	return bytes.Contains(tail, []byte("/Encrypt"))
}

func readTail(r io.ReaderAt, size, n int64) []byte {
	if n > size {
		n = size
	}
	b := make([]byte, n)
	m, _ := r.ReadAt(b, size-n)
	return b[:m]
}

// tooManyRevisions refuses a PDF of more than limits.MaxPDFRevisions revisions: the reader
// refuses to follow a longer chain of cross-reference sections, and Validate to count more
// revision ends.
func tooManyRevisions() error {
	return &Error{Check: "revisions", Reason: fmt.Sprintf("more than %d revisions", limits.MaxPDFRevisions), Err: ErrTooLarge}
}

var eofMarker = []byte("%%EOF")

// scanEOFs calls f with the offset just after each %%EOF marker and its end of line, in
// order, while f returns true. It reads the file once, in 1 MiB pieces.
func scanEOFs(ctx context.Context, r io.ReaderAt, size int64, f func(end int64) bool) error {
	const piece = 1 << 20
	buf := make([]byte, piece+len(eofMarker)+2)
	for off := int64(0); off < size; off += piece {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int64(len(buf))
		if off+n > size {
			n = size - off
		}
		b := buf[:n]
		if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
			return fmt.Errorf("pades: reading the pdf: %w", err)
		}
		for i := 0; ; {
			j := bytes.Index(b[i:], eofMarker)
			if j < 0 || int64(i+j) >= piece {
				break
			}
			end := i + j + len(eofMarker)
			if end < len(b) && b[end] == '\r' {
				end++
			}
			if end < len(b) && b[end] == '\n' {
				end++
			}
			if !f(off + int64(end)) {
				return nil
			}
			i = i + j + len(eofMarker)
		}
	}
	return nil
}

// isRevisionEnd reports whether the bytes before end are a %%EOF marker that closes a
// trailer (after startxref and its offset) and at most one end of line: where an
// incremental update ends (ISO 32000-1 §7.5.5, §7.5.6).
func isRevisionEnd(r io.ReaderAt, end int64) bool {
	if end < int64(len(eofMarker)) {
		return false
	}
	n := int64(len(eofMarker) + 2)
	if n > end {
		n = end
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, end-n); err != nil {
		return false
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if !bytes.HasSuffix(b, eofMarker) {
		return false
	}
	return startxrefBefore(r, end-n+int64(len(b)-len(eofMarker)))
}

// startxrefBefore reports whether the bytes before the %%EOF marker at offset eof are the
// keyword startxref, white space, an offset and white space: the end of a revision's
// trailer (ISO 32000-1 §7.5.5), and not the same five bytes inside a stream or a string,
// which would otherwise count as a revision of their own.
func startxrefBefore(r io.ReaderAt, eof int64) bool {
	n := int64(64)
	if n > eof {
		n = eof
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, eof-n); err != nil {
		return false
	}
	b = bytes.TrimRight(b, " \t\r\n\f\x00")
	i := len(b)
	for i > 0 && b[i-1] >= '0' && b[i-1] <= '9' {
		i--
	}
	if i == len(b) {
		return false
	}
	return bytes.HasSuffix(bytes.TrimRight(b[:i], " \t\r\n\f\x00"), []byte("startxref"))
}

// lastXRefOffset reads the offset after the last startxref keyword: the /Prev of the next
// update.
func lastXRefOffset(r io.ReaderAt, size int64) (int64, error) {
	tail := readTail(r, size, 2048)
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, malformedError("trailer", "no startxref in the last 2048 bytes")
	}
	f := bytes.Fields(tail[i+len("startxref"):])
	if len(f) == 0 {
		return 0, malformedError("trailer", "startxref without an offset")
	}
	off, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil || off < 0 || off >= size {
		return 0, malformedError("trailer", "startxref offset out of the file")
	}
	return off, nil
}

// dict dereferences o to a dictionary, or nil.
func (d *document) dict(o types.Object) types.Dict {
	if o == nil {
		return nil
	}
	v, err := d.x.DereferenceDict(o)
	if err != nil {
		return nil
	}
	return v
}

// array dereferences o to an array, or nil.
func (d *document) array(o types.Object) types.Array {
	if o == nil {
		return nil
	}
	v, err := d.x.DereferenceArray(o)
	if err != nil {
		return nil
	}
	return v
}

// catalog returns the document catalog.
func (d *document) catalog() (types.Dict, error) {
	c := d.dict(*d.x.Root)
	if c == nil {
		return nil, malformedError("catalog", "the catalog is not a dictionary")
	}
	return c, nil
}

// name returns a name entry of dict, or "".
func name(dict types.Dict, key string) string {
	if dict == nil {
		return ""
	}
	if n := dict.NameEntry(key); n != nil {
		return *n
	}
	return ""
}

// text decodes a text string entry (a literal or hex string) of dict, or "".
func (d *document) text(dict types.Dict, key string) string {
	o, ok := dict.Find(key)
	if !ok {
		return ""
	}
	s, err := d.x.DereferenceStringOrHexLiteral(o, model.V10, nil)
	if err != nil {
		return ""
	}
	return s
}

// field is a signature field and the signature dictionary it holds.
type field struct {
	name  string            // fully qualified (ISO 32000-1 §12.7.3.2)
	ref   types.IndirectRef // of the field dictionary
	sig   types.Dict        // its /V
	sigNr int               // object number of /V, 0 if /V is direct
}

// signatureFields walks the AcroForm's field tree (/Fields and /Kids) and returns the
// signature fields that hold a signature dictionary, in tree order. The walk is bounded in
// depth and count, and visits an object once.
func (d *document) signatureFields(catalog types.Dict) ([]field, error) {
	form := d.dict(catalog["AcroForm"])
	if form == nil {
		return nil, nil
	}
	var out []field
	seen := map[int]bool{}
	visited := 0
	var walk func(kids types.Array, parent string, ft string, depth int) error
	walk = func(kids types.Array, parent string, ft string, depth int) error {
		if depth > limits.MaxPDFObjectDepth {
			return &Error{Check: "fields", Reason: "form field tree too deep", Err: ErrTooLarge}
		}
		for _, k := range kids {
			ref, ok := k.(types.IndirectRef)
			if !ok || seen[ref.ObjectNumber.Value()] {
				continue
			}
			seen[ref.ObjectNumber.Value()] = true
			if visited++; visited > limits.MaxPDFFields {
				return &Error{Check: "fields", Reason: fmt.Sprintf("more than %d form fields", limits.MaxPDFFields), Err: ErrTooLarge}
			}
			f := d.dict(ref)
			if f == nil {
				continue
			}
			qn := parent
			if t := d.text(f, "T"); t != "" {
				if qn != "" {
					qn += "."
				}
				qn += t
			}
			fft := ft
			if n := name(f, "FT"); n != "" {
				fft = n
			}
			if v, ok := f["V"]; ok && fft == "Sig" {
				sf := field{name: qn, ref: ref, sig: d.dict(v)}
				if r, ok := v.(types.IndirectRef); ok {
					sf.sigNr = r.ObjectNumber.Value()
				}
				if sf.sig != nil {
					if len(out) == limits.MaxPDFSignatures {
						return &Error{Check: "signatures", Reason: fmt.Sprintf("more than %d signatures", limits.MaxPDFSignatures), Err: ErrTooLarge}
					}
					out = append(out, sf)
				}
			}
			if kids := d.array(f["Kids"]); kids != nil {
				if err := walk(kids, qn, fft, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(d.array(form["Fields"]), "", "", 0); err != nil {
		return nil, err
	}
	return out, nil
}
