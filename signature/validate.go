package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Policy is what Validate trusts and when. Roots is required: the zero Policy refuses to
// validate anything (ErrNoTrustAnchors).
//
// The validation time (At, or else the clock's now) also bounds what a signer may claim:
// a claimed signing time more than [SigningTimeSkew] after it is never TOTAL_PASSED.
type Policy struct {
	// Roots are the trust anchors a signing certificate must chain to. Required.
	Roots *x509.CertPool

	// Intermediates are extra CA certificates for path building, beside those the
	// signature carries. Optional.
	Intermediates *x509.CertPool

	// TSARoots are the trust anchors for time-stamping authorities; nil uses Roots.
	TSARoots *x509.CertPool

	// At is the validation time; zero means Now(). Setting it validates the signature as
	// it would have been validated then (revocation status is still fetched now; CRLs and
	// OCSPResponses are judged at At).
	At time.Time

	// Now is the clock; nil uses time.Now. It also judges how fresh an OCSP response or a
	// CRL is.
	Now func() time.Time

	// HTTPClient fetches OCSP responses and CRLs; nil uses a client with a 15 second
	// timeout that follows at most 3 redirects, to http and https URLs only. Only http and
	// https URLs from the certificates are fetched.
	HTTPClient *http.Client

	// CRLs are certificate revocation lists the caller already holds, such as an
	// archive's or a court's copy ([LoadCRLs] reads DER or PEM files). They are read, with
	// OCSPResponses, before anything is fetched, and suffice for a certificate that names
	// no responder. A CRL speaks for a certificate when its issuer name is the
	// certificate's issuer's; it then counts only as a fetched CRL would: signed by that
	// issuer with an allowed algorithm, complete for the certificate (no delta, no
	// partition; indirect CRLs are refused), and current at the validation time
	// (thisUpdate not after it, nextUpdate not before it). Optional.
	CRLs []*x509.RevocationList

	// OCSPResponses are DER OCSP responses (RFC 6960 §4.2.1) the caller already holds
	// ([LoadOCSPResponses] reads DER or PEM files). A response speaks for a certificate
	// when it has a single response for its serial number and issuer; it then counts only
	// as a fetched one would: signed by the issuer or by a responder the issuer certified
	// for id-kp-OCSPSigning, valid at the validation time, and current then.
	//
	// For each certificate, a revocation in any CRL or response that counts decides;
	// otherwise a "good" one does and nothing is fetched for that certificate; otherwise
	// (none, or none that counts) the status is fetched as usual, and the report says why
	// the caller's data did not count. Data about other certificates is ignored, so one
	// set can serve the whole chain and the time-stamp authority's. Optional.
	OCSPResponses [][]byte
}

// SigningTimeSkew is how much later than the validation time a claimed signing time (CAdES
// signing-time, JAdES sigT or iat) may be, for a signer's clock that runs a little ahead of
// the validator's. A claim later than that is INDETERMINATE/SIG_CONSTRAINTS_FAILURE.
const SigningTimeSkew = 5 * time.Minute

