package signature

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Level is a baseline level of ETSI EN 319 122-1 §6 for [SignerOptions.Level]: each adds
// what a validator needs to validate the signature later, or without the network.
type Level string

// Levels a Signer makes, and [Extend] reaches.
const (
	// LevelB is CAdES-BASELINE-B (or JAdES-BASELINE-B): the signature and its signed
	// attributes.
	LevelB Level = "B-B"
	// LevelT adds a signature time-stamp (CAdES-BASELINE-T): a proof that the signature
	// existed at the time-stamp's time. It needs SignerOptions.TSAURL.
	LevelT Level = "B-T"
	// LevelLT adds the validation data (CAdES-BASELINE-LT, EN 319 122-1 §6.3): the
	// certificates of the signer's and of the time-stamp authority's chains, up to
	// SignerOptions.Roots, and for each of them but the trust anchors an OCSP response or
	// a CRL, fetched at signing, that shows it not revoked. It needs TSAURL and Roots.
	LevelLT Level = "B-LT"
	// LevelLTA adds, to LevelLT, an archive time-stamp (archive-time-stamp-v3 with
	// ats-hash-index-v3, CAdES-BASELINE-LTA, EN 319 122-1 §5.5.3, §6.5) over the
	// signature, the document and all the validation data, and then the validation data
	// of the archive time-stamp's own authority. It proves that all of it existed before
	// any certificate expired; [Extend] renews it with a further one before the last
	// one's authority expires.
	LevelLTA Level = "B-LTA"
)

// longTerm reports whether the level embeds validation data.
func (l Level) longTerm() bool { return l == LevelLT || l == LevelLTA }

// oidRIOCSPResponse is id-ri-ocsp-response (RFC 5940 §2): an OtherRevocationInfoFormat in
// SignedData.crls whose otherRevInfo is a whole OCSPResponse.
var oidRIOCSPResponse = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 16, 2}

// embeddedRevocation is the revocation data a signature carries in SignedData.crls (RFC
// 5652 §10.2.1 RevocationInfoChoices): CRLs as CertificateList, and OCSP responses as
// OtherRevocationInfoFormat id-ri-ocsp-response (RFC 5940 §2) or id-pkix-ocsp-basic (a
// BasicOCSPResponse, as some signers write it).
type embeddedRevocation struct {
	crls  []*x509.RevocationList
	ocsp  [][]byte // DER OCSPResponse
	notes []string // items that could not be read, for the report's warnings
}

func (e *embeddedRevocation) empty() bool { return len(e.crls) == 0 && len(e.ocsp) == 0 }

// parseRevocationChoices reads the content of SignedData.crls. A choice that is not DER, or
// not a RevocationInfoChoice, makes the signature malformed; a CRL or an OCSP response that
// does not parse, or another format, is only noted: it proves nothing, and the status it
// would have given is found elsewhere.
func parseRevocationChoices(content []byte) (embeddedRevocation, error) {
	const f = "CAdES"
	var e embeddedRevocation
	in := cryptobyte.String(content)
	for n := 1; !in.Empty(); n++ {
		if n > limits.MaxSignatureRevocationValues {
			return e, malformed(f, "too many revocation values", nil)
		}
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !in.ReadAnyASN1Element(&el, &tag) {
			return e, malformed(f, "crls", nil)
		}
		switch tag {
		case cbasn1.SEQUENCE:
			l, err := x509.ParseRevocationList(el)
			if err != nil {
				e.notes = append(e.notes, fmt.Sprintf("revocation value %d in the signature: crl does not parse", n))
				continue
			}
			e.crls = append(e.crls, l)
		case cbasn1.Tag(1).Constructed().ContextSpecific():
			var body, value cryptobyte.String
			var format asn1.ObjectIdentifier
			if !el.ReadASN1(&body, tag) || !body.ReadASN1ObjectIdentifier(&format) ||
				!body.ReadAnyASN1Element(&value, nil) || !body.Empty() {
				return e, malformed(f, "crls: other revocation info format", nil)
			}
			var der []byte
			switch {
			case format.Equal(oidRIOCSPResponse):
				der = value
			case format.Equal(oidOCSPBasic):
				der = wrapBasicOCSP(value)
			default:
				e.notes = append(e.notes, fmt.Sprintf("revocation value %d in the signature: format %v is not read", n, format))
				continue
			}
			if _, err := ocspTBS(der); err != nil {
				e.notes = append(e.notes, fmt.Sprintf("revocation value %d in the signature: ocsp response: %v", n, err))
				continue
			}
			e.ocsp = append(e.ocsp, der)
		default:
			return e, malformed(f, "crls: not a revocation info choice", nil)
		}
	}
	return e, nil
}

