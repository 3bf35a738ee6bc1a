package main

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/identity/nationalid"
	"github.com/dpiblocks/dpi/internal/limits"
)

// The consent commands: the library's consent.Store behind a few flags, for a controller
// that records consent from scripts, and for trying the block out. The store keeps its
// records and its own evidence log (origin --log) in the database of --db.

func init() {
	register(command{name: "consent", summary: "record consent, decide before sharing, withdraw, and check the consent store", subs: []command{
		{name: "give", summary: "record that a person agreed, and print the new record's ID", run: runConsentGive},
		{name: "check", summary: "decide whether a controller may share a person's data; records nothing", run: runConsentCheck},
		{name: "withdraw", summary: "record that the person withdrew a consent", run: runConsentWithdraw},
		{name: "list", summary: "list a person's records", run: runConsentList},
		{name: "receipt", summary: "print the signed receipt of a record's latest event", run: runConsentReceipt},
		{name: "verify", summary: "replay the consent log and name every record edited or deleted behind the store's back", run: runConsentVerify},
	}})
}

// defaultConsentLog is the origin of the consent store's evidence log when --log is not
// given. An agency names its own (agency.example/consent): the origin is the first line of
// every checkpoint auditors keep.
const defaultConsentLog = "dpi.local/consent"

// personKeyEnv names the environment variable that holds the key the person's national
// number is pseudonymised with: secret, and the same for as long as the records.
const personKeyEnv = "DPI_PERSON_KEY"

const (
	consentKeyHelp    = "the controller's private key, which signs the person's receipts and the consent log's checkpoints: PEM PKCS#8 (PRIVATE KEY, or ENCRYPTED PRIVATE KEY with the password in DPI_KEY_PASSWORD), Ed25519 or ECDSA P-256"
	consentPersonHelp = "the person: COUNTRY:SCHEME:NUMBER, such as BR:cpf:390.533.447-05 (pseudonymised with " + personKeyEnv + "; the number is never stored or printed), or a pr1: reference"
	consentLogHelp    = "origin of the consent store's evidence log"
	// consentPersonUsage explains --person in every usage that takes it.
	consentPersonUsage = "--person is a national number, COUNTRY:SCHEME:NUMBER as dpi id schemes names them\n" +
		"(BR:cpf:390.533.447-05), validated and turned into the person's pseudonymous reference\n" +
		"with the key in " + personKeyEnv + " (base64 of at least 32 random bytes, such as the\n" +
		"output of openssl rand -base64 32; keep it secret, and the same for as long as the\n" +
		"records), or that reference itself (pr1:...). The number is never stored or printed.\n"
)

// consentFlags are the flags every consent command takes.
type consentFlags struct {
	dsn, keyPath, origin string
}

func addConsentFlags(fs *flag.FlagSet, dbHelp string) *consentFlags {
	f := &consentFlags{}
	fs.StringVar(&f.dsn, "db", "", dbHelp)
	fs.StringVar(&f.keyPath, "key", "", consentKeyHelp)
	fs.StringVar(&f.origin, "log", defaultConsentLog, consentLogHelp)
	return f
}

// listFlag is a flag that may be repeated, each value kept in order.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// onceFlag is a flag that may be given once: check decides for one recipient and one
// purpose, and a second value must not silently replace the first.
type onceFlag struct {
	name, value string
	set         bool
}

func (o *onceFlag) String() string { return o.value }

func (o *onceFlag) Set(v string) error {
	if o.set {
		return fmt.Errorf("given twice: check decides for one %s at a time", o.name)
	}
	o.value, o.set = v, true
	return nil
}

// consentDB is an open consent store and what it stands on.
type consentDB struct {
	*blockDB
	store *consent.Store
}

