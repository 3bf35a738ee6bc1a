package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
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
	leaf := s.chain[0]
	sigAlg, err := cmsSignatureAlgorithm(leaf.PublicKey, s.hash)
	if err != nil {
		return nil, err
	}
	attrs, err := buildSignedAttributes(digest, time.Time{}, leaf)
	if err != nil {
		return nil, err
	}
	sig, err := signDigest(s.key, s.hash, attrs, false)
	if err != nil {
		return nil, fmt.Errorf("signature: signing: %w", err)
	}
	var token []byte
	if s.tsa != nil {
		if token, err = s.tsa.stamp(ctx, sig); err != nil {
			return nil, err
		}
	}
	return buildSignedData(s.hash, sigAlg, attrs, sig, s.chain, token)
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
	// signature's revision; zero when there is none.
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
	v := &validation{ctx: ctx, policy: policy, pades: &data,
		report: &Report{ValidationTime: vt.UTC(), BestSignatureTime: vt.UTC()},
		rc: &revocationChecker{ctx: ctx, client: policy.HTTPClient, now: policy.now, at: vt,
			crls: policy.CRLs, ocsp: policy.OCSPResponses}}
	r, err := v.cades(ranges, sig)
	if err != nil {
		return nil, err
	}
	r.Format = "PAdES" + r.Format[len("CAdES"):]
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
	if poe := d.ProofOfExistence; !poe.IsZero() && poe.Before(v.report.BestSignatureTime) {
		v.report.BestSignatureTime = poe.UTC()
	}
}

// ValidateDocumentTimestamp validates a PAdES document time-stamp (EN 319 142-1 §5.4.3):
// token is its /Contents, an RFC 3161 time-stamp token whose imprint must be the digest of
// ranges, the bytes its /ByteRange covers. The TSA's certificate must chain to
// Policy.TSARoots (or Roots) with id-kp-timeStamping only, and its chain is checked for
// revocation with the DSS as embedded data. The report's format is
// "PAdES-DOCUMENT-TIMESTAMP", signedBy the TSA, and bestSignatureTime the token's time
// when it passed.
func ValidateDocumentTimestamp(ctx context.Context, ranges io.Reader, token []byte, policy *Policy, dss ValidationData) (*Report, error) {
	if policy == nil || policy.Roots == nil {
		return nil, ErrNoTrustAnchors
	}
	if len(token) > limits.MaxTSAResponse {
		return nil, fmt.Errorf("%w: time-stamp token over %d bytes", ErrTooLarge, limits.MaxTSAResponse)
	}
	ts, p7, err := parseTSToken(token)
	if err != nil {
		return nil, malformed("RFC 3161", "document time-stamp token", err)
	}
	vt := policy.At
	if vt.IsZero() {
		vt = policy.now()
	}
	r := &Report{Format: "PAdES-DOCUMENT-TIMESTAMP", ValidationTime: vt.UTC(), BestSignatureTime: vt.UTC(),
		DigestAlgorithm: hashName(ts.HashAlgorithm)}
	v := &validation{ctx: ctx, policy: policy, report: r,
		rc: &revocationChecker{ctx: ctx, client: policy.HTTPClient, now: policy.now, at: vt,
			crls: policy.CRLs, ocsp: policy.OCSPResponses}}
	if !hashAllowed(ts.HashAlgorithm) {
		r.fail(Indeterminate, CryptoConstraintsFailure, fmt.Sprintf("time-stamp imprint digest %v is not allowed", ts.HashAlgorithm))
		return v.finish(), nil
	}
	digest, err := hashStream(ctx, ts.HashAlgorithm, ranges)
	if err != nil {
		return nil, err
	}
	tsa := p7.GetOnlySigner()
	if tsa == nil {
		r.fail(Indeterminate, NoSigningCertificateFound, "time-stamp token has no single signer")
		return v.finish(), nil
	}
	r.SignerCertificate, r.SignedBy = tsa, tsa.Subject.String()
	r.SignatureAlgorithm = algorithmName(tsa.PublicKey)
	if !bytes.Equal(ts.HashedMessage, digest) {
		r.fail(TotalFailed, HashFailure, "time-stamp imprint does not match the document")
	}
	si := p7.Signers[0]
	if !hashAllowed(hashFromOID(si.DigestAlgorithm.Algorithm)) || !tokenSignatureAlgorithmAllowed(si.DigestEncryptionAlgorithm.Algorithm) {
		r.fail(Indeterminate, CryptoConstraintsFailure, "time-stamp token signature algorithm is not allowed")
	}
	if err := timeStampingOnly(tsa); err != nil {
		r.fail(Indeterminate, ChainConstraintsFailure, "time-stamp authority certificate: "+err.Error())
	}
	roots := policy.TSARoots
	if roots == nil {
		roots = policy.Roots
	}
	certs := append(append([]*x509.Certificate(nil), p7.Certificates...), dss.Certificates...)
	chains, err := tsa.Verify(x509.VerifyOptions{Roots: roots, Intermediates: v.intermediates(certs),
		CurrentTime: ts.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
	if err != nil {
		r.fail(Indeterminate, NoCertificateChainFound, "time-stamp authority certificate: "+err.Error())
		r.Chain = []CertificateInfo{certInfo(tsa)}
		return v.finish(), nil
	}
	for _, c := range chains[0] {
		r.Chain = append(r.Chain, certInfo(c))
	}
	if err := chainKeyPolicy(chains[0]); err != nil {
		r.fail(Indeterminate, CryptoConstraintsFailure, "time-stamp authority chain: "+err.Error())
	}
	if rev := dss.revocation(); !rev.empty() {
		v.rc.embedded = &rev
	}
	v.rc.poe = ts.Time
	for i := 0; i+1 < len(chains[0]) && i < limits.MaxSignatureCertificates; i++ {
		c := chains[0][i]
		st := v.rc.status(c, chains[0][i+1])
		r.Revocation = append(r.Revocation, st)
		switch st.Status {
		case "good":
		case "revoked":
			r.fail(Indeterminate, RevokedNoPOE, fmt.Sprintf("time-stamp authority chain: %q is revoked", c.Subject.CommonName))
		default:
			r.fail(Indeterminate, TryLater, fmt.Sprintf("time-stamp authority chain: revocation status of %q is unknown: %s", c.Subject.CommonName, st.Reason))
		}
	}
	for _, n := range v.rc.notes {
		r.warn(n)
	}
	r.Timestamp = &TimestampInfo{Time: ts.Time.UTC(), TSA: tsa.Subject.String(), Valid: !r.decided()}
	if !r.decided() {
		r.BestSignatureTime = ts.Time.UTC()
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
