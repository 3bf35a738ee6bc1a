package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/internal/limits"
)

// maxRevocationURLs caps the OCSP and CRL locations tried per certificate.
const maxRevocationURLs = 2

// revocation checks every certificate of the chain but the trust anchor, by OCSP and then
// by CRL (RFC 6960, RFC 5280 §6.3), and applies EN 319 102-1 to what it finds:
//
//   - revoked after the best signature time: no effect (a warning);
//   - signing certificate revoked, and the signer's own claimed signing time is after
//     the revocation: TOTAL_FAILED/REVOKED;
//   - signing certificate revoked, otherwise: INDETERMINATE/REVOKED_NO_POE (nothing proves
//     the signature existed before the revocation);
//   - a CA certificate revoked before the best signature time: INDETERMINATE/REVOKED_CA_NO_POE;
//   - no answer from OCSP or CRL: INDETERMINATE/TRY_LATER.
func (v *validation) revocation(chain []*x509.Certificate, claimed *time.Time) {
	r := v.report
	if len(chain) > limits.MaxSignatureCertificates {
		chain = chain[:limits.MaxSignatureCertificates]
	}
	// The signature's own revocation data is judged at the best signature time: the proof
	// of existence the statuses are needed for.
	v.rc.poe = r.BestSignatureTime
	for i := 0; i+1 < len(chain); i++ {
		c, issuer := chain[i], chain[i+1]
		st := v.rc.status(c, issuer)
		v.embeddedStatus(st, c)
		r.Revocation = append(r.Revocation, st)
		switch st.Status {
		case "good":
		case "revoked":
			at := *st.RevokedAt
			if at.After(r.BestSignatureTime) {
				r.warn(fmt.Sprintf("certificate %q was revoked at %s, after the best signature time", c.Subject.CommonName, at.Format(time.RFC3339)))
				continue
			}
			switch {
			case i > 0:
				r.fail(Indeterminate, RevokedCANoPOE, fmt.Sprintf("ca certificate %q was revoked before the best signature time", c.Subject.CommonName))
			case claimed != nil && claimed.After(at):
				r.fail(TotalFailed, Revoked, "signing certificate was revoked before the claimed signing time")
			default:
				r.fail(Indeterminate, RevokedNoPOE, "signing certificate is revoked and no proof of existence before the revocation")
			}
		default:
			r.fail(Indeterminate, TryLater, fmt.Sprintf("revocation status of %q is unknown: %s", c.Subject.CommonName, st.Reason))
		}
	}
}

// revocationChecker finds certificates' revocation status, for Validate and for a Signer
// alike: first from the data the caller holds, then from the OCSP responders and CRL
// distribution points the certificate names.
type revocationChecker struct {
	ctx context.Context
	// client fetches; nil uses a client with a 15 second timeout and revocationRedirect.
	client *http.Client
	// now judges fetched data: it is the status as of the fetch.
	now func() time.Time
	// at judges the caller's data: the validation time, or the signing time.
	at   time.Time
	crls []*x509.RevocationList
	ocsp [][]byte
	// embedded is the revocation data the signature carries, if any; each item is judged
	// at poe, the proof of existence the status is needed for (see judgeEmbedded).
	embedded *embeddedRevocation
	poe      time.Time
	// notes say, for the report, why the embedded data did not establish a status that
	// was then fetched.
	notes []string
	// memo holds the statuses found: a CA of both the signer's and the TSA's chains is
	// checked, and fetched, once.
	memo map[statusKey]memoStatus
	// parsed holds what parseOCSPFor made of the OCSP responses held before anything is
	// fetched (the caller's and the signature's), by the exact DER of the response, the
	// certificate and its issuer: a status judged at several proofs of existence (the
	// signature time-stamp's, each archive time-stamp's) verifies each response once. It
	// lives as long as the checker (one Validate or one signing), and its size is bounded
	// by the responses held times the certificates asked about.
	parsed map[ocspKey]parsedOCSP
}

type ocspKey struct{ body, cert, issuer string }

type parsedOCSP struct {
	resp *ocsp.Response
	err  error
}

// parseHeldOCSP is parseOCSPFor for a response held before fetching, once per checker.
func (rc *revocationChecker) parseHeldOCSP(body []byte, c, issuer *x509.Certificate) (*ocsp.Response, error) {
	k := ocspKey{string(body), string(c.Raw), string(issuer.Raw)}
	if p, ok := rc.parsed[k]; ok {
		return p.resp, p.err
	}
	resp, err := parseOCSPFor(body, c, issuer)
	if rc.parsed == nil {
		rc.parsed = map[ocspKey]parsedOCSP{}
	}
	rc.parsed[k] = parsedOCSP{resp, err}
	return resp, err
}

