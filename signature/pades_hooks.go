package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// This file is what package signature/pades needs of the CAdES machinery. A PAdES signature
// (ETSI EN 319 142-1) is a CAdES detached signature over the byte ranges of a PDF, with
// three differences: the signing time is the signature dictionary's /M, not a signed
// attribute (§6.3); the validation data of B-LT is in the PDF's document security store,
// not in the CMS (§5.4.2); and B-LTA is a document time-stamp over the whole revision, not
// an archive time-stamp attribute (§5.4.3).

// Hash returns the digest algorithm the signer uses, for a container format that hashes
// the signed bytes itself (PAdES's byte ranges).
func (s *Signer) Hash() crypto.Hash { return s.hash }

// Level returns the baseline level the signer makes.
func (s *Signer) Level() Level { return s.level }

// Certificate returns the signing certificate, for a visible signature's text.
func (s *Signer) Certificate() *x509.Certificate { return s.chain[0] }

// Now returns the signer's clock's now: PAdES writes the signing time (/M) into the signed
// bytes before they are hashed, so it is read before SignPAdES.
func (s *Signer) Now() time.Time { return s.now() }

// SignPAdES signs digest, made with Hash over the byte ranges of a PDF, as the CMS of a
// PAdES signature (EN 319 142-1 §6.3): a CAdES detached SignedData without the
// signing-time attribute (the time is the signature dictionary's /M, at), with
// signing-certificate-v2, and with a signature time-stamp when the signer has a TSA. The
// validation data of a LevelLT signer is not put in the CMS: ValidationDataPAdES returns it
// for the document security store. The certificate is checked at at, as Sign checks it.
func (s *Signer) SignPAdES(ctx context.Context, digest []byte, at time.Time) ([]byte, error) {
	if s.format != CAdES {
		return nil, fmt.Errorf("%w: pades needs a cades signer", ErrUnsupported)
	}
	if len(digest) != s.hash.Size() {
		return nil, fmt.Errorf("%w: digest of %d bytes for %v", ErrUnsupported, len(digest), s.hash)
	}
	if at.IsZero() {
		return nil, fmt.Errorf("%w: pades needs a signing time", ErrUnsupported)
	}
	if err := s.usableAt(ctx, at); err != nil {
		return nil, err
	}
	p, err := s.signAttributes(ctx, digest, time.Time{})
	if err != nil {
		return nil, err
	}
	return buildSignedData(s.hash, p.sigAlg, p.attrs, p.sig, s.chain, p.token)
}

// ValidationData is the validation data a PDF carries beside its signatures, in its
// document security store (EN 319 142-1 §5.4.2): certificates, CRLs and OCSP responses.
type ValidationData struct {
	Certificates  []*x509.Certificate
	CRLs          [][]byte // DER CertificateList (RFC 5280 §5.1)
	OCSPResponses [][]byte // DER OCSPResponse (RFC 6960 §4.2.1)
}

// ValidationDataPAdES gathers the B-LT validation data of sig, a CMS that SignPAdES made at
// at with a LevelLT signer: the certificates of the signer's and of the time-stamp
// authority's paths to SignerOptions.Roots, and for each of them but the trust anchors an
// OCSP response or a CRL that shows it not revoked, as a CAdES B-LT signature embeds them.
// Anything revoked, or of unknown status, is refused.
func (s *Signer) ValidationDataPAdES(ctx context.Context, sig []byte, at time.Time) (*ValidationData, error) {
	if s.level != LevelLT {
		return nil, fmt.Errorf("%w: validation data needs a level B-LT signer", ErrUnsupported)
	}
	p, err := parseCMS(sig)
	if err != nil {
		return nil, err
	}
	if len(p.tsTokens) == 0 {
		return nil, fmt.Errorf("%w: validation data needs a time-stamped signature", ErrUnsupported)
	}
	certs, choices, err := s.ltData(ctx, at, p.sigValue, p.tsTokens[0])
	if err != nil {
		return nil, err
	}
	rev, err := parseRevocationChoices(bytes.Join(choices, nil))
	if err != nil {
		return nil, err
	}
	vd := &ValidationData{Certificates: certs, OCSPResponses: rev.ocsp}
	for _, l := range rev.crls {
		vd.CRLs = append(vd.CRLs, l.Raw)
	}
	return vd, nil
}

// DocumentTimestamp returns an RFC 3161 time-stamp token from the signer's time-stamping
// authority over a SHA-256 digest: the /Contents of a PAdES document time-stamp
// (EN 319 142-1 §5.4.3), whose imprint is the digest of the byte ranges.
func (s *Signer) DocumentTimestamp(ctx context.Context, digest []byte) ([]byte, error) {
	if s.tsa == nil {
		return nil, fmt.Errorf("%w: a document time-stamp needs a tsa url", ErrUnsupported)
	}
	if len(digest) != crypto.SHA256.Size() {
		return nil, fmt.Errorf("%w: document time-stamp imprint must be sha-256", ErrUnsupported)
	}
	return s.tsa.stampImprint(ctx, crypto.SHA256, digest)
}

