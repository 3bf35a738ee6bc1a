package signature

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/internal/limits"
)

// LoadCRLs decodes certificate revocation lists (RFC 5280 §5) for [Policy.CRLs] and
// [SignerOptions.CRLs]: DER (one CRL or several concatenated), or PEM ("X509 CRL" blocks,
// RFC 7468 §6; other blocks are skipped). Input that begins with a DER SEQUENCE is read
// as DER, anything else as PEM. Only the encoding is checked here; whether a CRL counts
// for a certificate (its issuer, signature, scope and dates) is decided where it is used.
// Undecodable input matches [ErrKeyFormat]; a file, or a CRL, over the caps in
// internal/limits matches [ErrTooLarge].
func LoadCRLs(pemOrDER []byte) ([]*x509.RevocationList, error) {
	ders, err := revocationItems(pemOrDER, "X509 CRL", limits.MaxCRL, "crl")
	if err != nil {
		return nil, err
	}
	lists := make([]*x509.RevocationList, 0, len(ders))
	for i, der := range ders {
		l, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("%w: crl %d: %v", ErrKeyFormat, i+1, err)
		}
		lists = append(lists, l)
	}
	return lists, nil
}

// LoadOCSPResponses decodes OCSP responses (RFC 6960 §4.2.1) for [Policy.OCSPResponses]
// and [SignerOptions.OCSPResponses], and returns each as DER: DER input (one response or
// several concatenated, as `openssl ocsp -respout` writes one), or PEM ("OCSP RESPONSE"
// blocks; other blocks are skipped). Input that begins with a DER SEQUENCE is read as
// DER, anything else as PEM. Each must be a successful response of the basic type; its
// signature, its certificate and its dates are checked where it is used. Undecodable input
// and unsuccessful responses match [ErrKeyFormat]; a file, or a response, over the caps in
// internal/limits matches [ErrTooLarge].
func LoadOCSPResponses(pemOrDER []byte) ([][]byte, error) {
	ders, err := revocationItems(pemOrDER, "OCSP RESPONSE", limits.MaxOCSPResponse, "ocsp response")
	if err != nil {
		return nil, err
	}
	for i, der := range ders {
		if _, err := ocspTBS(der); err != nil {
			return nil, fmt.Errorf("%w: ocsp response %d: %v", ErrKeyFormat, i+1, err)
		}
	}
	return ders, nil
}

// revocationItems splits a file into DER items: the PEM blocks of pemType, or the DER
// SEQUENCEs it concatenates.
func revocationItems(b []byte, pemType string, maxItem int, what string) ([][]byte, error) {
	if len(b) > limits.MaxRevocationFile {
		return nil, fmt.Errorf("%w: %s file over %d bytes", ErrTooLarge, what, limits.MaxRevocationFile)
	}
	var ders [][]byte
	if len(b) > 0 && b[0] == 0x30 {
		in := cryptobyte.String(b)
		for !in.Empty() {
			var el cryptobyte.String
			if !in.ReadASN1Element(&el, cbasn1.SEQUENCE) {
				return nil, fmt.Errorf("%w: %s %d: not der", ErrKeyFormat, what, len(ders)+1)
			}
			if len(ders) == limits.MaxRevocationItems {
				return nil, fmt.Errorf("%w: more than %d in one file", ErrTooLarge, limits.MaxRevocationItems)
			}
			ders = append(ders, el)
		}
	} else {
		rest := b
		for n := 0; ; n++ {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if n == limits.MaxRevocationItems {
				return nil, fmt.Errorf("%w: more than %d pem blocks", ErrTooLarge, limits.MaxRevocationItems)
			}
			if blk.Type == pemType {
				ders = append(ders, blk.Bytes)
			}
		}
		if len(ders) == 0 {
			return nil, fmt.Errorf("%w: no %s: neither der nor a %q pem block", ErrKeyFormat, what, pemType)
		}
	}
	for i, der := range ders {
		if len(der) > maxItem {
			return nil, fmt.Errorf("%w: %s %d over %d bytes", ErrTooLarge, what, i+1, maxItem)
		}
	}
	return ders, nil
}

var oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// ocspTBS returns the ResponseData of a successful basic OCSP response (RFC 6960 §4.2.1):
//
//	OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT
//	    SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING } OPTIONAL }
//	BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm
//	    AlgorithmIdentifier, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF
//	    Certificate OPTIONAL }
func ocspTBS(der []byte) ([]byte, error) {
	bad := fmt.Errorf("malformed")
	in := cryptobyte.String(der)
	var resp, wrapped, rb, basicDER cryptobyte.String
	var status int
	var typ asn1.ObjectIdentifier
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !in.Empty() || !resp.ReadASN1Enum(&status) {
		return nil, bad
	}
	if status != int(ocsp.Success) {
		return nil, fmt.Errorf("the responder answered %q, not a status", ocsp.ResponseStatus(status).String())
	}
	if !resp.ReadASN1(&wrapped, cbasn1.Tag(0).Constructed().ContextSpecific()) || !resp.Empty() ||
		!wrapped.ReadASN1(&rb, cbasn1.SEQUENCE) || !wrapped.Empty() ||
		!rb.ReadASN1ObjectIdentifier(&typ) || !rb.ReadASN1(&basicDER, cbasn1.OCTET_STRING) || !rb.Empty() {
		return nil, bad
	}
	if !typ.Equal(oidOCSPBasic) {
		return nil, fmt.Errorf("not a basic ocsp response")
	}
	var basic, tbs, alg cryptobyte.String
	var sig asn1.BitString
	if !basicDER.ReadASN1(&basic, cbasn1.SEQUENCE) || !basicDER.Empty() ||
		!basic.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!basic.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!basic.ReadASN1BitString(&sig) ||
		!basic.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !basic.Empty() {
		return nil, bad
	}
	return tbs, nil
}