func (p *Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Validate validates a detached CAdES or JAdES signature over the document read from doc.
// The format is detected from sig: a JWS JSON serialization (flattened, or general with
// one signature; RFC 7515 §7.2) is a JSON object, a compact JWS is text with two dots,
// anything else is parsed as DER CMS. The document is streamed and hashed, never held in memory (except for
// an EdDSA JAdES signature, up to limits.MaxBufferedPayload).
//
// Validate returns a Report for every signature it could parse, whatever its indication;
// it returns an error, and no report, when the policy has no roots, when the signature
// cannot be parsed (an error matching ErrMalformed), or when the document cannot be read.
func Validate(ctx context.Context, doc io.Reader, sig []byte, policy *Policy) (*Report, error) {
	v, err := newValidation(ctx, sig, policy)
	if err != nil {
		return nil, err
	}
	// JSON first: a JSON serialization may hold two dots (in URIs of its clear-JSON
	// components), where a compact JWS never starts with "{".
	if looksLikeJSON(sig) {
		s, u, err := parseJWSJSON(sig)
		if err != nil {
			return nil, err
		}
		return v.jadesWith(doc, s, u)
	}
	if looksLikeJWS(sig) {
		return v.jades(doc, sig)
	}
	return v.cades(doc, sig)
}

// newValidation checks the policy and the signature's size, and begins a validation at the
// policy's time.
func newValidation(ctx context.Context, sig []byte, policy *Policy) (*validation, error) {
	if policy == nil || policy.Roots == nil {
		return nil, ErrNoTrustAnchors
	}
	if len(sig) > limits.MaxSignature {
		return nil, fmt.Errorf("%w: signature over %d bytes", ErrTooLarge, limits.MaxSignature)
	}
	vt := policy.At
	if vt.IsZero() {
		vt = policy.now()
	}
	return &validation{ctx: ctx, policy: policy, report: &Report{ValidationTime: vt.UTC(), BestSignatureTime: vt.UTC()},
		rc: &revocationChecker{ctx: ctx, client: policy.HTTPClient, now: policy.now, at: vt,
			crls: policy.CRLs, ocsp: policy.OCSPResponses}}, nil
}

func looksLikeJWS(sig []byte) bool {
	return len(sig) > 0 && sig[0] != 0x30 && bytes.Count(sig, []byte(".")) == 2
}

type validation struct {
	ctx    context.Context
	policy *Policy
	report *Report
	rc     *revocationChecker

	// chain is the signer's validated chain, once found; ltGaps list what the signature's
	// own data did not establish, for the level it reaches.
	chain  []*x509.Certificate
	ltGaps []string

	pades *PAdESData // set by ValidatePAdES (pades_hooks.go)

	// anchors says, by DER and by pool (Roots or TSARoots), whether a certificate is one
	// of that pool's trust anchors, as far as this validation found out: from the chains
	// it built, and by asking the pool about self-issued certificates (anchorOf).
	// intermediates leaves the anchors out: a copy among the intermediates (an LT
	// signature carries the root) makes crypto/x509 verify the link to it twice, as a
	// root and as an intermediate, and every chain through that copy passes through the
	// anchor itself. It only ever removes candidates, so it cannot make a chain validate
	// that would not.
	anchors map[anchorKey]bool
}

type anchorKey struct {
	roots *x509.CertPool
	der   string
}

// learnAnchor records the trust anchor of a chain that roots verified.
func (v *validation) learnAnchor(roots *x509.CertPool, chain []*x509.Certificate) {
	if len(chain) == 0 {
		return
	}
	if v.anchors == nil {
		v.anchors = map[anchorKey]bool{}
	}
	v.anchors[anchorKey{roots, string(chain[len(chain)-1].Raw)}] = true
}

// anchorOf returns whether a certificate is known to be a trust anchor of roots. A
// self-issued certificate (a root's shape) not seen before is looked up in roots: adding
// it to a copy of roots leaves the copy equal to roots exactly when roots holds those
// DER bytes already. Others are known only once a chain ended at them.
func (v *validation) anchorOf(roots *x509.CertPool) func(*x509.Certificate) bool {
	return func(c *x509.Certificate) bool {
		if roots == nil {
			return false
		}
		k := anchorKey{roots, string(c.Raw)}
		in, known := v.anchors[k]
		if known || !bytes.Equal(c.RawIssuer, c.RawSubject) {
			return in
		}
		probe := roots.Clone()
		probe.AddCert(c)
		in = probe.Equal(roots)
		if v.anchors == nil {
			v.anchors = map[anchorKey]bool{}
		}
		v.anchors[k] = in
		return in
	}
}

func (v *validation) cades(doc io.Reader, sig []byte) (*Report, error) {
	s, err := parseCMS(sig)
	if err != nil {
		return nil, err
	}
	v.pades.apply(v, s)
	r := v.report
	r.Format = "CAdES-BASELINE-B"
	if len(s.tsTokens) > 0 {
		r.Format = "CAdES-BASELINE-T"
	}
	r.SigningTime = s.signingTime
	r.DigestAlgorithm = hashName(s.hash)
	if s.signer != nil {
		r.SignatureAlgorithm = algorithmName(s.signer.PublicKey)
	}
	for _, p := range s.problems {
		r.fail(TotalFailed, FormatFailure, p)
	}
	for _, n := range s.revocation.notes {
		r.warn(n)
	}
	if !s.revocation.empty() {
		v.rc.embedded = &s.revocation
	}
	if s.signingTime == nil && !r.decided() {
		r.fail(TotalFailed, FormatFailure, "signing-time attribute is missing (required by cades-baseline-b)")
	}
	if !hashAllowed(s.hash) {
		r.fail(Indeterminate, CryptoConstraintsFailure, "digest algorithm "+s.digestOID.String()+" is not allowed")
		// Without an allowed digest the document is not even read.
		return v.finish(), nil
	}
	archives, archiveHashes := readArchives(s.archives, s.certs...)
	digests, err := hashStreamAll(v.ctx, append([]crypto.Hash{s.hash}, archiveHashes...), doc)
	if err != nil {
		return nil, err
	}
	digest := digests[s.hash]
	if s.signer == nil {
		r.fail(Indeterminate, NoSigningCertificateFound, "no certificate in the signature matches the signer identifier")
		return v.finish(), nil
	}
	r.SignerCertificate = s.signer
	r.SignedBy = s.signer.Subject.String()
	if s.messageDig != nil && !bytes.Equal(s.messageDig, digest) {
		r.fail(TotalFailed, HashFailure, "message-digest does not match the document")
	}
	if err := cmsVerify(s.signer.PublicKey, s.sigAlgOID, s.hash, s.signedAttrs, s.sigValue); err != nil {
		if errors.Is(err, ErrUnsupported) {
			r.fail(Indeterminate, CryptoConstraintsFailure, err.Error())
		} else {
			r.fail(TotalFailed, SigCryptoFailure, "signature value does not verify with the signing certificate's key")
		}
	}
	// A v1 reference still binds the certificate: a SHA-1 second preimage is out of reach,
	// and unchecked it would let a second certificate for the same key (another name,
	// another policy) take the signer's place.
	if s.hasCertRefV1 && s.certRefV1 != nil && !bytes.Equal(s.certRefV1, digestOf(crypto.SHA1, s.signer.Raw)) {
		r.fail(Indeterminate, NoSigningCertificateFound, "signing-certificate does not reference the signing certificate")
	} else if s.certRefV1IS != nil && !s.certRefV1IS.names(s.signer) {
		r.fail(Indeterminate, NoSigningCertificateFound, "signing-certificate issuerSerial names another certificate than the signing certificate")
	}
	if s.certRefsV2 == nil && s.hasCertRefV1 {
		r.warn("the signing certificate is bound only by a signing-certificate (v1, sha-1) attribute")
	}
	if s.certRefsV2 != nil {
		if msg := signingCertV2Mismatch(s); msg != "" {
			r.fail(Indeterminate, NoSigningCertificateFound, msg)
		}
	}
	control, archived := v.report.ValidationTime, time.Time{}
	if len(archives) > 0 {
		control, archived = v.archives(archives, s.certs, cadesScope(s, s.archives, digests))
	}
	control, archived = v.pades.proofOfExistence(control, archived)
	if len(s.tsTokens) > 0 {
		v.timestamp(s.tsTokens[0], s.sigValue, s.certs, control)
	}
	v.archivedAt(archived)
	if len(s.tsTokens) > 0 {
		if ts := r.Timestamp; ts != nil && ts.Valid && s.signingTime != nil && s.signingTime.After(ts.Time.Add(maxClockSkew)) {
			r.warn("claimed signing time is after the signature time-stamp")
		}
	}
	v.certificate(s.signer, s.certs, s.signingTime)
	v.claimedTime(s.signingTime)
	for _, n := range v.rc.notes {
		r.warn(n)
	}
	if len(s.tsTokens) > 0 && v.rc.embedded != nil {
		v.ltLevel(s.certs)
	}
	if len(archives) > 0 {
		v.ltaLevel()
	}
	return v.finish(), nil
}

// ltLevel decides whether a time-stamped signature that carries revocation data reaches
// CAdES-BASELINE-LT (EN 319 122-1 §6.3): a valid signature time-stamp, the signer's chain
// in the signature (the trust anchor aside), and the status of every certificate of the
// signer's and the TSA's chains but the anchors established by the data in the signature.
// Otherwise the format stays CAdES-BASELINE-T, and a warning says what is missing.
func (v *validation) ltLevel(certs []*x509.Certificate) {
	gaps := v.ltGaps
	if ts := v.report.Timestamp; ts == nil || !ts.Valid {
		gaps = append(gaps, "the signature time-stamp is not valid")
	}
	if v.chain == nil {
		gaps = append(gaps, "the signer's chain was not validated")
	}
	for i := 0; i+1 < len(v.chain); i++ {
		if !containsCert(certs, v.chain[i]) {
			gaps = append(gaps, fmt.Sprintf("certificate %q is not in the signature", v.chain[i].Subject.CommonName))
		}
	}
	if len(gaps) == 0 {
		v.report.Format = v.family() + "-BASELINE-LT"
		return
	}
	v.report.warn("not " + strings.ToLower(v.family()) + "-baseline-lt: " + joinReasons(gaps))
}

// ltaLevel decides whether a signature with archive time-stamps reaches
// CAdES-BASELINE-LTA (EN 319 122-1 §6.5): CAdES-BASELINE-LT, and a valid
// archive-time-stamp-v3.
func (v *validation) ltaLevel() {
	valid := false
	for _, a := range v.report.ArchiveTimestamps {
		valid = valid || a.Valid
	}
	f := v.family()
	switch {
	case v.report.Format != f+"-BASELINE-LT":
		v.report.warn("not " + strings.ToLower(f) + "-baseline-lta: the signature is not " + strings.ToLower(f) + "-baseline-lt")
	case !valid:
		v.report.warn("not " + strings.ToLower(f) + "-baseline-lta: no archive time-stamp is valid")
	default:
		v.report.Format = f + "-BASELINE-LTA"
	}
}

// family is the format family of the signature being validated: "CAdES", "JAdES" or, for
// ValidatePAdES, "PAdES".
func (v *validation) family() string {
	if v.pades != nil {
		return "PAdES"
	}
	f, _, _ := strings.Cut(v.report.Format, "-")
	return f
}

// embeddedStatus records a status that the signature's own data did not establish.
func (v *validation) embeddedStatus(st RevocationStatus, c *x509.Certificate) {
	if !st.Embedded {
		v.ltGaps = append(v.ltGaps, fmt.Sprintf("the revocation status of %q is not in the signature", c.Subject.CommonName))
	}
}

func (v *validation) jades(doc io.Reader, sig []byte) (*Report, error) {
	s, err := parseJWS(sig)
	if err != nil {
		return nil, err
	}
	return v.jadesWith(doc, s, nil)
}

// timestamp validates a signature time-stamp; a valid one sets the best signature time. An
// invalid one is reported as a warning and ignored (EN 319 102-1 §5.4: a time-stamp that
// does not validate provides no proof of existence).
//
// control is the time-stamp's proof of existence: the validation time, or the time of the
// earliest valid archive time-stamp. Its TSA's chain must not have expired before it.
func (v *validation) timestamp(token, sigValue []byte, certs []*x509.Certificate, control time.Time) {
	roots := v.policy.TSARoots
	if roots == nil {
		roots = v.policy.Roots
	}
	inter := v.intermediates(roots, certs)
	t, tsa, err := checkTimestampSkip(token, sigValue, roots, inter, v.anchorOf(roots), certs)
	if err == nil {
		v.learnAnchor(roots, tsa)
		err = validUntil(tsa, control)
	}
	if err == nil {
		_, err = v.tsaRevocationAt(tsa, t, control, true)
	}
	if err != nil {
		v.report.Timestamp = &TimestampInfo{Reason: err.Error()}
		v.report.warn("signature time-stamp ignored: " + err.Error())
		return
	}
	v.report.Timestamp = &TimestampInfo{Time: t, TSA: tsa[0].Subject.String(), Valid: true}
	if t.Before(v.report.BestSignatureTime) {
		v.report.BestSignatureTime = t
	}
}

// archivedAt makes the earliest valid archive time-stamp's time (zero when none is) the
// best signature time when it is earlier: an archive time-stamp covers the signature value
// and its signed attributes, so the signature existed then, whether or not its signature
// time-stamp still validates (EN 319 102-1 §5.6.3).
func (v *validation) archivedAt(t time.Time) {
	if !t.IsZero() && t.Before(v.report.BestSignatureTime) {
		v.report.BestSignatureTime = t
	}
}

// tsaRevocationAt checks the chain of a TSA whose token is dated t for revocation, as the
// signer's is checked (EN 319 102-1 §5.4 validates the TSA certificate like any other): a
// time-stamp from a TSA key revoked before its proof of existence (control), or one whose
// status nobody can tell, is no proof of existence, since whoever holds a compromised TSA
// key can date anything. The signature's revocation data is judged at t. lt says whether
// the statuses count for CAdES-BASELINE-LT (the signature time-stamp's do). It returns the
// statuses found; an error is a *tokenError.
func (v *validation) tsaRevocationAt(chain []*x509.Certificate, t, control time.Time, lt bool) ([]RevocationStatus, error) {
	v.rc.poe = t
	var found []RevocationStatus
	for i := 0; i+1 < len(chain) && i < limits.MaxSignatureCertificates; i++ {
		st := v.rc.status(chain[i], chain[i+1])
		found = append(found, st)
		if lt {
			v.embeddedStatus(st, chain[i])
		}
		switch st.Status {
		case "good":
		case "revoked":
			if st.RevokedAt != nil && st.RevokedAt.After(control) {
				continue
			}
			return found, &tokenError{Indeterminate, RevokedNoPOE, fmt.Sprintf("time-stamp authority chain: %q is revoked", chain[i].Subject.CommonName)}
		default:
			return found, &tokenError{Indeterminate, TryLater,
				fmt.Sprintf("time-stamp authority chain: revocation status of %q is unknown: %s", chain[i].Subject.CommonName, st.Reason)}
		}
	}
	return found, nil
}

// intermediates is the pool of candidate intermediates for a chain to roots: the
// policy's and certs, but for the trust anchors of roots found so far (anchors).
func (v *validation) intermediates(roots *x509.CertPool, certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	if v.policy.Intermediates != nil {
		pool = v.policy.Intermediates.Clone()
	}
	anchor := v.anchorOf(roots)
	for _, c := range certs {
		if !anchor(c) {
			pool.AddCert(c)
		}
	}
	return pool
}

// certificate runs the X.509 validation of EN 319 102-1 §5.2.6 for the signing
// certificate at the best signature time, then the revocation checks.
func (v *validation) certificate(signer *x509.Certificate, certs []*x509.Certificate, claimed *time.Time) {
	r := v.report
	bst := r.BestSignatureTime
	// The signer's own claim of when it signed is outside the certificate's validity: no
	// proof of existence can redeem that.
	if claimed != nil && claimed.After(signer.NotAfter) {
		r.fail(TotalFailed, Expired, "claimed signing time is after the signing certificate expired")
	}
	if claimed != nil && claimed.Before(signer.NotBefore) {
		r.fail(TotalFailed, NotYetValid, "claimed signing time is before the signing certificate was valid")
	}
	if bst.Before(signer.NotBefore) {
		r.fail(TotalFailed, NotYetValid, "signature existed before the signing certificate was valid")
	}
	if bst.After(signer.NotAfter) {
		r.fail(Indeterminate, OutOfBoundsNoPOE, "signing certificate expired before the best signature time and no earlier proof of existence")
	}
	if err := keyPolicy(signer.PublicKey); err != nil {
		r.fail(Indeterminate, CryptoConstraintsFailure, "signing key: "+err.Error())
	}
	for _, e := range documentSigner(signer) {
		r.fail(Indeterminate, ChainConstraintsFailure, "signing certificate: "+e.Reason)
	}
	at := bst
	if at.After(signer.NotAfter) {
		at = signer.NotAfter
	}
	if at.Before(signer.NotBefore) {
		at = signer.NotBefore
	}
	chains, err := signer.Verify(x509.VerifyOptions{
		Roots: v.policy.Roots, Intermediates: v.intermediates(v.policy.Roots, certs), CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		var insecure x509.InsecureAlgorithmError
		switch {
		case errors.As(err, &unknown):
			r.fail(Indeterminate, NoCertificateChainFound, "no chain to a trust anchor: "+err.Error())
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			r.fail(Indeterminate, OutOfBoundsNoPOE, "a ca certificate is outside its validity at the best signature time")
		case errors.As(err, &insecure):
			r.fail(Indeterminate, CryptoConstraintsFailure, "chain: "+err.Error())
		default:
			r.fail(Indeterminate, CertificateChainGeneralFailure, "chain: "+err.Error())
		}
		r.Chain = []CertificateInfo{certInfo(signer)}
		return
	}
	chain := chains[0]
	v.chain = chain
	v.learnAnchor(v.policy.Roots, chain)
	for _, c := range chain {
		r.Chain = append(r.Chain, certInfo(c))
	}
	if err := chainKeyPolicy(chain); err != nil {
		r.fail(Indeterminate, CryptoConstraintsFailure, "chain: "+err.Error())
	}
	// An issuing CA whose extended key usage names only other purposes (a TLS issuing CA)
	// constrains what its certificates may do (the nesting crypto/x509 applies when given
	// a purpose, and skips for ExtKeyUsageAny). The trust anchor is the caller's decision.
	for i := 1; i+1 < len(chain); i++ {
		if c := chain[i]; documentSigningPurpose(c) != nil {
			r.fail(Indeterminate, ChainConstraintsFailure, fmt.Sprintf("ca certificate %q extended key usage does not allow document signing", c.Subject.CommonName))
		}
	}
	v.revocation(chain, claimed)
}

// claimedTime checks the claimed signing time against the validation time. A signature
// cannot have been made after the time it is validated for: such a claim is false, or comes
// from a clock that cannot be trusted with the dates it signs. It is a signed attribute
// failing the validation constraints, checked by signature acceptance validation (EN 319
// 102-1 §5.2.8), which comes after the certificate and cryptographic checks: it runs last
// and decides the indication only when they passed.
func (v *validation) claimedTime(claimed *time.Time) {
	if claimed != nil && claimed.After(v.report.ValidationTime.Add(SigningTimeSkew)) {
		v.report.fail(Indeterminate, SigConstraintsFailure,
			fmt.Sprintf("claimed signing time is after the validation time by more than %v", SigningTimeSkew))
	}
}

// finish sets TOTAL_PASSED when no check failed.
func (v *validation) finish() *Report {
	if v.report.Indication == "" {
		v.report.Indication = TotalPassed
	}
	return v.report
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "SHA-256"
	case crypto.SHA384:
		return "SHA-384"
	case crypto.SHA512:
		return "SHA-512"
	case crypto.SHA1:
		return "SHA-1"
	}
	return "unknown"
}

// signingCertV2Mismatch checks the signing-certificate-v2 reference (RFC 5035 §3, EN 319
// 122-1 §5.2.2): the first ESSCertIDv2 names the signing certificate by an allowed digest
// and, if present, by issuer and serial number. It returns what does not match, or "". A
// v1 reference (SHA-1) is not accepted as the binding.
func signingCertV2Mismatch(s *cmsSignature) string {
	if len(s.certRefsV2) == 0 {
		return "signing-certificate-v2 does not reference the signing certificate"
	}
	ref := s.certRefsV2[0]
	h := crypto.SHA256
	if len(ref.HashAlgorithm.Algorithm) > 0 {
		h = hashFromOID(ref.HashAlgorithm.Algorithm)
	}
	if !hashAllowed(h) || !bytes.Equal(ref.CertHash, digestOf(h, s.signer.Raw)) {
		return "signing-certificate-v2 does not reference the signing certificate"
	}
	// The hash binds the certificate already; an issuerSerial naming another one makes the
	// reference contradictory, and a validator that trusts the issuerSerial would pick
	// that other certificate.
	if s.certRefV2IS != nil && !s.certRefV2IS.names(s.signer) {
		return "signing-certificate-v2 issuerSerial names another certificate than the signing certificate"
	}
	return ""
}

// documentSigner applies the constraints of EN 319 102-1 §5.2.6 on the signing
// certificate itself, for NewSigner and Validate alike: it is not a CA certificate, its key
// usage allows digitalSignature or nonRepudiation, and its extended key usage does not name
// only other purposes. It returns one *CertificateError per constraint broken.
func documentSigner(c *x509.Certificate) []*CertificateError {
	var errs []*CertificateError
	// A CA key certifies other keys (RFC 5280 §4.2.1.9); whatever key usage the CA gave
	// itself, it is not a document signer's. crypto/x509 does not check it: path
	// validation puts no basic constraints on the leaf.
	if c.BasicConstraintsValid && c.IsCA {
		errs = append(errs, unusableCertificate("basicConstraints", "a ca certificate (ca true) is not a document signer"))
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		errs = append(errs, unusableCertificate("keyUsage", "key usage allows neither digitalSignature nor nonRepudiation"))
	}
	if err := documentSigningPurpose(c); err != nil {
		errs = append(errs, unusableCertificate("extKeyUsage", err.Error()))
	}
	return errs
}

// Extended key usages, beside anyExtendedKeyUsage and emailProtection, that let a
// certificate sign documents: id-kp-documentSigning (RFC 9336), Microsoft Document
// Signing and Adobe Authentic Documents Trust.
var documentSigningEKUs = []asn1.ObjectIdentifier{
	{1, 3, 6, 1, 5, 5, 7, 3, 36},
	{1, 3, 6, 1, 4, 1, 311, 10, 3, 12},
	{1, 2, 840, 113583, 1, 1, 5},
}

// documentSigningPurpose refuses a certificate whose extended key usage names only other
// purposes: a TSA, an OCSP responder, a TLS server or an authentication-only (clientAuth)
// key must not make document signatures, whatever its key usage says. A certificate with
// no extended key usage extension is not limited by it (RFC 5280 §4.2.1.12). This is the
// rule of OpenSSL's S/MIME signing purpose, widened to the document signing purposes.
func documentSigningPurpose(c *x509.Certificate) error {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny || u == x509.ExtKeyUsageEmailProtection {
			return nil
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		for _, d := range documentSigningEKUs {
			if u.Equal(d) {
				return nil
			}
		}
	}
	return fmt.Errorf("extended key usage does not allow document signing")
}
