package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/signature"
)

func init() {
	register(command{
		name:    "verify",
		summary: "validate a detached CAdES or JAdES signature, or a signed PDF: --trust ROOTS.pem [--at TIME] DOC SIG | SIGNED.pdf",
		run:     runVerify,
	})
}

const verifyUsage = "dpi verify --trust ROOTS.pem [--at RFC3339] [--crl FILE]... [--ocsp FILE]... [--json] DOC SIG\n" +
	"dpi verify --trust ROOTS.pem [--at RFC3339] [--json] SIGNED.pdf\n\n" +
	"With one argument, a PDF (it begins with %PDF-), validates every PAdES signature and\n" +
	"document time-stamp in it and prints one report per signature, with what changed after\n" +
	"it (--json: an array); the exit code is the worst indication's.\n\n" +
	"Validates the detached signature SIG (CAdES DER, or JAdES: a compact JWS, or a JWS JSON\n" +
	"serialization, flattened or general with one signature as EU DSS writes it; detected)\n" +
	"over DOC (\"-\" for standard input) against the trust anchors in ROOTS.pem, checking\n" +
	"revocation by OCSP then CRL, and prints an ETSI EN 319 102-1 style report. --at\n" +
	"validates as of that time. --crl and --ocsp (repeatable, DER or PEM) give CRLs and OCSP\n" +
	"responses you already hold: they are read before anything is fetched, count only when\n" +
	"signed by the certificate's issuer (or its OCSP responder) and current at the validation\n" +
	"time, and suffice for a certificate that names no responder; nothing is fetched for a\n" +
	"certificate they speak for. The revocation data a\n" +
	"CAdES-BASELINE-LT signature carries is used too (and a JAdES one's), judged at its\n" +
	"time-stamp's time, so that it validates without the network; an LTA signature's archive\n" +
	"time-stamps prove that it existed before its certificates expired. The format line says\n" +
	"which level the signature reached.\n" +
	"Exit 0 TOTAL_PASSED, 1 TOTAL_FAILED, 3 INDETERMINATE, 2 unreadable input\n" +
	"(including a --crl or --ocsp file that is not a CRL or an OCSP response)."

func runVerify(e *env, args []string) int {
	fs := e.newFlags("verify", verifyUsage)
	trust := fs.String("trust", "", "trust anchors (PEM or DER certificates); required")
	at := fs.String("at", "", "validation time, RFC 3339 (default: now)")
	var crlFiles, ocspFiles revocationFiles
	fs.Var(&crlFiles, "crl", "a file of CRLs (DER or PEM) to use before fetching (repeatable)")
	fs.Var(&ocspFiles, "ocsp", "a file of OCSP responses (DER or PEM) to use before fetching (repeatable)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *trust == "" {
		return e.usageError("verify: --trust is required: nothing is trusted by default")
	}
	if len(rest) != 2 && !(len(rest) == 1 && isPDF(rest[0])) {
		return e.usageError("verify: want a document and a signature, or one signed pdf")
	}
	policy := &signature.Policy{}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return e.usageError("verify: --at is not an RFC 3339 time")
		}
		policy.At = t
	}
	roots, code, ok := loadTrust(e, "verify", *trust)
	if !ok {
		return code
	}
	policy.Roots = roots
	var err error
	policy.CRLs, policy.OCSPResponses, err = loadRevocationData(e, crlFiles, ocspFiles)
	if err != nil {
		return e.usageError("verify: %s", oneLine(err.Error()))
	}
	if len(rest) == 1 {
		return verifyPAdES(e, rest[0], policy)
	}
	if rest[0] == "-" && rest[1] == "-" {
		return e.usageError("verify: the document and the signature cannot both be standard input")
	}
	sig, err := e.readInput(rest[1], limits.MaxCLIInput)
	if err != nil {
		return e.usageError("verify: %s", oneLine(err.Error()))
	}
	if len(sig) > 0 && sig[0] != 0x30 {
		sig = bytes.TrimSpace(sig) // a JWS saved by an editor may end with a newline
	}
	if b, _ := pem.Decode(sig); b != nil && pemCMSTypes[b.Type] {
		sig = b.Bytes // openssl cms -outform PEM, and tools that mail signatures
	}
	doc, closeDoc, err := openDocument(e, rest[0])
	if err != nil {
		return e.usageError("verify: %s", oneLine(err.Error()))
	}
	defer closeDoc()
	report, err := signature.Validate(e.ctx, doc, sig, policy)
	if err != nil {
		if errors.Is(err, signature.ErrMalformed) && !looksLikeSignature(sig) {
			msg := fmt.Sprintf("verify: %s is not a signature: it looks like %s; expected a CAdES signature (DER, or PEM CMS) or a JAdES compact JWS (or JSON serialization, flattened or general)",
				displayName(rest[1]), describeInput(sig))
			if head := peek(rest[0]); looksLikeSignature(head) {
				msg += fmt.Sprintf(", and the document %s looks like one: are DOC and SIG swapped? (dpi verify DOC SIG)", displayName(rest[0]))
			}
			return e.usageError("%s", msg)
		}
		if errors.Is(err, signature.ErrMalformed) || errors.Is(err, signature.ErrTooLarge) {
			return e.usageError("verify: unreadable signature: %s", oneLine(err.Error()))
		}
		return e.usageError("verify: %s", oneLine(err.Error()))
	}
	if e.json {
		if err := e.printJSON(newVerifyJSON(report)); err != nil {
			return exitUsage
		}
	} else {
		printReport(e.stdout, report)
	}
	switch report.Indication {
	case signature.TotalPassed:
		return exitOK
	case signature.TotalFailed:
		return exitRejected
	default:
		return exitIndeterminate
	}
}

