package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/notify"
)

// dpi notify evidence: export a legal notice's signed proof of delivery, and check one
// offline.

func init() {
	registerNotify(command{name: "evidence", summary: "export a legal notice's signed proof of delivery (JSON), or check one offline", run: runNotifyEvidence})
}

// refusingPrinter lets evidence open the legal notices, which need a letter channel,
// without printing anything.
type refusingPrinter struct{}

func (refusingPrinter) Print(context.Context, *notify.LetterDocument) error {
	return errors.New("dpi notify evidence prints no letter")
}

func runNotifyEvidence(e *env, args []string) int {
	const usage = "dpi notify evidence --db DSN --key KEY.pem --sender NAME --rule CC [--tz ZONE] [--holiday YYYY-MM-DD...]\n" +
		"    [--log ORIGIN] ID\n" +
		"dpi notify evidence --verify FILE --pubkey PUB.pem [--log-pubkey PUB] [--log ORIGIN] [--json]\n\n" +
		"The first form prints the proof of delivery of the legal notice ID as JSON: a statement\n" +
		"(sender, recipient reference, content hash, the times made available, alerted and opened,\n" +
		"the date served or deemed, the rule) signed with --key as a compact JWS, and inclusion\n" +
		"proofs of the evidence entries it rests on up to a checkpoint of the outbox's log, which\n" +
		"it signs now. --rule is the country code of the deemed rule the notice follows (ES BR\n" +
		"CL DK PE UY); --tz and --holiday are that country's calendar. Write it to a file and\n" +
		"hand it over: it verifies without the database.\n\n" +
		"The second form checks such a file offline with the sender's public key (--pubkey) and\n" +
		"the evidence log's (--log-pubkey, default the same key; a PEM key needs --log), and\n" +
		"prints the statement.\n\n" +
		"Exit 0 exported, or valid; 1 the proof is rejected (named check), or no such legal\n" +
		"notice in a mailbox; 2 usage error or unusable input (no database, a --key that is not\n" +
		"the log's, an unknown --rule, an unreadable file)."
	fs := e.newFlags("notify evidence", usage)
	f := addNotifyFlags(fs, "database holding the outbox: sqlite://PATH or postgres://...")
	sender := fs.String("sender", "", "the sender named in the proof: the agency")
	rule := fs.String("rule", "", "country code of the deemed rule the notice follows: "+strings.Join(ruleCodes(), ", "))
	tz := fs.String("tz", "UTC", "IANA time zone of the rule's calendar, such as America/Lima")
	var holidays listFlag
	fs.Var(&holidays, "holiday", "a public holiday of the rule's calendar, YYYY-MM-DD (repeatable)")
	verify := fs.String("verify", "", "check the proof in FILE ('-' for standard input) instead of exporting one")
	pubkey := fs.String("pubkey", "", "with --verify: the sender's public key, PEM PUBLIC KEY (Ed25519 or ECDSA P-256)")
	logPubkey := fs.String("log-pubkey", "", "with --verify: the evidence log's "+pubkeyHelp+" (default --pubkey)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *verify != "" {
		if len(rest) != 0 || *pubkey == "" || f.dsn != "" || f.keyPath != "" {
			return e.usageError("usage: %s", usage)
		}
		return verifyNotifyProof(e, *verify, *pubkey, *logPubkey, f.origin)
	}
	if len(rest) != 1 || f.dsn == "" || f.keyPath == "" || *sender == "" || *rule == "" {
		return e.usageError("usage: %s", usage)
	}
	r := notify.Rules()[strings.ToUpper(*rule)]
	if r == nil {
		return notifyFail(e, "evidence", exitUsage, fmt.Errorf("no deemed rule for %q (known: %s)", printable(*rule), strings.Join(ruleCodes(), ", ")))
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, fmt.Errorf("--tz: unknown time zone %q", printable(*tz)))
	}
	cal, err := notify.NewCalendar(notify.CalendarConfig{Location: loc, Holidays: []string(holidays)})
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	key, err := loadLogKey(e, f.keyPath)
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, fmt.Errorf("key: %s", oneLine(err.Error())))
	}
	b, err := openBlockDB(e, blockLog{
		dsn: f.dsn, origin: f.origin, key: key,
		block: "notify", first: "send a legal notice first", keyName: "the key",
	})
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	defer b.Close()
	mb, err := notify.OpenMailbox(e.ctx, b.db, notify.MailboxConfig{Log: b.log})
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	letter, err := notify.NewLetterChannel(notify.LetterConfig{Printer: refusingPrinter{}})
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	o, err := notify.Open(e.ctx, b.db, notify.Config{Log: b.log, Channels: []notify.Channel{mb, letter}})
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	legal, err := notify.NewLegal(notify.LegalConfig{Outbox: o, Mailbox: mb, Rule: r, Calendar: cal, Sender: *sender,
		Letter: letter.Name(), Signer: key})
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	p, err := legal.Proof(e.ctx, rest[0])
	if errors.Is(err, notify.ErrNotFound) {
		return notifyFail(e, "evidence", exitRejected, fmt.Errorf("no legal notice %s made available in a mailbox", printable(rest[0])))
	}
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	if err := e.printJSON(p); err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	return exitOK
}

