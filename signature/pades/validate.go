package pades

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/signature"
)

// Report is the validation of one signature or document time-stamp of a PDF: the report of
// package signature (same JSON names: indication, subIndication, format, signedBy...), and
// where the signature is in the PDF and what changed after it.
type Report struct {
	signature.Report

	// Field is the fully qualified name of the signature field.
	Field string `json:"field"`
	// Kind is "signature" or "documentTimestamp".
	Kind string `json:"kind"`
	// Revision is the number of the revision the signature signs: 1 is the original
	// document, each incremental update adds one.
	Revision int `json:"revision"`
	// CoversWholeDocument is true when the byte range reaches the end of the file: nothing
	// was added after the signature.
	CoversWholeDocument bool `json:"coversWholeDocument"`
	// Certification is the DocMDP permission of a certification signature (1 to 3), 0 for
	// an approval signature.
	Certification Certification `json:"certification,omitempty"`
	// Changes are the changes the later revisions make, each allowed or not by the
	// permissions the signature is judged under. A change not allowed makes the
	// signature TOTAL_FAILED/HASH_FAILURE: what the signer signed is not what the document
	// now is.
	Changes []Change `json:"changes"`
}

// sigItem is a signature field's dictionary once its byte range has been checked.
type sigItem struct {
	f        field
	kind     string // "signature" or "documentTimestamp"
	br       [4]int64
	end      int64
	contents []byte
	problem  string // why the byte range or /Contents is refused; empty when they pass
	rep      *Report
}

