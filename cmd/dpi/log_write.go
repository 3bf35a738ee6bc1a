package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/store"
)

// The commands that keep a log (keygen, init, append, checkpoint) for an agency that wants
// its own: the library's evidence.Log behind a few flags.

const keyHelp = "the log's private key: PEM PKCS#8 (PRIVATE KEY, or ENCRYPTED PRIVATE KEY with the password in DPI_KEY_PASSWORD), Ed25519 or ECDSA P-256"

// errLogKey reports a --key whose public half signed none of the log's checkpoints: a log
// keeps the key it was initialised with (evidence.Config.Signer).
var errLogKey = errors.New("the log's checkpoints are not signed by this key: a log keeps its key; start a log under a new origin to change it")

// loadLogKey reads the --key file of a log: a private key evidence can sign checkpoints with.
func loadLogKey(e *env, path string) (crypto.Signer, error) {
	b, err := e.readInput(path, limits.MaxKeyFile)
	if err != nil {
		return nil, err
	}
	k, err := signature.LoadPrivateKey(b, []byte(os.Getenv("DPI_KEY_PASSWORD")))
	if err != nil {
		return nil, err
	}
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		return k, nil
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, errors.New("the log key must be Ed25519 or ECDSA P-256")
}

// checkLogKey reports whether l's signer is the log's key, by opening the latest stored
// checkpoint with it. A log without a checkpoint has no key yet. The returned code is
// exitRejected when the key is another, or the latest checkpoint does not verify (the log
// was tampered with), exitUsage when the database could not be read.
func checkLogKey(e *env, l *evidence.Log) (bound bool, code int, err error) {
	_, err = l.LatestCheckpoint(e.ctx)
	var ce *evidence.CheckError
	switch {
	case err == nil:
		return true, exitOK, nil
	case errors.Is(err, evidence.ErrNotFound):
		return false, exitOK, nil
	case errors.As(err, &ce) && ce.Check == checkOtherKey:
		return true, exitRejected, errLogKey
	case errors.Is(err, evidence.ErrCheckpoint), errors.Is(err, evidence.ErrTampered):
		return true, exitRejected, fmt.Errorf("the log's latest checkpoint does not verify (%w): run dpi log verify", err)
	}
	return false, exitUsage, err
}

// openLogWriter opens an existing database, never creating it, and the log named origin (or
// its only log) with the signer key, which must be the log's.
func openLogWriter(e *env, dsn, origin string, key crypto.Signer) (*store.DB, *evidence.Log, int, error) {
	db, err := store.OpenExisting(e.ctx, dsn)
	if errors.Is(err, store.ErrNotExist) && inMemory(dsn) {
		return nil, nil, exitUsage, notExistError(dsn, "there is no log in it")
	}
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil, exitUsage, fmt.Errorf("%w: run dpi log init first", notExistError(dsn, ""))
	}
	if err != nil {
		return nil, nil, exitUsage, err
	}
	origin, err = findOrigin(e, db, origin)
	if errors.Is(err, errNoLog) {
		err = fmt.Errorf("%w: run dpi log init first", err)
	}
	if err != nil {
		db.Close()
		return nil, nil, exitUsage, err
	}
	l, err := evidence.Open(e.ctx, db, evidence.Config{Origin: origin, Signer: key})
	if errors.Is(err, evidence.ErrOtherKey) {
		db.Close()
		return nil, nil, exitRejected, errLogKey
	}
	if err != nil {
		db.Close()
		return nil, nil, exitUsage, err
	}
	if _, code, err := checkLogKey(e, l); err != nil {
		db.Close()
		return nil, nil, code, err
	}
	return db, l, exitOK, nil
}