// openConsent opens the consent store of f. Only give creates (create): the database, the
// log and the table. The other commands open an existing database that holds the log.
//
// Even the commands that only read (check, list, receipt, verify) open the database
// read-write, with store.OpenExisting rather than store.OpenReadOnly: consent.Open runs the
// store's migrations, whose CREATE TABLE IF NOT EXISTS PostgreSQL refuses in a read-only
// transaction, and Store.Verify needs the log opened with its signer, which evidence.Open
// does only read-write (it records the log's key). They write nothing that give has not
// already written, and refuse a database that holds no consent log rather than make one.
func openConsent(e *env, f *consentFlags, create bool) (*consentDB, error) {
	if f.dsn == "" || f.keyPath == "" {
		return nil, errors.New("--db and --key are required")
	}
	key, err := loadConsentKey(e, f.keyPath)
	if err != nil {
		return nil, err
	}
	if inMemory(f.dsn) {
		return nil, errors.New("sqlite://:memory: is gone when the command ends; name the database file (sqlite://PATH)")
	}
	b, err := openBlockDB(e, blockLog{
		dsn: f.dsn, origin: f.origin, key: key, create: create,
		block: "consent", first: "record a consent first (dpi consent give)", keyName: "the controller key",
	})
	if err != nil {
		return nil, err
	}
	st, err := consent.Open(e.ctx, b.db, consent.Config{Log: b.log, Signer: key})
	if err != nil {
		b.Close()
		return nil, err
	}
	return &consentDB{blockDB: b, store: st}, nil
}

// loadConsentKey reads --key: a key that signs both receipts and checkpoints.
func loadConsentKey(e *env, path string) (crypto.Signer, error) {
	k, err := loadLogKey(e, path)
	if err != nil {
		return nil, fmt.Errorf("key: %s", oneLine(strings.Replace(err.Error(), "the log key", "the controller key", 1)))
	}
	return k, nil
}

// errNoPersonKey reports a national number given without the key that pseudonymises it.
var errNoPersonKey = errors.New(personKeyEnv + " is not set: it holds the key that turns the person's national number into their pseudonymous reference (base64 of at least 32 random bytes, such as the output of openssl rand -base64 32)")

// consentPerson turns --person into the person's pseudonymous reference, and returns the
// country of a national number ("" for a reference given as is). Its errors never repeat
// the number.
func consentPerson(arg string) (consent.PersonRef, string, error) {
	if arg == "" {
		return "", "", errors.New("--person is required")
	}
	if strings.HasPrefix(arg, "pr1:") {
		ref := consent.PersonRef(arg)
		if !ref.Valid() {
			return "", "", errors.New("--person: not a valid pr1: reference")
		}
		return ref, "", nil
	}
	country, rest, ok1 := strings.Cut(arg, ":")
	scheme, number, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || country == "" || scheme == "" || number == "" {
		return "", "", errors.New("--person: want COUNTRY:SCHEME:NUMBER, such as BR:cpf:390.533.447-05, or a pr1: reference")
	}
	s, err := nationalid.Lookup(country, scheme)
	if err != nil {
		return "", "", fmt.Errorf("--person: unknown scheme %q for country %q (see: dpi id schemes)", printable(scheme), printable(country))
	}
	if err := s.Validate(number); err != nil {
		// nationalid's messages name the scheme and the check, never the number.
		return "", "", fmt.Errorf("--person: %s", oneLine(err.Error()))
	}
	p, err := personPseudonymizer()
	if err != nil {
		return "", "", err
	}
	return p.Person(s.Country, s.Name, s.Compact(number)), s.Country, nil
}

// personPseudonymizer reads the person key from the environment. Its errors never repeat
// the key.
func personPseudonymizer() (*consent.Pseudonymizer, error) {
	v := strings.TrimSpace(os.Getenv(personKeyEnv))
	if v == "" {
		return nil, errNoPersonKey
	}
	var key []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			key = b
			break
		}
	}
	if key == nil {
		return nil, errors.New(personKeyEnv + " is not base64")
	}
	if len(key) < consent.MinPersonKey {
		return nil, fmt.Errorf("%s holds %d bytes; the person key must be at least %d random bytes", personKeyEnv, len(key), consent.MinPersonKey)
	}
	return consent.NewPseudonymizer(key)
}