// verifyNotifyProof checks a proof file offline and prints its statement.
func verifyNotifyProof(e *env, path, pubkey, logPubkey, origin string) int {
	kb, err := e.readInput(pubkey, limits.MaxEvidenceKeyFile)
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	blk, _ := pem.Decode(kb)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return notifyFail(e, "evidence", exitUsage, errors.New("--pubkey: want a PEM PUBLIC KEY block"))
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, errors.New("--pubkey: malformed PKIX public key"))
	}
	if logPubkey == "" {
		logPubkey = pubkey
	}
	v, err := loadVerifier(e, logPubkey, origin)
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, fmt.Errorf("--log-pubkey: %s", oneLine(err.Error())))
	}
	b, err := e.readInput(path, limits.MaxNotifyProof)
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	st, err := notify.VerifyProof(b, crypto.PublicKey(pub), v)
	if errors.Is(err, notify.ErrProof) {
		return notifyFail(e, "evidence", exitRejected, err)
	}
	if err != nil {
		return notifyFail(e, "evidence", exitUsage, err)
	}
	if e.json {
		if err := e.printJSON(st); err != nil {
			return notifyFail(e, "evidence", exitUsage, err)
		}
		return exitOK
	}
	w := e.stdout
	fmt.Fprintf(w, "proof of delivery: valid\n")
	fmt.Fprintf(w, "notification: %s\n", printable(st.ID))
	fmt.Fprintf(w, "sender: %s\n", printable(st.Sender))
	fmt.Fprintf(w, "recipient: %s\n", printable(st.Recipient))
	fmt.Fprintf(w, "rule: %s (%s)\n", printable(st.Rule), printable(st.Country))
	fmt.Fprintf(w, "status: %s\n", st.Status)
	fmt.Fprintf(w, "content sha-256: %s\n", printable(st.ContentHash))
	fmt.Fprintf(w, "made available: %s\n", st.MadeAvailable.UTC().Format(time.RFC3339))
	if !st.Alerted.IsZero() {
		fmt.Fprintf(w, "alerted: %s\n", st.Alerted.UTC().Format(time.RFC3339))
	}
	if !st.Opened.IsZero() {
		fmt.Fprintf(w, "opened: %s\n", st.Opened.UTC().Format(time.RFC3339))
	}
	if !st.Served.IsZero() {
		fmt.Fprintf(w, "served: %s\n", st.Served.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "log: %s, %d evidence entries\n", printable(st.Log), len(st.Evidence))
	return exitOK
}

// ruleCodes lists the countries of the built-in deemed rules.
func ruleCodes() []string {
	var out []string
	for c := range notify.Rules() {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