// Validate finds every signature and document time-stamp of the PDF in r (size bytes) and
// validates each against policy, in the order of the revisions they sign.
//
// For each it checks the /ByteRange strictly: four non-negative integers, starting at 0,
// covering everything up to the end of a revision but exactly the /Contents hex string of
// that very signature dictionary. A range that fails is reported TOTAL_FAILED/FORMAT_FAILURE
// with the reason, and the CMS is not read. The ranges are hashed as they stream, and the
// CMS (SubFilter ETSI.CAdES.detached, or adbe.pkcs7.detached) is validated by package
// signature with the document security store's certificates, CRLs and OCSP responses as
// validation data the signature carries, so that an LT or LTA PDF validates with no
// network. A document time-stamp (ETSI.RFC3161) is validated as a report of its own, and
// when it passes it is a proof of existence for the signatures it covers, which then reach
// PAdES-BASELINE-LTA when they are LT.
//
// Validate returns an error, and no reports, when the policy has no roots
// (signature.ErrNoTrustAnchors), the PDF cannot be read (ErrMalformed), is encrypted
// (ErrEncrypted), or is over a cap (ErrTooLarge). A PDF with no signature gives no reports
// and no error.
func Validate(ctx context.Context, r io.ReaderAt, size int64, policy *signature.Policy) (reps []Report, err error) {
	if policy == nil || policy.Roots == nil {
		return nil, signature.ErrNoTrustAnchors
	}
	// The PDF library reads untrusted objects as they are dereferenced, after
	// readDocument's own guard: a panic in it is a malformed PDF, not a crash.
	defer func() {
		if p := recover(); p != nil {
			reps, err = nil, malformedError("structure", "the pdf library failed on this pdf")
		}
	}()
	d, cat, fields, err := readSignatureFields(ctx, r, size)
	if err != nil {
		return nil, err
	}
	// A revision ends at a %%EOF that closes a trailer; the same bytes inside a stream do
	// not count, so that revision numbers are the ones a reader of the file sees. The scan
	// reads the whole file, so it runs beside the signatures' digests, which read it too;
	// its result is needed only for the reports' revisions and the change analysis.
	scanned := make(chan revisionEnds, 1)
	go func() { scanned <- scanRevisionEnds(ctx, r, size) }()
	waitScan := func() ([]int64, error) {
		if scanned == nil {
			return nil, nil
		}
		res := <-scanned
		scanned = nil
		return res.ends, res.err
	}
	defer waitScan()
	dss := d.readDSS(cat)
	certNr, certP := d.certification(cat)
	items := make([]*sigItem, 0, len(fields))
	holders := make(map[int]string, len(fields))
	for _, f := range fields {
		items = append(items, d.checkSignature(f))
		if f.sigNr != 0 {
			holders[f.sigNr] = holders[f.sigNr] + " " + strconv.Quote(f.name)
		}
	}
	// One signature dictionary is one signature: a second field whose /V is the same
	// dictionary would show a signer's valid signature where the signer never signed, with an
	// appearance of the forger's making. Neither field is trusted.
	for _, it := range items {
		if h := holders[it.f.sigNr]; it.f.sigNr != 0 && strings.Count(h, " ") > 1 && it.problem == "" {
			it.problem = "field: the signature dictionary is the value of several fields:" + h
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].end < items[j].end })
	if certNr == 0 {
		// A signature whose own (signed) dictionary carries a DocMDP transform certifies
		// the document even when a later update took /Perms out of the catalog: its
		// permissions are read from what was signed, not from what came after.
		for _, it := range items {
			if p, ok := d.sigDocMDP(it.f.sig); ok && it.f.sigNr != 0 {
				certNr, certP = it.f.sigNr, p
				break
			}
		}
	}

	// Document time-stamps first, latest first: each is a proof of existence for what it
	// covers, the earlier document time-stamps included, whose authorities' certificates
	// then need only have been valid until it (EN 319 102-1 §5.6.3, renewal by EN 319 142-1
	// §5.4.3). items is sorted by the end of what each covers.
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if it.kind != "documentTimestamp" || it.problem != "" {
			continue
		}
		data := signature.PAdESData{DSS: dss, ProofOfExistence: proofOfExistence(items, it.end, true)}
		rep, err := signature.ValidateDocumentTimestamp(ctx, it.ranges(r), it.contents, policy, data)
		if err != nil {
			it.problem = "document time-stamp: " + err.Error()
			continue
		}
		it.rep = &Report{Report: *rep}
	}
	for _, it := range items {
		if it.kind != "signature" || it.problem != "" {
			continue
		}
		poe := proofOfExistence(items, it.end, false)
		lta := !poe.IsZero()
		data := signature.PAdESData{DSS: dss, ProofOfExistence: poe}
		if m, ok := pdfTime(d.text(it.f.sig, "M")); ok {
			data.SigningTime = &m
		}
		rep, err := signature.ValidatePAdES(ctx, it.ranges(r), it.contents, policy, data)
		if err != nil {
			it.problem = "cms: " + err.Error()
			continue
		}
		if sf := name(it.f.sig, "SubFilter"); sf != "ETSI.CAdES.detached" {
			rep.Format = "PDF-PKCS7-DETACHED"
			rep.Warnings = append(rep.Warnings, "subfilter "+sf+" is not pades baseline (en 319 142-1 names ETSI.CAdES.detached)")
		} else if lta && rep.Format == "PAdES-BASELINE-LT" {
			rep.Format = "PAdES-BASELINE-LTA"
		}
		it.rep = &Report{Report: *rep}
	}

	ends, err := waitScan()
	if err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(items))
	for _, it := range items {
		if it.rep == nil {
			vt := policy.At
			if vt.IsZero() {
				vt = time.Now()
				if policy.Now != nil {
					vt = policy.Now()
				}
			}
			it.rep = &Report{Report: signature.Report{Indication: signature.TotalFailed, SubIndication: signature.FormatFailure,
				Format: "PAdES", ValidationTime: vt.UTC(), BestSignatureTime: vt.UTC(), Errors: []string{it.problem}}}
		}
		rep := it.rep
		rep.Field, rep.Kind = it.f.name, it.kind
		rep.Revision = revisionOf(ends, it.end)
		rep.CoversWholeDocument = it.end == size
		perm := Permissions{}
		if certNr != 0 && it.f.sigNr == certNr {
			rep.Certification = Certification(certP)
		}
		if certNr != 0 {
			if c := itemByNr(items, certNr); c != nil && c.end <= it.end {
				perm.DocMDP = certP
			}
		}
		d.fieldMDP(it.f.sig, &perm)
		if it.problem == "" && it.end > 0 {
			changes, err := analyzeChangesIn(d.x, r, size, it.end, perm)
			if err != nil {
				rep.fail("changes: the changes after this signature could not be analysed: " + err.Error())
			}
			rep.Changes = changes
			var refused []string
			for _, c := range changes {
				if !c.Allowed {
					refused = append(refused, c.Object+" ("+c.Kind+")")
				}
			}
			if len(refused) > 0 {
				rep.fail("changes: the document was changed after this signature in ways its permissions do not allow: " + strings.Join(refused, ", "))
			}
		}
		if rep.Changes == nil {
			rep.Changes = []Change{}
		}
	}
	// A later visible signature may draw on the page only while it validates: otherwise
	// anyone could overlay a signed page with a widget and a signature that signs nothing.
	// Latest first, so that a refusal reaches the signatures before it.
	for i := len(items) - 1; i >= 0; i-- {
		rep := items[i].rep
		var refused []string
		for j, c := range rep.Changes {
			if !c.Allowed || c.drawnBy == 0 {
				continue
			}
			if by := itemByNr(items, c.drawnBy); by == nil || by.kind != "signature" || by.rep.Indication != signature.TotalPassed {
				rep.Changes[j].Allowed = false
				rep.Changes[j].Detail += ": a visible signature that does not validate"
				refused = append(refused, c.Object+" ("+c.Kind+")")
			}
		}
		if len(refused) > 0 {
			rep.fail("changes: a later signature that does not validate draws on the page: " + strings.Join(refused, ", "))
		}
	}
	for _, it := range items {
		out = append(out, *it.rep)
	}
	return out, nil
}

