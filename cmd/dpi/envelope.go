package main

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/store"
)

func init() {
	register(command{
		name:    "envelope",
		summary: "seal and open signed (and encrypted) messages between agencies: seal, open",
		subs: []command{
			{name: "seal", summary: "sign a message, and encrypt it with --encrypt-to", run: runEnvelopeSeal},
			{name: "open", summary: "decrypt and verify a message, and print its body", run: runEnvelopeOpen},
		},
	})
}

const envelopeSealUsage = "dpi envelope seal --key KEY --cert CERT [--chain CHAIN] --client ID --service ID [--id ID] [--expires DURATION] [--encrypt-to CERT]... [-o OUT] [FILE|-]\n\n" +
	"Writes an envelope for the body in FILE (standard input when it is \"-\" or absent), of at\n" +
	"most 16 MiB: a JWS in the flattened JSON serialization whose payload is the body itself\n" +
	"and whose protected header holds alg (ES256 or EdDSA, by the key), typ dpi-message+jws,\n" +
	"x5c (CERT and --chain, the signing certificate first, root excluded), client and service\n" +
	"(X-Road identifiers: INSTANCE/CLASS/MEMBER[/SUBSYSTEM] and .../SUBSYSTEM/SERVICECODE[/VERSION]),\n" +
	"id (--id, or a fresh UUID), iat (now) and exp (now plus --expires, 24h by default, at most\n" +
	"720h). With --encrypt-to (repeatable: a certificate of a P-256 or RSA key, each a\n" +
	"recipient), the output is instead a JWE in the general JSON serialization\n" +
	"(ECDH-ES+A256KW or RSA-OAEP-256, A256GCM, cty dpi-message+jws) whose plaintext is that\n" +
	"JWS. KEY is loaded as dpi sign loads it (a file or a pkcs11: URI). The output is JSON\n" +
	"with or without --json.\n\n" +
	"Exit 0 written; 2 usage error or unusable input (unreadable files, a key that does not\n" +
	"match the certificate, an invalid identifier, a body over 16 MiB). Nothing is written\n" +
	"unless the envelope is complete."

const envelopeOpenUsage = "dpi envelope open --trust ROOTS [--key KEY] [--seen-db DSN] [--crl FILE]... [--ocsp FILE]... [--skip-revocation-unsafe] [--json] [FILE|-]\n\n" +
	"Reads an envelope dpi envelope seal wrote (standard input when FILE is \"-\" or absent),\n" +
	"decrypts it with KEY when it is a JWE (a P-256 or RSA private key file), verifies the\n" +
	"signature, that the signer's certificate chains to a root in ROOTS (PEM) and is valid\n" +
	"now, that it is not revoked, that the message is signed no later than 2 minutes from\n" +
	"now and has not expired, and that its id was not seen before from that client, and\n" +
	"prints the body to standard output byte for byte, with a one-line report on standard\n" +
	"error. Any signer ROOTS vouches for may send as any client: there is no directory here.\n\n" +
	"Revocation is checked for the signer's certificate and its intermediates: from the --crl\n" +
	"and --ocsp files (repeatable, DER or PEM) first, then from the OCSP responder and the\n" +
	"CRL each certificate names. --skip-revocation-unsafe skips it, and says so on standard\n" +
	"error. --seen-db DSN (sqlite://PATH or postgres://...) keeps the ids seen, each until its\n" +
	"message expires; without it, a replay is not detected across runs.\n\n" +
	"With --json, standard output is one JSON object: valid, encrypted, client, service, id,\n" +
	"signedAt, expires, signer (the certificate's subject), bodyEncoding (\"utf8\" when the body\n" +
	"is UTF-8 text, else \"base64\") and body (the text, or its standard base64); when\n" +
	"rejected or indeterminate: valid false, check and reason.\n\n" +
	"Exit 0 valid; 1 rejected (malformed, not decryptable with KEY, bad signature, untrusted,\n" +
	"expired or revoked signer, replayed or expired message, algorithm not allowed); 2 usage\n" +
	"error or unreadable input (an encrypted envelope without --key, unreadable files, an\n" +
	"unusable --seen-db); 3 indeterminate (the signer's revocation status could not be found,\n" +
	"or the replay store did not answer)."