// verifyJSON is what "dpi verify --json" prints: the report, with the top-level fields of
// the command line contract (issue 6: indication, subIndication, format, signedBy,
// signingTime) always present, null when the report has no value for them, so that a
// script can read them without testing for their presence.
type verifyJSON struct {
	Indication    signature.Indication     `json:"indication"`
	SubIndication *signature.SubIndication `json:"subIndication"`
	Format        string                   `json:"format"`
	SignedBy      *string                  `json:"signedBy"`
	SigningTime   *time.Time               `json:"signingTime"`
	*signature.Report
}

func newVerifyJSON(r *signature.Report) verifyJSON {
	v := verifyJSON{Indication: r.Indication, Format: r.Format, SigningTime: r.SigningTime, Report: r}
	if r.SubIndication != "" {
		v.SubIndication = &r.SubIndication
	}
	if r.SignedBy != "" {
		v.SignedBy = &r.SignedBy
	}
	return v
}

func printReport(w io.Writer, r *signature.Report) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-20s %s\n", k+":", printable(v))
		}
	}
	ind := string(r.Indication)
	if r.SubIndication != "" {
		ind += " / " + string(r.SubIndication)
	}
	line("indication", ind)
	line("format", r.Format)
	line("signed by", r.SignedBy)
	if r.SigningTime != nil {
		line("signing time", r.SigningTime.UTC().Format(time.RFC3339)+" (claimed)")
	}
	line("best signature time", r.BestSignatureTime.UTC().Format(time.RFC3339))
	line("validation time", r.ValidationTime.UTC().Format(time.RFC3339))
	line("algorithms", strings.TrimSpace(r.SignatureAlgorithm+" "+r.DigestAlgorithm))
	if ts := r.Timestamp; ts != nil && ts.Valid {
		line("time-stamp", ts.Time.UTC().Format(time.RFC3339)+" by "+ts.TSA)
	}
	for _, ts := range r.ArchiveTimestamps {
		if ts.Valid {
			line("archive time-stamp", ts.Time.UTC().Format(time.RFC3339)+" by "+ts.TSA)
		}
	}
	for i, c := range r.Chain {
		k := ""
		if i == 0 {
			k = "chain"
		}
		fmt.Fprintf(w, "%-20s %s\n", k+map[bool]string{true: ":", false: ""}[k != ""], printable(c.Subject))
	}
	for _, s := range r.Revocation {
		v := s.Status
		if s.Source != "" && s.Offline {
			v += " (" + s.Source + ", offline)"
		} else if s.Source != "" && s.Embedded {
			v += " (" + s.Source + ", in the signature)"
		} else if s.Source != "" {
			v += " (" + s.Source + ")"
		}
		if s.RevokedAt != nil {
			v += " at " + s.RevokedAt.UTC().Format(time.RFC3339)
		}
		if s.Reason != "" {
			v += ": " + s.Reason
		}
		line("revocation", s.Subject+": "+oneLine(v))
	}
	for _, e := range r.Errors {
		line("error", oneLine(e))
	}
	for _, wn := range r.Warnings {
		line("warning", oneLine(wn))
	}
}

