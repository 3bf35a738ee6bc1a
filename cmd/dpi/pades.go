package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/signature/pades"
)

// padesFlags are the flags of dpi sign --format pades.
type padesFlags struct {
	certify *string
	visible *string
}

func addPAdESFlags(fs *flag.FlagSet) *padesFlags {
	return &padesFlags{
		certify: fs.String("certify", "", "pades: make a certification signature allowing none, form (filling) or annotate changes"),
		visible: fs.String("visible", "", "pades: a visible signature at PAGE:X,Y,W,H (points from the lower-left corner)"),
	}
}

// misused names a pades flag given with another format.
func (p *padesFlags) misused(format string) string {
	if format == "pades" {
		return ""
	}
	if *p.certify != "" {
		return "--certify"
	}
	if *p.visible != "" {
		return "--visible"
	}
	return ""
}

// parseVisible reads PAGE:X,Y,W,H.
func parseVisible(s string) (*pades.Appearance, error) {
	page, rect, ok := strings.Cut(s, ":")
	nums := strings.Split(rect, ",")
	if !ok || len(nums) != 4 {
		return nil, errors.New("--visible wants PAGE:X,Y,W,H")
	}
	p, err := strconv.Atoi(page)
	if err != nil {
		return nil, errors.New("--visible: the page is not a number")
	}
	a := &pades.Appearance{Page: p}
	for i, dst := range []*float64{&a.X, &a.Y, &a.W, &a.H} {
		if *dst, err = strconv.ParseFloat(strings.TrimSpace(nums[i]), 64); err != nil {
			return nil, errors.New("--visible: X, Y, W and H must be numbers")
		}
	}
	return a, nil
}

// signPAdES is dpi sign --format pades: the CAdES signer options are built by runSign;
// this signs the PDF in into out at level.
func signPAdES(e *env, key crypto.Signer, chain []*x509.Certificate, opts signature.SignerOptions, pf *padesFlags, level, in, out string) int {
	if out == "" {
		return e.usageError("sign: --format pades needs -o OUT.pdf")
	}
	if in == "-" {
		return e.usageError("sign: --format pades reads the pdf from a file, not standard input")
	}
	cfg := pades.Config{Level: pades.Level(level)}
	switch *pf.certify {
	case "":
	case "none":
		cfg.Certify = pades.CertifyNoChanges
	case "form":
		cfg.Certify = pades.CertifyFormFill
	case "annotate":
		cfg.Certify = pades.CertifyAnnotate
	default:
		return e.usageError("sign: --certify must be none, form or annotate")
	}
	if *pf.visible != "" {
		a, err := parseVisible(*pf.visible)
		if err != nil {
			return e.usageError("sign: %s", err.Error())
		}
		cfg.Visible = a
	}
	opts.Format = signature.CAdES
	if level == string(pades.LevelLTA) {
		opts.Level = signature.LevelLT
	}
	var err error
	if cfg.Signer, err = signature.NewSigner(key, chain, opts); err != nil {
		return e.usageError("sign: %s", oneLine(err.Error()))
	}
	signer, err := pades.NewSigner(cfg)
	if err != nil {
		return e.usageError("sign: %s", oneLine(err.Error()))
	}
	var signedAt time.Time
	size, code, ok := rewritePDF(e, "sign", in, out, func(pdf io.ReaderAt, n int64, w io.Writer) error {
		signedAt = time.Now()
		return signer.Sign(e.ctx, pdf, n, w)
	}, signFailed)
	if !ok {
		return code
	}
	if level == "" {
		level = map[bool]string{true: "B-T", false: "B-B"}[opts.TSAURL != ""]
	}
	rep := signReport{Format: "pades", Level: level, Signer: chain[0].Subject.String(),
		SigningTime: signedAt.UTC().Truncate(time.Second), Output: out, Bytes: size}
	return e.report(rep)
}