// logInitResult is the JSON form of "dpi log init --json".
type logInitResult struct {
	Origin       string `json:"origin"`
	VerifierKey  string `json:"verifierKey"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

func runLogInit(e *env, args []string) int {
	const usage = "dpi log init --db DSN --key KEY.pem --origin NAME [--json]\n\n" +
		"Creates the database if needed and the log named NAME in it, signs its first checkpoint\n" +
		"(which binds the log to KEY), and prints the log's note verifier key, origin+hash+key,\n" +
		"the --pubkey that auditors pass to dpi log verify and check-proof. Running it again with\n" +
		"the same key prints the same verifier key and changes nothing. The origin names the log\n" +
		"for ever, like agency.example/decisions. Make a key with dpi log keygen, or\n" +
		"openssl genpkey -algorithm ed25519 -out log.key.\n\n" +
		"Exit 0 done, 1 the log exists with checkpoints signed by another key (a log keeps its\n" +
		"key: start a log under a new origin) or its latest checkpoint does not verify, 2 usage\n" +
		"error or unusable input (key, origin, database; sqlite://:memory: would not outlive the\n" +
		"command)."
	fs := e.newFlags("log init", usage)
	dsn := fs.String("db", "", "database, created if needed: sqlite://PATH or postgres://...")
	keyPath := fs.String("key", "", keyHelp)
	origin := fs.String("origin", "", "the log's name, the first line of its checkpoints, such as agency.example/decisions")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *dsn == "" || *keyPath == "" || *origin == "" {
		return e.usageError("usage: %s", usage)
	}
	if inMemory(*dsn) {
		return e.usageError("log init: sqlite://:memory: is gone when the command ends; name the database file (sqlite://PATH)")
	}
	key, err := loadLogKey(e, *keyPath)
	if err != nil {
		return e.usageError("log init: key: %s", oneLine(err.Error()))
	}
	v, err := evidence.NewVerifier(*origin, key.Public())
	if err != nil {
		return e.usageError("log init: %s", oneLine(err.Error()))
	}
	db, err := store.Open(e.ctx, *dsn)
	if err != nil {
		return e.usageError("log init: %s", oneLine(err.Error()))
	}
	defer db.Close()
	l, err := evidence.Open(e.ctx, db, evidence.Config{Origin: *origin, Signer: key})
	if errors.Is(err, evidence.ErrOtherKey) {
		fmt.Fprintf(e.stderr, "dpi: log init: %s\n", errLogKey)
		return exitRejected
	}
	if err != nil {
		return e.usageError("log init: %s", oneLine(err.Error()))
	}
	bound, code, err := checkLogKey(e, l)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: log init: %s\n", oneLine(err.Error()))
		return code
	}
	if !bound {
		if _, err := l.Checkpoint(e.ctx); err != nil {
			fmt.Fprintf(e.stderr, "dpi: log init: %s\n", oneLine(err.Error()))
			return exitCodeOf(err)
		}
	}
	if !e.json {
		fmt.Fprintln(e.stdout, v.Key())
		return exitOK
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return e.usageError("log init: %s", oneLine(err.Error()))
	}
	res := logInitResult{Origin: l.Origin(), VerifierKey: v.Key(), PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	if err := e.printJSON(res); err != nil {
		return exitUsage
	}
	return exitOK
}

// exitCodeOf maps an error of the log to an exit code: a log that does not verify, or whose
// checkpoints another key signed, is rejected; anything else is unusable input.
func exitCodeOf(err error) int {
	if errors.Is(err, evidence.ErrTampered) || errors.Is(err, evidence.ErrCheckpoint) {
		return exitRejected
	}
	return exitUsage
}

func runLogAppend(e *env, args []string) int {
	const usage = "dpi log append --db DSN --key KEY.pem --kind KIND [--meta JSON] [--ref REF] [--log ORIGIN] [--json] [FILE|-]\n\n" +
		"Appends one record to a log made with dpi log init and prints its receipt: sequence\n" +
		"number, time, leaf hash and the salt the payload is committed under (with the payload,\n" +
		"what a person needs to check their entry offline). The payload, the personal part that\n" +
		"dpi can erase later, is FILE's bytes, or standard input with -, or empty without FILE.\n" +
		"KIND, REF and the JSON metadata are kept for as long as the log: no personal data in them.\n" +
		"The database is never created. --key must be the log's key.\n\n" +
		"Exit 0 appended, 1 the log's checkpoints are signed by another key or its latest\n" +
		"checkpoint does not verify, 2 usage error or unusable input (no such database or log,\n" +
		"metadata that is not JSON, a payload over the cap)."
	fs := e.newFlags("log append", usage)
	dsn := fs.String("db", "", "database made by dpi log init: sqlite://PATH or postgres://...")
	keyPath := fs.String("key", "", keyHelp)
	kind := fs.String("kind", "", "what the record records, such as decision.made (not personal data)")
	meta := fs.String("meta", "", "non-personal metadata, a JSON value")
	ref := fs.String("ref", "", "non-personal reference to find the record by, such as a case number (not personal data)")
	origin := fs.String("log", "", "origin of the log (needed when the database holds several)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 1 || *dsn == "" || *keyPath == "" || *kind == "" {
		return e.usageError("usage: %s", usage)
	}
	if *meta != "" && !json.Valid([]byte(*meta)) {
		return e.usageError("log append: --meta is not valid JSON")
	}
	var payload []byte
	if len(rest) == 1 {
		if rest[0] == "-" && *keyPath == "-" {
			return e.usageError("log append: --key and the payload cannot both be standard input")
		}
		var err error
		if payload, err = e.readInput(rest[0], limits.MaxEvidencePayload); err != nil {
			return e.usageError("log append: payload: %s", oneLine(err.Error()))
		}
	}
	key, err := loadLogKey(e, *keyPath)
	if err != nil {
		return e.usageError("log append: key: %s", oneLine(err.Error()))
	}
	db, l, code, err := openLogWriter(e, *dsn, *origin, key)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: log append: %s\n", oneLine(err.Error()))
		return code
	}
	defer db.Close()
	r := evidence.Record{Kind: *kind, Ref: *ref, Payload: payload}
	if *meta != "" {
		r.Meta = []byte(*meta)
	}
	rc, err := l.Append(e.ctx, r)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: log append: %s\n", oneLine(err.Error()))
		return exitCodeOf(err)
	}
	if e.json {
		if err := e.printJSON(rc); err != nil {
			return exitUsage
		}
		return exitOK
	}
	leaf, _ := rc.LeafHash.MarshalText()
	fmt.Fprintf(e.stdout, "appended entry %d to log %s\ntime:      %s\nleaf hash: %s\nsalt:      %s\n",
		rc.Seq, rc.Origin, rc.Time.UTC().Format(time.RFC3339Nano), leaf, base64.StdEncoding.EncodeToString(rc.Salt))
	return exitOK
}

// logCheckpointResult is the JSON form of "dpi log checkpoint --json".
type logCheckpointResult struct {
	evidence.Checkpoint
	Note string `json:"note"`
}

func runLogCheckpoint(e *env, args []string) int {
	const usage = "dpi log checkpoint --db DSN --key KEY.pem [--log ORIGIN] [--json]\n\n" +
		"Signs a checkpoint of the log as it is now (or returns the latest, when nothing was\n" +
		"appended since) and prints the signed note, exactly: auditors keep it (> kept.note) and\n" +
		"pass it to dpi log verify --checkpoint. The database is never created.\n\n" +
		"Exit 0 signed, 1 refused: the log's checkpoints are signed by another key, or the log\n" +
		"does not extend its latest checkpoint (run dpi log verify), 2 usage error or unusable\n" +
		"input (no such database or log)."
	fs := e.newFlags("log checkpoint", usage)
	dsn := fs.String("db", "", "database made by dpi log init: sqlite://PATH or postgres://...")
	keyPath := fs.String("key", "", keyHelp)
	origin := fs.String("log", "", "origin of the log (needed when the database holds several)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *dsn == "" || *keyPath == "" {
		return e.usageError("usage: %s", usage)
	}
	key, err := loadLogKey(e, *keyPath)
	if err != nil {
		return e.usageError("log checkpoint: key: %s", oneLine(err.Error()))
	}
	db, l, code, err := openLogWriter(e, *dsn, *origin, key)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: log checkpoint: %s\n", oneLine(err.Error()))
		return code
	}
	defer db.Close()
	sc, err := l.Checkpoint(e.ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: log checkpoint: %s\n", oneLine(err.Error()))
		return exitCodeOf(err)
	}
	if e.json {
		if err := e.printJSON(logCheckpointResult{Checkpoint: sc.Checkpoint, Note: string(sc.Note)}); err != nil {
			return exitUsage
		}
		return exitOK
	}
	if _, err := e.stdout.Write(sc.Note); err != nil {
		return exitUsage
	}
	return exitOK
}

// logKeygenResult is the JSON form of "dpi log keygen --json".
type logKeygenResult struct {
	File         string `json:"file"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

func runLogKeygen(e *env, args []string) int {
	const usage = "dpi log keygen -o KEY.pem [--json]\n\n" +
		"Makes an Ed25519 key for a log's checkpoints, writes it to KEY.pem (PKCS#8 PEM, readable\n" +
		"by its owner only; an existing file is never overwritten) and prints its public key (PEM).\n" +
		"For ECDSA P-256: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out KEY.pem.\n\n" +
		"Exit 0 written, 2 usage error or the file could not be written."
	fs := e.newFlags("log keygen", usage)
	out := fs.String("o", "", "file to write the private key to; must not exist")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *out == "" || *out == "-" {
		return e.usageError("usage: %s", usage)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return e.usageError("log keygen: %s", oneLine(err.Error()))
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return e.usageError("log keygen: %s", oneLine(err.Error()))
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return e.usageError("log keygen: %s", oneLine(err.Error()))
	}
	if err := writeNewFile(*out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return e.usageError("log keygen: %s", oneLine(err.Error()))
	}
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	if e.json {
		if err := e.printJSON(logKeygenResult{File: *out, PublicKeyPEM: pubPEM}); err != nil {
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprint(e.stdout, pubPEM)
	return exitOK
}

// writeNewFile writes b to a file that must not exist yet, readable by its owner only, and
// removes it again if the write fails: a key is never half written, nor written over another.
func writeNewFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err1 := f.Sync(); err == nil {
		err = err1
	}
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
