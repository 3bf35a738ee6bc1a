package pades

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/internal/pdfread"
)

// Permissions is what the certifying signature's DocMDP (and a signature's FieldMDP) allows
// after it.
type Permissions struct {
	// DocMDP is the certification level (ISO 32000-1 §12.8.2.2, /P of the DocMDP transform):
	// 0 means no certification (an approval signature); 1 no changes; 2 form fill and signing;
	// 3 also annotations.
	DocMDP int
	// LockedFields are the fully qualified names of the fields a FieldMDP transform
	// /Action /Include locks; nil locks none.
	LockedFields []string
	// LockAll locks every field: FieldMDP /Action /All, or /Action /Exclude with the
	// fields it spares in SparedFields.
	LockAll bool
	// SparedFields are, with LockAll, the fully qualified names of the fields a FieldMDP
	// /Action /Exclude leaves unlocked; every other field, one added later included, is
	// locked.
	SparedFields []string
}

// Change is one difference between a signed revision and the final document.
type Change struct {
	// Revision is the number of the revision (1 is the original document) that made the change.
	Revision int `json:"revision"`
	// Object names the changed object ("12 0 R") or the place in the document ("catalog /Names").
	Object string `json:"object"`
	// Kind classifies the change: one of the Change* constants.
	Kind string `json:"kind"`
	// Allowed reports whether the permissions the change is judged under allow it.
	Allowed bool `json:"allowed"`
	// Detail says what changed, for a human reader.
	Detail string `json:"detail,omitempty"`

	// drawnBy is the object number of the later signature dictionary whose visible widget
	// this change puts on a page: allowed only while that signature itself validates, which
	// Validate checks once every signature has its report.
	drawnBy int
}

// The kinds of Change. The first six can be allowed (by the signature's DocMDP and FieldMDP
// permissions); the others alter what a page shows or what the document does, and never are.
const (
	// ChangeSignature is a later signature: a new signature field, its widget, its signature
	// dictionary, the AcroForm /Fields entry and the page /Annots entry that carry it.
	ChangeSignature = "signature"
	// ChangeDocumentTimeStamp is a later document time-stamp (PAdES B-LTA).
	ChangeDocumentTimeStamp = "documentTimeStamp"
	// ChangeDSS is a Document Security Store added or extended (PAdES B-LT), with its streams
	// and the catalog's /Extensions declaring it.
	ChangeDSS = "dss"
	// ChangeFormFill is a field's value and its widget's appearance changed.
	ChangeFormFill = "formFill"
	// ChangeAnnotation is an annotation (other than a widget) added, changed or removed, on a
	// page or named by the /Parent of a popup added or changed.
	ChangeAnnotation = "annotation"
	// ChangeMetadata is the document information dictionary (the trailer's /Info, ISO
	// 32000-1 §14.3.3) changed: /Title, /Author, /ModDate and the like, or /Info pointed at
	// another dictionary, or the catalog's XMP /Metadata stream (§14.3.2) changed. It does
	// not change what a page shows, so it is reported and allowed at every level, DocMDP 1
	// included, as pyHanko's DocInfoRule allows it: the tools that add a DSS or a document
	// time-stamp to a document certified with no changes allowed (which EN 319 142-1
	// permits) commonly update /ModDate as they do.
	ChangeMetadata = "metadata"
	// ChangeField is a form field added, removed or changed beyond its value, or a locked or
	// signed field changed.
	ChangeField = "field"
	// ChangePageContent is a page's content stream, resources (fonts, images, XObjects), boxes or
	// other entries changed.
	ChangePageContent = "pageContent"
	// ChangePageTree is a page added, removed or moved, or the page tree rebuilt differently.
	ChangePageTree = "pageTree"
	// ChangeCatalog is the document catalog changed beyond /AcroForm, /DSS and /Extensions:
	// /OpenAction, /AA, /Names (JavaScript, embedded files), /Perms, /Outlines, and so on.
	ChangeCatalog = "catalog"
	// ChangeUnreferencedData is data after the signed revision that is not a complete
	// incremental update (objects without a cross-reference section and trailer, or objects
	// that the cross-reference table does not point to): a viewer that repairs the file would
	// show them, so they are refused.
	ChangeUnreferencedData = "unreferencedData"
)

// changesError is why analyzeChanges could not decide: the validator reports it as the
// signature's failure. err is ErrMalformed, ErrEncrypted or ErrTooLarge.
func changesError(err error, format string, args ...any) *Error {
	return &Error{Check: "changes", Reason: fmt.Sprintf(format, args...), Err: err}
}

// analyzeChanges compares the revision that ends at byte signedEnd (the end of the signature's
// /ByteRange) with the whole file and classifies every later change under perm.
//
// Both revisions are read by pdfcpu as PDFs of their own, and the object graphs reachable from
// their catalogs (and their trailers' /Info) are compared pairwise, by content rather than by object number: an object
// rewritten by a later update with the same content is no change, and a page tree rebuilt
// from new objects is compared page by page. Every path to what a page shows (the page tree,
// page contents and resources, the catalog's actions and name trees) is compared on its own,
// so an object that is also reachable from an allowed place (the DSS, a new signature) is
// still refused when it changes a page.
func analyzeChanges(r io.ReaderAt, size int64, signedEnd int64, perm Permissions) ([]Change, error) {
	if signedEnd <= 0 || signedEnd > size {
		return nil, changesError(ErrMalformed, "signed revision ends at %d in a file of %d bytes", signedEnd, size)
	}
	if perm.DocMDP < 0 || perm.DocMDP > 3 {
		return nil, changesError(ErrMalformed, "DocMDP permission %d", perm.DocMDP)
	}
	if signedEnd == size {
		return nil, nil
	}
	cur, err := readRevisionPrefix(r, size)
	if err != nil {
		return nil, err
	}
	return analyzeChangesIn(cur, r, size, signedEnd, perm)
}