// PAdESData is what a PDF says about one of its signatures outside the CMS.
type PAdESData struct {
	// SigningTime is the signature dictionary's /M, the claimed signing time; nil when
	// absent.
	SigningTime *time.Time
	// DSS is the validation data of the document security store, used as the signature's
	// own (as SignedData.crls and certificates are for CAdES B-LT).
	DSS ValidationData
	// ProofOfExistence is the time of the earliest valid document time-stamp over this
	// signature's revision (for a document time-stamp: over its own revision, a later
	// one); zero when there is none. The signature, its time-stamp and the certificates
	// they use are judged at it, as under an archive time-stamp: a certificate that expired
	// or was revoked after it changes nothing.
	ProofOfExistence time.Time
}

// ValidatePAdES validates the CMS sig of a PAdES signature over ranges, the bytes its
// /ByteRange covers, as Validate validates a CAdES signature, with what the PDF carries
// outside the CMS: the claimed signing time is /M, and the signature must not carry a
// signing-time attribute (EN 319 142-1 §6.3); the DSS counts as validation data embedded in
// the signature; a document time-stamp is a proof of existence. The report's format is
// PAdES-BASELINE-B, -T or -LT (-LTA is decided by the caller, which sees the document
// time-stamps).
func ValidatePAdES(ctx context.Context, ranges io.Reader, sig []byte, policy *Policy, data PAdESData) (*Report, error) {
	v, err := newValidation(ctx, sig, policy)
	if err != nil {
		return nil, err
	}
	v.pades = &data
	r, err := v.cades(ranges, sig)
	if err != nil {
		return nil, err
	}
	r.Format = "PAdES" + strings.TrimPrefix(strings.TrimPrefix(r.Format, "CAdES"), "PAdES")
	return r, nil
}

// apply puts what the PDF carries into the parsed signature before it is validated: /M as
// the claimed time, the DSS as embedded validation data, and the proof of existence.
func (d *PAdESData) apply(v *validation, s *cmsSignature) {
	if d == nil {
		return
	}
	if s.signingTime != nil {
		v.report.warn("the cms carries a signing-time attribute, which pades forbids (en 319 142-1 §6.3): /M is the signing time")
	}
	s.signingTime = d.SigningTime
	if s.signingTime == nil {
		s.problems = append(s.problems, "the signature dictionary has no /M signing time")
	}
	for _, c := range d.DSS.Certificates {
		if len(s.certs) >= 4*limits.MaxSignatureCertificates {
			break
		}
		if !containsCert(s.certs, c) {
			s.certs = append(s.certs, c)
		}
	}
	rev := d.DSS.revocation()
	s.revocation.crls = append(s.revocation.crls, rev.crls...)
	s.revocation.ocsp = append(s.revocation.ocsp, rev.ocsp...)
	s.revocation.notes = append(s.revocation.notes, rev.notes...)
}

// proofOfExistence merges the document time-stamp's proof of existence into what the
// archive time-stamps gave: control, the proof of existence of the signature time-stamp,
// and archived, the signature's own (zero when none). A document time-stamp covers the
// whole revision, the CMS with its signature time-stamp included, as an archive
// time-stamp covers a CAdES signature (EN 319 142-1 §5.4.3, EN 319 102-1 §5.6.3).
func (d *PAdESData) proofOfExistence(control, archived time.Time) (time.Time, time.Time) {
	if d == nil || d.ProofOfExistence.IsZero() {
		return control, archived
	}
	poe := d.ProofOfExistence.UTC()
	if poe.Before(control) {
		control = poe
	}
	if archived.IsZero() || poe.Before(archived) {
		archived = poe
	}
	return control, archived
}