// wrapBasicOCSP returns the successful OCSPResponse (RFC 6960 §4.2.1) around a
// BasicOCSPResponse.
func wrapBasicOCSP(basic []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0) // successful
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basic)
			})
		})
	})
	return b.BytesOrPanic() // only fixed-size fields are added
}

// ocspChoice encodes an OCSPResponse as the RevocationInfoChoice other [1]
// OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse } (RFC 5652 §10.2.1, RFC
// 5940 §2).
func ocspChoice(der []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidRIOCSPResponse)
		b.AddBytes(der)
	})
	return b.BytesOrPanic()
}

// judgeEmbedded is the time an item of the signature's revocation data issued at
// thisUpdate is checked as of: the proof of existence it is about (rc.poe), or its own
// thisUpdate when it was issued later but not after the validation time. A status issued
// after the signature time-stamp still speaks for that time (a certificate not revoked
// then was not revoked before), and an item that had expired by then (past nextUpdate) is
// stale for it, as EN 319 102-1's revocation freshness asks.
func (rc *revocationChecker) judgeEmbedded(thisUpdate time.Time) time.Time {
	if thisUpdate.After(rc.poe) && !thisUpdate.After(rc.at.Add(maxClockSkew)) {
		return thisUpdate
	}
	return rc.poe
}

// path returns the signing certificate's chain to Roots at t, the trust anchor last.
func (s *Signer) path(t time.Time) ([]*x509.Certificate, error) {
	chains, err := s.chain[0].Verify(x509.VerifyOptions{
		Roots: s.roots, Intermediates: certPool(s.chain[1:]), CurrentTime: t,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, unusableCertificate("chain", "no chain to SignerOptions.Roots at the signing time")
	}
	if len(chains[0]) < 2 {
		return nil, unusableCertificate("chain", "the signing certificate is itself a trust anchor")
	}
	return chains[0], nil
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// ltData gathers the validation data of a B-LT signature (EN 319 122-1 §6.3) made at at
// with signature value sigValue and time-stamp token: the certificates to add to
// SignedData.certificates (the signer's chain as given first, then those of the signer's
// and the TSA's paths to Roots it lacks, trust anchors included), and the
// RevocationInfoChoices for SignedData.crls that show every certificate of both paths but
// the anchors not revoked. Anything revoked, or of unknown status, refuses the signature.
func (s *Signer) ltData(ctx context.Context, at time.Time, sigValue, token []byte) ([]*x509.Certificate, [][]byte, error) {
	signerPath, err := s.path(at)
	if err != nil {
		return nil, nil, err
	}
	_, tsaPath, err := checkTimestamp(token, sigValue, s.roots, certPool(s.chain))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	rc := &revocationChecker{ctx: ctx, client: s.client, now: s.now, at: at, crls: s.crls, ocsp: s.ocsp}
	certs := append([]*x509.Certificate(nil), s.chain...)
	var revocation [][]byte
	seen := map[string]bool{}
	for _, p := range []struct {
		role string
		path []*x509.Certificate
	}{{"signing", signerPath}, {"time-stamp authority", tsaPath}} {
		for i, c := range p.path {
			if !containsCert(certs, c) {
				certs = append(certs, c)
			}
			if i+1 == len(p.path) {
				break // the trust anchor
			}
			role := p.role + " certificate"
			if i > 0 {
				role = p.role + " chain: ca certificate"
			}
			st, evidence := rc.statusEvidence(c, p.path[i+1])
			switch st.Status {
			case "good":
				if !seen[string(evidence)] {
					seen[string(evidence)] = true
					revocation = append(revocation, evidence)
				}
			case "revoked":
				return nil, nil, unusableCertificate("revocation", fmt.Sprintf("%s revoked at %s (%s)", role, st.RevokedAt.Format(time.RFC3339), st.Source))
			default:
				return nil, nil, &CertificateError{Check: "revocation", Reason: role + ": status unknown: " + st.Reason, Err: ErrRevocationUnknown}
			}
		}
	}
	return certs, revocation, nil
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if x.Equal(c) {
			return true
		}
	}
	return false
}