// consentExit maps an error of the consent store to an exit code: a change the store
// refused (no such record, another person's, a status that does not allow it) or a store
// that does not verify is rejected; anything else is unusable input.
func consentExit(err error) int {
	switch {
	case errors.Is(err, consent.ErrNotFound), errors.Is(err, consent.ErrNotYours), errors.Is(err, consent.ErrTransition),
		errors.Is(err, consent.ErrTampered), errors.Is(err, evidence.ErrTampered), errors.Is(err, evidence.ErrCheckpoint):
		return exitRejected
	}
	return exitUsage
}

// consentFail prints a command's error on stderr and returns code.
func consentFail(e *env, cmd string, code int, err error) int {
	fmt.Fprintf(e.stderr, "dpi: consent %s: %s\n", cmd, oneLine(err.Error()))
	return code
}

// parseValidFor reads a duration as Go writes it (720h) or in days (90d).
func parseValidFor(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*366 {
			return 0, fmt.Errorf("--valid-for: %q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--valid-for: %q is not a positive duration such as 90d or 720h", s)
	}
	return d, nil
}

// consentBasis returns the basis code: basis when given, otherwise the one consent basis of
// the person's country.
func consentBasis(basis, country string) (string, error) {
	if basis != "" {
		return basis, nil
	}
	if country == "" {
		return "", errors.New("--basis is required for a person given as a pr1: reference")
	}
	var codes []string
	for _, b := range consent.Bases(country) {
		if b.Kind == consent.BasisConsent {
			codes = append(codes, b.Code)
		}
	}
	if len(codes) != 1 {
		return "", fmt.Errorf("--basis is required: %s has %d consent bases registered", country, len(codes))
	}
	return codes[0], nil
}

