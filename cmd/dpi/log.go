package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

func init() {
	register(command{name: "log", summary: "keep and check tamper-evident logs: init, append, checkpoint, verify, proofs", subs: []command{
		{name: "keygen", summary: "make an Ed25519 key for a log's checkpoints", run: runLogKeygen},
		{name: "init", summary: "create a log (and its database) and print its note verifier key", run: runLogInit},
		{name: "append", summary: "append one record and print its receipt", run: runLogAppend},
		{name: "checkpoint", summary: "sign a checkpoint and print the signed note auditors keep", run: runLogCheckpoint},
		{name: "verify", summary: "recompute a log from its database and check it against its signed checkpoints", run: runLogVerify},
		{name: "proof", summary: "print an inclusion proof of one entry and its signed checkpoint", run: runLogProof},
		{name: "consistency", summary: "print a consistency proof between two signed checkpoints", run: runLogConsistency},
		{name: "check-proof", summary: "check an inclusion or consistency proof offline, with the public key only", run: runLogCheckProof},
	}})
}

// The --pubkey file holds either a PEM "PUBLIC KEY" (PKIX, Ed25519 or ECDSA P-256) or a note
// verifier key, "origin+hash+base64key", on one line.
const pubkeyHelp = "public key file: PEM PUBLIC KEY (Ed25519 or ECDSA P-256) or note verifier key origin+hash+key"

// errNeedOrigin reports a PEM key read without the origin of the log it verifies.
var errNeedOrigin = errors.New("a PEM public key does not name its log: pass --log ORIGIN")

// loadVerifier reads a --pubkey file. origin may be empty when the file is a note verifier
// key, which names its log.
func loadVerifier(e *env, path, origin string) (*evidence.Verifier, error) {
	b, err := e.readInput(path, limits.MaxEvidenceKeyFile)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte("-----BEGIN")) {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PUBLIC KEY" {
			return nil, errors.New("public key: want a PEM PUBLIC KEY block")
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, errors.New("public key: malformed PKIX public key")
		}
		if origin == "" {
			return nil, errNeedOrigin
		}
		return evidence.NewVerifier(origin, pub)
	}
	v, err := evidence.ParseVerifierKey(string(b))
	if err != nil {
		return nil, err
	}
	if origin != "" && v.Origin() != origin {
		return nil, fmt.Errorf("the verifier key is for log %q, not %q", v.Origin(), origin)
	}
	return v, nil
}

// openLogDB opens the database read-only and the log named origin, or its only log when
// origin is "". Nothing is created or written: an auditor's account may only read, and
// checking a file that is not a log must leave it as it was.
func openLogDB(e *env, dsn, origin string) (*store.DB, *evidence.Log, error) {
	db, err := store.OpenReadOnly(e.ctx, dsn)
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil, notExistError(dsn, "there is no log in it to check")
	}
	if err != nil {
		return nil, nil, err
	}
	origin, err = findOrigin(e, db, origin)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	l, err := evidence.Open(e.ctx, db, evidence.Config{Origin: origin, ReadOnly: true})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, l, nil
}

// findOrigin returns origin when db holds that log, or db's only log when origin is "".
func findOrigin(e *env, db *store.DB, origin string) (string, error) {
	origins, err := evidence.Origins(e.ctx, db)
	if err != nil || len(origins) == 0 {
		return "", errNoLog
	}
	switch {
	case origin == "" && len(origins) == 1:
		return origins[0], nil
	case origin == "":
		return "", fmt.Errorf("the database holds %d logs (%s): pass --log ORIGIN", len(origins), strings.Join(origins, ", "))
	}
	for _, o := range origins {
		if o == origin {
			return origin, nil
		}
	}
	return "", fmt.Errorf("the database holds no log %q", origin)
}

// errNoLog reports a database without a tamper-evident log in it.
var errNoLog = errors.New("the database holds no tamper-evident log")