// ValidateDocumentTimestamp validates a PAdES document time-stamp (EN 319 142-1 §5.4.3):
// token is its /Contents, an RFC 3161 time-stamp token whose imprint must be the digest of
// ranges, the bytes its /ByteRange covers. It is checked as package signature checks every
// time-stamp: the TSA's certificate chains to Policy.TSARoots (or Roots) with
// id-kp-timeStamping only; no certificate of that chain expired, or was revoked, before the
// time-stamp's proof of existence, data.ProofOfExistence (the earliest valid later document
// time-stamp) or else the validation time; data.DSS is embedded validation data. The
// report's format is "PAdES-DOCUMENT-TIMESTAMP", signedBy the TSA, and bestSignatureTime
// the token's time when it passed. data.SigningTime is not used.
func ValidateDocumentTimestamp(ctx context.Context, ranges io.Reader, token []byte, policy *Policy, data PAdESData) (*Report, error) {
	if policy == nil || policy.Roots == nil {
		return nil, ErrNoTrustAnchors
	}
	if len(token) > limits.MaxTSAResponse {
		return nil, fmt.Errorf("%w: time-stamp token over %d bytes", ErrTooLarge, limits.MaxTSAResponse)
	}
	tok, err := parseToken(token)
	if err != nil {
		return nil, malformed("RFC 3161", "document time-stamp token", err)
	}
	vt := policy.At
	if vt.IsZero() {
		vt = policy.now()
	}
	r := &Report{Format: "PAdES-DOCUMENT-TIMESTAMP", ValidationTime: vt.UTC(), BestSignatureTime: vt.UTC(),
		DigestAlgorithm: hashName(tok.ts.HashAlgorithm)}
	v := &validation{ctx: ctx, policy: policy, report: r,
		rc: &revocationChecker{ctx: ctx, client: policy.HTTPClient, now: policy.now, at: vt,
			crls: policy.CRLs, ocsp: policy.OCSPResponses}}
	if tsa := tok.st.onlySigner(); tsa != nil {
		r.SignerCertificate, r.SignedBy = tsa, tsa.Subject.String()
		r.SignatureAlgorithm = algorithmName(tsa.PublicKey)
		r.Chain = []CertificateInfo{certInfo(tsa)}
	}
	roots := policy.TSARoots
	if roots == nil {
		roots = policy.Roots
	}
	control, _ := data.proofOfExistence(r.ValidationTime, time.Time{})
	t, chain, err := tok.verify(func(h crypto.Hash) ([]byte, error) { return hashStream(ctx, h, ranges) },
		roots, v.intermediates(roots, data.DSS.Certificates))
	if err == nil {
		r.Chain = nil
		for _, c := range chain {
			r.Chain = append(r.Chain, certInfo(c))
		}
		if err = validUntil(chain, control); err == nil {
			if rev := data.DSS.revocation(); !rev.empty() {
				v.rc.embedded = &rev
			}
			r.Revocation, err = v.tsaRevocationAt(chain, t, control, false)
		}
	}
	var te *tokenError
	switch {
	case errors.As(err, &te):
		r.fail(te.ind, te.sub, te.msg)
	case err != nil:
		// Reading the ranges failed: no decision.
		return nil, err
	}
	for _, n := range v.rc.notes {
		r.warn(n)
	}
	r.Timestamp = &TimestampInfo{Time: tok.ts.Time.UTC(), TSA: r.SignedBy, Valid: !r.decided()}
	if !r.decided() {
		r.BestSignatureTime = t
	}
	return v.finish(), nil
}

// revocation decodes the DSS's CRLs and OCSP responses; one that does not parse is noted.
func (d ValidationData) revocation() embeddedRevocation {
	var e embeddedRevocation
	for i, der := range d.CRLs {
		if len(e.crls) == limits.MaxDSSRevocationValues {
			e.notes = append(e.notes, "the dss has too many crls: the rest are not read")
			break
		}
		l, err := x509.ParseRevocationList(der)
		if err != nil {
			e.notes = append(e.notes, fmt.Sprintf("crl %d of the dss does not parse", i+1))
			continue
		}
		e.crls = append(e.crls, l)
	}
	for i, der := range d.OCSPResponses {
		if len(e.ocsp) == limits.MaxDSSRevocationValues {
			e.notes = append(e.notes, "the dss has too many ocsp responses: the rest are not read")
			break
		}
		if _, err := ocspTBS(der); err != nil {
			e.notes = append(e.notes, fmt.Sprintf("ocsp response %d of the dss: %v", i+1, err))
			continue
		}
		e.ocsp = append(e.ocsp, der)
	}
	return e
}

