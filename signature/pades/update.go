package pades

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"hash"
	"io"
	"sort"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// updater appends incremental updates (ISO 32000-1 §7.5.6) to a document: the original
// bytes are never rewritten, and each update carries the new versions of the objects it
// changes, a cross-reference section for them, and a trailer whose /Prev is the previous
// section. The updates are small and held in memory; the document is read where it is.
type updater struct {
	d     *document
	incs  []byte               // the updates appended so far
	next  int                  // the next free object number
	prev  int64                // offset of the last cross-reference section
	root  types.IndirectRef    // the catalog
	objs  map[int]types.Object // objects changed by the updates so far, by number
	extra string               // trailer entries copied from the original (/Info, /ID)

	tee  io.Writer // where the first hashRanges also writes the original, if set
	teed bool      // the original was written to tee
}

func newUpdater(d *document) (*updater, error) {
	prev, err := lastXRefOffset(d.r, d.size)
	if err != nil {
		return nil, err
	}
	size := 0
	if d.x.Size != nil {
		size = *d.x.Size
	}
	if size <= d.x.MaxObjNr {
		size = d.x.MaxObjNr + 1
	}
	u := &updater{d: d, next: size, prev: prev, root: *d.x.Root, objs: map[int]types.Object{}}
	if d.x.Info != nil {
		u.extra += " /Info " + d.x.Info.PDFString()
	}
	if len(d.x.ID) == 2 {
		u.extra += " /ID " + d.x.ID.PDFString()
	}
	return u, nil
}

// writeTo writes the document followed by the updates (only the updates when hashRanges
// wrote the document to out already).
func (u *updater) writeTo(out io.Writer) error {
	if !u.teed {
		if _, err := io.Copy(out, io.NewSectionReader(u.d.r, 0, u.d.size)); err != nil {
			return fmt.Errorf("pades: writing: %w", err)
		}
	}
	if _, err := out.Write(u.incs); err != nil {
		return fmt.Errorf("pades: writing: %w", err)
	}
	return nil
}

// size is the length of the document with the updates so far.
func (u *updater) size() int64 { return u.d.size + int64(len(u.incs)) }

// deref returns the current version of o: the updates' when they changed it.
func (u *updater) deref(o types.Object) types.Object {
	if r, ok := o.(types.IndirectRef); ok {
		if v, ok := u.objs[r.ObjectNumber.Value()]; ok {
			return v
		}
		v, err := u.d.x.Dereference(r)
		if err != nil {
			return nil
		}
		return v
	}
	return o
}

func (u *updater) dict(o types.Object) types.Dict {
	if d, ok := u.deref(o).(types.Dict); ok {
		return d.Clone().(types.Dict)
	}
	return nil
}

func (u *updater) array(o types.Object) (types.Array, bool) {
	if a, ok := u.deref(o).(types.Array); ok {
		return a.Clone().(types.Array), true
	}
	return nil, false
}

func (u *updater) catalog() types.Dict { return u.dict(u.root) }

// pdfObj is one object of an update: a new object, or the new version of one.
type pdfObj struct {
	nr, gen int
	body    []byte       // the object's serialization, between "obj" and "endobj"
	value   types.Object // what deref returns for it afterwards; nil for a stream
}

func (u *updater) alloc() int { n := u.next; u.next++; return n }

func (u *updater) changed(ref types.IndirectRef, v types.Object) pdfObj {
	gen := 0
	if ref.GenerationNumber != 0 {
		gen = ref.GenerationNumber.Value()
	}
	return pdfObj{nr: ref.ObjectNumber.Value(), gen: gen, body: []byte(v.PDFString()), value: v}
}

func ref(nr int) types.IndirectRef { return *types.NewIndirectRef(nr, 0) }