type statusKey struct {
	cert, issuer string
	poe          int64
}

type memoStatus struct {
	st       RevocationStatus
	evidence []byte
}

// status finds one certificate's revocation status: from the caller's data and the
// signature's, then OCSP, then CRL.
func (rc *revocationChecker) status(c, issuer *x509.Certificate) RevocationStatus {
	st, _ := rc.statusEvidence(c, issuer)
	return st
}

// statusEvidence is status, with the data that decided it as a DER RevocationInfoChoice
// (RFC 5652 §10.2.1) for a B-LT signature.
func (rc *revocationChecker) statusEvidence(c, issuer *x509.Certificate) (RevocationStatus, []byte) {
	key := statusKey{string(c.Raw), string(issuer.Raw), rc.poe.UnixNano()}
	if m, ok := rc.memo[key]; ok {
		return m.st, m.evidence
	}
	st, evidence := rc.findStatus(c, issuer)
	if rc.memo == nil {
		rc.memo = map[statusKey]memoStatus{}
	}
	rc.memo[key] = memoStatus{st, evidence}
	return st, evidence
}

func (rc *revocationChecker) findStatus(c, issuer *x509.Certificate) (RevocationStatus, []byte) {
	st := RevocationStatus{Subject: c.Subject.String(), Status: "unknown"}
	found, evidence, reasons := rc.offline(c, issuer)
	if found != nil {
		found.Subject = st.Subject
		return *found, evidence
	}
	for i, u := range c.OCSPServer {
		if i >= maxRevocationURLs {
			break
		}
		resp, err := rc.fetchOCSP(u, c, issuer)
		if err != nil {
			reasons = append(reasons, "ocsp: "+err.Error())
			continue
		}
		switch resp.Status {
		case ocsp.Good:
			if !coversExpired(c, resp.ThisUpdate, resp.Extensions, oidOCSPArchiveCutoff) {
				reasons = append(reasons, "ocsp: "+errExpiredNotCovered.Error())
				continue
			}
			return RevocationStatus{Subject: st.Subject, Source: "OCSP", Status: "good"}, ocspChoice(resp.Raw)
		case ocsp.Revoked:
			at := resp.RevokedAt.UTC()
			return RevocationStatus{Subject: st.Subject, Source: "OCSP", Status: "revoked", RevokedAt: &at}, ocspChoice(resp.Raw)
		default:
			reasons = append(reasons, "ocsp: responder does not know the certificate")
		}
	}
	for i, u := range c.CRLDistributionPoints {
		if i >= maxRevocationURLs {
			break
		}
		list, revoked, at, err := rc.fetchCRL(u, c, issuer)
		if err != nil {
			reasons = append(reasons, "crl: "+err.Error())
			continue
		}
		if revoked {
			at = at.UTC()
			return RevocationStatus{Subject: st.Subject, Source: "CRL", Status: "revoked", RevokedAt: &at}, list.Raw
		}
		return RevocationStatus{Subject: st.Subject, Source: "CRL", Status: "good"}, list.Raw
	}
	if len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0 {
		reasons = append(reasons, "the certificate names no ocsp responder and no crl")
	}
	st.Reason = joinReasons(reasons)
	return st, nil
}

func joinReasons(rs []string) string {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r)
	}
	return b.String()
}

// maxRevocationAge is how old revocation data without a nextUpdate may be. RFC 6960
// §4.2.2.1 lets an OCSP responder omit nextUpdate ("newer information is always
// available"); taken as valid forever, a "good" answer recorded once could be replayed by
// anyone on the path long after the certificate was revoked.
const maxRevocationAge = 24 * time.Hour

// stale reports whether revocation data issued at thisUpdate is out of date at now: past
// its nextUpdate, or, without one, older than maxRevocationAge.
func stale(thisUpdate, nextUpdate, now time.Time) bool {
	if nextUpdate.IsZero() {
		return thisUpdate.Before(now.Add(-maxRevocationAge))
	}
	return nextUpdate.Before(now)
}

// maxClockSkew tolerates a responder whose clock runs slightly ahead.
const maxClockSkew = 5 * time.Minute