// revisionEnds is what scanRevisionEnds found.
type revisionEnds struct {
	ends []int64
	err  error
}

// scanRevisionEnds finds where each revision of the PDF in r ends: after a %%EOF that closes
// a trailer. More than limits.MaxPDFRevisions is ErrTooLarge; it stops when ctx ends.
func scanRevisionEnds(ctx context.Context, r io.ReaderAt, size int64) revisionEnds {
	var ends []int64
	err := scanEOFs(ctx, r, size, func(e int64) bool {
		if isRevisionEnd(r, e) {
			ends = append(ends, e)
		}
		return len(ends) <= limits.MaxPDFRevisions
	})
	if err == nil && len(ends) > limits.MaxPDFRevisions {
		err = tooManyRevisions()
	}
	return revisionEnds{ends, err}
}

// proofOfExistence is the time of the earliest valid document time-stamp of items that
// covers a revision ending at end (strictly later when it is a document time-stamp's own:
// a time-stamp is no proof of its own existence); zero when there is none.
func proofOfExistence(items []*sigItem, end int64, later bool) time.Time {
	var poe time.Time
	for _, ts := range items {
		if ts.kind != "documentTimestamp" || ts.rep == nil || !ts.rep.Passed() || ts.end < end || (later && ts.end == end) {
			continue
		}
		if poe.IsZero() || ts.rep.BestSignatureTime.Before(poe) {
			poe = ts.rep.BestSignatureTime
		}
	}
	return poe
}

// fail makes a report TOTAL_FAILED/HASH_FAILURE for a change after the signature that its
// permissions do not allow: the signed revision is intact, but the document shown is not
// the one signed (EN 319 102-1 has no finer indication for it; a TOTAL_FAILED that was
// already reached keeps its sub-indication).
func (r *Report) fail(msg string) {
	if r.Indication != signature.TotalFailed {
		r.Indication, r.SubIndication = signature.TotalFailed, signature.HashFailure
	}
	r.Errors = append(r.Errors, msg)
}

func itemByNr(items []*sigItem, nr int) *sigItem {
	for _, it := range items {
		if it.f.sigNr == nr {
			return it
		}
	}
	return nil
}

// revisionOf is the number of the revision that ends at end: 1 plus the revisions that
// end before it.
func revisionOf(ends []int64, end int64) int {
	n := 1
	for _, e := range ends {
		if e < end {
			n++
		}
	}
	return n
}