func runEnvelopeSeal(e *env, args []string) int {
	fs := e.newFlags("envelope seal", envelopeSealUsage)
	keyArg := fs.String("key", "", "private key file or pkcs11: URI")
	certArg := fs.String("cert", "", "signing certificate (PEM or DER), optionally followed by its issuers")
	chainArg := fs.String("chain", "", "issuer certificates (PEM), signing certificate's issuer first")
	clientArg := fs.String("client", "", "the sending member or subsystem: INSTANCE/CLASS/MEMBER[/SUBSYSTEM]")
	serviceArg := fs.String("service", "", "the service: INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/VERSION]")
	idArg := fs.String("id", "", "the message ID (default: a fresh UUID)")
	expires := fs.Duration("expires", interop.DefaultMessageLifetime, "how long the message is valid")
	out := fs.String("o", "", "write the envelope to this file instead of standard output")
	var encryptTo certFiles
	fs.Var(&encryptTo, "encrypt-to", "a recipient's certificate (PEM or DER; repeatable): encrypt to it")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *keyArg == "" || *certArg == "" || *clientArg == "" || *serviceArg == "" {
		return e.usageError("envelope seal: --key, --cert, --client and --service are required")
	}
	name, ok := oneInput(rest)
	if !ok {
		return e.usageError("envelope seal: want at most one input")
	}
	client, err := interop.ParseClientID(*clientArg)
	if err != nil {
		return e.usageError("envelope seal: --client: %s", oneLine(err.Error()))
	}
	service, err := interop.ParseServiceID(*serviceArg)
	if err != nil {
		return e.usageError("envelope seal: --service: %s", oneLine(err.Error()))
	}
	if *expires <= 0 || *expires > limits.MaxInteropMessageLifetime {
		return e.usageError("envelope seal: --expires must lie between 0 and %v", limits.MaxInteropMessageLifetime)
	}
	var recipients []interop.Recipient
	for _, f := range encryptTo {
		certs, err := readCertificates(e, f)
		if err != nil {
			return e.usageError("envelope seal: --encrypt-to: %s", oneLine(err.Error()))
		}
		r, err := interop.RecipientFromCertificate(certs[0])
		if err != nil {
			return e.usageError("envelope seal: --encrypt-to %s: %s", f, oneLine(err.Error()))
		}
		recipients = append(recipients, r)
	}
	if len(recipients) > limits.MaxInteropRecipients {
		return e.usageError("envelope seal: more than %d --encrypt-to", limits.MaxInteropRecipients)
	}
	key, closeKey, err := loadSigningKey(e, *keyArg)
	if err != nil {
		return e.usageError("envelope seal: key: %s", oneLine(err.Error()))
	}
	defer closeKey()
	chain, err := readCertificates(e, *certArg)
	if err != nil {
		return e.usageError("envelope seal: certificate: %s", oneLine(err.Error()))
	}
	if *chainArg != "" {
		more, err := readCertificates(e, *chainArg)
		if err != nil {
			return e.usageError("envelope seal: chain: %s", oneLine(err.Error()))
		}
		chain = append(chain, more...)
	}
	signer, err := interop.NewSigner(key, chain)
	if err != nil {
		return e.usageError("envelope seal: %s", oneLine(err.Error()))
	}
	body, err := e.readInput(name, limits.MaxInteropMessageBody)
	if err != nil {
		return e.usageError("envelope seal: %s", oneLine(err.Error()))
	}
	now := time.Now()
	env, err := signer.SignMessage(&interop.SignedMessage{Client: client, Service: service, ID: *idArg,
		SignedAt: now, Expires: now.Add(*expires), Body: body})
	if err != nil {
		return e.usageError("envelope seal: %s", oneLine(err.Error()))
	}
	if len(recipients) > 0 {
		if env, err = interop.Seal(env, interop.MessageType, recipients...); err != nil {
			return e.usageError("envelope seal: %s", oneLine(err.Error()))
		}
	}
	env = append(env, '\n')
	if *out == "" {
		if _, err := e.stdout.Write(env); err != nil {
			return exitUsage
		}
		return exitOK
	}
	if err := os.WriteFile(*out, env, 0o644); err != nil {
		return e.usageError("envelope seal: %s", oneLine(err.Error()))
	}
	return exitOK
}

