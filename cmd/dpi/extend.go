package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/signature/pades"
)

func init() {
	register(command{
		name:    "extend",
		summary: "augment a CAdES or JAdES signature, or a signed PDF: --level B-T|B-LT|B-LTA --tsa URL [--trust ROOTS] -o OUT DOC SIG|PDF",
		run:     runExtend,
	})
}

const extendUsage = "dpi extend --level B-T|B-LT|B-LTA --tsa URL [--trust ROOTS] -o OUT [--json] DOC SIG\n" +
	"dpi extend --level B-LT|B-LTA --tsa URL --trust ROOTS -o OUT.pdf [--json] IN.pdf\n\n" +
	"Augments the detached CAdES signature SIG over DOC (\"-\" for standard input), made by dpi\n" +
	"or another tool, to an ETSI EN 319 122-1 baseline level, and writes it to OUT:\n\n" +
	"  B-T    a signature time-stamp from the RFC 3161 authority at URL, unless SIG has one;\n" +
	"  B-LT   that, and the signer's and the time-stamp authority's chains to the trust\n" +
	"         anchors in ROOTS with the OCSP responses or CRLs that show them not revoked,\n" +
	"         fetched now, so that the signature validates without the network;\n" +
	"  B-LTA  that, and an archive time-stamp from URL over all of it. On a signature that\n" +
	"         has one already, the data of the latest one's authority is refreshed and a\n" +
	"         further archive time-stamp added: renew before that authority's certificate\n" +
	"         expires.\n\n" +
	"A JAdES signature (TS 119 182-1), compact or in JSON serialization, is extended the same\n" +
	"way and written in JSON serialization, the levels' data in its etsiU header: in the\n" +
	"general form (one signature, as EU DSS writes it) when it came in it, else flattened.\n\n" +
	"A signed PDF (one argument, a file that begins with %PDF-) is extended by incremental\n" +
	"updates (ETSI EN 319 142-1): B-LT adds a document security store with the validation\n" +
	"data of every PAdES-BASELINE-T signature; B-LTA also adds a document time-stamp from URL\n" +
	"and its authority's data. On a PDF that has document time-stamps already, the latest\n" +
	"one's authority's data is added first, then a further document time-stamp: renew before\n" +
	"that authority's certificate expires. Every signature must validate against ROOTS\n" +
	"first; a PAdES-BASELINE-B signature cannot be extended (its CMS cannot take a\n" +
	"time-stamp in an incremental update).\n\n" +
	"--trust is required for B-LT and B-LTA. Nothing in SIG is changed, only added to, and\n" +
	"the signature must verify over DOC first. On success a one-line report goes to standard\n" +
	"error, or with --json as JSON to standard output.\n\n" +
	"Exit 0 extended; 1 the signature does not verify over DOC, or a certificate of its\n" +
	"chains is revoked or does not chain to ROOTS; 2 usage error or unreadable input (a\n" +
	"malformed signature); 3 the time-stamp authority gave no usable time-stamp, or a\n" +
	"revocation status could not be determined (try later). OUT is written only on success."

func runExtend(e *env, args []string) int {
	fs := e.newFlags("extend", extendUsage)
	level := fs.String("level", "", "baseline level to reach: B-T, B-LT or B-LTA")
	tsa := fs.String("tsa", "", "time-stamping authority URL (RFC 3161)")
	trust := fs.String("trust", "", "trust anchors (PEM or DER) the chains of B-LT and B-LTA are built to")
	out := fs.String("o", "", "write the extended signature to this file")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	switch *level {
	case "B-T", "B-LT", "B-LTA":
	case "":
		return e.usageError("extend: --level is required: B-T, B-LT or B-LTA")
	default:
		return e.usageError("extend: --level must be B-T, B-LT or B-LTA")
	}
	lt := *level != "B-T"
	switch {
	case *tsa == "":
		return e.usageError("extend: --tsa is required")
	case lt && *trust == "":
		return e.usageError("extend: --level %s needs --trust: the trust anchors its chains are built to", *level)
	case !lt && *trust != "":
		return e.usageError("extend: --trust is for --level B-LT and B-LTA")
	case *out == "":
		return e.usageError("extend: -o is required: a CAdES signature is binary")
	case len(rest) == 1 && isPDF(rest[0]):
		if !lt {
			return e.usageError("extend: a pdf is extended to B-LT or B-LTA")
		}
	case len(rest) != 2:
		return e.usageError("extend: want a document and a signature, or one signed pdf")
	}
	opts := signature.ExtendOptions{Level: signature.Level(*level), TSAURL: *tsa}
	if lt {
		var code int
		if opts.Roots, code, ok = loadTrust(e, "extend", *trust); !ok {
			return code
		}
	}
	if len(rest) == 1 {
		return extendPAdES(e, opts, rest[0], *out)
	}
	sig, err := e.readInput(rest[1], limits.MaxSignature)
	if err != nil {
		return e.usageError("extend: %s", oneLine(err.Error()))
	}
	if len(sig) > 0 && sig[0] != 0x30 {
		sig = bytes.TrimSpace(sig) // a JWS saved by an editor may end with a newline
	}
	doc, closeDoc, err := openDocument(e, rest[0])
	if err != nil {
		return e.usageError("extend: %s", oneLine(err.Error()))
	}
	defer closeDoc()
	extended, err := signature.Extend(e.ctx, doc, sig, opts)
	if err != nil {
		return extendFailed(e, err)
	}
	if err := os.WriteFile(*out, extended, 0o644); err != nil {
		return e.usageError("extend: %s", oneLine(err.Error()))
	}
	family := "CAdES"
	if len(extended) > 0 && extended[0] == '{' {
		family = "JAdES"
	}
	rep := extendReport{Format: family + "-BASELINE-" + strings.TrimPrefix(*level, "B-"), Output: *out, Bytes: len(extended)}
	return e.report(rep)
}

// extendPAdES is dpi extend with one signed PDF: opts as for a CAdES signature.
func extendPAdES(e *env, opts signature.ExtendOptions, in, out string) int {
	size, code, ok := rewritePDF(e, "extend", in, out, func(pdf io.ReaderAt, n int64, w io.Writer) error {
		return pades.Extend(e.ctx, pdf, n, w, pades.ExtendOptions{Level: pades.Level(opts.Level), TSAURL: opts.TSAURL, Roots: opts.Roots})
	}, extendFailed)
	if !ok {
		return code
	}
	rep := extendReport{Format: "PAdES-BASELINE-" + strings.TrimPrefix(string(opts.Level), "B-"), Output: out, Bytes: size}
	return e.report(rep)
}

// extendFailed prints why an extension failed and returns the exit code for it.
func extendFailed(e *env, err error) int {
	fmt.Fprintf(e.stderr, "dpi: extend: %s\n", oneLine(err.Error()))
	switch {
	case errors.Is(err, signature.ErrTimestamp), errors.Is(err, signature.ErrRevocationUnknown):
		return exitIndeterminate
	case errors.Is(err, signature.ErrNotExtendable), errors.Is(err, signature.ErrCertificate):
		return exitRejected
	}
	return exitUsage
}

// extendReport is what dpi extend says once the signature is written.
type extendReport struct {
	Format string `json:"format"` // the level reached, e.g. CAdES-BASELINE-LTA
	Output string `json:"output"` // the file written
	Bytes  int    `json:"bytes"`
}

func (r extendReport) print(w io.Writer) {
	fmt.Fprintf(w, "extended: %s, %s written to %s\n", r.Format, plural(r.Bytes, "byte", "bytes"), printable(r.Output))
}