// PAdESSignatureData gathers what takes a PAdES signature to B-LT (EN 319 142-1 §5.4.2),
// for pades.Extend: the certificates of the signer's path to opts.Roots at its signature
// time-stamp's time and of the time-stamp authority's path, and for each but the trust
// anchors the revocation data that shows it good (or, for the signer's, revoked after the
// signature time-stamp), fetched now or taken from opts. sig is the CMS of a signature that
// the caller has validated; one without a signature time-stamp is refused
// (ErrNotExtendable): a time-stamp cannot be added to a CMS that a PDF holds.
func PAdESSignatureData(ctx context.Context, sig []byte, opts ExtendOptions) (*ValidationData, error) {
	if opts.Roots == nil {
		return nil, fmt.Errorf("%w: validation data needs Roots", ErrUnsupported)
	}
	s, err := parseCMS(sig)
	if err != nil {
		return nil, err
	}
	if s.signer == nil {
		return nil, fmt.Errorf("%w: no certificate in the signature matches the signer identifier", ErrNotExtendable)
	}
	if len(s.tsTokens) == 0 {
		return nil, fmt.Errorf("%w: the signature has no signature time-stamp (pades-baseline-b)", ErrNotExtendable)
	}
	pool := certPool(s.certs)
	tsTime, tsaPath, err := checkTimestamp(s.tsTokens[0], s.sigValue, opts.Roots, pool)
	if err != nil {
		return nil, fmt.Errorf("%w: signature time-stamp: %v", ErrNotExtendable, err)
	}
	at := tsTime
	if at.After(s.signer.NotAfter) {
		at = s.signer.NotAfter
	}
	chains, err := s.signer.Verify(x509.VerifyOptions{Roots: opts.Roots, Intermediates: pool, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("%w: no chain from the signing certificate to Roots at the signature time-stamp's time", ErrNotExtendable)
	}
	sink := &dataSink{}
	rc := opts.revocationChecker(ctx)
	if err := addPathData(rc, sink, "signing", chains[0], func(at time.Time) bool { return at.After(tsTime) }); err != nil {
		return nil, err
	}
	if err := addPathData(rc, sink, "time-stamp authority", tsaPath, nil); err != nil {
		return nil, err
	}
	return sink.data()
}

// PAdESTimestampData gathers the validation data of the authority of a document
// time-stamp, token (its /Contents), for pades.Extend: its chain to opts.Roots and the
// revocation data that shows each certificate but the anchor good now. Renewal (EN 319
// 142-1 §5.4.3) puts it in the DSS before the next document time-stamp. The token's
// imprint is not checked here: the caller has validated the document time-stamp.
func PAdESTimestampData(ctx context.Context, token []byte, opts ExtendOptions) (*ValidationData, error) {
	if opts.Roots == nil {
		return nil, fmt.Errorf("%w: validation data needs Roots", ErrUnsupported)
	}
	tok, err := parseToken(token)
	if err != nil {
		return nil, fmt.Errorf("%w: document time-stamp: %v", ErrNotExtendable, err)
	}
	_, chain, err := tok.verify(func(crypto.Hash) ([]byte, error) { return tok.ts.HashedMessage, nil }, opts.Roots, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: document time-stamp: %v", ErrNotExtendable, err)
	}
	sink := &dataSink{}
	if err := addPathData(opts.revocationChecker(ctx), sink, "document time-stamp authority", chain, nil); err != nil {
		return nil, err
	}
	return sink.data()
}

// PAdESDocumentTimestamp returns a time-stamp token from opts.TSAURL over digest, the
// SHA-256 of a document time-stamp's byte ranges, for pades.Extend.
func PAdESDocumentTimestamp(ctx context.Context, digest []byte, opts ExtendOptions) ([]byte, error) {
	tsa, err := newTSAClient(opts.TSAURL, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	if len(digest) != crypto.SHA256.Size() {
		return nil, fmt.Errorf("%w: document time-stamp imprint must be sha-256", ErrUnsupported)
	}
	return tsa.stampImprint(ctx, crypto.SHA256, digest)
}

func (o ExtendOptions) revocationChecker(ctx context.Context) *revocationChecker {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &revocationChecker{ctx: ctx, client: o.HTTPClient, now: now, at: now(), crls: o.CRLs, ocsp: o.OCSPResponses}
}

// dataSink collects validation data for a DSS.
type dataSink struct {
	certs, choices [][]byte
}

var _ validationSink = (*dataSink)(nil)

func (d *dataSink) addCert(der []byte) {
	if !containsBytes(d.certs, der) {
		d.certs = append(d.certs, der)
	}
}

func (d *dataSink) addCRL(choice []byte) {
	if !containsBytes(d.choices, choice) {
		d.choices = append(d.choices, choice)
	}
}

func (d *dataSink) full() bool {
	return len(d.certs) > limits.MaxSignatureCertificates || len(d.choices) > limits.MaxSignatureRevocationValues
}

func (d *dataSink) data() (*ValidationData, error) {
	vd := &ValidationData{}
	for _, der := range d.certs {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		vd.Certificates = append(vd.Certificates, c)
	}
	rev, err := parseRevocationChoices(bytes.Join(d.choices, nil))
	if err != nil {
		return nil, err
	}
	vd.OCSPResponses = rev.ocsp
	for _, l := range rev.crls {
		vd.CRLs = append(vd.CRLs, l.Raw)
	}
	return vd, nil
}