// revocationSet is one source of revocation data held before anything is fetched: the
// caller's (Policy, SignerOptions), judged at rc.at, or the signature's own, judged by
// judgeEmbedded.
type revocationSet struct {
	crls     []*x509.RevocationList
	ocsp     [][]byte
	embedded bool
}

// offline reads the revocation data the caller gave for c, then the data the signature
// carries: every CRL from c's issuer and every OCSP response with a single response for c
// is checked as a fetched one would be, the caller's as of rc.at, the signature's as of
// judgeEmbedded. A revocation in any of them wins (the earliest time), then a "good" (the
// signature's before the caller's, an OCSP response before a CRL); found is nil when none
// counts, and reasons say why each that speaks for c did not. evidence is the
// RevocationInfoChoice of the item that decided.
func (rc *revocationChecker) offline(c, issuer *x509.Certificate) (found *RevocationStatus, evidence []byte, reasons []string) {
	sets := []revocationSet{{crls: rc.crls, ocsp: rc.ocsp}}
	if rc.embedded != nil && !rc.embedded.empty() {
		sets = append(sets, revocationSet{crls: rc.embedded.crls, ocsp: rc.embedded.ocsp, embedded: true})
	}
	var good *RevocationStatus
	var goodEvidence []byte
	var embeddedReasons []string
	revoked := func(st RevocationStatus, at time.Time, ev []byte) {
		at = at.UTC()
		if found == nil || at.Before(*found.RevokedAt) {
			st.Status, st.RevokedAt = "revoked", &at
			found, evidence = &st, ev
		}
	}
	for _, set := range sets {
		if len(set.crls) == 0 && len(set.ocsp) == 0 {
			continue
		}
		judge := func(time.Time) time.Time { return rc.at }
		what, mark := "given", RevocationStatus{Offline: true}
		if set.embedded {
			judge, what, mark = rc.judgeEmbedded, "in the signature", RevocationStatus{Embedded: true}
		}
		var setGood *RevocationStatus
		var setEvidence []byte
		var setReasons []string
		about := 0
		for _, der := range set.ocsp {
			if tbs, err := ocspTBS(der); err != nil || certIDNamesIssuer(tbs, c, issuer) != nil {
				continue // about another certificate
			}
			about++
			resp, err := rc.parseHeldOCSP(der, c, issuer)
			if err == nil {
				resp, err = judgeOCSP(resp, issuer, judge)
			}
			if err != nil {
				setReasons = append(setReasons, "ocsp response "+what+": "+err.Error())
				continue
			}
			st := mark
			st.Source = "OCSP"
			switch resp.Status {
			case ocsp.Good:
				if !coversExpired(c, resp.ThisUpdate, resp.Extensions, oidOCSPArchiveCutoff) {
					setReasons = append(setReasons, "ocsp response "+what+": "+errExpiredNotCovered.Error())
					continue
				}
				st.Status = "good"
				setGood, setEvidence = &st, ocspChoice(der)
			case ocsp.Revoked:
				revoked(st, resp.RevokedAt, ocspChoice(der))
			default:
				setReasons = append(setReasons, "ocsp response "+what+": the responder does not know the certificate")
			}
		}
		for _, list := range set.crls {
			if list == nil || string(list.RawIssuer) != string(issuer.RawSubject) {
				continue // another CA's list
			}
			about++
			isRevoked, at, err := checkCRL(list, "", c, issuer, judge(list.ThisUpdate))
			st := mark
			st.Source = "CRL"
			switch {
			case err != nil:
				setReasons = append(setReasons, "crl "+what+": "+err.Error())
			case isRevoked:
				revoked(st, at, list.Raw)
			case setGood == nil:
				st.Status = "good"
				setGood, setEvidence = &st, list.Raw
			}
		}
		if about == 0 {
			setReasons = append(setReasons, "no crl or ocsp response "+what+" is about this certificate")
		}
		if setGood != nil {
			good, goodEvidence = setGood, setEvidence
		}
		reasons = append(reasons, setReasons...)
		if set.embedded {
			embeddedReasons = setReasons
		}
	}
	if found != nil {
		return found, evidence, nil
	}
	if good != nil {
		return good, goodEvidence, nil
	}
	if len(sets) > 1 {
		rc.notes = append(rc.notes, fmt.Sprintf("revocation data in the signature does not establish the status of %q (%s): fetched instead",
			c.Subject.CommonName, joinReasons(embeddedReasons)))
	}
	return nil, nil, reasons
}