// pemCMSTypes are the PEM labels a CMS signature travels under (RFC 7468 §9: "CMS"; older
// tools write "PKCS7").
var pemCMSTypes = map[string]bool{"CMS": true, "PKCS7": true, "PKCS #7 SIGNED DATA": true}

// oidSignedData is id-signedData (RFC 5652 §5.1), DER-encoded with its tag and length: it
// opens every CMS signature, a few bytes in.
var oidSignedData = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

// looksLikeSignature says whether b starts like a CAdES signature (DER or PEM CMS) or a
// compact JWS: enough to tell a swapped argument, not a check.
func looksLikeSignature(b []byte) bool {
	if bl, _ := pem.Decode(b); bl != nil {
		return pemCMSTypes[bl.Type]
	}
	if len(b) > 0 && b[0] == 0x30 {
		return bytes.Contains(b[:min(len(b), 32)], oidSignedData)
	}
	t := bytes.TrimSpace(b)
	if bytes.HasPrefix(t, []byte("{")) {
		// JAdES in JSON serialization: a protected header and a signature.
		head := t[:min(len(t), 64<<10)]
		return bytes.Contains(head, []byte(`"protected"`)) && bytes.Contains(head, []byte(`"signature"`))
	}
	return bytes.HasPrefix(t, []byte("eyJ")) && bytes.Count(t[:min(len(t), 64<<10)], []byte(".")) == 2
}

// describeInput names what b looks like, for a message about the wrong input.
func describeInput(b []byte) string {
	switch {
	case len(b) == 0:
		return "an empty file"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "a PDF document"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "a ZIP archive (or an office document)"
	}
	if bl, _ := pem.Decode(b); bl != nil {
		return fmt.Sprintf("a PEM %q block", truncateInput(bl.Type))
	}
	if b[0] == 0x30 {
		return "DER (ASN.1) data that is not a CMS signature"
	}
	if head := b[:min(len(b), 512)]; utf8.Valid(head) || utf8.Valid(head[:max(0, len(head)-3)]) {
		return "text"
	}
	return "binary data"
}

// peek returns the first bytes of a file, or nothing for standard input or a file that
// cannot be read.
func peek(name string) []byte {
	if name == "-" {
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 512)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

// loadTrust reads the trust anchors of dpi cmd from the file name (PEM or DER); when it
// fails, ok is false and code is the exit code, the usage error printed.
func loadTrust(e *env, cmd, name string) (roots *x509.CertPool, code int, ok bool) {
	rootsPEM, err := e.readInput(name, limits.MaxCLIInput)
	if err != nil {
		return nil, e.usageError("%s: %s", cmd, oneLine(err.Error())), false
	}
	certs, err := signature.LoadCertificates(rootsPEM)
	if err != nil {
		return nil, e.usageError("%s: trust anchors: %s", cmd, oneLine(err.Error())), false
	}
	return poolOf(certs), exitOK, true
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// revocationFiles is a repeatable --crl or --ocsp flag: the files named, in order.
type revocationFiles []string

func (r *revocationFiles) String() string { return strings.Join(*r, ", ") }

func (r *revocationFiles) Set(v string) error {
	if v == "-" {
		return errors.New("revocation data is read from files, not standard input")
	}
	*r = append(*r, v)
	return nil
}

// loadRevocationData reads the --crl and --ocsp files, DER or PEM, each within
// limits.MaxRevocationFile, for a Policy or SignerOptions.
func loadRevocationData(e *env, crlFiles, ocspFiles []string) ([]*x509.RevocationList, [][]byte, error) {
	if n := len(crlFiles) + len(ocspFiles); n > limits.MaxRevocationItems {
		return nil, nil, fmt.Errorf("%d --crl and --ocsp files, more than %d", n, limits.MaxRevocationItems)
	}
	var crls []*x509.RevocationList
	var responses [][]byte
	for _, name := range crlFiles {
		b, err := e.readInput(name, limits.MaxRevocationFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--crl: %v", err)
		}
		l, err := signature.LoadCRLs(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--crl %s: %v", name, err)
		}
		crls = append(crls, l...)
	}
	for _, name := range ocspFiles {
		b, err := e.readInput(name, limits.MaxRevocationFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--ocsp: %v", err)
		}
		r, err := signature.LoadOCSPResponses(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--ocsp %s: %v", name, err)
		}
		responses = append(responses, r...)
	}
	return crls, responses, nil
}
