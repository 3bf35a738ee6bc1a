package pades

import (
	"context"
	"crypto"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/dpiblocks/dpi/signature"
)

// Level is a PAdES baseline level (ETSI EN 319 142-1 §6).
type Level string

// Levels Sign makes.
const (
	// LevelB is PAdES-BASELINE-B: the signature dictionary and its CAdES CMS.
	LevelB Level = "B-B"
	// LevelT adds a signature time-stamp to the CMS (PAdES-BASELINE-T).
	LevelT Level = "B-T"
	// LevelLT adds, in a further incremental update, a document security store (/DSS)
	// with the certificates, OCSP responses and CRLs that validate the signature and its
	// time-stamp (PAdES-BASELINE-LT).
	LevelLT Level = "B-LT"
	// LevelLTA adds, in a last incremental update, a document time-stamp over the whole
	// document with its DSS (PAdES-BASELINE-LTA).
	LevelLTA Level = "B-LTA"
)

// Certification is the DocMDP permission of a certification signature (ISO 32000-1
// §12.8.2.2, /P of the DocMDP transform): what later revisions may change without
// invalidating it. The zero value makes an approval signature, which certifies nothing.
type Certification int

// Certification levels.
const (
	Approval         Certification = 0 // an approval signature
	CertifyNoChanges Certification = 1 // no change allowed after the signature
	CertifyFormFill  Certification = 2 // form filling and further signatures
	CertifyAnnotate  Certification = 3 // also annotations
)

// Appearance places a visible signature: a rectangle on a page, in PDF points from the
// page's lower-left corner, showing the signer's name, the signing time and the reason.
type Appearance struct {
	Page       int // 1 is the first page
	X, Y, W, H float64
}

// Config configures a Signer.
type Config struct {
	// Signer makes the CMS: a CAdES signer of package signature, whose key may be any
	// crypto.Signer (a PKCS#11 token included). Its level decides what it can make: B-B,
	// B-T (a TSA URL) or B-LT (a TSA URL and Roots). Required.
	Signer *signature.Signer

	// Level is the PAdES level to make. Empty means the signer's level. LevelLTA needs a
	// B-LT signer, whose TSA also makes the document time-stamp.
	Level Level

	// Certify makes a certification signature with that DocMDP permission; it must be the
	// document's first signature. Approval (the zero value) makes an approval signature.
	Certify Certification

	// Visible, when set, draws the signature on a page; nil (the default) signs invisibly.
	Visible *Appearance

	// FieldName names the new signature field: letters, digits, '-', '_' and spaces, up to
	// 64. Empty picks "Signature" and the first number not taken.
	FieldName string

	// Reason and Location go into the signature dictionary (/Reason, /Location) and the
	// visible appearance. Optional; at most 256 characters each.
	Reason, Location string
}

// Signer signs PDFs with PAdES baseline signatures. Build it with NewSigner; it is
// immutable and safe for concurrent use.
type Signer struct {
	cfg Config
}

// NewSigner checks cfg and returns a Signer. A Config it refuses matches ErrConfig.
func NewSigner(cfg Config) (*Signer, error) {
	if cfg.Signer == nil {
		return nil, configError("signer", "a signature.Signer is required")
	}
	want := cfg.Signer.Level()
	switch cfg.Level {
	case "":
		cfg.Level = Level(want)
	case LevelB, LevelT, LevelLT:
		if signature.Level(cfg.Level) != want {
			return nil, configError("level", fmt.Sprintf("level %s needs a signer of level %s, not %s", cfg.Level, cfg.Level, want))
		}
	case LevelLTA:
		if want != signature.LevelLT {
			return nil, configError("level", "level B-LTA needs a signer of level B-LT (a tsa url and roots)")
		}
	default:
		return nil, configError("level", fmt.Sprintf("unknown level %q", cfg.Level))
	}
	if cfg.Certify < Approval || cfg.Certify > CertifyAnnotate {
		return nil, configError("certify", "certification must be 0 to 3")
	}
	if v := cfg.Visible; v != nil {
		if v.Page < 1 || v.W <= 0 || v.H <= 0 || v.X < 0 || v.Y < 0 || v.W > 14400 || v.H > 14400 || v.X > 14400 || v.Y > 14400 {
			return nil, configError("visible", "a page from 1 and a rectangle of positive size within 14400 points")
		}
		vv := *v
		cfg.Visible = &vv
	}
	if len(cfg.FieldName) > 64 || strings.IndexFunc(cfg.FieldName, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ' ')
	}) >= 0 {
		return nil, configError("fieldName", "letters, digits, '-', '_' and spaces, up to 64")
	}
	if len([]rune(cfg.Reason)) > 256 || len([]rune(cfg.Location)) > 256 {
		return nil, configError("reason", "reason and location up to 256 characters")
	}
	return &Signer{cfg: cfg}, nil
}