// notExistError says why store refused to open dsn without creating it (store.ErrNotExist):
// an in-memory database, always new and empty, or a missing SQLite file. what says what
// the new database would lack.
func notExistError(dsn, what string) error {
	if inMemory(dsn) {
		return fmt.Errorf("sqlite://:memory: is a new, empty database: %s; name the database file (sqlite://PATH)", what)
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "sqlite://"), "?")
	return fmt.Errorf("no database file at %s", path)
}

// inMemory reports whether dsn names an SQLite database in memory, which no other command
// will ever see.
func inMemory(dsn string) bool {
	rest, ok := strings.CutPrefix(dsn, "sqlite://")
	path, _, _ := strings.Cut(rest, "?")
	return ok && path == ":memory:"
}

// logVerifyResult is the JSON form of "dpi log verify --json".
type logVerifyResult struct {
	Origin    string           `json:"origin"`
	Intact    bool             `json:"intact"`
	Anchored  bool             `json:"anchored"`
	Report    *evidence.Report `json:"report,omitempty"`
	Faults    []evidence.Fault `json:"faults,omitempty"`
	Truncated bool             `json:"faultsTruncated,omitempty"`
	Error     string           `json:"error,omitempty"`
}

func runLogVerify(e *env, args []string) int {
	const usage = "dpi log verify --db DSN --pubkey KEY [--log ORIGIN] [--checkpoint FILE]... [--json]\n\n" +
		"Recomputes the log from the database and checks it against its latest signed checkpoint\n" +
		"(and any checkpoints kept earlier). Reads only: nothing is created or written.\n\n" +
		"Exit 0 intact, 1 tampered (each faulty entry is named), or the checkpoints are not signed\n" +
		"by this key (none of the stored checkpoints verifies with --pubkey), 2 usage error or\n" +
		"unreadable input (a missing database file, sqlite://:memory:, a database without the log,\n" +
		"a --checkpoint file the key does not open), 3 indeterminate: the log has no signed\n" +
		"checkpoint yet."
	fs := e.newFlags("log verify", usage)
	dsn := fs.String("db", "", "database: sqlite://PATH, sqlite://:memory: or postgres://...")
	keyPath := fs.String("pubkey", "", pubkeyHelp)
	origin := fs.String("log", "", "origin of the log (needed when the database holds several, or with a PEM key)")
	var keptPaths []string
	fs.Func("checkpoint", "a signed checkpoint kept from earlier, which the log must still contain (repeatable)", func(p string) error {
		keptPaths = append(keptPaths, p)
		return nil
	})
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *dsn == "" || *keyPath == "" {
		return e.usageError("usage: %s", usage)
	}
	var kept [][]byte
	for _, p := range keptPaths {
		b, err := e.readInput(p, limits.MaxEvidenceCheckpoint)
		if err != nil {
			return e.usageError("log verify: %s", oneLine(err.Error()))
		}
		kept = append(kept, b)
	}
	v, err := loadVerifier(e, *keyPath, *origin)
	if errors.Is(err, errNeedOrigin) {
		// A PEM key and a database that holds one log: verify that log.
		var db *store.DB
		var l *evidence.Log
		if db, l, err = openLogDB(e, *dsn, ""); err == nil {
			db.Close()
			v, err = loadVerifier(e, *keyPath, l.Origin())
		}
	}
	if err != nil {
		return e.usageError("log verify: %s", oneLine(err.Error()))
	}
	db, l, err := openLogDB(e, *dsn, v.Origin())
	if err != nil {
		return e.usageError("log verify: %s", oneLine(err.Error()))
	}
	defer db.Close()

	// A kept checkpoint the key does not open is the wrong file, or the wrong key: the
	// stored checkpoints tell which.
	var badKept error
	for i, k := range kept {
		if _, err := v.OpenCheckpoint(k); err != nil {
			badKept = fmt.Errorf("--checkpoint %s: %w", keptPaths[i], err)
			kept = nil
			break
		}
	}
	rep, err := l.Verify(e.ctx, v, kept...)
	res := logVerifyResult{Origin: l.Origin(), Report: rep}
	var te *evidence.TamperError
	tampered := errors.As(err, &te)
	if tampered {
		if others, n, ok := otherKey(rep, te); ok {
			res.Faults, res.Truncated, res.Error = others, te.Truncated, errOtherKey
			return e.reportOtherKey(res, n)
		}
	}
	if badKept != nil {
		err, tampered = badKept, false
	}
	switch {
	case tampered:
		res.Faults, res.Truncated = te.Faults, te.Truncated
	case err != nil:
		res.Error, res.Report = oneLine(err.Error()), nil
		if e.json {
			_ = e.printJSON(res)
		} else {
			fmt.Fprintf(e.stderr, "dpi: log verify: %s\n", res.Error)
		}
		return exitUsage
	default:
		res.Intact = true
		res.Anchored = rep.Latest != nil
	}
	code = exitOK
	switch {
	case !res.Intact:
		code = exitRejected
	case !res.Anchored:
		code = exitIndeterminate
	}
	if e.json {
		if err := e.printJSON(res); err != nil {
			return exitUsage
		}
		return code
	}
	switch {
	case !res.Intact:
		e.printFaults(res, rep.Size)
	case !res.Anchored:
		fmt.Fprintf(e.stdout, "INDETERMINATE: log %s is consistent (%s) but has no signed checkpoint\n", res.Origin, plural(int(rep.Size), "entry", "entries"))
	default:
		fmt.Fprintf(e.stdout, "INTACT: log %s verifies: %s, %d erased, %s checked; latest covers %s", res.Origin, plural(int(rep.Size), "entry", "entries"), rep.Erased, plural(int(rep.Checkpoints), "signed checkpoint", "signed checkpoints"), plural(int(rep.Latest.Size), "entry", "entries"))
		if rep.Unanchored > 0 {
			fmt.Fprintf(e.stdout, " (%s not yet checkpointed)", plural(int(rep.Unanchored), "newer entry", "newer entries"))
		}
		fmt.Fprintln(e.stdout)
	}
	return code
}