func runConsentGive(e *env, args []string) int {
	const usage = "dpi consent give --db DSN --key KEY.pem --person ID --controller ID --recipient ID...\n" +
		"    --purpose CODE... --purpose-text TEXT... --data CATEGORY... --notice-url URL\n" +
		"    (--notice-file FILE | --notice-sha256 HEX) --language TAG --withdrawal HOW\n" +
		"    [--notice-version V] [--basis CODE] [--method HOW] [--valid-for DURATION] [--until TIME]\n" +
		"    [--max-uses N] [--log ORIGIN] [--json]\n\n" +
		"Records that the person agreed that the controller shares the data categories with each\n" +
		"recipient, for each purpose, under the notice shown, and prints the record (with --json,\n" +
		"the record, its event and the person's signed receipt); the new record's ID is the last\n" +
		"line. --recipient, --purpose, --purpose-text and --data repeat; each --purpose has its\n" +
		"--purpose-text, in the same order: the text the person was shown. The notice is named\n" +
		"by URL, version and the SHA-256 of its exact text: --notice-file hashes the file, or\n" +
		"--notice-sha256 gives the hash. --basis defaults to the consent basis of the person's\n" +
		"country (BR-LGPD-7-I for BR); a basis that is not consent records processing under it,\n" +
		"never a consent. A record is never endless: without --valid-for (90d, 720h), --until\n" +
		"(RFC 3339) or --max-uses it lasts a year. The database is created if needed, and a\n" +
		"checkpoint of the consent log is signed after the change.\n\n" +
		consentPersonUsage + "\n" +
		"Exit 0 recorded, 1 the consent log does not extend its latest checkpoint (the record is\n" +
		"kept; run dpi consent verify), 2 usage error or unusable input (a missing or invalid\n" +
		"flag, " + personKeyEnv + " unset, an unknown basis, a --key that is not the log's key)."
	fs := e.newFlags("consent give", usage)
	f := addConsentFlags(fs, "database, created if needed: sqlite://PATH or postgres://...")
	person := fs.String("person", "", consentPersonHelp)
	controller := fs.String("controller", "", "the controller: who holds the data and answers for the record")
	var recipients, purposes, texts, data listFlag
	fs.Var(&recipients, "recipient", "a party the data may be shared with (repeatable)")
	fs.Var(&purposes, "purpose", "a purpose code, such as benefits (repeatable)")
	fs.Var(&texts, "purpose-text", "the text of the purpose the person was shown, one per --purpose in order (repeatable)")
	fs.Var(&data, "data", "a data category, such as income (repeatable)")
	basis := fs.String("basis", "", "legal basis code (default: the consent basis of the person's country, such as BR-LGPD-7-I)")
	noticeURL := fs.String("notice-url", "", "where the notice the person was shown is")
	noticeVersion := fs.String("notice-version", "", "the notice's version")
	noticeFile := fs.String("notice-file", "", "the exact text of the notice shown, hashed with SHA-256 (or give --notice-sha256)")
	noticeHash := fs.String("notice-sha256", "", "the SHA-256 of the notice's exact text, in hex")
	language := fs.String("language", "", "BCP 47 tag of the language the notice was shown in, such as pt-BR")
	method := fs.String("method", "", "how consent was collected: web-form, in-person, paper, api")
	withdrawal := fs.String("withdrawal", "", "how the person withdraws: a URL or a sentence")
	validFor := fs.String("valid-for", "", "how long the consent lasts: 90d, 720h")
	until := fs.String("until", "", "when the consent ends, RFC 3339")
	maxUses := fs.Int("max-uses", 0, "how many uses the consent allows")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return e.usageError("usage: %s", usage)
	}
	if *controller == "" || len(recipients) == 0 || len(purposes) == 0 || len(data) == 0 {
		return e.usageError("consent give: --person, --controller, --recipient, --purpose and --data are required")
	}
	if len(texts) != len(purposes) {
		return e.usageError("consent give: each --purpose needs its --purpose-text, the text the person was shown (%d purposes, %d texts)", len(purposes), len(texts))
	}
	g := consent.Grant{
		Controller: *controller, Recipients: recipients, DataCategories: data,
		Notice:   consent.Notice{URL: *noticeURL, Version: *noticeVersion, SHA256: strings.ToLower(*noticeHash)},
		Language: *language, Method: *method, Withdrawal: *withdrawal, MaxUses: *maxUses,
	}
	for i := range purposes {
		g.Purposes = append(g.Purposes, consent.Purpose{Code: purposes[i], Text: texts[i]})
	}
	switch {
	case *noticeFile != "" && *noticeHash != "":
		return e.usageError("consent give: give --notice-file or --notice-sha256, not both")
	case *noticeFile != "":
		b, err := e.readInput(*noticeFile, limits.MaxCLIInput)
		if err != nil {
			return e.usageError("consent give: notice: %s", oneLine(err.Error()))
		}
		sum := sha256.Sum256(b)
		g.Notice.SHA256 = hex.EncodeToString(sum[:])
	case *noticeHash == "":
		return e.usageError("consent give: --notice-file or --notice-sha256 is required: the SHA-256 of the exact notice shown")
	}
	if *validFor != "" {
		d, err := parseValidFor(*validFor)
		if err != nil {
			return e.usageError("consent give: %s", err)
		}
		g.ValidFor = d
	}
	if *until != "" {
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			return e.usageError("consent give: --until: %q is not an RFC 3339 time", printable(*until))
		}
		g.Until = t
	}
	if *maxUses < 0 {
		return e.usageError("consent give: --max-uses is negative")
	}
	ref, country, err := consentPerson(*person)
	if err != nil {
		return e.usageError("consent give: %s", err)
	}
	g.Person = ref
	if g.LegalBasis, err = consentBasis(*basis, country); err != nil {
		return e.usageError("consent give: %s", err)
	}
	if b, err := consent.LookupBasis(g.LegalBasis); err != nil {
		return e.usageError("consent give: unknown legal basis %q", printable(g.LegalBasis))
	} else if b.Kind == consent.BasisConsent && (*noticeURL == "" || *language == "" || *withdrawal == "") {
		return e.usageError("consent give: consent needs --notice-url, --language and --withdrawal (ISO/IEC TS 27560)")
	}

	c, err := openConsent(e, f, true)
	if err != nil {
		return consentFail(e, "give", exitUsage, err)
	}
	defer c.Close()
	ch, err := c.store.Give(e.ctx, g)
	if err != nil && (ch == nil || ch.Record.ID == "") {
		return consentFail(e, "give", exitUsage, err)
	}
	// A change recorded without its receipt (the signer failed) is still recorded: say so,
	// and print it, since its ID is what the caller needs.
	code = exitOK
	if err != nil {
		code = consentFail(e, "give", exitUsage, fmt.Errorf("recorded, but the receipt was not signed (dpi consent receipt signs it again): %w", err))
	}
	if err := c.checkpoint(e); err != nil {
		code = consentFail(e, "give", exitCodeOf(err), fmt.Errorf("recorded, but the consent log's checkpoint was refused: %w", err))
	}
	if e.json {
		if err := e.printJSON(ch); err != nil {
			return exitUsage
		}
		return code
	}
	printConsentRecord(e, &ch.Record, &ch.Event)
	fmt.Fprintln(e.stdout, ch.Record.ID)
	return code
}

