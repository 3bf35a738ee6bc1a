package main

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/signature"
)

func init() {
	register(command{
		name:    "sign",
		summary: "sign a document: --key KEY --cert CERT [--format cades|jades|pades] [--level B-B|B-T|B-LT|B-LTA] [--tsa URL] [-o OUT] DOC",
		run:     runSign,
	})
}

const signUsage = "dpi sign --key KEY --cert CERT [--chain PEM] [--format cades|jades] [--level B-B|B-T|B-LT|B-LTA] [--tsa URL] [--trust ROOTS] [--crl FILE]... [--ocsp FILE]... [-o OUT [--json]] DOC\n" +
	"dpi sign --format pades [--level B-B|B-T|B-LT|B-LTA] [--tsa URL] [--certify none|form|annotate] [--visible PAGE:X,Y,W,H] -o OUT.pdf IN.pdf (with the flags above)\n\n" +
	"Writes a detached signature over DOC (\"-\" for standard input): DER CAdES, or for JAdES\n" +
	"a compact JWS at B-B and the JSON serialization (etsiU unsigned components) above. KEY is a PEM or DER private key file (an encrypted PKCS #8 key is decrypted with\n" +
	"the DPI_KEY_PASSWORD environment variable) or a pkcs11: URI (module and PIN from\n" +
	"DPI_PKCS11_MODULE and DPI_PKCS11_PIN unless the URI names them). CERT holds the signing\n" +
	"certificate first and may hold its issuers; --chain adds more issuers. --tsa adds an\n" +
	"RFC 3161 signature time-stamp (CAdES-BASELINE-T).\n\n" +
	"--level is the ETSI EN 319 122-1 baseline level: B-B, B-T (needs --tsa; the default with\n" +
	"--tsa), B-LT or B-LTA (need --tsa and --trust): B-LT also embeds the signer's and\n" +
	"the time-stamp authority's chains to the trust anchors in ROOTS and, for each certificate\n" +
	"but the anchors, the OCSP response or CRL that shows it not revoked at signing, so that\n" +
	"the signature validates without the network. B-LTA adds an archive time-stamp from the\n" +
	"same --tsa over all of it (renew it later with dpi extend --level B-LTA).\n\n" +
	"--format pades signs the PDF IN.pdf into OUT.pdf with an ETSI EN 319 142-1 PAdES signature,\n" +
	"appended as an incremental update (IN.pdf is a byte-exact prefix of OUT.pdf): B-LT adds a\n" +
	"document security store with the chains and revocation data, B-LTA also a document\n" +
	"time-stamp. --certify makes a certification signature (the document's first) that allows\n" +
	"no changes, form filling, or form filling and annotations after it; --visible draws the\n" +
	"signature on page PAGE at X,Y (points from the lower-left corner), W wide and H high.\n\n" +
	"The certificate is checked at the signing time: not expired, not yet valid, and not\n" +
	"revoked, as dpi verify checks it: from the --crl and --ocsp files (repeatable, DER or\n" +
	"PEM) first, then from the OCSP responder and CRL the certificate names. That needs the\n" +
	"issuer's certificate, second in CERT or first in --chain; without it revocation is not\n" +
	"checked, and a warning says so. At B-LT the issuers are found from ROOTS, and a\n" +
	"certificate of either chain that is revoked, or whose status cannot be found, refuses the\n" +
	"signature as for the signing certificate.\n\n" +
	"On success a one-line report (format and level, signer, claimed signing time, output) goes\n" +
	"to standard error, or with --json and -o as JSON to standard output. Without -o the\n" +
	"signature goes to standard output, which must not be a terminal for CAdES (binary).\n\n" +
	"Exit 0 signed; 2 usage error or unusable input (unreadable files, a key that does not\n" +
	"match the certificate, a certificate that cannot sign: a CA certificate, or one expired,\n" +
	"not yet valid or revoked); 3 the time-stamp authority gave no usable time-stamp, or the\n" +
	"certificate's revocation status could not be determined (try later, or give --crl or\n" +
	"--ocsp). Nothing is written unless the signature is complete."