// errOtherKey is what "dpi log verify" says when no stored checkpoint is signed by the key it
// was given: most likely the key of another log, or a typo, rather than a tampered log.
const errOtherKey = "the checkpoints are not signed by this key"

// checkOtherKey is the check evidence names (CheckError.Check, Fault.Detail) for a signed
// note that carries no signature by the verifier's key: the key name or key hash differ.
// A signature by the right key that does not verify is "signature: does not verify".
const checkOtherKey = evidence.CheckOtherKey

// otherKey reports whether Verify failed because every stored checkpoint, of which there is
// at least one, is signed by another key than v's, and no kept one was opened with it. It
// returns the faults that have nothing to do with the key, and how many checkpoints failed.
func otherKey(rep *evidence.Report, te *evidence.TamperError) (others []evidence.Fault, n int, ok bool) {
	if rep == nil || rep.Checkpoints > 0 {
		return nil, 0, false
	}
	for _, f := range te.Faults {
		switch {
		case f.Kind == evidence.FaultCheckpoint && f.Detail == checkOtherKey:
			n++
		case f.Kind == evidence.FaultCheckpoint:
			return nil, 0, false
		default:
			others = append(others, f)
		}
	}
	return others, n, n > 0
}

// reportOtherKey prints the verdict of a log verified with a key that signed none of its
// checkpoints: rejected (exit 1), and any fault found in the entries besides.
func (e *env) reportOtherKey(res logVerifyResult, n int) int {
	if e.json {
		if err := e.printJSON(res); err != nil {
			return exitUsage
		}
		return exitRejected
	}
	fmt.Fprintf(e.stdout, "REJECTED: %s: none of the %s of log %s verifies with it\n", errOtherKey, plural(int(n), "signed checkpoint", "signed checkpoints"), res.Origin)
	if len(res.Faults) > 0 {
		e.printFaults(res, res.Report.Size)
	}
	return exitRejected
}

// printFaults prints the faults of a log that does not verify.
func (e *env) printFaults(res logVerifyResult, size uint64) {
	fmt.Fprintf(e.stdout, "TAMPERED: log %s does not verify (%s)\n", res.Origin, plural(int(size), "entry", "entries"))
	for _, f := range res.Faults {
		fmt.Fprintf(e.stdout, "  %s\n", f)
	}
	if res.Truncated {
		fmt.Fprintf(e.stdout, "  (more faults not listed)\n")
	}
}