// printConsentRecord prints a record after a change, one field a line.
func printConsentRecord(e *env, r *consent.Record, ev *consent.Event) {
	w := tabwriter.NewWriter(e.stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(w, "status:\t%s\n", r.Status)
	fmt.Fprintf(w, "record:\t%s\n", printable(r.ID))
	fmt.Fprintf(w, "controller:\t%s\n", printable(r.Controller))
	fmt.Fprintf(w, "recipients:\t%s\n", printable(strings.Join(r.Recipients, ", ")))
	for _, p := range r.Purposes {
		fmt.Fprintf(w, "purpose:\t%s: %s\n", printable(p.Code), printable(p.Text))
	}
	fmt.Fprintf(w, "data:\t%s\n", printable(strings.Join(r.DataCategories, ", ")))
	fmt.Fprintf(w, "legal basis:\t%s (%s)\n", printable(r.LegalBasis), printable(r.Jurisdiction))
	fmt.Fprintf(w, "valid:\t%s\n", validityText(r))
	if ev != nil {
		fmt.Fprintf(w, "event:\t%s by %s at %s, consent log %s entry %d\n", ev.Status, printable(ev.By),
			ev.At.UTC().Format(time.RFC3339), printable(ev.Log.Origin), ev.Log.Seq)
	}
	_ = w.Flush()
}

// validityText says how long a record lasts and how many uses it has had.
func validityText(r *consent.Record) string {
	var parts []string
	if !r.Validity.Until.IsZero() {
		parts = append(parts, "until "+r.Validity.Until.UTC().Format(time.RFC3339))
	}
	if r.Validity.MaxUses > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d uses", r.Uses, r.Validity.MaxUses))
	} else {
		parts = append(parts, fmt.Sprintf("%d uses", r.Uses))
	}
	return strings.Join(parts, ", ")
}