func runSign(e *env, args []string) int {
	fs := e.newFlags("sign", signUsage)
	keyArg := fs.String("key", "", "private key file or pkcs11: URI")
	certArg := fs.String("cert", "", "signing certificate (PEM or DER), optionally followed by its issuers")
	chainArg := fs.String("chain", "", "issuer certificates (PEM), signing certificate's issuer first")
	format := fs.String("format", "cades", "signature format: cades, jades or pades (a signed PDF)")
	pf := addPAdESFlags(fs)
	tsa := fs.String("tsa", "", "time-stamping authority URL (RFC 3161) for a CAdES-BASELINE-T signature")
	level := fs.String("level", "", "baseline level: B-B, B-T, B-LT or B-LTA (default: B-T with --tsa, else B-B)")
	trust := fs.String("trust", "", "trust anchors (PEM or DER) the chains of a B-LT or B-LTA signature are built to")
	out := fs.String("o", "", "write the signature to this file instead of standard output")
	var crlFiles, ocspFiles revocationFiles
	fs.Var(&crlFiles, "crl", "a file of CRLs (DER or PEM) to check the certificate with before fetching (repeatable)")
	fs.Var(&ocspFiles, "ocsp", "a file of OCSP responses (DER or PEM) to check the certificate with before fetching (repeatable)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if e.json && *out == "" {
		// Without -o the output is the signature itself; printing a report beside it would
		// hand a script that parses stdout as JSON something that is not.
		return e.usageError("sign: --json needs -o: without it standard output is the signature (DER for cades, a compact JWS for jades)")
	}
	if *out == "" && *format == "cades" && isTerminal(e.stdout) {
		return e.usageError("sign: a CAdES signature is binary: write it with -o FILE, or redirect standard output")
	}
	if *keyArg == "" || *certArg == "" {
		return e.usageError("sign: --key and --cert are required")
	}
	if len(rest) != 1 {
		return e.usageError("sign: want exactly one document")
	}
	if *format != "cades" && *format != "jades" && *format != "pades" {
		return e.usageError("sign: --format must be cades, jades or pades")
	} else if flag := pf.misused(*format); flag != "" {
		return e.usageError("sign: %s is for --format pades", flag)
	}
	switch *level {
	case "", "B-B", "B-T", "B-LT", "B-LTA":
	default:
		return e.usageError("sign: --level must be B-B, B-T, B-LT or B-LTA")
	}
	lt := *level == "B-LT" || *level == "B-LTA"
	switch {
	case (*level == "B-T" || lt) && *tsa == "":
		return e.usageError("sign: --level %s needs --tsa", *level)
	case *level == "B-B" && *tsa != "":
		return e.usageError("sign: --level B-B makes no time-stamp: drop --tsa")
	case lt && *trust == "":
		return e.usageError("sign: --level %s needs --trust: the trust anchors its chains are built to", *level)
	case !lt && *trust != "":
		return e.usageError("sign: --trust is for --level B-LT and B-LTA")
	}
	key, closeKey, err := loadSigningKey(e, *keyArg)
	if err != nil {
		return e.usageError("sign: key: %s", oneLine(err.Error()))
	}
	defer closeKey()
	certPEM, err := e.readInput(*certArg, limits.MaxCLIInput)
	if err != nil {
		return e.usageError("sign: %s", oneLine(err.Error()))
	}
	chain, err := signature.LoadCertificates(certPEM)
	if err != nil {
		return e.usageError("sign: certificate: %s", oneLine(err.Error()))
	}
	if *chainArg != "" {
		more, err := e.readInput(*chainArg, limits.MaxCLIInput)
		if err != nil {
			return e.usageError("sign: %s", oneLine(err.Error()))
		}
		issuers, err := signature.LoadCertificates(more)
		if err != nil {
			return e.usageError("sign: chain: %s", oneLine(err.Error()))
		}
		chain = append(chain, issuers...)
	}
	opts := signature.SignerOptions{Format: signature.Format(*format), TSAURL: *tsa, Level: signature.Level(*level)}
	if lt {
		var code int
		if opts.Roots, code, ok = loadTrust(e, "sign", *trust); !ok {
			return code
		}
	}
	if len(chain) > 1 || lt {
		opts.CRLs, opts.OCSPResponses, err = loadRevocationData(e, crlFiles, ocspFiles)
		if err != nil {
			return e.usageError("sign: %s", oneLine(err.Error()))
		}
	} else if len(crlFiles)+len(ocspFiles) > 0 {
		return e.usageError("sign: --crl and --ocsp need the issuer's certificate (in --cert or --chain)")
	} else {
		// Without the issuer nothing can be checked: the warning below says so.
		opts.SkipRevocationCheckUnsafe = true
	}
	if *format == "pades" {
		return signPAdES(e, key, chain, opts, pf, *level, rest[0], *out)
	}
	signer, err := signature.NewSigner(key, chain, opts)
	if err != nil {
		// The key, the certificate or the format cannot make a signature: unusable input.
		return e.usageError("sign: %s", oneLine(err.Error()))
	}
	doc, closeDoc, err := openDocument(e, rest[0])
	if err != nil {
		return e.usageError("sign: %s", oneLine(err.Error()))
	}
	defer closeDoc()
	if opts.SkipRevocationCheckUnsafe {
		fmt.Fprintf(e.stderr, "dpi: sign: warning: revocation not checked: give the issuer's certificate (--chain) to check it\n")
	}
	signedAt := time.Now()
	sig, err := signer.Sign(e.ctx, doc)
	if err != nil {
		return signFailed(e, err)
	}
	rep := signReport{Format: *format, Level: *level, Signer: chain[0].Subject.String(),
		SigningTime: signedAt.UTC().Truncate(time.Second), Output: *out, Bytes: len(sig)}
	if rep.Level == "" {
		rep.Level = map[bool]string{true: "B-T", false: "B-B"}[*tsa != ""]
	}
	if *out == "" {
		if _, err := e.stdout.Write(sig); err != nil {
			return exitUsage
		}
		rep.Output = "standard output"
		rep.print(e.stderr)
		return exitOK
	}
	if err := os.WriteFile(*out, sig, 0o644); err != nil {
		return e.usageError("sign: %s", oneLine(err.Error()))
	}
	return e.report(rep)
}