// ranges streams the bytes the item's /ByteRange covers.
func (it *sigItem) ranges(r io.ReaderAt) io.Reader {
	return io.MultiReader(io.NewSectionReader(r, it.br[0], it.br[1]), io.NewSectionReader(r, it.br[2], it.br[3]))
}

// checkSignature reads a signature dictionary's /ByteRange and /Contents and checks them
// against the file's bytes (the "PDF insecurity" attacks: universal signature forgery,
// signature wrapping): the range starts at 0, its gap is exactly a hex string that is the
// dictionary's /Contents, inside the dictionary's own object, and it ends at the end of a
// revision.
func (d *document) checkSignature(f field) *sigItem {
	it := &sigItem{f: f, kind: "signature"}
	switch t, sf := name(f.sig, "Type"), name(f.sig, "SubFilter"); {
	case t == "DocTimeStamp" || sf == "ETSI.RFC3161":
		it.kind = "documentTimestamp"
		if sf != "ETSI.RFC3161" {
			it.problem = "subFilter: a document time-stamp must be ETSI.RFC3161"
			return it
		}
	case sf == "ETSI.CAdES.detached" || sf == "adbe.pkcs7.detached":
	default:
		it.problem = fmt.Sprintf("subFilter: %q is not supported (ETSI.CAdES.detached, adbe.pkcs7.detached, ETSI.RFC3161)", sf)
		return it
	}
	br, reason := d.byteRange(f)
	if reason != "" {
		it.problem = "byteRange: " + reason
		return it
	}
	it.br, it.end = br, br[2]+br[3]
	contents, reason := d.contents(f, br)
	if reason != "" {
		it.problem = "contents: " + reason
		return it
	}
	it.contents = contents
	return it
}

// byteRange reads and checks /ByteRange.
func (d *document) byteRange(f field) ([4]int64, string) {
	var br [4]int64
	arr := d.array(f.sig["ByteRange"])
	if arr == nil {
		return br, "missing or not an array"
	}
	if len(arr) != 4 {
		return br, fmt.Sprintf("%d numbers, not 4", len(arr))
	}
	for i, o := range arr {
		n, ok := o.(types.Integer)
		if !ok {
			return br, "not four integers"
		}
		if n < 0 {
			return br, "a negative number"
		}
		br[i] = int64(n)
	}
	// Every number is checked against the file size before any arithmetic on it.
	switch {
	case br[0] != 0:
		return br, "does not start at 0"
	case br[1] > d.size || br[2] > d.size || br[3] > d.size-br[2]:
		return br, "beyond the end of the file"
	case br[1] < 1 || br[2]-br[1] < 2:
		return br, "the gap for /Contents is empty, too short or reversed"
	case br[2]-br[1]-2 > 2*limits.MaxPDFContents:
		return br, fmt.Sprintf("the /Contents gap is over %d bytes", 2*limits.MaxPDFContents+2)
	case !isRevisionEnd(d.r, br[2]+br[3]):
		return br, "does not end at the end of a revision (%%EOF)"
	}
	return br, ""
}