func runConsentCheck(e *env, args []string) int {
	const usage = "dpi consent check --db DSN --key KEY.pem --person ID --controller ID --recipient ID\n" +
		"    --purpose CODE --data CATEGORY... [--at TIME] [--log ORIGIN] [--json]\n\n" +
		"Decides whether the controller may share the data categories (--data repeats) with the\n" +
		"recipient for the purpose, as consent.Store.Check does: deny by default; allow only on\n" +
		"an active record of the person and the controller that names the recipient, covers the\n" +
		"purpose and every category, and is within its time and uses. It records nothing: no use\n" +
		"is counted or logged (a service that shares calls consent.Store.Authorize, which does).\n" +
		"Prints the deciding record when allowed, the reason on stderr when denied (no-record,\n" +
		"recipient-not-named, purpose-not-covered, data-not-covered, expired, used-up, withdrawn,\n" +
		"revoked, not-active, before-record-began, basis-not-applicable); with --json, the\n" +
		"decision. --at (RFC 3339) decides for another time than now.\n\n" +
		consentPersonUsage + "\n" +
		"Exit 0 allowed, 1 denied, 2 usage error or unusable input (" + personKeyEnv + " unset, no\n" +
		"consent store in the database, a --key that is not the log's key), 3 indeterminate: a\n" +
		"stored record does not decode (run dpi consent verify)."
	fs := e.newFlags("consent check", usage)
	f := addConsentFlags(fs, "database holding the consent store: sqlite://PATH or postgres://...")
	person := fs.String("person", "", consentPersonHelp)
	controller := fs.String("controller", "", "the controller that would share the data")
	recipient, purpose := &onceFlag{name: "recipient"}, &onceFlag{name: "purpose"}
	fs.Var(recipient, "recipient", "who would receive the data")
	fs.Var(purpose, "purpose", "the purpose code the data would be used for")
	var data listFlag
	fs.Var(&data, "data", "a data category that would be shared (repeatable)")
	at := fs.String("at", "", "when the data would be used, RFC 3339 (default now)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return e.usageError("usage: %s", usage)
	}
	if *controller == "" || recipient.value == "" || purpose.value == "" || len(data) == 0 {
		return e.usageError("consent check: --person, --controller, --recipient, --purpose and --data are required")
	}
	req := consent.Request{Controller: *controller, Recipient: recipient.value, Purpose: purpose.value, DataCategories: data}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return e.usageError("consent check: --at: %q is not an RFC 3339 time", printable(*at))
		}
		req.At = t
	}
	var err error
	if req.Person, _, err = consentPerson(*person); err != nil {
		return e.usageError("consent check: %s", err)
	}
	c, err := openConsent(e, f, false)
	if err != nil {
		return consentFail(e, "check", exitUsage, err)
	}
	defer c.Close()
	d, err := c.store.Check(e.ctx, req)
	if errors.Is(err, consent.ErrTampered) {
		return consentFail(e, "check", exitIndeterminate, fmt.Errorf("cannot decide: %w (run dpi consent verify)", err))
	}
	if err != nil {
		return consentFail(e, "check", exitUsage, err)
	}
	code = exitOK
	if !d.Allow {
		code = exitRejected
		msg := "denied: " + string(d.Reason)
		if d.Record != nil {
			msg += fmt.Sprintf(" (record %s, %s)", printable(d.Record.ID), d.Record.Status)
		}
		fmt.Fprintf(e.stderr, "dpi: consent check: %s\n", msg)
	}
	if e.json {
		if err := e.printJSON(d); err != nil {
			return exitUsage
		}
		return code
	}
	if d.Allow {
		fmt.Fprintf(e.stdout, "allowed: record %s (%s, %s)\n", printable(d.Record.ID), d.Record.Status, validityText(d.Record))
	}
	return code
}

func runConsentWithdraw(e *env, args []string) int {
	const usage = "dpi consent withdraw --db DSN --key KEY.pem --person ID [--log ORIGIN] [--json] RECORD_ID\n\n" +
		"Records that the person withdrew the consent RECORD_ID, and prints the record after it\n" +
		"(with --json, the record, the event and the person's signed receipt). --person says who\n" +
		"withdraws: the store refuses another person's record. A checkpoint of the consent log is\n" +
		"signed after the change.\n\n" +
		consentPersonUsage + "\n" +
		"Exit 0 withdrawn, 1 refused: no such record, another person's record, or not a consent\n" +
		"in force (already withdrawn, expired, revoked); or the consent log does not extend its\n" +
		"latest checkpoint; 2 usage error or unusable input (" + personKeyEnv + " unset, no consent\n" +
		"store in the database, a --key that is not the log's key)."
	fs := e.newFlags("consent withdraw", usage)
	f := addConsentFlags(fs, "database holding the consent store: sqlite://PATH or postgres://...")
	person := fs.String("person", "", consentPersonHelp)
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return e.usageError("usage: %s", usage)
	}
	ref, _, err := consentPerson(*person)
	if err != nil {
		return e.usageError("consent withdraw: %s", err)
	}
	c, err := openConsent(e, f, false)
	if err != nil {
		return consentFail(e, "withdraw", exitUsage, err)
	}
	defer c.Close()
	ch, err := c.store.Withdraw(e.ctx, ref, rest[0])
	if err != nil && (ch == nil || ch.Record.ID == "") {
		return consentFail(e, "withdraw", consentExit(err), err)
	}
	code = exitOK
	if err != nil {
		code = consentFail(e, "withdraw", exitUsage, fmt.Errorf("withdrawn, but the receipt was not signed (dpi consent receipt signs it again): %w", err))
	}
	if err := c.checkpoint(e); err != nil {
		code = consentFail(e, "withdraw", exitCodeOf(err), fmt.Errorf("withdrawn, but the consent log's checkpoint was refused: %w", err))
	}
	if e.json {
		if err := e.printJSON(ch); err != nil {
			return exitUsage
		}
		return code
	}
	printConsentRecord(e, &ch.Record, &ch.Event)
	return code
}

