package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"hash"
	"io"
	"net/http"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Format is a signature format.
type Format string

// Formats this package signs and validates.
const (
	// CAdES is a detached CMS SignedData (ETSI EN 319 122-1), DER-encoded. It is the zero
	// value's choice.
	CAdES Format = "cades"
	// JAdES is a compact JWS with a detached, unencoded payload (ETSI TS 119 182-1, RFC 7797).
	JAdES Format = "jades"
)

// SignerOptions configures a Signer. The zero value signs CAdES-BASELINE-B with the digest
// that suits the key and the system clock.
type SignerOptions struct {
	// Format is CAdES (the default when empty) or JAdES.
	Format Format

	// Level is the baseline level to make: LevelB, LevelT, LevelLT or LevelLTA. Empty
	// means LevelT when TSAURL is set and LevelB otherwise. LevelT and above need TSAURL
	// LevelB refuses one; LevelLT and LevelLTA also need Roots. LevelLTA takes its archive
	// time-stamp from the same TSAURL. JAdES is compact at LevelB and in JSON
	// serialization above.
	Level Level

	// Roots are the trust anchors of LevelLT and LevelLTA: Sign builds the signer's chain (from the
	// chain given to NewSigner) and the time-stamp authority's (from its token) to them,
	// and embeds both chains and their revocation data. NewSigner refuses them without
	// LevelLT.
	Roots *x509.CertPool

	// Hash is the document digest: SHA-256, SHA-384 or SHA-512; zero picks SHA-256 (SHA-384
	// for P-384 keys, SHA-512 for P-521 and Ed25519 keys). SHA-1 is refused.
	Hash crypto.Hash

	// TSAURL, when set, adds a signature time-stamp (RFC 3161) from that time-stamping
	// authority, making a CAdES-BASELINE-T signature. JAdES signatures are not time-stamped
	// (compact serialization has no unprotected header): NewSigner refuses the combination.
	TSAURL string

	// HTTPClient makes the time-stamp request, and the revocation requests; nil uses a client with a 30 second timeout for the one, and the
	// client Policy.HTTPClient defaults to for the others.
	HTTPClient *http.Client

	// Now is the clock for the claimed signing time; nil uses time.Now. NewSigner refuses
	// a certificate outside its validity at its now, and Sign one outside its validity at
	// the signing time.
	Now func() time.Time

	// SkipRevocationCheckUnsafe turns off what Sign does by default: before each
	// signature, find the signing certificate's revocation status as Validate does, from
	// CRLs and OCSPResponses first (judged at the signing time), then from the OCSP
	// responders and CRL distribution points the certificate names. With the check, a
	// revoked certificate is refused with a *CertificateError matching ErrCertificate, and
	// a status nobody can tell with one matching ErrRevocationUnknown; the issuer's
	// certificate must be second in the chain (at LevelLT and LevelLTA it is found in the
	// path to Roots). Skipped, a signer whose key was revoked (stolen, or its holder gone)
	// keeps making signatures that only a validator refuses. NewSigner refuses it at
	// LevelLT and LevelLTA, and with CRLs or OCSPResponses.
	SkipRevocationCheckUnsafe bool

	// CheckRevocation was the opt-in to the revocation check, which is now always made
	// unless SkipRevocationCheckUnsafe is set.
	//
	// Deprecated: revocation is checked by default; this field has no effect.
	CheckRevocation bool

	// CRLs and OCSPResponses are revocation data the signer holds for the revocation
	// check, as Policy.CRLs and Policy.OCSPResponses are for Validate ([LoadCRLs],
	// [LoadOCSPResponses]), and for the chains of a LevelLT signature, whose validation
	// data then embeds the items that decided.
	CRLs          []*x509.RevocationList
	OCSPResponses [][]byte
}

// Signer signs documents with one key and certificate chain. Build it with NewSigner; it is
// immutable and safe for concurrent use.
type Signer struct {
	key    crypto.Signer
	chain  []*x509.Certificate
	format Format
	hash   crypto.Hash
	tsa    *tsaClient
	now    func() time.Time
	level  Level
	roots  *x509.CertPool // LevelLT

	// revocation is unset by SignerOptions.SkipRevocationCheckUnsafe; client may be nil.
	revocation bool
	client     *http.Client
	crls       []*x509.RevocationList
	ocsp       [][]byte
}