// rewritePDF writes to out what write makes of the PDF in, and returns out's size. The
// PDF is written beside out and renamed once complete: a failure leaves no half-written
// PDF under the name asked for. When write fails, failed says why and gives the exit
// code; on any failure ok is false and code is the exit code.
func rewritePDF(e *env, cmd, in, out string, write func(in io.ReaderAt, size int64, out io.Writer) error, failed func(*env, error) int) (size, code int, ok bool) {
	f, err := os.Open(in)
	if err != nil {
		return 0, e.usageError("%s: %s", cmd, oneLine(err.Error())), false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, e.usageError("%s: %s", cmd, oneLine(err.Error())), false
	}
	tmp, err := os.CreateTemp(dirOf(out), ".dpi-pades-*")
	if err != nil {
		return 0, e.usageError("%s: %s", cmd, oneLine(err.Error())), false
	}
	defer os.Remove(tmp.Name())
	err = write(f, st.Size(), tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		return 0, e.usageError("%s: %s", cmd, oneLine(cerr.Error())), false
	}
	if err != nil {
		return 0, failed(e, err), false
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, e.usageError("%s: %s", cmd, oneLine(err.Error())), false
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return 0, e.usageError("%s: %s", cmd, oneLine(err.Error())), false
	}
	if info, err := os.Stat(out); err == nil {
		size = int(info.Size())
	}
	return size, exitOK, true
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// isPDF reports whether the file name begins with %PDF-: dpi verify's one-argument form.
func isPDF(name string) bool {
	return name != "-" && bytes.HasPrefix(peek(name), []byte("%PDF-"))
}

// padesJSON is one element of the array "dpi verify --json SIGNED.pdf" prints: the fields
// of a detached signature's report, and where the signature is in the PDF.
type padesJSON struct {
	verifyJSON
	Field               string         `json:"field"`
	Kind                string         `json:"kind"`
	Revision            int            `json:"revision"`
	CoversWholeDocument bool           `json:"coversWholeDocument"`
	Certification       int            `json:"certification,omitempty"`
	Changes             []pades.Change `json:"changes"`
}

// verifyPAdES is dpi verify with one argument, a PDF: one report per signature, and the
// exit code of the worst indication.
func verifyPAdES(e *env, name string, policy *signature.Policy) int {
	f, err := os.Open(name)
	if err != nil {
		return e.usageError("verify: %s", oneLine(err.Error()))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return e.usageError("verify: %s", oneLine(err.Error()))
	}
	reports, err := pades.Validate(e.ctx, f, st.Size(), policy)
	if err != nil {
		return e.usageError("verify: %s: %s", displayName(name), oneLine(err.Error()))
	}
	if len(reports) == 0 {
		fmt.Fprintf(e.stderr, "dpi: verify: %s has no signature\n", displayName(name))
		if e.json {
			e.printJSON([]padesJSON{})
		}
		return exitRejected
	}
	worst := exitOK
	out := make([]padesJSON, 0, len(reports))
	for i := range reports {
		r := &reports[i]
		switch {
		case r.Indication == signature.TotalFailed:
			worst = exitRejected
		case r.Indication != signature.TotalPassed && worst == exitOK:
			worst = exitIndeterminate
		}
		if e.json {
			out = append(out, padesJSON{verifyJSON: newVerifyJSON(&r.Report), Field: r.Field, Kind: r.Kind, Revision: r.Revision,
				CoversWholeDocument: r.CoversWholeDocument, Certification: int(r.Certification), Changes: r.Changes})
			continue
		}
		printPAdESReport(e.stdout, i+1, len(reports), r)
	}
	if e.json {
		if err := e.printJSON(out); err != nil {
			return exitUsage
		}
	}
	return worst
}

func printPAdESReport(w io.Writer, n, of int, r *pades.Report) {
	if n > 1 {
		fmt.Fprintln(w)
	}
	kind := "signature"
	if r.Kind == "documentTimestamp" {
		kind = "document time-stamp"
	}
	whole := "no: the document was changed after it"
	if r.CoversWholeDocument {
		whole = "yes"
	}
	fmt.Fprintf(w, "%s %d of %d: field %s, revision %d\n", kind, n, of, printable(r.Field), r.Revision)
	fmt.Fprintf(w, "%-20s %s\n", "whole document:", whole)
	if r.Certification != 0 {
		fmt.Fprintf(w, "%-20s %s\n", "certification:", map[pades.Certification]string{
			pades.CertifyNoChanges: "no changes allowed", pades.CertifyFormFill: "form filling allowed",
			pades.CertifyAnnotate: "form filling and annotations allowed"}[r.Certification])
	}
	printReport(w, &r.Report)
	for _, c := range r.Changes {
		verdict := "allowed"
		if !c.Allowed {
			verdict = "NOT ALLOWED"
		}
		fmt.Fprintf(w, "%-20s revision %d, %s (%s): %s %s\n", "change:", c.Revision, printable(c.Object), printable(c.Kind), verdict, printable(c.Detail))
	}
}