// build serializes an update: the objects, a cross-reference table with a subsection per
// run of consecutive numbers, and the trailer. It returns the bytes and each object's
// offset in them.
func (u *updater) build(objs []pdfObj) ([]byte, map[int]int) {
	sort.Slice(objs, func(i, j int) bool { return objs[i].nr < objs[j].nr })
	var b bytes.Buffer
	if n := u.size(); n > 0 && !u.endsWithEOL() {
		b.WriteByte('\n')
	}
	offs := map[int]int{}
	for _, o := range objs {
		offs[o.nr] = b.Len()
		fmt.Fprintf(&b, "%d %d obj\n", o.nr, o.gen)
		b.Write(o.body)
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	b.WriteString("xref\n")
	for i := 0; i < len(objs); {
		j := i
		for j+1 < len(objs) && objs[j+1].nr == objs[j].nr+1 {
			j++
		}
		fmt.Fprintf(&b, "%d %d\n", objs[i].nr, j-i+1)
		for k := i; k <= j; k++ {
			fmt.Fprintf(&b, "%010d %05d n\r\n", u.size()+int64(offs[objs[k].nr]), objs[k].gen)
		}
		i = j + 1
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %s /Prev %d%s >>\nstartxref\n%d\n%%%%EOF\n",
		u.next, u.root.PDFString(), u.prev, u.extra, u.size()+int64(xref))
	return b.Bytes(), offs
}

func (u *updater) endsWithEOL() bool {
	if len(u.incs) > 0 {
		return true // ours end with "%%EOF\n"
	}
	t := readTail(u.d.r, u.d.size, 1)
	return len(t) == 1 && (t[0] == '\n' || t[0] == '\r')
}

// commit appends an update built from objs.
func (u *updater) commit(inc []byte, objs []pdfObj, offs map[int]int) {
	xref := bytes.LastIndex(inc, []byte("\nxref\n")) + 1
	u.prev = u.size() + int64(xref)
	u.incs = append(u.incs, inc...)
	for _, o := range objs {
		if o.value != nil {
			u.objs[o.nr] = o.value
		}
	}
}

// addField adds the signature field fieldName, whose widget (invisible unless ap names an
// appearance stream, at rect on page) holds the signature dictionary sigNr: the field and
// its widget as one object, the AcroForm's /Fields and /SigFlags, the page's /Annots, and
// the catalog when the AcroForm is new or direct. It returns the objects to write and the
// catalog as changed (for further changes in the same update).
func (u *updater) addField(fieldName string, sigNr int, page types.IndirectRef, rect types.Array, ap *types.IndirectRef) ([]pdfObj, types.Dict, error) {
	var objs []pdfObj
	widgetNr := u.alloc()
	widget := types.Dict{
		"Type": types.Name("Annot"), "Subtype": types.Name("Widget"), "FT": types.Name("Sig"),
		"T": types.StringLiteral(fieldName), "V": ref(sigNr), "F": types.Integer(132), "P": page, "Rect": rect,
	}
	if ap != nil {
		widget["AP"] = types.Dict{"N": *ap}
	}
	objs = append(objs, pdfObj{nr: widgetNr, body: []byte(widget.PDFString()), value: widget})

	cat := u.catalog()
	if cat == nil {
		return nil, nil, malformedError("catalog", "the catalog is not a dictionary")
	}
	catChanged := false
	var form types.Dict
	formRef, formIsRef := cat["AcroForm"].(types.IndirectRef)
	switch {
	case formIsRef:
		form = u.dict(formRef)
	case cat["AcroForm"] != nil:
		form, _ = cat["AcroForm"].(types.Dict)
		catChanged = true
	}
	if form == nil {
		form = types.Dict{}
		formRef, formIsRef = ref(u.alloc()), true
		cat["AcroForm"] = formRef
		catChanged = true
	}
	fieldRef := ref(widgetNr)
	if fr, ok := form["Fields"].(types.IndirectRef); ok {
		arr, isArr := u.array(fr)
		if !isArr {
			return nil, nil, malformedError("acroForm", "/Fields is not an array")
		}
		arr = append(arr, fieldRef)
		objs = append(objs, u.changed(fr, arr))
	} else {
		arr, _ := form["Fields"].(types.Array)
		form["Fields"] = append(append(types.Array(nil), arr...), fieldRef)
	}
	form["SigFlags"] = types.Integer(3)
	if formIsRef {
		objs = append(objs, u.changed(formRef, form))
	} else {
		cat["AcroForm"] = form
	}

	pg := u.dict(page)
	if pg == nil {
		return nil, nil, malformedError("page", "the page is not a dictionary")
	}
	if ar, ok := pg["Annots"].(types.IndirectRef); ok {
		arr, isArr := u.array(ar)
		if !isArr {
			return nil, nil, malformedError("page", "/Annots is not an array")
		}
		objs = append(objs, u.changed(ar, append(arr, fieldRef)))
	} else {
		arr, _ := pg["Annots"].(types.Array)
		pg["Annots"] = append(append(types.Array(nil), arr...), fieldRef)
		objs = append(objs, u.changed(page, pg))
	}
	if catChanged {
		objs = append(objs, u.changed(u.root, cat))
	}
	return objs, cat, nil
}

// streamObj is a stream object with the given dictionary entries and unencoded content.
func streamObj(nr int, dict string, content []byte) pdfObj {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<<%s /Length %d >>\nstream\n", dict, len(content))
	b.Write(content)
	b.WriteString("\nendstream")
	return pdfObj{nr: nr, body: b.Bytes()}
}

// byteRangePlaceholder is replaced, once the update's offsets are known, by the byte range
// padded with spaces to the same length: offsets up to 10 digits.
const byteRangePlaceholder = "[0 ********** ********** **********]"

// sigDictBody is a signature dictionary with a /ByteRange placeholder and a /Contents of
// contentsHex zeros; entries are written before them.
func sigDictBody(entries string, contentsHex int) []byte {
	var b bytes.Buffer
	b.WriteString("<<" + entries + " /ByteRange " + byteRangePlaceholder + " /Contents <")
	b.Write(bytes.Repeat([]byte("0"), contentsHex))
	b.WriteString("> >>")
	return b.Bytes()
}

// placeholder is where, in an update, a signature's /ByteRange and /Contents are.
type placeholder struct {
	br           [4]int64 // the byte range over the whole document
	brAt         int      // offset of the placeholder in the update
	contentsAt   int      // offset of '<' in the update
	contentsSize int      // hex digits
}

// fillByteRange finds the placeholders of the signature object at objOff in inc, writes the
// byte range, and returns where the /Contents hex string is.
func (u *updater) fillByteRange(inc []byte, objOff int) (placeholder, error) {
	i := bytes.Index(inc[objOff:], []byte(byteRangePlaceholder))
	j := bytes.Index(inc[objOff:], []byte("/Contents <"))
	if i < 0 || j < 0 {
		return placeholder{}, fmt.Errorf("pades: internal error: no placeholder")
	}
	p := placeholder{brAt: objOff + i, contentsAt: objOff + j + len("/Contents ")}
	end := bytes.IndexByte(inc[p.contentsAt:], '>')
	p.contentsSize = end - 1
	base := u.size()
	total := base + int64(len(inc))
	gapStart := base + int64(p.contentsAt)
	gapEnd := gapStart + int64(end) + 1
	p.br = [4]int64{0, gapStart, gapEnd, total - gapEnd}
	s := fmt.Sprintf("[0 %-10d %-10d %-10d]", p.br[1], p.br[2], p.br[3])
	if len(s) != len(byteRangePlaceholder) {
		return placeholder{}, &Error{Check: "size", Reason: "the document is too large for a 10-digit byte range", Err: ErrTooLarge}
	}
	copy(inc[p.brAt:], s)
	return p, nil
}

// hashRanges digests the document with the update inc as it will be, but the /Contents gap.
// The first time, when u.tee is set, it also writes the original document to u.tee as it
// reads it (the first range begins with it), so that a large PDF is read once.
func (u *updater) hashRanges(ctx context.Context, h hash.Hash, inc []byte, p placeholder) error {
	ra := &concatReaderAt{a: u.d.r, an: u.d.size, b: append(append([]byte(nil), u.incs...), inc...)}
	if u.tee == nil || u.teed {
		return hashByteRange(ctx, h, ra, p.br)
	}
	if err := hashAndWrite(ctx, h, u.tee, u.d.size, ra, p.br); err != nil {
		return err
	}
	u.teed = true
	return nil
}

// hashAndWrite digests the two ranges of br from r, as hashByteRange does, and writes the
// first n bytes of them to w. The writes run in a goroutine beside the digest, each piece
// handed over once read, so that writing a large file costs little more than reading it.
// With no w (or n of 0) it only digests.
func hashAndWrite(ctx context.Context, h io.Writer, w io.Writer, n int64, r io.ReaderAt, br [4]int64) error {
	const piece, pieces = 1 << 20, 4
	free := make(chan []byte, pieces)
	written := make(chan error, 1)
	var todo chan []byte // nil when nothing is written: n stays 0 and nothing is sent
	if w == nil || n <= 0 {
		n = 0
		free <- make([]byte, piece)
		written <- nil
	} else {
		for range pieces {
			free <- make([]byte, piece)
		}
		todo = make(chan []byte, pieces)
		go func() {
			var err error
			for b := range todo {
				if err == nil {
					if _, err = w.Write(b); err != nil {
						err = fmt.Errorf("pades: writing: %w", err)
					}
				}
				free <- b[:cap(b)]
			}
			written <- err
		}()
	}
	err := func() error {
		for _, rg := range [][2]int64{{br[0], br[1]}, {br[2], br[3]}} {
			sr := io.NewSectionReader(r, rg[0], rg[1])
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				b := <-free
				m, err := sr.Read(b)
				h.Write(b[:m])
				if k := min(int64(m), n); k > 0 {
					n -= k
					todo <- b[:k]
				} else {
					free <- b
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					return fmt.Errorf("pades: reading the pdf: %w", err)
				}
			}
		}
		return nil
	}()
	if todo != nil {
		close(todo)
	}
	werr := <-written
	if err == nil && n > 0 {
		err = fmt.Errorf("pades: internal error: %d bytes of the original not written", n)
	}
	return cmp.Or(err, werr)
}

