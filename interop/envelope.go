package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/dpiblocks/dpi/internal/limits"
)

// EnvelopeFormat names the form of an envelope's signing input, which every envelope
// signs, so a verifier never guesses the version.
const EnvelopeFormat = "dpi-interop-envelope/v1"

// envelopeType is the JWS typ of an envelope (RFC 7515 §4.1.9), so that an envelope is
// never taken for another kind of JWS signed with the same key.
const envelopeType = "dpi-interop+jws"

// digestTrailer is the bodyDigest of an envelope whose body digest is signed in the
// trailer, once the body has flowed.
const digestTrailer = "trailer"

// DefaultMaxSkew is the window around now in which an envelope's signing time is accepted
// when VerifierConfig.MaxSkew is zero.
const DefaultMaxSkew = 2 * time.Minute

// Algorithms an envelope may be signed with: ECDSA P-256 with SHA-256 and Ed25519 (RFC 7518
// §3.4, RFC 8037 §3.1).
const (
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// signingInput is the detached payload of an envelope: what the signature covers. The
// receiver rebuilds it, byte for byte, from the message it received; nothing in it is
// sent apart from the message's own fields. Its fields are written in this order.
type signingInput struct {
	Format           string `json:"format"`
	Kind             string `json:"kind"` // "request", "response" or "trailer"
	Method           string `json:"method,omitempty"`
	Target           string `json:"target,omitempty"` // the request target: /r1/{serviceId}/path?query
	Status           int    `json:"status,omitempty"`
	Client           string `json:"client,omitempty"`  // X-Road-Client as sent
	Service          string `json:"service,omitempty"` // X-Road-Service as sent (responses)
	ID               string `json:"id,omitempty"`      // X-Road-Id
	UserID           string `json:"userId,omitempty"`
	RepresentedParty string `json:"representedParty,omitempty"`
	Issue            string `json:"issue,omitempty"`
	ContentType      string `json:"contentType,omitempty"`
	RequestHash      string `json:"requestHash,omitempty"` // responses: the request they answer
	Envelope         string `json:"envelope,omitempty"`    // trailers: SHA-256 of the envelope they complete
	BodyDigest       string `json:"bodyDigest"`            // Content-Digest, or "trailer"
}

// contentDigest returns the RFC 9530 Content-Digest value of a SHA-256 digest.
func contentDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// checkContentDigest accepts exactly the form contentDigest writes.
func checkContentDigest(v string) error {
	b64, ok := strings.CutPrefix(v, "sha-256=:")
	if ok {
		b64, ok = strings.CutSuffix(b64, ":")
	}
	if ok {
		sum, err := base64.StdEncoding.Strict().DecodeString(b64)
		ok = err == nil && len(sum) == sha256.Size && contentDigest(sum) == v
	}
	if !ok {
		return fail(ErrMalformed, CheckEnvelope, "%s is not one SHA-256 digest", HeaderContentDigest)
	}
	return nil
}

// requestHash binds a response to its request: the base64 SHA-512 of the request's
// envelope, in the form of X-Road-Request-Hash (PR-REST §4.3). The envelope covers the
// request's fields and its body digest, or is completed by the trailer that does.
func requestHash(envelope string) string {
	sum := sha512.Sum512([]byte(envelope))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func envelopeHash(envelope string) string {
	sum := sha256.Sum256([]byte(envelope))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Signer signs a member's envelopes with its key and certificate chain. Build one with
// NewSigner; it is immutable and safe for concurrent use.
type Signer struct {
	key   crypto.Signer
	alg   jose.SignatureAlgorithm
	chain []*x509.Certificate
	x5c   []string
	// The protected header of an envelope is hdrPrefix, iat, hdrSuffix; a trailer's is
	// hdrTrailer.
	hdrPrefix, hdrSuffix, hdrTrailer []byte
}

// NewSigner returns a signer for key, an ECDSA P-256 (ES256) or Ed25519 (EdDSA) key that
// may live in an HSM or a KMS: only its Sign method is used. chain is the member's signing
// certificate, for key's public key, then its intermediates up to (not including) the root;
// it goes in every envelope's x5c header.
func NewSigner(key crypto.Signer, chain []*x509.Certificate) (*Signer, error) {
	if key == nil {
		return nil, fail(ErrConfig, CheckConfig, "no signing key")
	}
	alg, err := algorithmFor(key.Public())
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 || len(chain) > limits.MaxInteropChain {
		return nil, fail(ErrConfig, CheckConfig, "the chain must hold 1 to %d certificates", limits.MaxInteropChain)
	}
	for _, c := range chain {
		if c == nil {
			return nil, fail(ErrConfig, CheckConfig, "a certificate of the chain is nil")
		}
	}
	if !samePublicKey(chain[0].PublicKey, key.Public()) {
		return nil, fail(ErrConfig, CheckConfig, "the first certificate of the chain is not for the key")
	}
	s := &Signer{key: key, alg: alg, chain: slices.Clone(chain)}
	for _, c := range chain {
		s.x5c = append(s.x5c, base64.StdEncoding.EncodeToString(c.Raw))
	}
	x5c, err := json.Marshal(s.x5c)
	if err != nil {
		return nil, fail(ErrConfig, CheckConfig, "x5c: %v", err)
	}
	s.hdrPrefix = []byte(`{"alg":"` + string(alg) + `","iat":`)
	s.hdrSuffix = []byte(`,"typ":"` + envelopeType + `","x5c":` + string(x5c) + `}`)
	s.hdrTrailer = []byte(`{"alg":"` + string(alg) + `","typ":"` + envelopeType + `"}`)
	return s, nil
}

// Certificate returns the signing certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.chain[0] }

func algorithmFor(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return jose.ES256, nil
		}
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fail(ErrConfig, CheckConfig, "a signing key must be ECDSA P-256 or Ed25519")
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// sign returns the compact JWS, payload detached, of in. An envelope (withChain) carries
// x5c and its signing time iat; a trailer carries neither, and is verified with the key of
// the envelope it completes. The protected header is fixed but for iat, so it is written
// from parts made once by NewSigner, in the order go-jose writes it (alg, iat, typ, x5c),
// and signed here (RFC 7515 §5.1): the sender's every message would otherwise build a
// go-jose signer and encode the header, x5c and all, through reflection.
func (s *Signer) sign(in *signingInput, at time.Time, withChain bool) (string, error) {
	payload := in.bytes()
	var header []byte
	if withChain {
		header = make([]byte, 0, len(s.hdrPrefix)+20+len(s.hdrSuffix))
		header = append(header, s.hdrPrefix...)
		header = strconv.AppendInt(header, at.Unix(), 10)
		header = append(header, s.hdrSuffix...)
	} else {
		header = s.hdrTrailer
	}
	n := base64.RawURLEncoding.EncodedLen(len(header))
	input := make([]byte, 0, n+1+base64.RawURLEncoding.EncodedLen(len(payload)))
	input = base64.RawURLEncoding.AppendEncode(input, header)
	input = append(input, '.')
	input = base64.RawURLEncoding.AppendEncode(input, payload)
	sig, err := s.signInput(input)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errSign, err)
	}
	out := make([]byte, 0, n+2+base64.RawURLEncoding.EncodedLen(len(sig)))
	out = append(out, input[:n]...)
	out = append(out, '.', '.')
	out = base64.RawURLEncoding.AppendEncode(out, sig)
	return string(out), nil
}

// signInput signs a JWS signing input: ES256 over its SHA-256, the signature as R and S of
// 32 bytes each (RFC 7518 §3.4); EdDSA over the input itself (RFC 8037 §3.1).
func (s *Signer) signInput(input []byte) ([]byte, error) {
	if s.alg == jose.EdDSA {
		return s.key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	digest := sha256.Sum256(input)
	der, err := s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var seq cryptobyte.String
	r, t := new(big.Int), new(big.Int)
	str := cryptobyte.String(der)
	if !str.ReadASN1(&seq, cbasn1.SEQUENCE) || !str.Empty() || !seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(t) || !seq.Empty() ||
		r.Sign() <= 0 || t.Sign() <= 0 || r.BitLen() > 256 || t.BitLen() > 256 {
		return nil, errors.New("the key's signature is not an ECDSA P-256 signature")
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	t.FillBytes(sig[32:])
	return sig, nil
}

// Directory says which members exist and which certificates may sign for them: the
// verifier's allow-list. A static, in-memory directory is NewStaticDirectory.
type Directory interface {
	// Lookup returns the entry that vouches for id: id's own entry or, for a subsystem
	// without one, its member's. It returns an error wrapping ErrUnknownMember when there
	// is none.
	Lookup(ctx context.Context, id ClientID) (*Member, error)
}

// Member is a directory entry: a member (or subsystem), the certificates that may sign
// for it, and where its services are reached.
type Member struct {
	// ID is the member or subsystem.
	ID ClientID
	// Certificates are signing certificates the member uses; a signer whose certificate is
	// one of them is the member's.
	Certificates []*x509.Certificate
	// Subjects are certificate subjects, as x509.Certificate.Subject.String() writes them
	// ("CN=...,O=...,C=..."): a signer certificate with one of these subjects is the
	// member's, so a renewed certificate needs no change here. The certificate must still
	// chain to the verifier's roots.
	Subjects []string
	// Endpoint is the base URL of the member's services, for clients that look it up.
	Endpoint string
}

// vouchesFor reports whether cert may sign for m.
func (m *Member) vouchesFor(cert *x509.Certificate) bool {
	for _, c := range m.Certificates {
		if c != nil && bytes.Equal(c.Raw, cert.Raw) {
			return true
		}
	}
	return slices.Contains(m.Subjects, cert.Subject.String())
}

// StaticDirectory is a Directory held in memory, fixed when it is built.
type StaticDirectory struct {
	members map[ClientID]*Member
}

var _ Directory = (*StaticDirectory)(nil)

// NewStaticDirectory returns a directory of members. Each must have a valid ID, listed once,
// and at least one certificate or subject.
func NewStaticDirectory(members ...Member) (*StaticDirectory, error) {
	d := &StaticDirectory{members: make(map[ClientID]*Member, len(members))}
	for i := range members {
		m := members[i]
		if err := m.ID.Validate(); err != nil {
			return nil, fmt.Errorf("%w: member %d: %v", ErrConfig, i, err)
		}
		if len(m.Certificates) == 0 && len(m.Subjects) == 0 {
			return nil, fail(ErrConfig, CheckConfig, "member %s has no certificate and no subject", m.ID)
		}
		if _, dup := d.members[m.ID]; dup {
			return nil, fail(ErrConfig, CheckConfig, "member %s is listed twice", m.ID)
		}
		m.Certificates = slices.Clone(m.Certificates)
		m.Subjects = slices.Clone(m.Subjects)
		d.members[m.ID] = &m
	}
	return d, nil
}

// Lookup returns id's entry or, for a subsystem without one, its member's.
func (d *StaticDirectory) Lookup(_ context.Context, id ClientID) (*Member, error) {
	if m, ok := d.members[id]; ok {
		return m, nil
	}
	if m, ok := d.members[id.MemberID()]; ok && id.IsSubsystem() {
		return m, nil
	}
	return nil, fail(ErrUnknownMember, CheckMember, "%s is not in the directory", id)
}

// VerifierConfig configures a Verifier. Roots, Directory and a revocation decision
// (Revocation, or SkipRevocationUnsafe) are required; the zero value of every other field is
// safe.
type VerifierConfig struct {
	// Roots are the trust anchors a signer's certificate must chain to.
	Roots *x509.CertPool
	// Directory lists the members and the certificates that may sign for each.
	Directory Directory
	// Algorithms allows a subset of ES256 and EdDSA; empty allows both.
	Algorithms []string
	// MaxSkew is how far an envelope's signing time may lie from now, either way; zero means
	// DefaultMaxSkew. It is also how long a message ID is remembered for replay defence.
	MaxSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Revocation says whether a signer's certificate has been revoked. It is required,
	// unless SkipRevocationUnsafe is set: a verifier never assumes "not revoked" because
	// nobody asked.
	Revocation RevocationChecker
	// SkipRevocationUnsafe accepts signer certificates without asking whether they were
	// revoked: a stolen key keeps signing until its certificate expires. For tests, and
	// for deployments whose certificates live shorter than a revocation would take to
	// reach them; refused together with Revocation.
	SkipRevocationUnsafe bool
}

// Verifier checks envelopes against explicit trust: roots, a directory of members, an
// algorithm allow-list and a revocation checker. Build one with NewVerifier; it is
// immutable and safe for concurrent use.
type Verifier struct {
	roots      *x509.CertPool
	dir        Directory
	algs       []jose.SignatureAlgorithm
	skew       time.Duration
	now        func() time.Time
	revocation RevocationChecker // nil only with SkipRevocationUnsafe
	chains     chainCache
}

// chainCache remembers, for a short while, the chains x509 verification built for the
// certificates senders present: the same few certificates sign every message, and their
// chain's two signature checks would otherwise cost more than the message's own. An entry
// is used only within chainCacheTTL of its check and within every certificate's validity,
// and the roots of a Verifier never change.
type chainCache struct {
	mu     sync.Mutex
	m      map[[32]byte]cachedChain
	parsed map[[32]byte][]*x509.Certificate // x5c parameters, by SHA-256 of their JSON
}

type cachedChain struct {
	chain         []*x509.Certificate
	checked       time.Time
	before, after time.Time // the intersection of the chain's validity periods
}

const (
	chainCacheTTL = time.Minute
	chainCacheMax = 1024
)

// parse returns the certificates of an x5c header parameter, parsing each distinct x5c once
// while the cache holds it: parsing a chain costs a sender's every message otherwise.
func (c *chainCache) parse(raw json.RawMessage) ([]*x509.Certificate, error) {
	key := sha256.Sum256(raw)
	c.mu.Lock()
	chain, ok := c.parsed[key]
	c.mu.Unlock()
	if ok {
		return chain, nil
	}
	chain, err := parseX5C(raw, ErrMalformed, CheckEnvelope)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.parsed == nil || len(c.parsed) >= chainCacheMax {
		c.parsed = make(map[[32]byte][]*x509.Certificate)
	}
	c.parsed[key] = chain
	c.mu.Unlock()
	return chain, nil
}

// verifyDetached checks a compact JWS with a detached payload (RFC 7515 Appendix F) made
// with alg, one of ES256 and EdDSA, by pub: its header, already checked by splitCompact, is
// not parsed again.
func verifyDetached(compact string, payload []byte, alg jose.SignatureAlgorithm, pub crypto.PublicKey) error {
	header, _, _ := strings.Cut(compact, ".")
	sig, err := base64.RawURLEncoding.Strict().DecodeString(compact[strings.LastIndexByte(compact, '.')+1:])
	if err != nil {
		return err
	}
	input := make([]byte, 0, len(header)+1+base64.RawURLEncoding.EncodedLen(len(payload)))
	input = append(input, header...)
	input = append(input, '.')
	input = base64.RawURLEncoding.AppendEncode(input, payload)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if alg != jose.ES256 || k.Curve != elliptic.P256() || len(sig) != 64 {
			break
		}
		digest := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if ecdsa.Verify(k, digest[:], r, s) {
			return nil
		}
	case ed25519.PublicKey:
		if alg == jose.EdDSA && ed25519.Verify(k, input, sig) {
			return nil
		}
	}
	return errors.New("signature does not verify")
}

func chainKey(chain []*x509.Certificate) [32]byte {
	h := sha256.New()
	for _, c := range chain {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *chainCache) get(chain []*x509.Certificate, now time.Time) ([]*x509.Certificate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[chainKey(chain)]
	if !ok || now.Before(e.checked) || now.Sub(e.checked) > chainCacheTTL || now.Before(e.before) || now.After(e.after) {
		return nil, false
	}
	return e.chain, true
}

func (c *chainCache) put(presented, verified []*x509.Certificate, now time.Time) {
	e := cachedChain{chain: verified, checked: now, before: verified[0].NotBefore, after: verified[0].NotAfter}
	for _, x := range verified[1:] {
		if x.NotBefore.After(e.before) {
			e.before = x.NotBefore
		}
		if x.NotAfter.Before(e.after) {
			e.after = x.NotAfter
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= chainCacheMax {
		c.m = make(map[[32]byte]cachedChain)
	}
	c.m[chainKey(presented)] = e
}

// NewVerifier checks cfg and returns a verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Roots == nil {
		return nil, fail(ErrConfig, CheckConfig, "no roots")
	}
	if cfg.Directory == nil {
		return nil, fail(ErrConfig, CheckConfig, "no directory")
	}
	if cfg.Revocation == nil && !cfg.SkipRevocationUnsafe {
		return nil, fail(ErrConfig, CheckConfig, "no revocation checker: set Revocation, or SkipRevocationUnsafe to accept revoked signers")
	}
	if cfg.Revocation != nil && cfg.SkipRevocationUnsafe {
		return nil, fail(ErrConfig, CheckConfig, "both a revocation checker and SkipRevocationUnsafe")
	}
	v := &Verifier{roots: cfg.Roots, dir: cfg.Directory, skew: cfg.MaxSkew, now: cfg.Now, revocation: cfg.Revocation}
	if v.skew == 0 {
		v.skew = DefaultMaxSkew
	}
	if v.skew < 0 || v.skew > limits.MaxInteropClockSkew {
		return nil, fail(ErrConfig, CheckConfig, "MaxSkew must lie between 0 and %v", limits.MaxInteropClockSkew)
	}
	if v.now == nil {
		v.now = time.Now
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = []string{ES256, EdDSA}
	}
	for _, a := range algs {
		if a != ES256 && a != EdDSA {
			return nil, fail(ErrConfig, CheckConfig, "algorithm %q is not ES256 or EdDSA", a)
		}
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	return v, nil
}

// verified is what a verified envelope says beyond the message it came with.
type verified struct {
	compact string
	alg     jose.SignatureAlgorithm
	signer  *x509.Certificate
	at      time.Time
	digest  string // the signed Content-Digest, or digestTrailer
}

// splitCompact checks the form of a compact JWS with a detached payload and decodes its
// protected header into fields, refusing any header parameter but names.
func splitCompact(compact string, names ...string) (map[string]json.RawMessage, error) {
	if compact == "" {
		return nil, fail(ErrMalformed, CheckNoEnvelope, "no envelope")
	}
	if len(compact) > limits.MaxInteropEnvelope {
		return nil, fail(ErrMalformed, CheckEnvelope, "envelope longer than %d bytes", limits.MaxInteropEnvelope)
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 || parts[1] != "" || parts[0] == "" || parts[2] == "" {
		return nil, fail(ErrMalformed, CheckEnvelope, "not a compact JWS with a detached payload")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "protected header is not base64url")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "protected header is not a JSON object")
	}
	// A parameter this verifier does not name (crit, jwk, jku, x5u, kid, b64, ...) is
	// refused rather than ignored: nothing outside the allow-list decides trust.
	if len(fields) != len(names) {
		return nil, fail(ErrMalformed, CheckEnvelope, "protected header parameters other than %s", strings.Join(names, ", "))
	}
	for _, n := range names {
		if fields[n] == nil {
			return nil, fail(ErrMalformed, CheckEnvelope, "protected header has no %s", n)
		}
	}
	return fields, nil
}

func (v *Verifier) algorithm(raw json.RawMessage) (jose.SignatureAlgorithm, error) {
	var alg string
	if json.Unmarshal(raw, &alg) != nil {
		return "", fail(ErrMalformed, CheckEnvelope, "alg is not a string")
	}
	if !slices.Contains(v.algs, jose.SignatureAlgorithm(alg)) {
		return "", fail(ErrAlgorithm, CheckAlgorithm, "%q is not allowed", truncate(alg))
	}
	return jose.SignatureAlgorithm(alg), nil
}

func checkType(raw json.RawMessage) error {
	var typ string
	if json.Unmarshal(raw, &typ) != nil || typ != envelopeType {
		return fail(ErrMalformed, CheckEnvelope, "typ is not %s", envelopeType)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// verifyEnvelope checks an envelope sent by sender over in, rebuilt from the message
// received. The checks run from the cheapest to the signature itself: form, algorithm,
// time, member, certificate, signature.
func (v *Verifier) verifyEnvelope(ctx context.Context, compact string, sender ClientID, in *signingInput) (*verified, error) {
	return v.verifyEnvelopeAt(ctx, compact, sender, in, v.now())
}

// verifyEnvelopeAt is verifyEnvelope with the clock read as now: the time an event arrived,
// for an event read from a stream later.
func (v *Verifier) verifyEnvelopeAt(ctx context.Context, compact string, sender ClientID, in *signingInput, now time.Time) (*verified, error) {
	fields, err := splitCompact(compact, "alg", "typ", "x5c", "iat")
	if err != nil {
		return nil, err
	}
	alg, err := v.algorithm(fields["alg"])
	if err != nil {
		return nil, err
	}
	if err := checkType(fields["typ"]); err != nil {
		return nil, err
	}
	var iat int64
	if json.Unmarshal(fields["iat"], &iat) != nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "iat is not a whole number")
	}
	at := time.Unix(iat, 0).UTC()
	if d := at.Sub(now); d > v.skew || d < -v.skew {
		return nil, fail(ErrClockSkew, CheckTime, "signed at %s, more than %v from now", at.UTC().Format(time.RFC3339), v.skew)
	}
	chain, err := v.chains.parse(fields["x5c"])
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	verifiedChain, err := v.checkSigner(ctx, sender, chain, now)
	if err != nil {
		return nil, err
	}
	if err := verifyDetached(compact, in.bytes(), alg, leaf.PublicKey); err != nil {
		return nil, fail(ErrSignature, CheckSignature, "does not verify over the %s received", in.Kind)
	}
	// Revocation is asked last: it may cost a round trip to a responder, which a forged
	// envelope must not be able to cause.
	if err := v.checkRevocation(ctx, verifiedChain); err != nil {
		return nil, err
	}
	return &verified{compact: compact, alg: alg, signer: leaf, at: at, digest: in.BodyDigest}, nil
}

// checkSigner checks that the directory lists chain[0] for sender, and that it chains to
// the roots at now and may sign; it returns the chain it found, leaf first and root last.
func (v *Verifier) checkSigner(ctx context.Context, sender ClientID, chain []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	leaf := chain[0]
	m, err := v.dir.Lookup(ctx, sender)
	if err != nil {
		if errors.Is(err, ErrUnknownMember) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errDirectory, err)
	}
	if !m.vouchesFor(leaf) {
		return nil, fail(ErrUnknownMember, CheckMember, "the signer's certificate is not listed for %s", sender)
	}
	if verified, ok := v.chains.get(chain, now); ok {
		return verified, nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: v.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fail(ErrCertificate, CheckCertificate, "%s", certReason(err))
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, fail(ErrCertificate, CheckCertificate, "the certificate may not make digital signatures")
	}
	v.chains.put(chain, chains[0], now)
	return chains[0], nil
}

func certReason(err error) string {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) {
		switch inv.Reason {
		case x509.Expired:
			return "expired or not yet valid"
		case x509.NotAuthorizedToSign:
			return "issued by a certificate that may not issue"
		case x509.IncompatibleUsage:
			return "not for signing"
		}
		return "invalid"
	}
	var unk x509.UnknownAuthorityError
	if errors.As(err, &unk) {
		return "does not chain to the roots"
	}
	return "does not verify"
}

// verifyTrailer checks the trailer that completes env, signed with the same key over the
// digest of the body received.
func verifyTrailer(env *verified, compact, digest string) error {
	if compact == "" {
		return fail(ErrBody, CheckBody, "no %s trailer", HeaderEnvelopeTrailer)
	}
	fields, err := splitCompact(compact, "alg", "typ")
	if err != nil {
		return fail(ErrBody, CheckBody, "%s trailer is malformed", HeaderEnvelopeTrailer)
	}
	var alg string
	if json.Unmarshal(fields["alg"], &alg) != nil || jose.SignatureAlgorithm(alg) != env.alg || checkType(fields["typ"]) != nil {
		return fail(ErrBody, CheckBody, "%s trailer is not signed as its envelope", HeaderEnvelopeTrailer)
	}
	in := &signingInput{Format: EnvelopeFormat, Kind: "trailer", Envelope: envelopeHash(env.compact), BodyDigest: digest}
	obj, err := jose.ParseDetached(compact, in.bytes(), []jose.SignatureAlgorithm{env.alg})
	if err == nil {
		_, err = obj.Verify(env.signer.PublicKey)
	}
	if err != nil {
		return fail(ErrBody, CheckBody, "the body received is not the body signed")
	}
	return nil
}

// digestReader hashes a body as it is read and, once it ends, calls end with its digest; an
// error end returns replaces io.EOF, so that a reader never sees the end of a body that
// does not verify. It holds no more than one read's bytes.
type digestReader struct {
	r    io.Reader
	c    io.Closer
	h    hash.Hash
	n    int64
	end  func(digest string, n int64) error
	once sync.Once
	err  error
	keep *capture
}

func newDigestReader(r io.Reader, c io.Closer, keep *capture, end func(string, int64) error) *digestReader {
	return &digestReader{r: r, c: c, h: sha256.New(), end: end, keep: keep}
}

func (d *digestReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	d.keep.write(p[:n])
	if err == io.EOF {
		d.finish()
		if d.err != nil {
			return n, d.err
		}
		d.err = io.EOF
	} else if err != nil {
		d.err = err
	}
	return n, err
}

func (d *digestReader) finish() {
	d.once.Do(func() {
		if e := d.end(contentDigest(d.h.Sum(nil)), d.n); e != nil {
			d.err = e
		}
	})
}

func (d *digestReader) Close() error {
	if d.c == nil {
		return nil
	}
	return d.c.Close()
}

// capture keeps up to max bytes of a body for the message log, and forgets them all once
// the body is longer.
type capture struct {
	buf  []byte
	max  int
	over bool
}

func newCapture(on bool, max int) *capture {
	if !on {
		return nil
	}
	return &capture{max: max}
}

func (c *capture) write(p []byte) {
	if c == nil || c.over {
		return
	}
	if len(c.buf)+len(p) > c.max {
		c.over, c.buf = true, nil
		return
	}
	c.buf = append(c.buf, p...)
}

func (c *capture) bytes() []byte {
	if c == nil || c.over {
		return nil
	}
	if c.buf == nil {
		return []byte{}
	}
	return c.buf
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// signingTime is t as an envelope's iat holds it: whole seconds, UTC.
func signingTime(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }

// DefaultMessageLifetime is how long a signed message is valid after its signing when
// SignedMessage.Expires is zero.
const DefaultMessageLifetime = 24 * time.Hour

// MessageType is the JWS typ of a signed message, which never passes for an HTTP envelope
// or a directory document; sealed, it is the JWE's cty.
const MessageType = "dpi-message+jws"

// ErrExpired reports a signed message read after its expiry.
var ErrExpired = fmt.Errorf("%w: expired", ErrRejected)

// SignedMessage is a message that travels on its own, outside HTTP (a file, a queue, a
// hop that must not read it once sealed): a body and the routing fields of the X-Road
// protocol, signed together.
type SignedMessage struct {
	// Client is the member or subsystem that sends: X-Road-Client.
	Client ClientID
	// Service is the service the message is for.
	Service ServiceID
	// ID is the message ID, X-Road-Id: visible ASCII, at most limits.MaxInteropMessageID
	// bytes. SignMessage makes a fresh UUID when it is empty.
	ID string
	// SignedAt is the signing time, in whole seconds; SignMessage uses now when it is zero.
	SignedAt time.Time
	// Expires is when the message stops being accepted, at most
	// limits.MaxInteropMessageLifetime after SignedAt; SignMessage uses SignedAt plus
	// DefaultMessageLifetime when it is zero.
	Expires time.Time
	// Body is the message's body, at most limits.MaxInteropMessageBody bytes.
	Body []byte
	// Signer is the certificate that signed the message; set by VerifyMessage and ignored
	// by SignMessage.
	Signer *x509.Certificate
}

// messageHeader is the protected header of a signed message, field for field.
type messageHeader struct {
	Alg     string   `json:"alg"`
	Typ     string   `json:"typ"`
	X5C     []string `json:"x5c"`
	Client  string   `json:"client"`
	Service string   `json:"service"`
	ID      string   `json:"id"`
	IAT     int64    `json:"iat"`
	Exp     int64    `json:"exp"`
}

var messageHeaderNames = []string{"alg", "typ", "x5c", "client", "service", "id", "iat", "exp"}

// SignMessage signs m as a JWS in the flattened JSON serialization (RFC 7515 §7.2.2) whose
// payload is the body itself and whose protected header holds alg, typ
// (dpi-message+jws), x5c, and the routing fields: client, service, id (X-Road's forms),
// iat and exp (seconds since the epoch). Any JWS library reads it; VerifyMessage checks
// it. m is not changed.
func (s *Signer) SignMessage(m *SignedMessage) ([]byte, error) {
	if m == nil {
		return nil, fail(ErrConfig, CheckConfig, "no message")
	}
	if err := m.Client.Validate(); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "client: %v", err)
	}
	if err := m.Service.Validate(); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "service: %v", err)
	}
	id := m.ID
	if id == "" {
		id = newMessageID()
	}
	if err := checkMessageID(id); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "message id: %v", err)
	}
	if len(m.Body) > limits.MaxInteropMessageBody {
		return nil, fail(ErrConfig, CheckConfig, "body longer than %d bytes", limits.MaxInteropMessageBody)
	}
	at := m.SignedAt
	if at.IsZero() {
		at = time.Now()
	}
	at = signingTime(at)
	exp := m.Expires
	if exp.IsZero() {
		exp = at.Add(DefaultMessageLifetime)
	}
	exp = signingTime(exp)
	if !exp.After(at) || exp.Sub(at) > limits.MaxInteropMessageLifetime {
		return nil, fail(ErrConfig, CheckConfig, "expires not after the signing time, or more than %v after it", limits.MaxInteropMessageLifetime)
	}
	opts := (&jose.SignerOptions{}).WithType(MessageType).WithHeader("x5c", s.x5c).
		WithHeader("client", m.Client.String()).WithHeader("service", m.Service.String()).WithHeader("id", id).
		WithHeader("iat", at.Unix()).WithHeader("exp", exp.Unix())
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: cryptosigner.Opaque(s.key)}, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSign, err)
	}
	obj, err := js.Sign(m.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSign, err)
	}
	return []byte(obj.FullSerialize()), nil
}