// contents checks that the gap of br is exactly a hex string, in the signature
// dictionary's object, equal to its /Contents, and returns the decoded bytes without the
// zero padding.
func (d *document) contents(f field, br [4]int64) ([]byte, string) {
	gap := make([]byte, br[2]-br[1])
	if _, err := d.r.ReadAt(gap, br[1]); err != nil {
		return nil, "the gap cannot be read"
	}
	if gap[0] != '<' || gap[len(gap)-1] != '>' {
		return nil, "the gap of the byte range is not a hex string"
	}
	hexDigits := gap[1 : len(gap)-1]
	if len(hexDigits)%2 != 0 {
		return nil, "odd number of hex digits"
	}
	raw := make([]byte, len(hexDigits)/2)
	if _, err := hex.Decode(raw, hexDigits); err != nil {
		return nil, "the gap holds other characters than hex digits"
	}
	var dict []byte
	switch c := f.sig["Contents"].(type) {
	case types.HexLiteral:
		b, err := c.Bytes()
		if err != nil {
			return nil, "/Contents is not hex"
		}
		dict = b
	default:
		return nil, "/Contents is not a direct hex string"
	}
	if !bytes.Equal(dict, raw) {
		return nil, "the gap of the byte range is not this signature's /Contents"
	}
	// The gap must lie inside the object that holds the dictionary: the signature
	// dictionary's own, or the field's when /V is direct. That object starts before the
	// gap, and no other object of the file starts before the gap ends (signature wrapping
	// moves the signed bytes and puts objects of its own in between).
	holder := f.sigNr
	if holder == 0 {
		holder = f.ref.ObjectNumber.Value()
	}
	e, ok := d.x.Table[holder]
	if !ok || e.Offset == nil || e.Compressed || *e.Offset >= br[1] {
		return nil, "the gap of the byte range is not inside this signature's dictionary"
	}
	if next := d.nextObjectOffset(*e.Offset); next < br[2] {
		return nil, "the gap of the byte range runs past the end of this signature's dictionary"
	}
	der := trimDER(raw)
	// The padding is outside what the signature covers: anything but zeros there is data
	// smuggled into a signed document (and a CMS that other readers may parse otherwise).
	if len(bytes.TrimLeft(raw[len(der):], "\x00")) != 0 {
		return nil, "non-zero bytes after the cms in /Contents"
	}
	return der, ""
}

// nextObjectOffset is the smallest file offset of an object after off, or the largest
// int64 when no object starts after it.
func (d *document) nextObjectOffset(off int64) int64 {
	next := int64(math.MaxInt64)
	for _, e := range d.x.Table {
		if e == nil || e.Free || e.Compressed || e.Offset == nil {
			continue
		}
		if o := *e.Offset; o > off && o < next {
			next = o
		}
	}
	return next
}

// trimDER drops the zero padding after a DER element; the CMS parser refuses trailing data.
func trimDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	n, hdr := 0, 2
	switch l := b[1]; {
	case l < 0x80:
		n = int(l)
	case l == 0x80 || l > 0x84:
		return b
	default:
		k := int(l & 0x7f)
		if len(b) < 2+k {
			return b
		}
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if n < 0 || hdr+n > len(b) {
		return b
	}
	return b[:hdr+n]
}

// pdfTime parses a PDF date (ISO 32000-1 §7.9.4): D:YYYYMMDDHHmmSSOHH'mm', the fields after
// the year optional.
func pdfTime(s string) (time.Time, bool) {
	s = strings.TrimPrefix(s, "D:")
	if len(s) < 4 {
		return time.Time{}, false
	}
	digits := 0
	for digits < len(s) && digits < 14 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	layout := "20060102150405"[:digits]
	if digits < 4 || digits%2 != 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, s[:digits])
	if err != nil {
		return time.Time{}, false
	}
	rest := strings.TrimSuffix(strings.ReplaceAll(s[digits:], "'", ""), "")
	if rest == "" || rest == "Z" || strings.HasPrefix(rest, "Z") {
		return t.UTC(), true
	}
	if len(rest) < 3 || (rest[0] != '+' && rest[0] != '-') {
		return time.Time{}, false
	}
	off := rest[1:]
	if len(off) == 2 {
		off += "00"
	}
	if len(off) != 4 {
		return time.Time{}, false
	}
	z, err := time.Parse("1504", off)
	if err != nil {
		return time.Time{}, false
	}
	secs := z.Hour()*3600 + z.Minute()*60
	if rest[0] == '+' {
		secs = -secs
	}
	return t.Add(time.Duration(secs) * time.Second).UTC(), true
}

// docMDP returns the /P of the document's certification signature, 0 when there is none.
func (d *document) docMDP(cat types.Dict) int {
	_, p := d.certification(cat)
	return p
}