func runConsentList(e *env, args []string) int {
	const usage = "dpi consent list --db DSN --key KEY.pem --person ID [--log ORIGIN] [--json]\n\n" +
		"Lists the person's records, newest first: ID, status, controller, recipients, purposes,\n" +
		"data categories, validity and uses (with --json, the records).\n\n" +
		consentPersonUsage + "\n" +
		"Exit 0 listed (none is not an error), 1 a stored record does not decode (run dpi consent\n" +
		"verify), 2 usage error or unusable input (" + personKeyEnv + " unset, no consent store in\n" +
		"the database, a --key that is not the log's key)."
	fs := e.newFlags("consent list", usage)
	f := addConsentFlags(fs, "database holding the consent store: sqlite://PATH or postgres://...")
	person := fs.String("person", "", consentPersonHelp)
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return e.usageError("usage: %s", usage)
	}
	ref, _, err := consentPerson(*person)
	if err != nil {
		return e.usageError("consent list: %s", err)
	}
	c, err := openConsent(e, f, false)
	if err != nil {
		return consentFail(e, "list", exitUsage, err)
	}
	defer c.Close()
	recs, err := c.store.List(e.ctx, ref)
	if err != nil {
		return consentFail(e, "list", consentExit(err), err)
	}
	if e.json {
		if recs == nil {
			recs = []consent.Record{}
		}
		if err := e.printJSON(recs); err != nil {
			return exitUsage
		}
		return exitOK
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no records")
		return exitOK
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "RECORD\tSTATUS\tCONTROLLER\tRECIPIENTS\tPURPOSES\tDATA\tVALID")
	for i := range recs {
		r := &recs[i]
		codes := make([]string, len(r.Purposes))
		for j, p := range r.Purposes {
			codes[j] = p.Code
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(r.ID), r.Status, printable(r.Controller),
			printable(strings.Join(r.Recipients, ",")), printable(strings.Join(codes, ",")),
			printable(strings.Join(r.DataCategories, ",")), validityText(r))
	}
	if err := w.Flush(); err != nil {
		return exitUsage
	}
	return exitOK
}

// consentReceiptResult is the JSON form of "dpi consent receipt --json".
type consentReceiptResult struct {
	RecordID string `json:"recordId"`
	Receipt  string `json:"receipt"`
}