// signFailed prints why signing failed and returns the exit code for it.
func signFailed(e *env, err error) int {
	fmt.Fprintf(e.stderr, "dpi: sign: %s\n", oneLine(err.Error()))
	if errors.Is(err, signature.ErrTimestamp) || errors.Is(err, signature.ErrRevocationUnknown) {
		// Nothing was checked and rejected: an outside service did not answer usably,
		// as with an unreachable OCSP responder (TRY_LATER) or eID issuer.
		return exitIndeterminate
	}
	// A certificate expired, not yet valid or revoked at the signing time cannot sign.
	return exitUsage
}

// signReport is what dpi sign says once the signature is written: on standard error, or
// with --json (and -o) as JSON on standard output.
type signReport struct {
	Format string `json:"format"` // cades or jades
	Level  string `json:"level"`  // B-B, B-T, B-LT or B-LTA
	Signer string `json:"signer"` // the signing certificate's subject
	// SigningTime is this machine's clock when signing began: the claimed signing time
	// (a B-T or B-LT signature also carries the time-stamp authority's time).
	SigningTime time.Time `json:"signingTime"`
	Output      string    `json:"output"` // the file written, or "standard output"
	Bytes       int       `json:"bytes"`
}

func (r signReport) print(w io.Writer) {
	name := map[string]string{"cades": "CAdES", "jades": "JAdES"}[r.Format]
	fmt.Fprintf(w, "signed: %s-BASELINE-%s by %s at %s (claimed), %s written to %s\n",
		name, r.Level, printable(r.Signer), r.SigningTime.Format(time.RFC3339), plural(r.Bytes, "byte", "bytes"), printable(r.Output))
}

// isTerminal reports whether w is a terminal, where binary output would garble the screen:
// a character device other than the null device (without golang.org/x/term, which asks
// the terminal itself, a character device is the closest sign).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// loadSigningKey opens the key named on the command line: a pkcs11: URI (RFC 7512; the
// module and PIN may come from DPI_PKCS11_MODULE and DPI_PKCS11_PIN) or a key file. The
// returned function releases the key.
func loadSigningKey(e *env, arg string) (crypto.Signer, func(), error) {
	if strings.HasPrefix(arg, "pkcs11:") {
		s, err := signature.OpenPKCS11(arg, signature.PKCS11Options{
			Module: os.Getenv("DPI_PKCS11_MODULE"), PIN: os.Getenv("DPI_PKCS11_PIN"),
		})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	b, err := e.readInput(arg, limits.MaxCLIInput)
	if err != nil {
		return nil, nil, err
	}
	k, err := signature.LoadPrivateKey(b, []byte(os.Getenv("DPI_KEY_PASSWORD")))
	return k, func() {}, err
}

// openDocument opens a document to stream, or standard input for "-".
func openDocument(e *env, name string) (io.Reader, func(), error) {
	if name == "-" {
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