// Contents sizes: the /Contents placeholder first tried, by level. A CMS that does not fit
// is signed again with a placeholder its size and a margin.
const (
	contentsB = 16 << 10
	contentsT = 32 << 10
	margin    = 4 << 10
)

// Sign reads the PDF in (size bytes) and writes to out the same bytes followed by the
// incremental updates that sign it: the signature (and, for B-LT and B-LTA, the DSS; for
// B-LTA, the document time-stamp). The input is read where it is and hashed as it streams;
// only the updates are held in memory. An error leaves out as it was: when out is a file
// (an *os.File, positioned at its end) the input is written to it as it is hashed, so that
// a large PDF is read once, and on an error the file is truncated back; any other out
// receives nothing until the signature is made.
//
// An encrypted PDF is refused (ErrEncrypted), as are a certification of a document that is
// already signed and a signature on a document certified with no changes allowed
// (ErrConfig).
func (s *Signer) Sign(ctx context.Context, in io.ReaderAt, size int64, out io.Writer) error {
	return s.sign(ctx, in, size, out, false)
}

func (s *Signer) sign(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, allowBreakingDocMDP bool) (err error) {
	undo := func() {}
	defer func() {
		if p := recover(); p != nil {
			err = malformedError("structure", "the pdf library failed on this pdf")
		}
		if err != nil {
			undo()
		}
	}()
	d, cat, fields, err := readSignatureFields(ctx, in, size)
	if err != nil {
		return err
	}
	if s.cfg.Certify != Approval && len(fields) > 0 {
		return configError("certify", "a certification signature must be the document's first signature")
	}
	if p := d.docMDP(cat); p == 1 && !allowBreakingDocMDP {
		return configError("docMDP", "the document is certified with no changes allowed: a signature would break its certification")
	}
	u, err := newUpdater(d)
	if err != nil {
		return err
	}
	undo = u.teeTo(out)
	name := s.cfg.FieldName
	if name == "" {
		name = freeFieldName(fields, "Signature")
	}
	sig := s.cfg.Signer
	at := sig.Now().UTC().Truncate(time.Second)
	contents := contentsB
	if s.cfg.Level != LevelB {
		contents = contentsT
	}
	var cms []byte
	for attempt := 0; ; attempt++ {
		next := u.next
		inc, objs, offs, sigNr, err := s.signatureUpdate(u, name, at, 2*contents)
		if err != nil {
			return err
		}
		p, err := u.fillByteRange(inc, offs[sigNr])
		if err != nil {
			return err
		}
		h := sig.Hash().New()
		if err := u.hashRanges(ctx, h, inc, p); err != nil {
			return err
		}
		cms, err = sig.SignPAdES(ctx, h.Sum(nil), at)
		if err != nil {
			return err
		}
		if fillContents(inc, p, cms) {
			u.commit(inc, objs, offs)
			break
		}
		if attempt > 0 {
			return fmt.Errorf("pades: internal error: the signature outgrew its /Contents twice")
		}
		u.next = next // the retry allocates the same new objects again
		contents = len(cms) + margin
	}
	if s.cfg.Level == LevelLT || s.cfg.Level == LevelLTA {
		vd, err := sig.ValidationDataPAdES(ctx, cms, at)
		if err != nil {
			return err
		}
		if err := u.addDSS([]dssEntry{{cms, vd}}); err != nil {
			return err
		}
	}
	if s.cfg.Level == LevelLTA {
		if _, err := u.addDocumentTimestamp(ctx, sig.DocumentTimestamp, freeFieldName(append(fields, field{name: name}), "Timestamp")); err != nil {
			return err
		}
	}
	return u.writeTo(out)
}