func runConsentReceipt(e *env, args []string) int {
	const usage = "dpi consent receipt --db DSN --key KEY.pem [--log ORIGIN] [--json] RECORD_ID\n\n" +
		"Signs again, and prints, the person's receipt of the latest event of RECORD_ID: a compact\n" +
		"JWS (ES256 or EdDSA, by the key) over the RFC 8785 canonical JSON of the record and the\n" +
		"event, with where the event is in the consent log; it verifies offline with the\n" +
		"controller's public key (consent.VerifyReceipt). Writes nothing.\n\n" +
		"Exit 0 printed, 1 no such record, or the log holds no event of it (run dpi consent\n" +
		"verify), 2 usage error or unusable input (no consent store in the database, a --key that\n" +
		"is not the log's key)."
	fs := e.newFlags("consent receipt", usage)
	f := addConsentFlags(fs, "database holding the consent store: sqlite://PATH or postgres://...")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return e.usageError("usage: %s", usage)
	}
	c, err := openConsent(e, f, false)
	if err != nil {
		return consentFail(e, "receipt", exitUsage, err)
	}
	defer c.Close()
	jws, err := c.store.Receipt(e.ctx, rest[0])
	if err != nil {
		return consentFail(e, "receipt", consentExit(err), err)
	}
	if e.json {
		if err := e.printJSON(consentReceiptResult{RecordID: rest[0], Receipt: jws}); err != nil {
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprintln(e.stdout, jws)
	return exitOK
}

// consentVerifyResult is the JSON form of "dpi consent verify --json".
type consentVerifyResult struct {
	Intact bool                  `json:"intact"`
	Report *consent.VerifyReport `json:"report,omitempty"`
	Faults []consent.RecordFault `json:"faults,omitempty"`
	Error  string                `json:"error,omitempty"`
}

func runConsentVerify(e *env, args []string) int {
	const usage = "dpi consent verify --db DSN --key KEY.pem [--log ORIGIN] [--json]\n\n" +
		"Checks the consent store against its evidence log: verifies the log and its signed\n" +
		"checkpoints with the key, replays every event and use the log holds into the records\n" +
		"they make, and compares each with its row, column by column. Names every record whose\n" +
		"row was edited (any column), deleted, or inserted without its event, behind the\n" +
		"store's back. Writes nothing. An auditor also runs dpi log verify --log ORIGIN with the\n" +
		"published public key.\n\n" +
		"Exit 0 intact, 1 tampered: each record at fault is named, or the consent log itself\n" +
		"does not verify, 2 usage error or unreadable input (no consent store in the database,\n" +
		"a --key that is not the log's key)."
	fs := e.newFlags("consent verify", usage)
	f := addConsentFlags(fs, "database holding the consent store: sqlite://PATH or postgres://...")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return e.usageError("usage: %s", usage)
	}
	c, err := openConsent(e, f, false)
	if err != nil {
		return consentFail(e, "verify", exitUsage, err)
	}
	defer c.Close()
	rep, err := c.store.Verify(e.ctx, c.log.Verifier())
	res := consentVerifyResult{Intact: err == nil, Report: rep}
	var te *consent.TamperError
	switch {
	case err == nil:
		code = exitOK
	case errors.As(err, &te):
		res.Faults, res.Error, code = te.Records, consent.ErrTampered.Error(), exitRejected
	case errors.Is(err, evidence.ErrTampered), errors.Is(err, evidence.ErrCheckpoint):
		res.Report, res.Error, code = nil, oneLine(err.Error()), exitRejected
	default:
		return consentFail(e, "verify", exitUsage, err)
	}
	if e.json {
		if err := e.printJSON(res); err != nil {
			return exitUsage
		}
		return code
	}
	switch {
	case res.Intact:
		fmt.Fprintf(e.stdout, "INTACT: %s the consent log %s (%s, %s; %s, %s)\n",
			plural(rep.Records, "record matches", "records match"), printable(rep.Log.Origin), plural(rep.Events, "event", "events"),
			plural(rep.Uses, "use", "uses"), plural(int(rep.Log.Size), "entry", "entries"), plural(rep.Log.Checkpoints, "signed checkpoint", "signed checkpoints"))
		if rep.Log.Unanchored > 0 {
			fmt.Fprintf(e.stdout, "%s under no signed checkpoint yet\n", plural(int(rep.Log.Unanchored), "entry is", "entries are"))
		}
	case te != nil:
		fmt.Fprintf(e.stdout, "TAMPERED: %s from the consent log\n", plural(len(te.Records), "record differs", "records differ"))
		for _, fault := range te.Records {
			fmt.Fprintf(e.stdout, "  record %s: %s\n", printable(fault.ID), printable(fault.Detail))
		}
	default:
		fmt.Fprintf(e.stdout, "TAMPERED: %s\n", res.Error)
	}
	return code
}

// plural writes n and the singular or plural of what it counts.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