// rewindable is an output Sign and Extend can take back: a file, truncated to where it
// ended when an error stops them after the original was written to it.
type rewindable interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
}

// teeTo makes hashRanges write the original to out as it digests it, when out is a file
// positioned at its end, which can be taken back on an error; it returns the function that
// takes it back. For any other output (a pipe, a buffer, a network connection) the original
// is copied at the end, by writeTo, and undo does nothing.
func (u *updater) teeTo(out io.Writer) (undo func()) {
	f, ok := out.(rewindable)
	if !ok {
		return func() {}
	}
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return func() {}
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != start {
		_, _ = f.Seek(start, io.SeekStart)
		return func() {}
	}
	u.tee = out
	return func() {
		_ = f.Truncate(start)
		_, _ = f.Seek(start, io.SeekStart)
	}
}

// hashByteRange digests the two ranges of br from r, checking ctx between reads.
func hashByteRange(ctx context.Context, h io.Writer, r io.ReaderAt, br [4]int64) error {
	return hashAndWrite(ctx, h, nil, 0, r, br)
}

// fillContents writes the hex of der into the /Contents placeholder, zero-padded.
func fillContents(inc []byte, p placeholder, der []byte) bool {
	if 2*len(der) > p.contentsSize {
		return false
	}
	const hexdigits = "0123456789abcdef"
	at := p.contentsAt + 1
	for i, c := range der {
		inc[at+2*i] = hexdigits[c>>4]
		inc[at+2*i+1] = hexdigits[c&15]
	}
	return true
}

// concatReaderAt reads a followed by b.
type concatReaderAt struct {
	a  io.ReaderAt
	an int64
	b  []byte
}

func (c *concatReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < c.an {
		m := int64(len(p))
		if off+m > c.an {
			m = c.an - off
		}
		k, err := c.a.ReadAt(p[:m], off)
		n += k
		if err != nil && !(err == io.EOF && int64(k) == m) {
			return n, err
		}
		off += int64(k)
	}
	if n < len(p) {
		i := off - c.an
		if i >= int64(len(c.b)) {
			return n, io.EOF
		}
		k := copy(p[n:], c.b[i:])
		n += k
		if n < len(p) {
			return n, io.EOF
		}
	}
	return n, nil
}

// pdfDate formats t as a PDF date string (ISO 32000-1 §7.9.4), in UTC.
func pdfDate(t interface{ Format(string) string }) string {
	return "(D:" + t.Format("20060102150405") + "+00'00')"
}

// utf16Text encodes s as a PDF text string: UTF-16BE with a byte order mark, in hex, so
// that no character of s needs escaping.
func utf16Text(s string) string {
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&b, "%04X%04X", 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	b.WriteString(">")
	return b.String()
}