// VerifyMessage checks a message SignMessage made and returns it with its Signer. Checks,
// cheapest first: the form (flattened JSON serialization, at most
// limits.MaxInteropMessage bytes, exactly the header parameters SignMessage writes,
// ErrMalformed), the algorithm (ErrAlgorithm), the signing time against now and the
// verifier's window (ErrClockSkew) and the expiry (ErrExpired), the member
// (ErrUnknownMember) and certificate (ErrCertificate), the signature over header and body
// (ErrSignature), revocation (ErrCertificate, or ErrRevocationUnknown), and last the
// message ID, which seen must not hold for the client (ErrReplay) and then holds until the
// message's expiry. seen is required: a receiver that keeps no IDs says so by passing a
// fresh NewMemorySeenIDs.
func (v *Verifier) VerifyMessage(ctx context.Context, data []byte, seen SeenIDs) (*SignedMessage, error) {
	if seen == nil {
		return nil, fail(ErrConfig, CheckConfig, "no replay store")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fail(ErrMalformed, CheckNoEnvelope, "no message")
	}
	if len(data) > limits.MaxInteropMessage {
		return nil, fail(ErrMalformed, CheckEnvelope, "message longer than %d bytes", limits.MaxInteropMessage)
	}
	var flat struct {
		Protected string `json:"protected"`
		Payload   string `json:"payload"`
		Signature string `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&flat); err != nil || dec.More() || flat.Protected == "" || flat.Signature == "" {
		return nil, fail(ErrMalformed, CheckEnvelope, "not a JWS in the flattened JSON serialization")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(flat.Protected)
	if err != nil || len(raw) > limits.MaxInteropEnvelope {
		return nil, fail(ErrMalformed, CheckEnvelope, "protected header is not base64url, or too long")
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || len(fields) != len(messageHeaderNames) {
		return nil, fail(ErrMalformed, CheckEnvelope, "protected header parameters other than %s", strings.Join(messageHeaderNames, ", "))
	}
	for _, n := range messageHeaderNames {
		if fields[n] == nil {
			return nil, fail(ErrMalformed, CheckEnvelope, "protected header has no %s", n)
		}
	}
	var h messageHeader
	if json.Unmarshal(raw, &h) != nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "a protected header parameter has the wrong type")
	}
	alg, err := v.algorithm(fields["alg"])
	if err != nil {
		return nil, err
	}
	if h.Typ != MessageType {
		return nil, fail(ErrMalformed, CheckEnvelope, "typ is not %s", MessageType)
	}
	now := v.now()
	at, exp := time.Unix(h.IAT, 0).UTC(), time.Unix(h.Exp, 0).UTC()
	if h.Exp <= h.IAT || exp.Sub(at) > limits.MaxInteropMessageLifetime {
		return nil, fail(ErrMalformed, CheckTime, "exp is not after iat, or more than %v after it", limits.MaxInteropMessageLifetime)
	}
	if at.Sub(now) > v.skew {
		return nil, fail(ErrClockSkew, CheckTime, "signed at %s, more than %v after now", at.Format(time.RFC3339), v.skew)
	}
	if !now.Before(exp) {
		return nil, fail(ErrExpired, CheckTime, "expired at %s", exp.Format(time.RFC3339))
	}
	client, err := ParseClientID(h.Client)
	if err != nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "client: %v", err)
	}
	service, err := ParseServiceID(h.Service)
	if err != nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "service: %v", err)
	}
	if err := checkMessageID(h.ID); err != nil {
		return nil, fail(ErrMalformed, CheckMessageID, "id: %v", err)
	}
	chain, err := parseX5C(fields["x5c"], ErrMalformed, CheckEnvelope)
	if err != nil {
		return nil, err
	}
	verifiedChain, err := v.checkSigner(ctx, client, chain, now)
	if err != nil {
		return nil, err
	}
	obj, err := jose.ParseSignedJSON(string(data), []jose.SignatureAlgorithm{alg})
	if err != nil {
		return nil, fail(ErrMalformed, CheckEnvelope, "not a JWS go-jose accepts")
	}
	body, err := obj.Verify(chain[0].PublicKey)
	if err != nil {
		return nil, fail(ErrSignature, CheckSignature, "does not verify over the header and body received")
	}
	if len(body) > limits.MaxInteropMessageBody {
		return nil, fail(ErrMalformed, CheckEnvelope, "body longer than %d bytes", limits.MaxInteropMessageBody)
	}
	if err := v.checkRevocation(ctx, verifiedChain); err != nil {
		return nil, err
	}
	fresh, err := seen.Add(ctx, replayKey(client, h.ID), exp)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, fail(ErrReplay, CheckReplay, "message %s from %s was already received", h.ID, client)
	}
	return &SignedMessage{Client: client, Service: service, ID: h.ID, SignedAt: at, Expires: exp, Body: body, Signer: chain[0]}, nil
}