// fetchOCSP asks one responder. The request names the certificate by SHA-256 hashes of
// its issuer's name and key; a responder that does not understand that (RFC 5019 §2.1.1
// responders only know SHA-1 identifiers) is asked again with SHA-1. The CertID hash only
// identifies the certificate: the response is trusted for its signature by the issuer (or
// a responder the issuer delegated), checked with an allowed algorithm, and for its serial.
func (rc *revocationChecker) fetchOCSP(u string, c, issuer *x509.Certificate) (*ocsp.Response, error) {
	var resp *ocsp.Response
	var err error
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA1} {
		resp, err = rc.fetchOCSPOnce(u, c, issuer, h)
		var rerr ocsp.ResponseError
		if errors.As(err, &rerr) || (err == nil && resp.Status == ocsp.Unknown) {
			continue
		}
		break
	}
	return resp, err
}

func (rc *revocationChecker) fetchOCSPOnce(u string, c, issuer *x509.Certificate, h crypto.Hash) (*ocsp.Response, error) {
	req, err := ocsp.CreateRequest(c, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		return nil, err
	}
	body, err := rc.fetch(u, "application/ocsp-request", req, limits.MaxOCSPResponse)
	if err != nil {
		return nil, err
	}
	return checkOCSP(body, c, issuer, rc.now())
}

// checkOCSP parses an OCSP response about c and checks it as of at: signed by issuer, or
// by a responder issuer delegated (id-kp-OCSPSigning) and valid at at, with an allowed
// algorithm; a CertID naming c's serial and issuer; and current (thisUpdate not after at,
// beyond maxClockSkew, and not stale). An unsuccessful response is an ocsp.ResponseError.
func checkOCSP(body []byte, c, issuer *x509.Certificate, at time.Time) (*ocsp.Response, error) {
	return checkOCSPAt(body, c, issuer, func(time.Time) time.Time { return at })
}

// checkOCSPAt is checkOCSP as of judge(thisUpdate): the time can depend on when the
// response was issued (judgeEmbedded).
func checkOCSPAt(body []byte, c, issuer *x509.Certificate, judge func(thisUpdate time.Time) time.Time) (*ocsp.Response, error) {
	resp, err := parseOCSPFor(body, c, issuer)
	if err != nil {
		return nil, err
	}
	return judgeOCSP(resp, issuer, judge)
}

// parseOCSPFor is the part of checkOCSP that depends on nothing but its arguments' bytes:
// the response parsed, its signature checked with the issuer's key or with the certificate
// it carries (which the issuer signed), and its single response for c naming c's issuer.
// An unsuccessful response is an ocsp.ResponseError.
func parseOCSPFor(body []byte, c, issuer *x509.Certificate) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(body, c, issuer)
	if err != nil {
		var rerr ocsp.ResponseError
		if errors.As(err, &rerr) {
			return nil, rerr
		}
		return nil, fmt.Errorf("response: %v", err)
	}
	if err := certIDNamesIssuer(resp.TBSResponseData, c, issuer); err != nil {
		return nil, fmt.Errorf("response: %v", err)
	}
	return resp, nil
}

// judgeOCSP is the rest of checkOCSPAt, for a response parseOCSPFor returned: the
// responder's authority and the response's dates as of judge(thisUpdate). resp is not
// modified.
func judgeOCSP(resp *ocsp.Response, issuer *x509.Certificate, judge func(thisUpdate time.Time) time.Time) (*ocsp.Response, error) {
	at := judge(resp.ThisUpdate)
	if resp.Certificate != nil && !resp.Certificate.Equal(issuer) {
		if err := delegatedResponder(resp.Certificate, at); err != nil {
			return nil, fmt.Errorf("responder certificate: %v", err)
		}
	}
	if err := signatureAlgorithmAllowed(resp.SignatureAlgorithm); err != nil {
		return nil, fmt.Errorf("response: %v", err)
	}
	if resp.ThisUpdate.After(at.Add(maxClockSkew)) {
		return nil, fmt.Errorf("response is from the future")
	}
	if stale(resp.ThisUpdate, resp.NextUpdate, at) {
		return nil, fmt.Errorf("response is stale")
	}
	return resp, nil
}