// analyzeChangesIn is analyzeChanges on a final document already read (cur, the object table
// of all size bytes of r, as internal/pdfread leaves it), so that a validator that has read
// the document does not read it again for each signature.
func analyzeChangesIn(cur *model.XRefTable, r io.ReaderAt, size, signedEnd int64, perm Permissions) ([]Change, error) {
	if signedEnd <= 0 || signedEnd > size {
		return nil, changesError(ErrMalformed, "signed revision ends at %d in a file of %d bytes", signedEnd, size)
	}
	if perm.DocMDP < 0 || perm.DocMDP > 3 {
		return nil, changesError(ErrMalformed, "DocMDP permission %d", perm.DocMDP)
	}
	if signedEnd == size {
		return nil, nil
	}
	if cur == nil || cur.Root == nil {
		return nil, changesError(ErrMalformed, "no catalog")
	}
	tail, err := checkUpdateTail(r, size, signedEnd)
	if err != nil {
		return nil, err
	}
	old, err := readRevisionPrefix(r, signedEnd)
	if err != nil {
		return nil, err
	}
	d := &differ{
		old: old, cur: cur, perm: perm, signedEnd: signedEnd,
		r: r, hashBudget: 2*size + 1<<20,
		oldSums: make(map[int][32]byte), curSums: make(map[int][32]byte),
		locked:    make(map[string]bool, len(perm.LockedFields)),
		eq:        make(map[[2]int]bool),
		busy:      make(map[[2]int]bool),
		budget:    limits.MaxPDFChangeObjects,
		widgets:   make(map[int]bool),
		annotSeen: make(map[int]bool),
		pageWids:  make(map[int]Change),
		seen:      make(map[[2]int]bool),
	}
	for _, name := range perm.LockedFields {
		d.locked[name] = true
	}
	if perm.LockAll {
		d.spared = make(map[string]bool, len(perm.SparedFields))
		for _, name := range perm.SparedFields {
			d.spared[name] = true
		}
	}
	d.base = xrefSections(old)
	d.total = xrefSections(cur)
	if d.total-d.base > limits.MaxPDFRevisions || d.total > limits.MaxPDFRevisions {
		return nil, changesError(ErrTooLarge, "more than %d incremental updates", limits.MaxPDFRevisions)
	}
	var changes []Change
	if tail != "" {
		changes = append(changes, Change{Revision: d.base + 1, Object: "trailer", Kind: ChangeUnreferencedData, Detail: tail})
	}
	if err := d.run(); err != nil {
		return nil, err
	}
	changes = append(changes, d.changes...)
	orphans, err := orphanObjects(r, size, signedEnd, cur, d.base+1)
	if err != nil {
		return nil, err
	}
	return append(changes, orphans...), nil
}

// readRevisionPrefix reads the first n bytes of r as a PDF of their own, with
// internal/pdfread: stream contents stay in the file (the differ digests the few it must
// compare), so that the two revisions held at once cost their object tables, not the file.
func readRevisionPrefix(r io.ReaderAt, n int64) (x *model.XRefTable, err error) {
	defer func() {
		// pdfcpu is a parser of untrusted input written in Go; a panic in it is a bug, and it
		// must not take the validating service down.
		if p := recover(); p != nil {
			x, err = nil, changesError(ErrMalformed, "pdfcpu failed: %v", p)
		}
	}()
	conf := &model.Configuration{
		Reader15:       true,
		ValidationMode: model.ValidationRelaxed,
		// ADDSIGNATURE makes pdfcpu refuse an encrypted file instead of trying the empty
		// user password.
		Cmd:     model.ADDSIGNATURE,
		Offline: true,
		Eol:     types.EolLF,
		Limits: model.ResourceLimits{
			MaxStreamBytes:       limits.MaxPDFStream,
			MaxDecodeBytes:       limits.MaxPDFStream,
			MaxImagePixels:       1,
			MaxImageBytes:        1,
			MaxObjectCount:       limits.MaxPDFChangeObjects,
			MaxObjectStreamCount: limits.MaxPDFChangeObjects,
			MaxObjectStreamFirst: 16 << 20,
			MaxXRefEntries:       limits.MaxPDFChangeObjects,
			MaxRecursionDepth:    limits.MaxPDFObjectDepth,
		},
	}
	ctx, err := pdfread.ReadWithContext(context.Background(), io.NewSectionReader(r, 0, n), conf)
	if err != nil {
		if errors.Is(err, pdfread.ErrEncrypted) {
			return nil, changesError(ErrEncrypted, "encrypted pdfs are not validated")
		}
		return nil, changesError(ErrMalformed, "%v", err)
	}
	if ctx.Encrypt != nil {
		return nil, changesError(ErrEncrypted, "encrypted pdfs are not validated")
	}
	if ctx.Root == nil {
		return nil, changesError(ErrMalformed, "no catalog")
	}
	return ctx.XRefTable, nil
}

// revisions is the number of cross-reference sections pdfcpu read (its Incr counts them from
// the last one, 1).
func xrefSections(x *model.XRefTable) int {
	n := 1
	for _, e := range x.Table {
		if e != nil && e.Incr > n {
			n = e.Incr
		}
	}
	return n
}

var updateTailRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF[\r\n\t\f\x00 ]*$`)

// checkTail makes sure the bytes after the signed revision end as an incremental update does:
// with a startxref that points after the signed revision, and an %%EOF. Objects appended
// without a cross-reference section (the incremental saving attack that a repairing viewer
// shows and a strict one ignores) are named in the returned detail.
func checkUpdateTail(r io.ReaderAt, size, signedEnd int64) (string, error) {
	const window = 1024
	start := max(signedEnd, size-window)
	buf := make([]byte, size-start)
	if _, err := r.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
		return "", changesError(ErrMalformed, "%v", err)
	}
	m := updateTailRE.FindSubmatch(buf)
	if m == nil {
		return "the data after the signed revision does not end with startxref and %%EOF", nil
	}
	off, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil || off < signedEnd || off >= size {
		return "the last startxref does not point into the data after the signed revision", nil
	}
	return "", nil
}

var objectHeaderRE = regexp.MustCompile(`(?m)(?:^|[\r\n])(\d{1,10})[ \t\r\n\f\x00]+(\d{1,5})[ \t\r\n\f\x00]+obj\b`)

// orphanObjects finds object headers ("12 0 obj") after the signed revision that no later
// cross-reference section accounts for: the shadow copy an attacker appends for a viewer that
// repairs the file, invisible to the comparison of the two graphs. A copy that a later
// revision superseded (the final table has the object at a later offset) is a legitimate
// earlier version; a copy after the one the final table names, or of an object it does not
// name, is what a repairing viewer would show instead.
func orphanObjects(r io.ReaderAt, size, signedEnd int64, cur *model.XRefTable, rev int) ([]Change, error) {
	where := func(nr int) (int64, bool) {
		e, ok := cur.Table[nr]
		if !ok || e == nil || e.Free {
			return 0, false
		}
		if e.Compressed && e.ObjectStream != nil {
			if s, ok := cur.Table[*e.ObjectStream]; ok && s != nil && s.Offset != nil {
				return *s.Offset, true
			}
			return 0, false
		}
		if e.Offset == nil {
			return 0, false
		}
		return *e.Offset, true
	}
	var out []Change
	const chunk = 1 << 20
	const overlap = 64
	buf := make([]byte, chunk+overlap)
	for pos := signedEnd; pos < size; pos += chunk {
		n := min(int64(len(buf)), size-pos)
		b := buf[:n]
		if _, err := r.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, changesError(ErrMalformed, "%v", err)
		}
		for _, loc := range objectHeaderRE.FindAllSubmatchIndex(b, -1) {
			if int64(loc[2]) >= chunk && pos+chunk < size {
				continue // found again by the next chunk
			}
			off := pos + int64(loc[2])
			nr, err := strconv.Atoi(string(b[loc[2]:loc[3]]))
			if err != nil {
				continue
			}
			// pdfcpu keeps the offset written in the xref, which can point at the whitespace
			// before the number.
			if at, ok := where(nr); ok && at+1 >= off {
				continue
			}
			if len(out) == limits.MaxPDFChangeOrphans {
				return out, nil
			}
			out = append(out, Change{
				Revision: rev, Object: fmt.Sprintf("%d %s obj at byte %d", nr, b[loc[4]:loc[5]], off),
				Kind: ChangeUnreferencedData, Detail: "an object after the signed revision that no cross-reference section points to",
			})
		}
	}
	return out, nil
}

// differ compares the signed revision (old) with the final document (cur).
type differ struct {
	old, cur    *model.XRefTable
	r           io.ReaderAt      // the file; old is a prefix of it
	hashBudget  int64            // stream bytes left to digest
	oldSums     map[int][32]byte // SHA-256 of old's streams, by object number, when compared
	curSums     map[int][32]byte // SHA-256 of cur's streams, computed when compared
	signedEnd   int64
	perm        Permissions
	locked      map[string]bool
	spared      map[string]bool // fields LockAll leaves unlocked (FieldMDP /Exclude)
	base, total int             // cross-reference sections of old and cur

	eq     map[[2]int]bool // memo of equalObj on object number pairs
	busy   map[[2]int]bool // pairs being compared (a cycle compares equal)
	seen   map[[2]int]bool // page tree and field pairs already classified
	budget int

	widgets   map[int]bool   // widget objects accounted for by the field walk
	annotSeen map[int]bool   // annotations added or changed already classified
	pageWids  map[int]Change // widgets changed in a page's /Annots, waiting for the field walk
	oldReach  map[int]bool   // objects reachable from the signed revision's catalog, built on demand
	changes   []Change
}

func (d *differ) add(objNr int, kind string, allowed bool, detail string) {
	d.addIn(objNr, nil, kind, allowed, detail)
}

// addIn records a change found in the entry val of the object holder: the change is named
// after the first object under val that a later revision wrote, if there is one.
func (d *differ) addIn(holder int, val types.Object, kind string, allowed bool, detail string) {
	nr := holder
	if n := d.firstNew(val); n > 0 {
		nr = n
	}
	obj := "catalog"
	if nr > 0 {
		obj = fmt.Sprintf("%d 0 R", nr)
	}
	// A change is after the signed revision even when the object holding it is not (an entry
	// of an object that a later revision rewrote can be found only below).
	rev := max(d.revisionOf(nr), d.base+1)
	d.changes = append(d.changes, Change{Revision: rev, Object: obj, Kind: kind, Allowed: allowed, Detail: detail})
}

// hiddenShown returns an object that val (added or changed after the signed revision) shows
// and that the signed revision held without showing it: the shadow "hide" attack prepares
// such an object before the document is signed and shows it afterwards through an overlay.
// It returns 0 when there is none.
func (d *differ) hiddenShown(val types.Object) int {
	if d.oldReach == nil {
		d.oldReach = make(map[int]bool)
		// From the catalog only, and not through its /Metadata: what only the document
		// information dictionary (/Info) or the XMP metadata stream reaches is metadata, not
		// shown, and as hidden as an object nothing uses.
		d.oldReach[int(d.old.Root.ObjectNumber)] = true
		if cat, _, err := resolveIn(d.old, *d.old.Root); err == nil {
			if c := changeDict(cat); c != nil {
				for k, v := range c {
					if k != "Metadata" {
						d.reach(d.old, v, d.oldReach)
					}
				}
			}
		}
	}
	shown := make(map[int]bool)
	d.reach(d.cur, val, shown)
	for nr := range shown {
		if e, ok := d.old.Table[nr]; ok && e != nil && !e.Free && !d.oldReach[nr] && d.revisionOf(nr) <= d.base {
			return nr
		}
	}
	return 0
}

// reach adds to seen the objects reachable from o in x, within the comparison budget.
func (d *differ) reach(x *model.XRefTable, o types.Object, seen map[int]bool) {
	stack := []types.Object{o}
	for len(stack) > 0 && d.budget > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r, ok := o.(types.IndirectRef); ok {
			nr := int(r.ObjectNumber)
			if seen[nr] {
				continue
			}
			seen[nr] = true
			d.budget--
			o, _, _ = resolveIn(x, r)
		}
		switch v := o.(type) {
		case types.Dict:
			for _, w := range v {
				stack = append(stack, w)
			}
		case types.StreamDict:
			for _, w := range v.Dict {
				stack = append(stack, w)
			}
		case types.Array:
			stack = append(stack, v...)
		}
	}
}

// firstNew finds, breadth first and within a few thousand objects, an object reachable from
// val in cur that a revision after the signed one wrote.
func (d *differ) firstNew(val types.Object) int {
	queue := []types.Object{val}
	seen := map[int]bool{}
	for len(queue) > 0 && len(seen) < 4096 {
		o := queue[0]
		queue = queue[1:]
		if r, ok := o.(types.IndirectRef); ok {
			nr := int(r.ObjectNumber)
			if seen[nr] {
				continue
			}
			seen[nr] = true
			if d.revisionOf(nr) > d.base {
				return nr
			}
			o, _, _ = resolveIn(d.cur, r)
		}
		switch v := o.(type) {
		case types.Dict:
			for _, k := range unionKeys(v, nil) {
				if !backRef(v, k) {
					queue = append(queue, v[k])
				}
			}
		case types.StreamDict:
			for _, k := range unionKeys(v.Dict, nil) {
				if !backRef(v.Dict, k) {
					queue = append(queue, v.Dict[k])
				}
			}
		case types.Array:
			queue = append(queue, v...)
		}
	}
	return 0
}

// revisionOf numbers the revision whose cross-reference section defines objNr in cur: 1 is the
// first revision of the file.
func (d *differ) revisionOf(objNr int) int {
	if objNr <= 0 {
		objNr = int(d.cur.Root.ObjectNumber)
	}
	if e, ok := d.cur.Table[objNr]; ok && e != nil && e.Incr > 0 {
		return d.total - e.Incr + 1
	}
	return d.total
}

// resolve resolves a in the signed revision and b in the current one: their values and
// object numbers, as resolveIn.
func (d *differ) resolve(a, b types.Object) (va, vb types.Object, na, nb int, err error) {
	if va, na, err = resolveIn(d.old, a); err != nil {
		return nil, nil, 0, 0, err
	}
	if vb, nb, err = resolveIn(d.cur, b); err != nil {
		return nil, nil, 0, 0, err
	}
	return va, vb, na, nb, nil
}

// deref resolves o in x (a reference to nothing is null, ISO 32000-1 §7.3.10) and returns the
// object number it came from (0 for a direct object).
func resolveIn(x *model.XRefTable, o types.Object) (types.Object, int, error) {
	ref, ok := o.(types.IndirectRef)
	if !ok {
		return o, 0, nil
	}
	v, err := x.Dereference(ref)
	if err != nil {
		return nil, 0, changesError(ErrMalformed, "object %d: %v", int(ref.ObjectNumber), err)
	}
	return v, int(ref.ObjectNumber), nil
}

// equal reports whether a (in old) and b (in cur) are the same PDF object graph: references are
// followed on both sides, so renumbering is no change.
func (d *differ) equal(a, b types.Object, depth int) (bool, error) {
	if depth > limits.MaxPDFObjectDepth {
		return false, changesError(ErrTooLarge, "objects nested deeper than %d", limits.MaxPDFObjectDepth)
	}
	ra, aRef := a.(types.IndirectRef)
	rb, bRef := b.(types.IndirectRef)
	if aRef || bRef {
		key := [2]int{-1, -1}
		if aRef {
			key[0] = int(ra.ObjectNumber)
		}
		if bRef {
			key[1] = int(rb.ObjectNumber)
		}
		if aRef && bRef {
			if v, ok := d.eq[key]; ok {
				return v, nil
			}
			if d.busy[key] {
				return true, nil
			}
			d.busy[key] = true
			defer delete(d.busy, key)
		}
		d.budget--
		if d.budget < 0 {
			return false, changesError(ErrTooLarge, "more than %d objects compared", limits.MaxPDFChangeObjects)
		}
		va, vb, _, _, err := d.resolve(a, b)
		if err != nil {
			return false, err
		}
		var v bool
		sa, aStream := va.(types.StreamDict)
		sb, bStream := vb.(types.StreamDict)
		switch {
		case aStream && bStream && aRef && bRef:
			// The dictionaries first: an indirect /Length that a later revision changed
			// makes the same bytes a different stream.
			v, err = d.equalDict(sa.Dict, sb.Dict, depth+1)
			if v && err == nil && !(key[0] == key[1] && d.sameBytes(key[0])) {
				v, err = d.sameStream(key[0], sa, key[1], sb)
			}
		case aStream || bStream:
			// A stream is an indirect object (ISO 32000-1 §7.3.8): one reached otherwise is
			// not the same object.
			v = false
		default:
			v, err = d.equal(va, vb, depth+1)
		}
		if err != nil {
			return false, err
		}
		if aRef && bRef {
			d.eq[key] = v
		}
		return v, nil
	}
	switch x := a.(type) {
	case nil:
		return b == nil, nil
	case types.Dict:
		y, ok := b.(types.Dict)
		if !ok {
			return false, nil
		}
		return d.equalDict(x, y, depth)
	case types.Array:
		y, ok := b.(types.Array)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for i := range x {
			if eq, err := d.equal(x[i], y[i], depth+1); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case types.Name, types.Integer, types.Float, types.Boolean, types.StringLiteral, types.HexLiteral:
		return a == b, nil
	default:
		// Object streams, xref streams and anything pdfcpu adds later are never equal, so that
		// an unknown object is a change and not a blind spot.
		return false, nil
	}
}

// backRef reports whether the entry k of the dictionary dict points back up the tree (a page's
// or a field's /Parent, an annotation's /P): those are compared where the tree is walked, and
// following them would make every change below look like a change of everything above.
// A popup's /Parent is not one: it names the markup annotation whose text and title the
// popup shows (ISO 32000-1 §12.5.6.14), which nothing else need list, so it is compared
// with the popup.
func backRef(dict types.Dict, k string) bool {
	if k != "Parent" && k != "P" {
		return false
	}
	if _, ok := dict[k].(types.IndirectRef); !ok {
		return false
	}
	return k == "P" || changeName(dict, "Subtype") != "Popup"
}

// sameBytes reports whether object nr is, in the final document, the very bytes it was in the
// signed revision: an uncompressed object at the same offset below the end of the signed
// revision (which is a prefix of the file), so that its stream need not be hashed again
// (its dictionary, and what it refers to, still are compared).
func (d *differ) sameBytes(nr int) bool {
	o, ok1 := d.old.Table[nr]
	c, ok2 := d.cur.Table[nr]
	return ok1 && ok2 && o != nil && c != nil && !o.Free && !c.Free && !o.Compressed && !c.Compressed &&
		o.Offset != nil && c.Offset != nil && *o.Offset == *c.Offset && *c.Offset < d.signedEnd
}

// sameStream reports whether stream a (object oldNr of the signed revision) and stream b
// (object curNr of the final document) have the same encoded content, by their SHA-256.
func (d *differ) sameStream(oldNr int, a types.StreamDict, curNr int, b types.StreamDict) (bool, error) {
	x, err := d.streamSum(d.oldSums, oldNr, a)
	if err != nil {
		return false, err
	}
	y, err := d.streamSum(d.curSums, curNr, b)
	if err != nil {
		return false, err
	}
	return x == y, nil
}

// streamSum digests the encoded content of sd (object nr), from sd.Raw where the reader
// loaded it or from the file where it left it, once per object, within hashBudget: a
// hostile file whose streams all claim the same large stretch of bytes costs at most twice
// its size in digesting.
func (d *differ) streamSum(sums map[int][32]byte, nr int, sd types.StreamDict) ([32]byte, error) {
	if s, ok := sums[nr]; ok {
		return s, nil
	}
	var s [32]byte
	if off, n, ok := pdfread.StreamSection(&sd); ok {
		if d.hashBudget -= n; d.hashBudget < 0 {
			return s, changesError(ErrTooLarge, "more than twice the file's size in stream contents compared")
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(d.r, off, n)); err != nil {
			return s, changesError(ErrMalformed, "reading stream %d: %v", nr, err)
		}
		h.Sum(s[:0])
	} else {
		s = sha256.Sum256(sd.Raw)
	}
	sums[nr] = s
	return s, nil
}

func (d *differ) equalDict(x, y types.Dict, depth int) (bool, error) {
	if len(x) != len(y) {
		return false, nil
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok {
			return false, nil
		}
		if backRef(x, k) && backRef(y, k) {
			continue
		}
		if eq, err := d.equal(v, w, depth+1); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

func changeDict(o types.Object) types.Dict {
	switch v := o.(type) {
	case types.Dict:
		return v
	case types.StreamDict:
		return v.Dict
	}
	return nil
}

func changeName(d types.Dict, key string) string {
	if n, ok := d[key].(types.Name); ok {
		return string(n)
	}
	return ""
}

func unionKeys(a, b types.Dict) []string {
	ks := make([]string, 0, len(a)+len(b))
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// What the permissions allow after the signature (ISO 32000-1 §12.8.2.2; ETSI EN 319 142-1
// §5.4 adds the DSS and document time-stamps to every level). An approval signature (DocMDP
// 0) allows what certification level 2 does: annotations over a page are the overlay of the
// shadow "hide" attack, so only a certification that says so (level 3) allows them.
func (d *differ) signingAllowed() bool     { return d.perm.DocMDP != 1 }
func (d *differ) formFillAllowed() bool    { return d.perm.DocMDP != 1 }
func (d *differ) annotationsAllowed() bool { return d.perm.DocMDP == 3 }

func (d *differ) run() error {
	oldCat, curCat, _, rootNr, err := d.resolve(*d.old.Root, *d.cur.Root)
	if err != nil {
		return err
	}
	oc, cc := changeDict(oldCat), changeDict(curCat)
	if oc == nil || cc == nil {
		return changesError(ErrMalformed, "the catalog is not a dictionary")
	}
	for _, k := range unionKeys(oc, cc) {
		switch k {
		case "AcroForm":
			if err := d.acroForm(oc[k], cc[k]); err != nil {
				return err
			}
		case "Pages":
			if err := d.pageTree(oc[k], cc[k], 0); err != nil {
				return err
			}
		default:
			eq, err := d.equal(oc[k], cc[k], 0)
			if err != nil {
				return err
			}
			if eq {
				continue
			}
			switch k {
			case "DSS":
				d.addIn(rootNr, cc[k], ChangeDSS, true, "the document security store")
			case "Extensions":
				d.add(rootNr, ChangeDSS, true, "catalog /Extensions (the ESIC extension of a DSS)")
			case "Metadata":
				d.addIn(rootNr, cc[k], ChangeMetadata, true, "catalog /Metadata (the XMP metadata stream)")
			default:
				d.addIn(rootNr, cc[k], ChangeCatalog, false, "catalog /"+k)
			}
		}
	}
	if err := d.info(); err != nil {
		return err
	}
	// A widget changed in a page's /Annots that no field accounts for is an appearance drawn on
	// the page outside the form.
	for _, nr := range slices.Sorted(maps.Keys(d.pageWids)) {
		if !d.widgets[nr] {
			c := d.pageWids[nr]
			d.changes = append(d.changes, c)
		}
	}
	return nil
}

// info compares the document information dictionaries, which the trailers name (/Info, ISO
// 32000-1 §14.3.3) and the catalog walk does not reach.
func (d *differ) info() error {
	var a, b types.Object
	if d.old.Info != nil {
		a = *d.old.Info
	}
	if d.cur.Info != nil {
		b = *d.cur.Info
	}
	eq, err := d.equal(a, b, 0)
	if err != nil || eq {
		return err
	}
	if d.cur.Info == nil {
		d.changes = append(d.changes, Change{Revision: d.total, Object: "trailer /Info", Kind: ChangeMetadata,
			Allowed: true, Detail: "the document information dictionary removed"})
		return nil
	}
	d.addIn(int(d.cur.Info.ObjectNumber), b, ChangeMetadata, true, "the document information dictionary (trailer /Info)")
	return nil
}

// pageTree compares a page tree node of old with the one in the same place in cur.
func (d *differ) pageTree(a, b types.Object, depth int) error {
	if depth > limits.MaxPDFObjectDepth {
		return changesError(ErrTooLarge, "page tree deeper than %d", limits.MaxPDFObjectDepth)
	}
	// Equal nodes are walked too: the comparison skips /Parent, through which a page
	// inherits its resources and boxes.
	va, vb, na, nb, err := d.resolve(a, b)
	if err != nil {
		return err
	}
	if na > 0 && nb > 0 {
		key := [2]int{na, nb}
		if d.seen[key] {
			return nil
		}
		d.seen[key] = true
	}
	if d.budget--; d.budget < 0 {
		return changesError(ErrTooLarge, "more than %d objects compared", limits.MaxPDFChangeObjects)
	}
	x, y := changeDict(va), changeDict(vb)
	if x == nil || y == nil || changeName(x, "Type") != changeName(y, "Type") {
		d.add(nb, ChangePageTree, false, "a page tree node replaced")
		return nil
	}
	switch changeName(y, "Type") {
	case "Pages":
		for _, k := range unionKeys(x, y) {
			if k == "Kids" || backRef(x, k) && backRef(y, k) {
				continue
			}
			if eq, err := d.equal(x[k], y[k], 0); err != nil {
				return err
			} else if !eq {
				d.addIn(nb, y[k], ChangePageTree, false, "page tree node /"+k)
			}
		}
		ka, kb, _, _, err := d.resolve(x["Kids"], y["Kids"])
		if err != nil {
			return err
		}
		xa, _ := ka.(types.Array)
		xb, _ := kb.(types.Array)
		if len(xa) != len(xb) {
			d.add(nb, ChangePageTree, false, fmt.Sprintf("pages added or removed (%d kids, then %d)", len(xa), len(xb)))
			return nil
		}
		for i := range xa {
			if err := d.pageTree(xa[i], xb[i], depth+1); err != nil {
				return err
			}
		}
	case "Page":
		for _, k := range unionKeys(x, y) {
			if backRef(x, k) && backRef(y, k) {
				continue
			}
			if k == "Annots" {
				if err := d.annots(nb, x[k], y[k]); err != nil {
					return err
				}
				continue
			}
			if eq, err := d.equal(x[k], y[k], 0); err != nil {
				return err
			} else if !eq {
				d.addIn(nb, y[k], ChangePageContent, false, "page /"+k)
			}
		}
		// What a page does not say itself it inherits, and viewers (pdf.js, MuPDF) look it up
		// through /Parent, which the walk above skips: a page pointed at another parent, or a
		// parent redefined, must not bring other resources, boxes or a rotation.
		for _, k := range inheritable {
			_, inX := x[k]
			_, inY := y[k]
			if inX && inY {
				continue
			}
			if changed, err := d.inheritedChanged(x, y, k); err != nil {
				return err
			} else if changed {
				d.addIn(nb, y["Parent"], ChangePageContent, false, "page /"+k+" inherited through /Parent")
			}
		}
	default:
		d.add(nb, ChangePageTree, false, "a page tree node of type /"+changeName(y, "Type"))
	}
	return nil
}

// inheritable are the page attributes a page may take from its ancestors in the page tree
// (ISO 32000-1 §7.7.3.4).
var inheritable = []string{"Resources", "MediaBox", "CropBox", "Rotate"}

// inheritedChanged reports whether the value of key that x, in the signed revision, and y,
// in the current one, hold or inherit through /Parent differs.
func (d *differ) inheritedChanged(x, y types.Dict, key string) (bool, error) {
	va, err := inheritedIn(d.old, x, key)
	if err != nil {
		return false, err
	}
	vb, err := inheritedIn(d.cur, y, key)
	if err != nil {
		return false, err
	}
	eq, err := d.equal(va, vb, 0)
	if err != nil {
		return false, err
	}
	return !eq, nil
}

// inheritedIn returns the value of key for page in x: its own, or its nearest ancestor's
// through /Parent; nil when none has it.
func inheritedIn(x *model.XRefTable, page types.Dict, key string) (types.Object, error) {
	node := page
	for range limits.MaxPDFObjectDepth {
		if v, ok := node[key]; ok {
			return v, nil
		}
		p, ok := node["Parent"]
		if !ok {
			return nil, nil
		}
		v, _, err := resolveIn(x, p)
		if err != nil {
			return nil, err
		}
		if node = changeDict(v); node == nil {
			return nil, nil
		}
	}
	return nil, changesError(ErrTooLarge, "a page's /Parent chain longer than %d", limits.MaxPDFObjectDepth)
}

// refsByNumber indexes the references in a by their object numbers.
func refsByNumber(a types.Array) map[int]types.Object {
	refs := make(map[int]types.Object, len(a))
	for _, o := range a {
		if r, ok := o.(types.IndirectRef); ok {
			refs[int(r.ObjectNumber)] = o
		}
	}
	return refs
}

// annots compares the /Annots of a page. Widgets are judged by the field walk, which knows the
// field, its lock and whether it is signed; other annotations by DocMDP.
func (d *differ) annots(pageNr int, a, b types.Object) error {
	eq, err := d.equal(a, b, 0)
	if err != nil || eq {
		return err
	}
	va, vb, _, listNr, err := d.resolve(a, b)
	if err != nil {
		return err
	}
	if listNr == 0 {
		listNr = pageNr
	}
	xa, _ := va.(types.Array)
	xb, _ := vb.(types.Array)
	if (va != nil && xa == nil) || (vb != nil && xb == nil) {
		d.add(listNr, ChangePageContent, false, "page /Annots is not an array")
		return nil
	}
	if len(xa) > limits.MaxPDFChangeObjects || len(xb) > limits.MaxPDFChangeObjects {
		return changesError(ErrTooLarge, "too many annotations")
	}
	oldRefs := refsByNumber(xa)
	curRefs := make(map[int]bool, len(xb))
	for _, o := range xb {
		r, ok := o.(types.IndirectRef)
		if !ok {
			// A direct annotation has no identity to follow; unchanged if old had its twin.
			twin := false
			for _, p := range xa {
				if eq, err := d.equal(p, o, 0); err != nil {
					return err
				} else if eq {
					twin = true
					break
				}
			}
			if !twin {
				if err := d.annotation(listNr, o, "an annotation added"); err != nil {
					return err
				}
			}
			continue
		}
		nr := int(r.ObjectNumber)
		curRefs[nr] = true
		prev, had := oldRefs[nr]
		if !had {
			if err := d.annotation(nr, o, "an annotation added"); err != nil {
				return err
			}
			continue
		}
		if eq, err := d.equal(prev, o, 0); err != nil {
			return err
		} else if !eq {
			if err := d.annotation(nr, o, "an annotation changed"); err != nil {
				return err
			}
		}
	}
	for nr, o := range oldRefs {
		if !curRefs[nr] {
			v, _, err := resolveIn(d.old, o)
			if err != nil {
				return err
			}
			if changeName(changeDict(v), "Subtype") == "Widget" {
				d.add(listNr, ChangeField, false, fmt.Sprintf("the widget %d 0 R removed from a page", nr))
			} else {
				d.add(listNr, ChangeAnnotation, d.annotationsAllowed(), fmt.Sprintf("the annotation %d 0 R removed", nr))
			}
		}
	}
	return nil
}

// annotation classifies the annotation b (object nr, or on the list nr when direct) that a
// later revision added or changed, and what a popup's /Parent leads to.
func (d *differ) annotation(nr int, b types.Object, detail string) error {
	if r, ok := b.(types.IndirectRef); ok {
		if d.annotSeen[int(r.ObjectNumber)] {
			return nil
		}
		d.annotSeen[int(r.ObjectNumber)] = true
	}
	v, _, err := resolveIn(d.cur, b)
	dict := changeDict(v)
	if err != nil || dict == nil {
		d.add(nr, ChangePageContent, false, "an annotation that is not a dictionary")
		return nil
	}
	switch changeName(dict, "Subtype") {
	case "Widget":
		if _, ok := b.(types.IndirectRef); !ok {
			d.add(nr, ChangeField, false, "a direct widget, which no field can own")
			return nil
		}
		c := Change{Revision: d.revisionOf(nr), Object: fmt.Sprintf("%d 0 R", nr), Kind: ChangeField, Detail: detail + " (/Widget) that no form field owns"}
		d.pageWids[nr] = c
		return nil
	case "Popup":
		if err := d.popupParent(nr, dict); err != nil {
			return err
		}
	}
	detail += " (/" + changeName(dict, "Subtype") + ")"
	if a := d.annotationAction(dict); a != "" {
		d.add(nr, ChangeAnnotation, false, detail+" with "+a)
		return nil
	}
	if h := d.hiddenShown(b); h > 0 {
		d.add(nr, ChangeAnnotation, false, fmt.Sprintf("%s shows %d 0 R, an object the signed revision held but did not show (shadow attack)", detail, h))
		return nil
	}
	d.add(nr, ChangeAnnotation, d.annotationsAllowed(), detail)
	return nil
}

// popupParent classifies the annotation that the /Parent of a popup (object nr, added or
// changed after the signed revision) names, when a later revision added or changed it, as an
// annotation on the page: the popup shows its text and title, and no page need list it. Its
// /Popup entry, back to this popup, is not compared again.
func (d *differ) popupParent(nr int, popup types.Dict) error {
	p, ok := popup["Parent"]
	if !ok {
		return nil
	}
	if d.budget--; d.budget < 0 {
		return changesError(ErrTooLarge, "more than %d objects compared", limits.MaxPDFChangeObjects)
	}
	named := fmt.Sprintf(", named by the /Parent of the popup %d 0 R", nr)
	r, ok := p.(types.IndirectRef)
	if !ok {
		return d.annotation(nr, p, "a direct annotation"+named)
	}
	pnr := int(r.ObjectNumber)
	if e, had := d.old.Table[pnr]; !had || e == nil || e.Free {
		return d.annotation(pnr, p, "an annotation added"+named)
	}
	same, err := d.sameExcept(p, "Popup", nr)
	if err != nil || same {
		return err
	}
	return d.annotation(pnr, p, "an annotation changed"+named)
}

// sameExcept reports whether o is the same object in the signed revision and the current
// one, its entry key ignored where it refers to object nr on both sides.
func (d *differ) sameExcept(o types.Object, key string, nr int) (bool, error) {
	va, vb, _, _, err := d.resolve(o, o)
	if err != nil {
		return false, err
	}
	// Anything but two dictionaries (a stream, a null) is compared whole.
	x, xok := va.(types.Dict)
	y, yok := vb.(types.Dict)
	if !xok || !yok {
		return d.equal(o, o, 0)
	}
	for _, k := range unionKeys(x, y) {
		if k == key && sameRef(x[k], nr) && sameRef(y[k], nr) || backRef(x, k) && backRef(y, k) {
			continue
		}
		if eq, err := d.equal(x[k], y[k], 0); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// sameRef reports whether o is a reference to object nr.
func sameRef(o types.Object, nr int) bool {
	r, ok := o.(types.IndirectRef)
	return ok && int(r.ObjectNumber) == nr
}

// annotationAction names what an annotation does when it is opened, hovered or clicked,
// beyond going to a page or a URI: an additional-actions dictionary (/AA), or an action
// (/A) of another type (JavaScript, Launch, SubmitForm, ...). Changing annotations (DocMDP
// 3) allows comments, not code. It returns "" when there is none.
func (d *differ) annotationAction(a types.Dict) string {
	if _, ok := a["AA"]; ok {
		return "additional actions (/AA)"
	}
	v, ok := a["A"]
	if !ok {
		return ""
	}
	act, _, err := resolveIn(d.cur, v)
	if err != nil {
		return "an action that cannot be read"
	}
	ad := changeDict(act)
	if s := changeName(ad, "S"); s == "URI" || s == "GoTo" {
		if _, next := ad["Next"]; !next {
			return ""
		}
		return "a chain of actions (/Next)"
	}
	return "an action /" + changeName(ad, "S")
}

// acroForm compares the interactive form dictionaries.
func (d *differ) acroForm(a, b types.Object) error {
	// An equal form is walked too: the comparison skips /Parent, through which a widget
	// inherits its field's value and type.
	va, vb, _, nr, err := d.resolve(a, b)
	if err != nil {
		return err
	}
	x, y := changeDict(va), changeDict(vb)
	if x == nil {
		x = types.Dict{}
	}
	if y == nil {
		d.add(nr, ChangeField, false, "the interactive form removed")
		return nil
	}
	for _, k := range unionKeys(x, y) {
		if k == "Fields" {
			if err := d.fields(x[k], y[k], "", "", 0, 0); err != nil {
				return err
			}
			continue
		}
		eq, err := d.equal(x[k], y[k], 0)
		if err != nil {
			return err
		}
		if eq {
			continue
		}
		switch k {
		case "SigFlags":
			d.add(nr, ChangeSignature, true, "AcroForm /SigFlags")
		default:
			d.add(nr, ChangeField, false, "AcroForm /"+k)
		}
	}
	return nil
}

// fields compares a /Fields or /Kids array; parent is the fully qualified name of the parent
// field and ft its inherited field type.
func (d *differ) fields(a, b types.Object, parent, ft string, lister, depth int) error {
	if depth > limits.MaxPDFObjectDepth {
		return changesError(ErrTooLarge, "fields nested deeper than %d", limits.MaxPDFObjectDepth)
	}
	va, vb, _, nr, err := d.resolve(a, b)
	if err != nil {
		return err
	}
	xa, _ := va.(types.Array)
	xb, _ := vb.(types.Array)
	if vb != nil && xb == nil {
		d.add(nr, ChangeField, false, "a field list that is not an array")
		return nil
	}
	oldRefs := refsByNumber(xa)
	curRefs := make(map[int]bool, len(xb))
	for _, o := range xb {
		r, ok := o.(types.IndirectRef)
		if !ok {
			d.add(nr, ChangeField, false, "a direct field, which a widget cannot point back to")
			continue
		}
		curRefs[int(r.ObjectNumber)] = true
		if prev, had := oldRefs[int(r.ObjectNumber)]; had {
			err = d.field(prev, o, parent, ft, lister, depth+1)
		} else {
			err = d.newField(o, parent, ft, nil, depth+1)
		}
		if err != nil {
			return err
		}
	}
	for onr := range oldRefs {
		if !curRefs[onr] {
			d.add(nr, ChangeField, false, fmt.Sprintf("the field %d 0 R removed", onr))
		}
	}
	return nil
}

func qualifiedName(parent string, f types.Dict) string {
	t, err := types.StringOrHexLiteral(f["T"])
	if err != nil || t == nil {
		return parent
	}
	if parent == "" {
		return *t
	}
	return parent + "." + *t
}

func (d *differ) isLocked(name string) bool {
	return d.perm.LockAll && !d.spared[name] || d.locked[name]
}

// field compares a field (or a widget kid) present in both revisions.
func (d *differ) field(a, b types.Object, parent, ft string, lister, depth int) error {
	va, vb, na, nb, err := d.resolve(a, b)
	if err != nil {
		return err
	}
	key := [2]int{na, nb}
	if d.seen[key] {
		return nil
	}
	d.seen[key] = true
	x, y := changeDict(va), changeDict(vb)
	if y == nil {
		d.add(nb, ChangeField, false, "a field that is not a dictionary")
		return nil
	}
	if x == nil {
		x = types.Dict{}
	}
	d.widgets[nb] = true
	name := qualifiedName(parent, y)
	if qualifiedName(parent, x) != name {
		d.add(nb, ChangeField, false, "a field renamed")
	}
	if err := d.fieldParent(nb, x, y, name, lister); err != nil {
		return err
	}
	if t := changeName(y, "FT"); t != "" {
		ft = t
	}
	locked := d.isLocked(name)
	signed := ft == "Sig" && x["V"] != nil
	// A signature field signed after the signed revision: its value, appearance and lock.
	newlySigned := ft == "Sig" && x["V"] == nil && y["V"] != nil
	var signing Change
	if newlySigned {
		signing = d.laterSignature(nb, y, y["V"], fmt.Sprintf("the field %q signed", name))
	}
	for _, k := range unionKeys(x, y) {
		if k == "Kids" {
			if err := d.fields(x[k], y[k], name, ft, nb, depth); err != nil {
				return err
			}
			continue
		}
		eq, err := d.equal(x[k], y[k], 0)
		if err != nil {
			return err
		}
		if eq {
			continue
		}
		switch {
		case k == "V" || k == "AP" || k == "AS" || k == "Lock" || k == "SV":
			switch {
			case signed:
				d.add(nb, ChangeField, false, fmt.Sprintf("the signed field %q: /%s", name, k))
			case locked:
				d.add(nb, ChangeField, false, fmt.Sprintf("the locked field %q: /%s", name, k))
			case newlySigned:
				c := signing
				c.Detail += " (/" + k + ")"
				d.changes = append(d.changes, c)
			case ft == "Sig":
				d.add(nb, ChangeField, false, fmt.Sprintf("the signature field %q: /%s without a signature", name, k))
			default:
				if h := d.hiddenShown(y[k]); h > 0 {
					d.add(nb, ChangeFormFill, false, fmt.Sprintf("the field %q: /%s shows %d 0 R, an object the signed revision held but did not show (shadow attack)", name, k, h))
				} else {
					d.add(nb, ChangeFormFill, d.formFillAllowed(), fmt.Sprintf("the field %q: /%s", name, k))
				}
			}
		case backRef(x, k) && backRef(y, k):
		default:
			d.addIn(nb, y[k], ChangeField, false, fmt.Sprintf("the field %q: /%s", name, k))
		}
	}
	return nil
}

// inheritableField are the field attributes a widget or kid field takes from its ancestors
// (ISO 32000-1 §12.7.3.1, Table 220 and §12.7.3.3).
var inheritableField = []string{"FT", "V", "DV", "Ff", "DA", "Q", "Opt", "MaxLen"}

// fieldParent compares what the field y (nb, listed by the field lister, 0 at the top of the
// form) inherits through its /Parent when that is not its lister: the walk down /Kids skips
// /Parent, and viewers that read a widget's value, type or flags through it (pdf.js) would
// show a parent that no /Kids lists.
func (d *differ) fieldParent(nb int, x, y types.Dict, name string, lister int) error {
	p, ok := y["Parent"]
	if !ok {
		return nil
	}
	if r, isRef := p.(types.IndirectRef); isRef && int(r.ObjectNumber) == lister {
		return nil
	}
	for _, k := range inheritableField {
		if _, own := y[k]; own {
			if _, had := x[k]; had {
				continue
			}
		}
		if changed, err := d.inheritedChanged(x, y, k); err != nil {
			return err
		} else if changed {
			d.addIn(nb, p, ChangeField, false, fmt.Sprintf("the field %q: /%s inherited through a /Parent that does not list it", name, k))
		}
	}
	return nil
}

// newField classifies a field added after the signed revision: a signature field (signed or
// not) or a document time-stamp may be added; any other field may not.
func (d *differ) newField(b types.Object, parent, ft string, val types.Object, depth int) error {
	if depth > limits.MaxPDFObjectDepth {
		return changesError(ErrTooLarge, "fields nested deeper than %d", limits.MaxPDFObjectDepth)
	}
	d.budget--
	if d.budget < 0 {
		return changesError(ErrTooLarge, "more than %d objects compared", limits.MaxPDFChangeObjects)
	}
	vb, nb, err := resolveIn(d.cur, b)
	if err != nil {
		return err
	}
	y := changeDict(vb)
	if y == nil {
		d.add(nb, ChangeField, false, "a field that is not a dictionary")
		return nil
	}
	if d.widgets[nb] {
		return nil
	}
	d.widgets[nb] = true
	name := qualifiedName(parent, y)
	if t := changeName(y, "FT"); t != "" {
		ft = t
	}
	if ft != "Sig" {
		d.add(nb, ChangeField, false, fmt.Sprintf("the field %q added", name))
		return nil
	}
	if v, ok := y["V"]; ok {
		val = v
	}
	c := d.laterSignature(nb, y, val, fmt.Sprintf("the signature field %q added", name))
	if d.isLocked(name) {
		c.Allowed = false
	}
	d.changes = append(d.changes, c)
	if kids, ok := y["Kids"]; ok {
		vk, _, err := resolveIn(d.cur, kids)
		if err != nil {
			return err
		}
		arr, _ := vk.(types.Array)
		for _, k := range arr {
			if err := d.newField(k, name, ft, val, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// laterSignature classifies a signature field (or its widget, nr) that a later revision added
// or signed, val its /V (inherited from a parent field): a signature or a document
// time-stamp, allowed by the permissions. What such a field may draw on a page is bounded:
// its widget shows what a signer claims, so an unsigned field, a document time-stamp (which
// has no appearance in PAdES) or a /V that is not a signature of its own may not draw
// anything (the overlay of Mainka et al.'s "sneaky signature attack", S&P 2021); a visible
// signature is allowed only while it validates (Change.drawnBy).
func (d *differ) laterSignature(nr int, y types.Dict, val types.Object, detail string) Change {
	c := Change{Revision: max(d.revisionOf(nr), d.base+1), Object: fmt.Sprintf("%d 0 R", nr), Kind: ChangeSignature, Allowed: d.signingAllowed(), Detail: detail}
	v, _, err := resolveIn(d.cur, val)
	sig := changeDict(v)
	// As Validate reads it: a /SubFilter /ETSI.RFC3161 is a document time-stamp whatever
	// its /Type says.
	if err == nil && (changeName(sig, "Type") == "DocTimeStamp" || changeName(sig, "SubFilter") == "ETSI.RFC3161") {
		c.Kind, c.Allowed = ChangeDocumentTimeStamp, true
	}
	ref, indirect := val.(types.IndirectRef)
	if indirect {
		if e, ok := d.old.Table[int(ref.ObjectNumber)]; ok && e != nil && !e.Free {
			c.Allowed = false
			c.Detail += fmt.Sprintf(": its value %d 0 R is an object of the signed revision, not a later signature", int(ref.ObjectNumber))
			return c
		}
	}
	if !d.visibleWidget(y) {
		return c
	}
	switch {
	case c.Kind == ChangeDocumentTimeStamp:
		c.Allowed, c.Detail = false, c.Detail+" with a visible appearance, which a document time-stamp does not have"
	case sig == nil:
		c.Allowed, c.Detail = false, c.Detail+" with a visible appearance but no signature"
	case !indirect:
		c.Allowed, c.Detail = false, c.Detail+" with a visible appearance and a direct signature dictionary"
	default:
		c.drawnBy = int(ref.ObjectNumber)
	}
	return c
}

// visibleWidget reports whether the widget annotation w can draw on a page: it has an area
// (/Rect) and is neither hidden nor "no view" (/F bits 2 and 6, ISO 32000-1 §12.5.3). A
// widget with no appearance stream counts: a viewer draws its /MK border and background.
func (d *differ) visibleWidget(w types.Dict) bool {
	if f, ok := w["F"].(types.Integer); ok && int(f)&(2|32) != 0 {
		return false
	}
	v, _, err := resolveIn(d.cur, w["Rect"])
	rect, _ := v.(types.Array)
	if err != nil || len(rect) != 4 {
		// A widget without a readable rectangle: only an annotation dictionary that is not
		// a widget at all (a field with widget kids) has none.
		return changeName(w, "Subtype") == "Widget"
	}
	var n [4]float64
	for i, o := range rect {
		switch x := o.(type) {
		case types.Integer:
			n[i] = float64(x)
		case types.Float:
			n[i] = float64(x)
		default:
			return true
		}
	}
	return n[0] != n[2] && n[1] != n[3]
}