func runLogProof(e *env, args []string) int {
	const usage = "dpi log proof --db DSN --seq N [--size M] [--log ORIGIN] [--json]\n\n" +
		"Prints a proof that entry N is in the tree of a stored signed checkpoint (the latest, or\n" +
		"the one of size M), for dpi log check-proof. It carries no personal data. Reads only:\n" +
		"nothing is created or written; the proof is checked by check-proof, not here.\n\n" +
		"Exit 0 printed, 2 usage error or unreadable input (no such database, log, entry or\n" +
		"checkpoint)."
	fs := e.newFlags("log proof", usage)
	dsn := fs.String("db", "", "database: sqlite://PATH, sqlite://:memory: or postgres://...")
	seq := fs.Int64("seq", -1, "sequence number of the entry")
	size := fs.Uint64("size", 0, "tree size of the signed checkpoint to prove against (default: the latest)")
	origin := fs.String("log", "", "origin of the log (needed when the database holds several)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *dsn == "" || *seq < 0 {
		return e.usageError("usage: %s", usage)
	}
	db, l, err := openLogDB(e, *dsn, *origin)
	if err != nil {
		return e.usageError("log proof: %s", oneLine(err.Error()))
	}
	defer db.Close()
	p, err := l.ProveInclusion(e.ctx, uint64(*seq), *size)
	if err != nil {
		return e.usageError("log proof: %s", oneLine(err.Error()))
	}
	if e.json {
		if err := e.printJSON(p); err != nil {
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "inclusion proof: entry %d (kind %s) of log %s\n", p.Leaf.Seq, p.Leaf.Kind, l.Origin())
	fmt.Fprintf(e.stdout, "audit path: %s\n", plural(len(p.Hashes), "hash", "hashes"))
	for _, h := range p.Hashes {
		b, _ := h.MarshalText()
		fmt.Fprintf(e.stdout, "  %s\n", b)
	}
	fmt.Fprintf(e.stdout, "signed checkpoint:\n%s", p.Checkpoint)
	fmt.Fprintf(e.stdout, "(print with --json and check with: dpi log check-proof --pubkey KEY FILE)\n")
	return exitOK
}

func runLogConsistency(e *env, args []string) int {
	const usage = "dpi log consistency --db DSN --old N [--new M] [--log ORIGIN] [--json]\n\n" +
		"Prints a proof that the tree of the stored checkpoint of size N is a prefix of the one of\n" +
		"size M (the latest by default), for dpi log check-proof. Reads only.\n\n" +
		"Exit 0 printed, 2 usage error or unreadable input (no such database, log or checkpoint)."
	fs := e.newFlags("log consistency", usage)
	dsn := fs.String("db", "", "database: sqlite://PATH, sqlite://:memory: or postgres://...")
	oldSize := fs.Int64("old", -1, "tree size of the older signed checkpoint")
	newSize := fs.Uint64("new", 0, "tree size of the newer signed checkpoint (default: the latest)")
	origin := fs.String("log", "", "origin of the log (needed when the database holds several)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *dsn == "" || *oldSize < 0 {
		return e.usageError("usage: %s", usage)
	}
	db, l, err := openLogDB(e, *dsn, *origin)
	if err != nil {
		return e.usageError("log consistency: %s", oneLine(err.Error()))
	}
	defer db.Close()
	p, err := l.ProveConsistency(e.ctx, uint64(*oldSize), *newSize)
	if err != nil {
		return e.usageError("log consistency: %s", oneLine(err.Error()))
	}
	if e.json {
		if err := e.printJSON(p); err != nil {
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "consistency proof of log %s: %s\nold checkpoint:\n%s\nnew checkpoint:\n%s", l.Origin(), plural(len(p.Hashes), "hash", "hashes"), p.Old, p.New)
	return exitOK
}

// logCheckResult is the JSON form of "dpi log check-proof --json".
type logCheckResult struct {
	Valid  bool   `json:"valid"`
	Kind   string `json:"kind"`
	Origin string `json:"origin"`
	Seq    uint64 `json:"seq,omitempty"`
	Size   uint64 `json:"size"`
	Old    uint64 `json:"oldSize,omitempty"`
	Root   string `json:"root,omitempty"`
	Error  string `json:"error,omitempty"`
}

func runLogCheckProof(e *env, args []string) int {
	const usage = "dpi log check-proof --pubkey KEY [--log ORIGIN] [--json] PROOF.json\n\n" +
		"Checks an inclusion or consistency proof offline, with the log's public key only: the\n" +
		"checkpoints' signatures and the hashes up to the signed root.\n\n" +
		"Exit 0 valid, 1 invalid (the failed check is named), 2 usage error or unreadable input."
	fs := e.newFlags("log check-proof", usage)
	keyPath := fs.String("pubkey", "", pubkeyHelp)
	origin := fs.String("log", "", "origin the proof must be for (taken from the proof with a PEM key)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 || *keyPath == "" {
		return e.usageError("usage: %s", usage)
	}
	doc, err := e.readInput(rest[0], limits.MaxEvidenceProof)
	if err != nil {
		return e.usageError("log check-proof: %s", oneLine(err.Error()))
	}
	var head struct {
		Format     string `json:"format"`
		Checkpoint string `json:"checkpoint"`
		New        string `json:"new"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return e.usageError("log check-proof: %s is not a JSON proof", displayName(rest[0]))
	}
	v, err := loadVerifier(e, *keyPath, *origin)
	if errors.Is(err, errNeedOrigin) {
		// A PEM key does not name its log: the proof does, and the signature check below
		// binds it. A note verifier key names its log itself, and a proof for another log
		// is then rejected by the check, not taken for a usage error.
		claimed, _, _ := strings.Cut(head.Checkpoint+head.New, "\n")
		v, err = loadVerifier(e, *keyPath, claimed)
	}
	if err != nil {
		return e.usageError("log check-proof: %s", oneLine(err.Error()))
	}
	res := logCheckResult{Origin: v.Origin()}
	switch head.Format {
	case evidence.InclusionFormat:
		res.Kind = "inclusion"
		p, perr := evidence.ParseInclusionProof(doc)
		err = perr
		if err == nil {
			var cp evidence.Checkpoint
			cp, err = v.VerifyInclusion(p)
			res.Seq, res.Size = p.Leaf.Seq, cp.Size
			root, _ := cp.Root.MarshalText()
			res.Root = string(root)
		}
	case evidence.ConsistencyFormat:
		res.Kind = "consistency"
		p, perr := evidence.ParseConsistencyProof(doc)
		err = perr
		if err == nil {
			var old, cur evidence.Checkpoint
			old, cur, err = v.VerifyConsistency(p)
			res.Old, res.Size = old.Size, cur.Size
			root, _ := cur.Root.MarshalText()
			res.Root = string(root)
		}
	default:
		return e.usageError("log check-proof: unknown proof format %q", head.Format)
	}
	res.Valid = err == nil
	if err != nil {
		res.Error = oneLine(err.Error())
		res.Root = ""
	}
	code = exitOK
	if !res.Valid {
		code = exitRejected
	}
	if e.json {
		if err := e.printJSON(res); err != nil {
			return exitUsage
		}
		return code
	}
	switch {
	case !res.Valid:
		fmt.Fprintf(e.stdout, "INVALID: %s proof for log %s: %s\n", res.Kind, res.Origin, res.Error)
	case res.Kind == "inclusion":
		fmt.Fprintf(e.stdout, "VALID: entry %d is in the tree of size %d of log %s (root %s)\n", res.Seq, res.Size, res.Origin, res.Root)
	default:
		fmt.Fprintf(e.stdout, "VALID: the tree of size %d of log %s is a prefix of the tree of size %d (root %s)\n", res.Old, res.Origin, res.Size, res.Root)
	}
	return code
}