// NewSigner checks that key belongs to chain[0], that the certificate may sign documents
// (not a CA certificate; digitalSignature or nonRepudiation key usage; no extended key
// usage for other purposes only), that it is within its validity at the clock's now, and
// that the key and options pass the algorithm policy. A certificate refused is reported by
// a *CertificateError matching ErrCertificate. chain is the signing certificate first,
// then its issuers; it is embedded in each signature so that a validator can build the
// path to its trust anchor.
func NewSigner(key crypto.Signer, chain []*x509.Certificate, opts SignerOptions) (*Signer, error) {
	s, err := newSigner(key, chain, opts)
	if err != nil {
		return nil, err
	}
	if err := validityAt(s.chain[0], s.now()); err != nil {
		return nil, err
	}
	if s.level.longTerm() {
		if _, err := s.path(s.now()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newSigner is NewSigner without the validity check, which tests of the validator skip to
// make signatures a Signer refuses to make.
func newSigner(key crypto.Signer, chain []*x509.Certificate, opts SignerOptions) (*Signer, error) {
	if key == nil || len(chain) == 0 || chain[0] == nil {
		return nil, unusableCertificate("chain", "a key and a certificate are required")
	}
	for _, c := range chain {
		if c == nil {
			return nil, unusableCertificate("chain", "nil certificate in chain")
		}
	}
	leaf := chain[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, ErrKeyMismatch
	}
	if err := keyPolicy(leaf.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if errs := documentSigner(leaf); len(errs) > 0 {
		return nil, errs[0]
	}
	s := &Signer{key: key, chain: append([]*x509.Certificate(nil), chain...), now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	switch opts.Format {
	case "", CAdES:
		s.format = CAdES
	case JAdES:
		s.format = JAdES
	default:
		return nil, fmt.Errorf("%w: format %q", ErrUnsupported, opts.Format)
	}
	s.hash = opts.Hash
	if s.hash == 0 {
		s.hash = defaultHash(leaf.PublicKey)
	}
	if !hashAllowed(s.hash) {
		return nil, fmt.Errorf("%w: digest %v", ErrUnsupported, s.hash)
	}
	if _, isEd := leaf.PublicKey.(ed25519.PublicKey); isEd && s.format == CAdES && s.hash != crypto.SHA512 {
		return nil, fmt.Errorf("%w: ed25519 in cms needs sha-512 (rfc 8419)", ErrUnsupported)
	}
	if s.format == JAdES {
		if _, err := jwsAlgorithm(leaf.PublicKey, s.hash); err != nil {
			return nil, err
		}
	}
	if opts.TSAURL != "" {
		c, err := newTSAClient(opts.TSAURL, opts.HTTPClient)
		if err != nil {
			return nil, err
		}
		s.tsa = c
	}
	level, err := signerLevel(opts, s.format)
	if err != nil {
		return nil, err
	}
	s.level = level
	check := !opts.SkipRevocationCheckUnsafe
	if s.level.longTerm() {
		if !check {
			return nil, fmt.Errorf("%w: level %s without the revocation check", ErrUnsupported, s.level)
		}
		s.roots = opts.Roots
	}
	if (len(opts.CRLs) > 0 || len(opts.OCSPResponses) > 0) && !check {
		return nil, fmt.Errorf("%w: crls or ocsp responses with SkipRevocationCheckUnsafe", ErrUnsupported)
	}
	if check && !s.level.longTerm() {
		if len(chain) < 2 {
			return nil, unusableCertificate("revocation", "checking revocation needs the issuer's certificate, second in the chain (or SkipRevocationCheckUnsafe)")
		}
		if err := leaf.CheckSignatureFrom(chain[1]); err != nil {
			return nil, unusableCertificate("chain", "the second certificate of the chain did not issue the signing certificate")
		}
	}
	if check {
		s.revocation, s.client = true, opts.HTTPClient
		s.crls = append([]*x509.RevocationList(nil), opts.CRLs...)
		s.ocsp = append([][]byte(nil), opts.OCSPResponses...)
	}
	return s, nil
}

// signerLevel applies SignerOptions.Level's rules.
func signerLevel(opts SignerOptions, f Format) (Level, error) {
	level := opts.Level
	if level == "" {
		level = LevelB
		if opts.TSAURL != "" {
			level = LevelT
		}
	}
	switch level {
	case LevelB:
		if opts.TSAURL != "" {
			return "", fmt.Errorf("%w: level B-B with a tsa url", ErrUnsupported)
		}
	case LevelT, LevelLT, LevelLTA:
		if opts.TSAURL == "" {
			return "", fmt.Errorf("%w: level %s needs a tsa url", ErrUnsupported, level)
		}
	default:
		return "", fmt.Errorf("%w: level %q", ErrUnsupported, level)
	}
	if level.longTerm() && opts.Roots == nil {
		return "", fmt.Errorf("%w: level %s needs Roots", ErrUnsupported, level)
	}
	if !level.longTerm() && opts.Roots != nil {
		return "", fmt.Errorf("%w: Roots without level B-LT or B-LTA", ErrUnsupported)
	}
	return level, nil
}

// Sign reads the document to its end and returns a detached signature over it: DER for
// CAdES, the compact JWS (header..signature) for JAdES. The document is hashed as it
// streams and never held in memory, except for JAdES with an Ed25519 key (see the package
// documentation).
//
// The claimed signing time is the clock's now when Sign starts, and the certificate is
// checked at that time before the document is read: outside its validity, or (unless
// SkipRevocationCheckUnsafe) revoked or of unknown status, Sign returns a
// *CertificateError and no signature.
func (s *Signer) Sign(ctx context.Context, doc io.Reader) ([]byte, error) {
	at := s.now()
	if err := s.usableAt(ctx, at); err != nil {
		return nil, err
	}
	return s.sign(ctx, doc, at)
}

func (s *Signer) sign(ctx context.Context, doc io.Reader, at time.Time) ([]byte, error) {
	if s.format == JAdES {
		return s.signJAdES(ctx, doc, at)
	}
	digest, err := hashStream(ctx, s.hash, doc)
	if err != nil {
		return nil, err
	}
	return s.signDigestCAdES(ctx, digest, at)
}

// validityAt refuses a certificate outside its validity at t: a signature made with it
// then is TOTAL_FAILED (EXPIRED or NOT_YET_VALID) for any validator.
func validityAt(c *x509.Certificate, t time.Time) error {
	if t.Before(c.NotBefore) {
		return unusableCertificate("validity", "not valid before "+c.NotBefore.UTC().Format(time.RFC3339))
	}
	if t.After(c.NotAfter) {
		return unusableCertificate("validity", "expired at "+c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// usableAt checks the signing certificate at the signing time: its validity, and with
// unless SkipRevocationCheckUnsafe, its revocation status, found as Validate finds it.
func (s *Signer) usableAt(ctx context.Context, at time.Time) error {
	leaf := s.chain[0]
	if err := validityAt(leaf, at); err != nil {
		return err
	}
	if !s.revocation {
		return nil
	}
	issuer := s.chain[1:2]
	if s.level.longTerm() {
		path, err := s.path(at)
		if err != nil {
			return err
		}
		issuer = path[1:2]
	}
	rc := &revocationChecker{ctx: ctx, client: s.client, now: s.now, at: at, crls: s.crls, ocsp: s.ocsp}
	st := rc.status(leaf, issuer[0])
	switch st.Status {
	case "good":
		return nil
	case "revoked":
		return unusableCertificate("revocation", fmt.Sprintf("revoked at %s (%s)", st.RevokedAt.Format(time.RFC3339), st.Source))
	}
	if err := ctx.Err(); err != nil {
		return err // cancelled: the responders were not asked
	}
	return &CertificateError{Check: "revocation", Reason: "status unknown: " + st.Reason, Err: ErrRevocationUnknown}
}

// signedParts are what a CMS signer info is built from: the signature algorithm, the DER
// signed attributes, the signature value over them and, with a TSA, the signature
// time-stamp token.
type signedParts struct {
	sigAlg            pkix.AlgorithmIdentifier
	attrs, sig, token []byte
}

// signAttributes signs the signed attributes over digest, with a signing-time attribute
// unless signingTime is zero, and time-stamps the signature when the signer has a TSA.
func (s *Signer) signAttributes(ctx context.Context, digest []byte, signingTime time.Time) (signedParts, error) {
	leaf := s.chain[0]
	sigAlg, err := cmsSignatureAlgorithm(leaf.PublicKey, s.hash)
	if err != nil {
		return signedParts{}, err
	}
	attrs, err := buildSignedAttributes(digest, signingTime, leaf)
	if err != nil {
		return signedParts{}, err
	}
	sig, err := signDigest(s.key, s.hash, attrs, false)
	if err != nil {
		return signedParts{}, fmt.Errorf("signature: signing: %w", err)
	}
	var token []byte
	if s.tsa != nil {
		if token, err = s.tsa.stamp(ctx, sig); err != nil {
			return signedParts{}, err
		}
	}
	return signedParts{sigAlg: sigAlg, attrs: attrs, sig: sig, token: token}, nil
}

func (s *Signer) signDigestCAdES(ctx context.Context, digest []byte, at time.Time) ([]byte, error) {
	p, err := s.signAttributes(ctx, digest, at)
	if err != nil {
		return nil, err
	}
	if !s.level.longTerm() {
		return buildSignedData(s.hash, p.sigAlg, p.attrs, p.sig, s.chain, p.token)
	}
	certs, revocation, err := s.ltData(ctx, at, p.sig, p.token)
	if err != nil {
		return nil, err
	}
	der, err := buildSignedDataWith(s.hash, p.sigAlg, p.attrs, p.sig, certs, p.token, revocation)
	if err == nil && s.level == LevelLTA {
		der, err = s.archive(ctx, der, digest)
	}
	if err == nil && len(der) > limits.MaxSignature {
		// A validator would refuse it unread; a CA with a large CRL and no OCSP responder
		// cannot be embedded.
		return nil, fmt.Errorf("%w: b-lt signature over %d bytes", ErrTooLarge, limits.MaxSignature)
	}
	return der, err
}

// hashStream digests r in constant memory, checking ctx between reads.
func hashStream(ctx context.Context, h crypto.Hash, r io.Reader) ([]byte, error) {
	d := h.New()
	if err := copyStream(ctx, d, r); err != nil {
		return nil, err
	}
	return d.Sum(nil), nil
}

// hashStreamAll digests r once with each of hashes, in constant memory.
func hashStreamAll(ctx context.Context, hashes []crypto.Hash, r io.Reader) (map[crypto.Hash][]byte, error) {
	ds := map[crypto.Hash]hash.Hash{}
	var ws []io.Writer
	for _, h := range hashes {
		if _, ok := ds[h]; ok || !h.Available() {
			continue
		}
		ds[h] = h.New()
		ws = append(ws, ds[h])
	}
	var w io.Writer = io.Discard
	switch len(ws) {
	case 0:
	case 1:
		w = ws[0]
	default:
		w = io.MultiWriter(ws...)
	}
	if err := copyStream(ctx, w, r); err != nil {
		return nil, err
	}
	out := make(map[crypto.Hash][]byte, len(ds))
	for h, d := range ds {
		out[h] = d.Sum(nil)
	}
	return out, nil
}

func copyStream(ctx context.Context, w io.Writer, r io.Reader) error {
	// Small documents are read in the caller's goroutine with a small buffer that grows as
	// reads fill it; past 256 KiB the document is large, and reading moves ahead.
	buf := make([]byte, 16<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		if n > 0 {
			w.Write(buf[:n]) // hash.Hash and bytes.Buffer never fail
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("signature: reading document: %w", err)
		}
		if n == len(buf) {
			if len(buf) >= 256<<10 {
				return readAhead(ctx, w, r)
			}
			buf = make([]byte, 2*len(buf))
		}
	}
}

// readAheadChunk and readAheadChunks bound the memory of readAhead to 3 MiB.
const (
	readAheadChunk  = 1 << 20
	readAheadChunks = 3
)

type chunk struct {
	b   []byte
	err error
}

// readAhead reads the rest of r in a second goroutine, so that reading the next chunk
// overlaps hashing this one: on two cores a large file is hashed at the speed of the hash
// alone. Only that goroutine reads r; only the caller writes w. If ctx is cancelled, a read
// already in progress may finish after readAhead returns.
func readAhead(ctx context.Context, w io.Writer, r io.Reader) error {
	free := make(chan []byte, readAheadChunks)
	full := make(chan chunk, readAheadChunks)
	done := make(chan struct{})
	defer close(done)
	for range readAheadChunks {
		free <- make([]byte, readAheadChunk)
	}
	go func() {
		for {
			var b []byte
			select {
			case b = <-free:
			case <-done:
				return
			}
			n, err := io.ReadFull(r, b)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case full <- chunk{b[:n], err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-full:
			w.Write(c.b)
			switch {
			case c.err == io.EOF:
				return nil
			case c.err != nil:
				return fmt.Errorf("signature: reading document: %w", c.err)
			}
			free <- c.b[:cap(c.b)]
		}
	}
}

// readBounded reads a whole document that cannot be streamed, up to limit bytes.
func readBounded(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if err := copyStream(ctx, &buf, io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: document over %d bytes cannot be held for ed25519 jades", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}