// certIDNamesIssuer checks that the single response x/crypto/ocsp chose (the first whose
// serial number is c's) names c's issuer by the hashes of its name and key (RFC 6960
// §4.1.1). The library matches the serial number alone, so an answer about another CA's
// certificate with the same serial, signed by a responder both CAs trust, would be taken
// for c's status.
func certIDNamesIssuer(tbs []byte, c, issuer *x509.Certificate) error {
	bad := fmt.Errorf("malformed response data")
	in := cryptobyte.String(tbs)
	var rd, responderID, responses cryptobyte.String
	if !in.ReadASN1(&rd, cbasn1.SEQUENCE) ||
		!rd.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!rd.ReadAnyASN1(&responderID, nil) || // checked by x/crypto/ocsp
		!rd.SkipASN1(cbasn1.GeneralizedTime) ||
		!rd.ReadASN1(&responses, cbasn1.SEQUENCE) {
		return bad
	}
	// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey
	// BIT STRING }; the key hash is over the BIT STRING's value.
	var spki, spkiBody cryptobyte.String = issuer.RawSubjectPublicKeyInfo, nil
	var issuerKey asn1.BitString
	if !spki.ReadASN1(&spkiBody, cbasn1.SEQUENCE) || !spki.Empty() ||
		!spkiBody.SkipASN1(cbasn1.SEQUENCE) || !spkiBody.ReadASN1BitString(&issuerKey) || !spkiBody.Empty() {
		return bad
	}
	for !responses.Empty() {
		var single, certID, alg cryptobyte.String
		var hashOID asn1.ObjectIdentifier
		var nameHash, keyHash []byte
		serial := new(big.Int)
		if !responses.ReadASN1(&single, cbasn1.SEQUENCE) ||
			!single.ReadASN1(&certID, cbasn1.SEQUENCE) ||
			!certID.ReadASN1(&alg, cbasn1.SEQUENCE) ||
			!alg.ReadASN1ObjectIdentifier(&hashOID) ||
			!certID.ReadASN1Bytes(&nameHash, cbasn1.OCTET_STRING) ||
			!certID.ReadASN1Bytes(&keyHash, cbasn1.OCTET_STRING) ||
			!certID.ReadASN1Integer(serial) {
			return bad
		}
		if serial.Cmp(c.SerialNumber) != 0 {
			continue
		}
		h := hashFromOID(hashOID)
		if h == 0 || !h.Available() ||
			!bytes.Equal(nameHash, digestOf(h, issuer.RawSubject)) ||
			!bytes.Equal(keyHash, digestOf(h, issuerKey.RightAlign())) {
			return fmt.Errorf("certificate id names another issuer")
		}
		return nil
	}
	return fmt.Errorf("no single response for the certificate")
}

// delegatedResponder checks the certificate an OCSP response was signed with, when it is
// not the issuer's own key (RFC 6960 §4.2.2.2). golang.org/x/crypto/ocsp only checks that
// the issuer signed it: without the id-kp-OCSPSigning check here, any certificate of the
// same CA (any other signer's) could vouch for a revoked one.
func delegatedResponder(c *x509.Certificate, now time.Time) error {
	ocspSigning := false
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			ocspSigning = true
		}
	}
	if !ocspSigning {
		return fmt.Errorf("not authorised for ocsp signing (no id-kp-ocspsigning)")
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return fmt.Errorf("outside its validity period")
	}
	if err := signatureAlgorithmAllowed(c.SignatureAlgorithm); err != nil {
		return err
	}
	return keyPolicy(c.PublicKey)
}

// signatureAlgorithmAllowed refuses SHA-1 and MD5 signatures on revocation data (crypto/x509
// already refuses them on certificates).
func signatureAlgorithmAllowed(a x509.SignatureAlgorithm) error {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1, x509.DSAWithSHA256:
		return fmt.Errorf("signature algorithm %v is not allowed", a)
	}
	return nil
}

// fetchCRL reads the CRL at u, DER or PEM, and checks it for c as of now.
func (rc *revocationChecker) fetchCRL(u string, c, issuer *x509.Certificate) (*x509.RevocationList, bool, time.Time, error) {
	body, err := rc.fetch(u, "", nil, limits.MaxCRL)
	if err != nil {
		return nil, false, time.Time{}, err
	}
	// Some distribution points serve PEM, as `openssl ca -gencrl` writes it.
	lists, err := LoadCRLs(body)
	if err != nil {
		return nil, false, time.Time{}, fmt.Errorf("parse: %v", err)
	}
	if len(lists) != 1 {
		return nil, false, time.Time{}, fmt.Errorf("parse: %d crls in one answer", len(lists))
	}
	if !bytes.Equal(lists[0].RawIssuer, issuer.RawSubject) {
		return nil, false, time.Time{}, fmt.Errorf("crl issuer is not the certificate's issuer")
	}
	revoked, at, err := checkCRL(lists[0], u, c, issuer, rc.now())
	return lists[0], revoked, at, err
}