// signatureUpdate builds the update that adds the signature: its dictionary with
// placeholders, its field and widget (and appearance), and the objects they change.
func (s *Signer) signatureUpdate(u *updater, fieldName string, at time.Time, contentsHex int) ([]byte, []pdfObj, map[int]int, int, error) {
	page := 1
	if s.cfg.Visible != nil {
		page = s.cfg.Visible.Page
	}
	pageRef, err := u.d.x.PageDictIndRef(page)
	if err != nil || pageRef == nil {
		return nil, nil, nil, 0, configError("visible", fmt.Sprintf("the document has no page %d", page))
	}
	sigNr := u.alloc()
	entries := " /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M " + pdfDate(at)
	if s.cfg.Reason != "" {
		entries += " /Reason " + utf16Text(s.cfg.Reason)
	}
	if s.cfg.Location != "" {
		entries += " /Location " + utf16Text(s.cfg.Location)
	}
	if s.cfg.Certify != Approval {
		entries += fmt.Sprintf(" /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P %d /V /1.2 >> >>]", s.cfg.Certify)
	}
	objs := []pdfObj{{nr: sigNr, body: sigDictBody(entries, contentsHex)}}
	rect := types.NewNumberArray(0, 0, 0, 0)
	var ap *types.IndirectRef
	if v := s.cfg.Visible; v != nil {
		rect = types.NewNumberArray(v.X, v.Y, v.X+v.W, v.Y+v.H)
		fontNr, apNr := u.alloc(), u.alloc()
		objs = append(objs,
			pdfObj{nr: fontNr, body: []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")},
			streamObj(apNr, fmt.Sprintf(" /Type /XObject /Subtype /Form /BBox [0 0 %s %s] /Resources << /Font << /F1 %d 0 R >> >>",
				num(v.W), num(v.H), fontNr), appearanceStream(v.W, v.H, s.lines(at))))
		r := ref(apNr)
		ap = &r
	}
	more, cat, err := u.addField(fieldName, sigNr, *pageRef, rect, ap)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	objs = append(objs, more...)
	if s.cfg.Certify != Approval {
		cat["Perms"] = types.Dict{"DocMDP": ref(sigNr)}
		objs = replaceObj(objs, u.changed(u.root, cat))
	}
	inc, offs := u.build(objs)
	return inc, objs, offs, sigNr, nil
}

// replaceObj puts o in objs, in place of an older version of the same object.
func replaceObj(objs []pdfObj, o pdfObj) []pdfObj {
	for i := range objs {
		if objs[i].nr == o.nr {
			objs[i] = o
			return objs
		}
	}
	return append(objs, o)
}

// lines is what a visible signature shows.
func (s *Signer) lines(at time.Time) []string {
	l := []string{"Digitally signed by " + s.cfg.Signer.Certificate().Subject.CommonName, "Date: " + at.Format("2006-01-02 15:04:05 UTC")}
	if s.cfg.Reason != "" {
		l = append(l, "Reason: "+s.cfg.Reason)
	}
	if s.cfg.Location != "" {
		l = append(l, "Location: "+s.cfg.Location)
	}
	return l
}

// freeFieldName returns prefix and the first number from 1 that no field is named.
func freeFieldName(fields []field, prefix string) string {
	taken := map[string]bool{}
	for _, f := range fields {
		taken[f.name] = true
	}
	for i := 1; ; i++ {
		if n := fmt.Sprintf("%s%d", prefix, i); !taken[n] {
			return n
		}
	}
}

// dssEntry is validation data for the DSS, and the /Contents of the signature or
// document time-stamp it validates (the key of its /VRI entry).
type dssEntry struct {
	contents []byte
	vd       *signature.ValidationData
}

// addDSS appends the update that adds validation data to the document security store
// (EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): each certificate, OCSP response and CRL as
// a stream (once per update), listed in /Certs, /OCSPs and /CRLs (after what an earlier DSS
// lists) and, for the signature or document time-stamp of each entry, in a /VRI entry keyed
// by the SHA-1 of its /Contents.
func (u *updater) addDSS(entries []dssEntry) error {
	cat := u.catalog()
	dss := u.dict(cat["DSS"])
	if dss == nil {
		dss = types.Dict{"Type": types.Name("DSS")}
	}
	var objs []pdfObj
	written := map[string]types.IndirectRef{}
	vris := u.dict(dss["VRI"])
	if vris == nil {
		vris = types.Dict{}
	}
	for _, e := range entries {
		vri := types.Dict{"Type": types.Name("VRI")}
		add := func(key, vriKey string, items [][]byte) {
			arr, _ := u.array(dss[key])
			var mine types.Array
			for _, it := range items {
				r, ok := written[string(it)]
				if !ok {
					nr := u.alloc()
					r = ref(nr)
					written[string(it)] = r
					objs = append(objs, streamObj(nr, "", it))
					arr = append(arr, r)
				}
				mine = append(mine, r)
			}
			if len(arr) > 0 {
				dss[key] = arr
			}
			if len(mine) > 0 {
				vri[vriKey] = mine
			}
		}
		var certs [][]byte
		for _, c := range e.vd.Certificates {
			certs = append(certs, c.Raw)
		}
		add("Certs", "Cert", certs)
		add("OCSPs", "OCSP", e.vd.OCSPResponses)
		add("CRLs", "CRL", e.vd.CRLs)
		sum := sha1.Sum(e.contents) // the key ISO 32000-2 §12.8.4.4 names; not a security use
		vris[strings.ToUpper(hex.EncodeToString(sum[:]))] = vri
	}
	dss["VRI"] = vris
	dssNr := u.alloc()
	objs = append(objs, pdfObj{nr: dssNr, body: []byte(dss.PDFString()), value: dss})
	cat["DSS"] = ref(dssNr)
	objs = append(objs, u.changed(u.root, cat))
	inc, offs := u.build(objs)
	u.commit(inc, objs, offs)
	return nil
}

// addDocumentTimestamp appends the update that adds a document time-stamp (EN 319 142-1
// §5.4.3): a signature dictionary /Type /DocTimeStamp /SubFilter /ETSI.RFC3161 whose
// /Contents is an RFC 3161 token from stamp over the SHA-256 of its byte ranges, in an
// invisible field. It returns the token.
func (u *updater) addDocumentTimestamp(ctx context.Context, stamp func(context.Context, []byte) ([]byte, error), name string) ([]byte, error) {
	pageRef, err := u.d.x.PageDictIndRef(1)
	if err != nil || pageRef == nil {
		return nil, malformedError("page", "the document has no first page")
	}
	contents := contentsT
	for attempt := 0; ; attempt++ {
		next := u.next
		sigNr := u.alloc()
		objs := []pdfObj{{nr: sigNr, body: sigDictBody(" /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161", 2*contents)}}
		more, _, err := u.addField(name, sigNr, *pageRef, types.NewNumberArray(0, 0, 0, 0), nil)
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
		inc, offs := u.build(objs)
		p, err := u.fillByteRange(inc, offs[sigNr])
		if err != nil {
			return nil, err
		}
		h := crypto.SHA256.New()
		if err := u.hashRanges(ctx, h, inc, p); err != nil {
			return nil, err
		}
		token, err := stamp(ctx, h.Sum(nil))
		if err != nil {
			return nil, err
		}
		if fillContents(inc, p, token) {
			u.commit(inc, objs, offs)
			return token, nil
		}
		if attempt > 0 {
			return nil, fmt.Errorf("pades: internal error: the time-stamp outgrew its /Contents twice")
		}
		u.next = next
		contents = len(token) + margin
	}
}