// envelopeJSON is the --json report of dpi envelope open.
type envelopeJSON struct {
	Valid        bool       `json:"valid"`
	Encrypted    bool       `json:"encrypted"`
	Client       string     `json:"client,omitempty"`
	Service      string     `json:"service,omitempty"`
	ID           string     `json:"id,omitempty"`
	SignedAt     *time.Time `json:"signedAt,omitempty"`
	Expires      *time.Time `json:"expires,omitempty"`
	Signer       string     `json:"signer,omitempty"`
	BodyEncoding string     `json:"bodyEncoding,omitempty"`
	Body         *string    `json:"body,omitempty"`
	Check        string     `json:"check,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

func runEnvelopeOpen(e *env, args []string) int {
	fs := e.newFlags("envelope open", envelopeOpenUsage)
	trust := fs.String("trust", "", "PEM file of trusted root certificates (required)")
	keyArg := fs.String("key", "", "private key file to decrypt an encrypted envelope")
	seenDB := fs.String("seen-db", "", "DSN of a database that keeps the message ids seen (sqlite://PATH, postgres://...)")
	skipRevocation := fs.Bool("skip-revocation-unsafe", false, "do not check whether the signer's certificate was revoked")
	var crlFiles, ocspFiles revocationFiles
	fs.Var(&crlFiles, "crl", "a file of CRLs (DER or PEM) to use before fetching (repeatable)")
	fs.Var(&ocspFiles, "ocsp", "a file of OCSP responses (DER or PEM) to use before fetching (repeatable)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *trust == "" {
		return e.usageError("envelope open: --trust is required: nothing is trusted by default")
	}
	name, ok := oneInput(rest)
	if !ok {
		return e.usageError("envelope open: want at most one input")
	}
	if *skipRevocation && len(crlFiles)+len(ocspFiles) > 0 {
		return e.usageError("envelope open: --skip-revocation-unsafe with --crl or --ocsp")
	}
	rootsPEM, err := e.readInput(*trust, limits.MaxCLIInput)
	if err != nil {
		return e.usageError("envelope open: %s", oneLine(err.Error()))
	}
	roots, err := signature.LoadCertificates(rootsPEM)
	if err != nil {
		return e.usageError("envelope open: --trust: %s", oneLine(err.Error()))
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	input, err := e.readInput(name, limits.MaxInteropJWE)
	if err != nil {
		return e.usageError("envelope open: %s", oneLine(err.Error()))
	}
	cfg := interop.VerifierConfig{Roots: pool}
	if *skipRevocation {
		cfg.SkipRevocationUnsafe = true
	} else {
		crls, responses, err := loadRevocationData(e, crlFiles, ocspFiles)
		if err != nil {
			return e.usageError("envelope open: %s", oneLine(err.Error()))
		}
		cfg.Revocation = newRevocationChecker(crls, responses)
	}
	seen := interop.SeenIDs(interop.NewMemorySeenIDs(interop.SeenConfig{}))
	if *seenDB != "" {
		db, err := store.Open(e.ctx, *seenDB)
		if err != nil {
			return e.usageError("envelope open: --seen-db: %s", oneLine(err.Error()))
		}
		defer db.Close()
		if seen, err = interop.OpenSeenIDs(e.ctx, db, interop.SeenConfig{}); err != nil {
			return e.usageError("envelope open: --seen-db: %s", oneLine(err.Error()))
		}
	}

	report := envelopeJSON{}
	jws := input
	if isJWE(input) {
		report.Encrypted = true
		if *keyArg == "" {
			return e.usageError("envelope open: the envelope is encrypted: give --key")
		}
		keyPEM, err := e.readInput(*keyArg, limits.MaxCLIInput)
		if err != nil {
			return e.usageError("envelope open: key: %s", oneLine(err.Error()))
		}
		key, err := signature.LoadPrivateKey(keyPEM, []byte(os.Getenv("DPI_KEY_PASSWORD")))
		if err != nil {
			return e.usageError("envelope open: key: %s", oneLine(err.Error()))
		}
		opener, err := interop.NewOpener(interop.OpenerConfig{Key: key})
		if err != nil {
			return e.usageError("envelope open: key: %s", oneLine(err.Error()))
		}
		if jws, _, err = opener.Open(input); err != nil {
			return e.envelopeRefused(report, err)
		}
	} else if *keyArg != "" {
		fmt.Fprintf(e.stderr, "dpi: envelope open: note: the envelope was not encrypted\n")
	}
	if *skipRevocation {
		fmt.Fprintf(e.stderr, "dpi: envelope open: warning: revocation not checked (--skip-revocation-unsafe)\n")
	}
	// Without a directory, the roots decide: the signer ROOTS vouch for may send for the
	// client the envelope names.
	var members []interop.Member
	if client, leaf, ok := peekSigner(jws); ok {
		members = append(members, interop.Member{ID: client, Certificates: []*x509.Certificate{leaf}})
	}
	if cfg.Directory, err = interop.NewStaticDirectory(members...); err != nil {
		return e.usageError("envelope open: %s", oneLine(err.Error()))
	}
	verifier, err := interop.NewVerifier(cfg)
	if err != nil {
		return e.usageError("envelope open: %s", oneLine(err.Error()))
	}
	m, err := verifier.VerifyMessage(e.ctx, jws, seen)
	if err != nil {
		return e.envelopeRefused(report, err)
	}
	decrypted := ""
	if report.Encrypted {
		decrypted = ", decrypted"
	}
	fmt.Fprintf(e.stderr, "dpi: envelope open: valid: %s to %s, id %s, signed %s by %s%s\n",
		m.Client, m.Service, printable(m.ID), m.SignedAt.Format(time.RFC3339), printable(m.Signer.Subject.String()), decrypted)
	if !e.json {
		if _, err := e.stdout.Write(m.Body); err != nil {
			return exitUsage
		}
		return exitOK
	}
	report.Valid = true
	report.Client, report.Service, report.ID = m.Client.String(), m.Service.String(), m.ID
	report.SignedAt, report.Expires = &m.SignedAt, &m.Expires
	report.Signer = m.Signer.Subject.String()
	body := string(m.Body)
	report.BodyEncoding = "utf8"
	if !utf8.Valid(m.Body) {
		report.BodyEncoding, body = "base64", base64.StdEncoding.EncodeToString(m.Body)
	}
	report.Body = &body
	if err := e.printJSON(report); err != nil {
		return exitUsage
	}
	return exitOK
}

// envelopeRefused reports a refusal: exit 1 for a rejection, 3 when the revocation status
// or the replay store could not decide.
func (e *env) envelopeRefused(report envelopeJSON, err error) int {
	code, word := exitRejected, "rejected"
	if !errors.Is(err, interop.ErrRejected) {
		code, word = exitIndeterminate, "indeterminate"
	}
	fmt.Fprintf(e.stderr, "dpi: envelope open: %s: %s\n", word, oneLine(err.Error()))
	if e.json {
		report.Check, report.Reason = "unknown", err.Error()
		var ie *interop.Error
		if errors.As(err, &ie) {
			report.Check, report.Reason = ie.Check, ie.Reason
		}
		if e.printJSON(report) != nil {
			return exitUsage
		}
	}
	return code
}

// oneInput returns the single positional argument, or "-" when there is none.
func oneInput(rest []string) (string, bool) {
	switch len(rest) {
	case 0:
		return "-", true
	case 1:
		return rest[0], true
	}
	return "", false
}

// isJWE reports whether an envelope is a JWE in the JSON serialization rather than a JWS.
func isJWE(b []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	_, ct := top["ciphertext"]
	_, rc := top["recipients"]
	return ct || rc
}

// peekSigner reads, unverified, the client and the signing certificate a signed message
// names, for the directory of a command that trusts its roots alone. The verifier checks
// both.
func peekSigner(jws []byte) (interop.ClientID, *x509.Certificate, bool) {
	var flat struct {
		Protected string `json:"protected"`
	}
	if json.Unmarshal(bytes.TrimSpace(jws), &flat) != nil {
		return interop.ClientID{}, nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(flat.Protected)
	if err != nil {
		return interop.ClientID{}, nil, false
	}
	var h struct {
		Client string   `json:"client"`
		X5C    []string `json:"x5c"`
	}
	if json.Unmarshal(raw, &h) != nil || len(h.X5C) == 0 {
		return interop.ClientID{}, nil, false
	}
	client, err := interop.ParseClientID(h.Client)
	if err != nil {
		return interop.ClientID{}, nil, false
	}
	der, err := base64.StdEncoding.DecodeString(h.X5C[0])
	if err != nil {
		return interop.ClientID{}, nil, false
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return interop.ClientID{}, nil, false
	}
	return client, leaf, true
}

// readCertificates reads a file of certificates, PEM or DER, and returns at least one.
func readCertificates(e *env, name string) ([]*x509.Certificate, error) {
	b, err := e.readInput(name, limits.MaxCLIInput)
	if err != nil {
		return nil, err
	}
	certs, err := signature.LoadCertificates(b)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate", name)
	}
	return certs, nil
}

// certFiles is a repeatable flag of certificate files.
type certFiles []string

func (r *certFiles) String() string { return strings.Join(*r, ", ") }

func (r *certFiles) Set(v string) error {
	*r = append(*r, v)
	return nil
}