// checkCRL checks a CRL named by c's issuer, fetched from u ("" for one the caller gave),
// as of at: signed by issuer with an allowed algorithm, complete for c, current; and says
// whether it lists c, and since when.
func checkCRL(list *x509.RevocationList, u string, c, issuer *x509.Certificate, at time.Time) (bool, time.Time, error) {
	if err := signatureAlgorithmAllowed(list.SignatureAlgorithm); err != nil {
		return false, time.Time{}, err
	}
	if err := list.CheckSignatureFrom(issuer); err != nil {
		return false, time.Time{}, fmt.Errorf("signature: %v", err)
	}
	if err := crlScope(list, u, c); err != nil {
		return false, time.Time{}, err
	}
	if list.ThisUpdate.After(at.Add(maxClockSkew)) {
		return false, time.Time{}, fmt.Errorf("crl is from the future")
	}
	if stale(list.ThisUpdate, list.NextUpdate, at) {
		return false, time.Time{}, fmt.Errorf("crl is stale")
	}
	for _, e := range list.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return true, e.RevocationTime, nil
		}
	}
	if !coversExpired(c, list.ThisUpdate, list.Extensions, oidExtExpiredCertsOnCRL) {
		return false, time.Time{}, errExpiredNotCovered
	}
	return false, time.Time{}, nil
}

var (
	oidOCSPArchiveCutoff    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6}
	oidExtExpiredCertsOnCRL = asn1.ObjectIdentifier{2, 5, 29, 60}

	errExpiredNotCovered = fmt.Errorf("the certificate had expired when this status was issued, and it does not say it keeps expired certificates")
)

// coversExpired reports whether a "not revoked" answer issued at thisUpdate still speaks
// for c. A CA may drop a certificate from its CRL, and its responder forget it, once the
// certificate has expired (RFC 5280 §3.3, RFC 6960 §4.4.4): silence about an expired
// certificate proves nothing unless the answer carries an archive cutoff (OCSP) or an
// expiredCertsOnCRL date (X.509 §9.6.2.9) no later than the certificate's expiry. Without
// this, a certificate revoked, then expired and dropped, would read as never revoked.
func coversExpired(c *x509.Certificate, thisUpdate time.Time, exts []pkix.Extension, oid asn1.ObjectIdentifier) bool {
	if !thisUpdate.After(c.NotAfter) {
		return true
	}
	for _, e := range exts {
		if !e.Id.Equal(oid) {
			continue
		}
		var since time.Time
		if rest, err := asn1.Unmarshal(e.Value, &since); err != nil || len(rest) != 0 {
			return false
		}
		return !since.After(c.NotAfter)
	}
	return false
}

// Object identifiers of RFC 5280 §5.2 that change what a CRL covers.
var (
	oidExtDeltaCRLIndicator         = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidExtIssuingDistributionPoint  = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidExtAuthorityKeyIdentifierCRL = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtCRLNumber                 = asn1.ObjectIdentifier{2, 5, 29, 20}
)

// crlScope refuses a CRL that is not a complete list for c (RFC 5280 §5.2, §6.3.3): a delta
// CRL, a CRL whose issuing distribution point limits it to other certificates, to some
// reasons, to another partition or to an indirect issuer, or one with a critical extension
// (in the CRL or in an entry) this package does not process. crypto/x509 parses such lists
// without complaint; read as complete, they would show a revoked certificate as good.
func crlScope(list *x509.RevocationList, u string, c *x509.Certificate) error {
	for _, ext := range list.Extensions {
		switch {
		case ext.Id.Equal(oidExtDeltaCRLIndicator):
			return fmt.Errorf("delta crl is not a complete crl")
		case ext.Id.Equal(oidExtIssuingDistributionPoint):
			if err := issuingDistributionPoint(ext.Value, u, c); err != nil {
				return fmt.Errorf("issuing distribution point: %v", err)
			}
		case ext.Id.Equal(oidExtAuthorityKeyIdentifierCRL), ext.Id.Equal(oidExtCRLNumber):
		default:
			if ext.Critical {
				return fmt.Errorf("unsupported critical crl extension %v", ext.Id)
			}
		}
	}
	for _, e := range list.RevokedCertificateEntries {
		for _, ext := range e.Extensions {
			if ext.Critical {
				return fmt.Errorf("unsupported critical crl entry extension %v", ext.Id)
			}
		}
	}
	return nil
}