// certification returns the object number of the certification signature named by the
// catalog's /Perms /DocMDP, and the /P of its DocMDP transform (2 when absent, ISO 32000-1
// Table 254); 0, 0 when the document is not certified.
func (d *document) certification(cat types.Dict) (int, int) {
	perms := d.dict(cat["Perms"])
	if perms == nil {
		return 0, 0
	}
	r, ok := perms["DocMDP"].(types.IndirectRef)
	if !ok {
		return 0, 0
	}
	if p, ok := d.sigDocMDP(d.dict(r)); ok {
		return r.ObjectNumber.Value(), p
	}
	return r.ObjectNumber.Value(), 2
}

// sigDocMDP reads the DocMDP transform of a signature dictionary's /Reference: its /P (2
// when absent, ISO 32000-1 Table 254), and whether there is one.
func (d *document) sigDocMDP(sig types.Dict) (int, bool) {
	for i, o := range d.array(sig["Reference"]) {
		if i == limits.MaxPDFFields {
			break
		}
		ref := d.dict(o)
		if name(ref, "TransformMethod") != "DocMDP" {
			continue
		}
		p := 2
		if tp := d.dict(ref["TransformParams"]); tp != nil {
			if n, ok := tp["P"].(types.Integer); ok && n >= 1 && n <= 3 {
				p = int(n)
			}
		}
		return p, true
	}
	return 0, false
}

// fieldMDP reads the FieldMDP transform of a signature dictionary (ISO 32000-1 Table 256)
// into perm: /Action /All locks every field; /Include the /Fields named; /Exclude every
// field but those named. An unknown /Action locks every field: a transform that cannot be
// read can only make a change refused, never allowed.
func (d *document) fieldMDP(sig types.Dict, perm *Permissions) {
	names := func(tp types.Dict) []string {
		var out []string
		for i, f := range d.array(tp["Fields"]) {
			if i == limits.MaxPDFFields {
				break
			}
			if s, err := d.x.DereferenceStringOrHexLiteral(f, 0, nil); err == nil {
				out = append(out, s)
			}
		}
		return out
	}
	for i, o := range d.array(sig["Reference"]) {
		if i == limits.MaxPDFFields {
			break
		}
		ref := d.dict(o)
		if name(ref, "TransformMethod") != "FieldMDP" {
			continue
		}
		tp := d.dict(ref["TransformParams"])
		switch name(tp, "Action") {
		case "Include":
			perm.LockedFields = names(tp)
		case "Exclude":
			perm.LockAll, perm.SparedFields = true, names(tp)
		default:
			perm.LockAll = true
		}
		return
	}
}

// readDSS reads the document security store (catalog /DSS): the certificates, OCSP
// responses and CRLs of /Certs, /OCSPs and /CRLs, each a stream, decoded within the caps of
// package signature. What does not decode is skipped: package signature says in its
// report what validation data was missing.
func (d *document) readDSS(cat types.Dict) signature.ValidationData {
	var vd signature.ValidationData
	dss := d.dict(cat["DSS"])
	if dss == nil {
		return vd
	}
	read := func(key string, max int64, limit int, f func([]byte)) {
		for i, o := range d.array(dss[key]) {
			if i == limit {
				return
			}
			sd, _, err := d.x.DereferenceStreamDict(o)
			// The encoded form may be larger than the decoded cap (ASCIIHex doubles it).
			if err != nil || sd == nil || d.loadStream(sd, 2*max+1024) != nil {
				continue
			}
			if err := sd.DecodeWithLimit(max); err != nil || int64(len(sd.Content)) > max {
				continue
			}
			f(bytes.Clone(sd.Content))
		}
	}
	read("Certs", 64<<10, limits.MaxDSSCertificates, func(b []byte) {
		if c, err := x509.ParseCertificate(b); err == nil {
			vd.Certificates = append(vd.Certificates, c)
		}
	})
	read("OCSPs", limits.MaxOCSPResponse, limits.MaxDSSRevocationValues, func(b []byte) { vd.OCSPResponses = append(vd.OCSPResponses, b) })
	read("CRLs", limits.MaxCRL, limits.MaxDSSRevocationValues, func(b []byte) { vd.CRLs = append(vd.CRLs, b) })
	return vd
}