// issuingDistributionPoint checks the extension of RFC 5280 §5.2.5: a full name must
// include the URL the CRL was fetched from (u, "" for a CRL the caller gave) or another of
// c's distribution points (§6.3.3), and the CRL must cover every kind of certificate c is,
// for every reason, from its own issuer.
func issuingDistributionPoint(der []byte, u string, c *x509.Certificate) error {
	in := cryptobyte.String(der)
	var idp cryptobyte.String
	if !in.ReadASN1(&idp, cbasn1.SEQUENCE) || !in.Empty() {
		return fmt.Errorf("malformed")
	}
	var dpn cryptobyte.String
	var hasDP bool
	if !idp.ReadOptionalASN1(&dpn, &hasDP, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return fmt.Errorf("malformed")
	}
	if hasDP {
		var names cryptobyte.String
		if !dpn.ReadASN1(&names, cbasn1.Tag(0).Constructed().ContextSpecific()) || !dpn.Empty() {
			return fmt.Errorf("distribution point is not a full name")
		}
		found := false
		for !names.Empty() {
			var name cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&name, &tag) {
				return fmt.Errorf("malformed")
			}
			if tag == cbasn1.Tag(6).ContextSpecific() && ((u != "" && string(name) == u) || slices.Contains(c.CRLDistributionPoints, string(name))) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("crl is for another distribution point")
		}
	}
	flag := func(n uint8) (bool, error) {
		var v cryptobyte.String
		var present bool
		if !idp.ReadOptionalASN1(&v, &present, cbasn1.Tag(n).ContextSpecific()) {
			return false, fmt.Errorf("malformed")
		}
		if !present {
			return false, nil
		}
		if len(v) != 1 || (v[0] != 0x00 && v[0] != 0xff) {
			return false, fmt.Errorf("malformed")
		}
		return v[0] == 0xff, nil
	}
	userOnly, err := flag(1)
	if err != nil {
		return err
	}
	caOnly, err := flag(2)
	if err != nil {
		return err
	}
	var reasons cryptobyte.String
	var someReasons bool
	if !idp.ReadOptionalASN1(&reasons, &someReasons, cbasn1.Tag(3).ContextSpecific()) {
		return fmt.Errorf("malformed")
	}
	indirect, err := flag(4)
	if err != nil {
		return err
	}
	attrOnly, err := flag(5)
	if err != nil {
		return err
	}
	switch {
	case !idp.Empty():
		return fmt.Errorf("malformed")
	case userOnly && c.IsCA:
		return fmt.Errorf("crl covers only end-entity certificates")
	case caOnly && !c.IsCA:
		return fmt.Errorf("crl covers only ca certificates")
	case attrOnly:
		return fmt.Errorf("crl covers only attribute certificates")
	case someReasons:
		return fmt.Errorf("crl covers only some revocation reasons")
	case indirect:
		return fmt.Errorf("indirect crl is not supported")
	}
	return nil
}

// fetch GETs (body nil) or POSTs to an http or https URL taken from a certificate and reads
// at most limit bytes of a 200 answer.
func (rc *revocationChecker) fetch(rawURL, contentType string, body []byte, limit int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url is not http or https")
	}
	ctx, cancel := context.WithTimeout(rc.ctx, 15*time.Second)
	defer cancel()
	method, rd := http.MethodGet, io.Reader(nil)
	if body != nil {
		method, rd = http.MethodPost, bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := rc.client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second, CheckRedirect: revocationRedirect}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s unreachable", u.Host)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered http %d", u.Host, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading from %s: %v", u.Host, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("answer from %s over %d bytes", u.Host, limit)
	}
	return b, nil
}

// maxRevocationRedirects caps the redirects followed when fetching OCSP answers and CRLs.
const maxRevocationRedirects = 3

// revocationRedirect lets the default client follow a few redirects, as CRL servers behind
// CDNs send them, but only to http and https URLs.
func revocationRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRevocationRedirects {
		return fmt.Errorf("more than %d redirects", maxRevocationRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to a %q URL", req.URL.Scheme)
	}
	return nil
}
