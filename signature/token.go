package signature

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/dpiblocks/dpi/internal/ber"
	"github.com/dpiblocks/dpi/internal/limits"
)

// oidTSTInfo is id-ct-TSTInfo (RFC 3161 §2.4.2).
var oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// signedToken is the SignedData (RFC 5652 §5) of an RFC 3161 time-stamp token whose every
// SignerInfo verified with the certificate it names: what digitorus/pkcs7's Parse and
// Verify establish, read once with cryptobyte instead of through its BER-to-DER rewrite
// and encoding/asn1 (they were half of an LT validation's allocations).
type signedToken struct {
	content []byte // the encapsulated TSTInfo's DER
	certs   []*x509.Certificate
	signers []tokenSigner
}

type tokenSigner struct {
	cert      *x509.Certificate // the certificate named by issuerAndSerialNumber
	digestAlg asn1.ObjectIdentifier
	sigAlg    asn1.ObjectIdentifier
	unsigned  []parsedAttribute
}

// onlySigner is the certificate of the token's single signer; nil when it has several.
func (st *signedToken) onlySigner() *x509.Certificate {
	if len(st.signers) != 1 {
		return nil
	}
	return st.signers[0].cert
}

// rawTokenSigner is a SignerInfo as read, before its signature is checked.
type rawTokenSigner struct {
	issuer          []byte // the DER Name of issuerAndSerialNumber
	serial          *big.Int
	digestAlg       asn1.ObjectIdentifier
	signedAttrs     []byte // the [0] IMPLICIT element as read; nil when absent
	sigAlg          asn1.ObjectIdentifier
	sig             []byte
	unsignedContent []byte // content of [1] IMPLICIT; nil when absent
}

var errTokenStructure = fmt.Errorf("malformed signed-data")

// parseSignedToken reads a time-stamp token, DER or BER (read as its DER form, the form
// whose signed attributes are signed), checks that it encapsulates a TSTInfo and carries a
// certificate, and verifies every SignerInfo as digitorus/pkcs7's Verify does without
// roots: the signer is named by issuer and serial number among the token's certificates;
// with signed attributes, the single message-digest is the digest of the TSTInfo, a
// signing-time (if any) is within the certificate's validity, and the signature is over
// the attributes; without them, over the TSTInfo.
//
// A certificate whose DER is that of one in known (the signature's own, already parsed
// in this validation) is that certificate, not parsed again.
func parseSignedToken(b []byte, known ...*x509.Certificate) (*signedToken, error) {
	st, raw, err := readSignedToken(b, known)
	if err != nil {
		der, berErr := ber.ToDER(b)
		if berErr != nil {
			return nil, err
		}
		if st, raw, err = readSignedToken(der, known); err != nil {
			return nil, err
		}
	}
	for _, r := range raw {
		s, err := verifyTokenSigner(st, r)
		if err != nil {
			return nil, err
		}
		st.signers = append(st.signers, s)
	}
	return st, nil
}

// readSignedToken reads the structure: ContentInfo, SignedData, its certificates and
// SignerInfos.
func readSignedToken(der []byte, known []*x509.Certificate) (*signedToken, []rawTokenSigner, error) {
	in := cryptobyte.String(der)
	var ci, wrapped, sd, algs, encap, eContentWrap, eContent, infos cryptobyte.String
	var ct, ect asn1.ObjectIdentifier
	var version int64
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() ||
		!ci.ReadASN1ObjectIdentifier(&ct) || !ci.ReadASN1(&wrapped, tagCtx0) || !ci.Empty() {
		return nil, nil, fmt.Errorf("malformed content info")
	}
	if !ct.Equal(oidSignedData) {
		return nil, nil, fmt.Errorf("content type is not signed-data")
	}
	if !wrapped.ReadASN1(&sd, cbasn1.SEQUENCE) || !wrapped.Empty() ||
		!sd.ReadASN1Integer(&version) || !sd.ReadASN1(&algs, cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&ect) {
		return nil, nil, errTokenStructure
	}
	// digestAlgorithms is not used, but must be well-formed, as digitorus/pkcs7 required.
	for !algs.Empty() {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !algs.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
			return nil, nil, errTokenStructure
		}
	}
	if !ect.Equal(oidTSTInfo) {
		return nil, nil, fmt.Errorf("signed content is not a tstinfo")
	}
	if !encap.ReadASN1(&eContentWrap, tagCtx0) || !encap.Empty() ||
		!eContentWrap.ReadASN1(&eContent, cbasn1.OCTET_STRING) || !eContentWrap.Empty() {
		return nil, nil, fmt.Errorf("tstinfo is not encapsulated")
	}
	st := &signedToken{content: eContent}
	var certs cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, tagCtx0) || !sd.SkipOptionalASN1(tagCtx1) ||
		!sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() {
		return nil, nil, errTokenStructure
	}
	for !certs.Empty() {
		var c cryptobyte.String
		if !certs.ReadASN1Element(&c, cbasn1.SEQUENCE) {
			return nil, nil, fmt.Errorf("certificates: not an x.509 certificate")
		}
		if len(st.certs) == limits.MaxSignatureCertificates {
			return nil, nil, fmt.Errorf("more than %d certificates", limits.MaxSignatureCertificates)
		}
		cert := knownCertificate(known, c)
		if cert == nil {
			var err error
			if cert, err = x509.ParseCertificate(c); err != nil {
				return nil, nil, fmt.Errorf("certificate: %v", err)
			}
		}
		st.certs = append(st.certs, cert)
	}
	if len(st.certs) == 0 {
		return nil, nil, fmt.Errorf("time-stamp token carries no tsa certificate")
	}
	var raw []rawTokenSigner
	for !infos.Empty() {
		var si, sid, issuer, alg cryptobyte.String
		var siVersion int64
		var hasUnsigned bool
		r := rawTokenSigner{serial: new(big.Int)}
		if len(raw) == limits.MaxSignatureCertificates {
			return nil, nil, fmt.Errorf("too many signer infos")
		}
		if !infos.ReadASN1(&si, cbasn1.SEQUENCE) || !si.ReadASN1Integer(&siVersion) ||
			// Only issuerAndSerialNumber, as digitorus/pkcs7 reads it.
			!si.ReadASN1(&sid, cbasn1.SEQUENCE) || !sid.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!sid.ReadASN1Integer(r.serial) || !sid.Empty() ||
			!si.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&r.digestAlg) {
			return nil, nil, fmt.Errorf("malformed signer info")
		}
		r.issuer = issuer
		if si.PeekASN1Tag(tagCtx0) {
			var attrs cryptobyte.String
			if !si.ReadASN1Element(&attrs, tagCtx0) {
				return nil, nil, fmt.Errorf("malformed signed attributes")
			}
			r.signedAttrs = attrs
		}
		var sigValue cryptobyte.String
		var unsigned cryptobyte.String
		if !si.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&r.sigAlg) ||
			!si.ReadASN1(&sigValue, cbasn1.OCTET_STRING) ||
			!si.ReadOptionalASN1(&unsigned, &hasUnsigned, tagCtx1) || !si.Empty() {
			return nil, nil, fmt.Errorf("malformed signer info")
		}
		r.sig = sigValue
		if hasUnsigned {
			r.unsignedContent = unsigned
		}
		raw = append(raw, r)
	}
	if len(raw) == 0 {
		return nil, nil, fmt.Errorf("no signer info")
	}
	return st, raw, nil
}

// verifyTokenSigner checks one SignerInfo's signature (see parseSignedToken).
func verifyTokenSigner(st *signedToken, r rawTokenSigner) (tokenSigner, error) {
	s := tokenSigner{digestAlg: r.digestAlg, sigAlg: r.sigAlg}
	for _, c := range st.certs {
		if bytes.Equal(c.RawIssuer, r.issuer) && c.SerialNumber.Cmp(r.serial) == 0 {
			s.cert = c
			break
		}
	}
	if s.cert == nil {
		return s, fmt.Errorf("no certificate for the signer")
	}
	h := hashFromOID(r.digestAlg)
	if h == 0 || !h.Available() {
		return s, fmt.Errorf("unsupported digest algorithm %v", r.digestAlg)
	}
	if r.unsignedContent != nil {
		var err error
		if s.unsigned, err = parseAttributes(r.unsignedContent); err != nil {
			return s, fmt.Errorf("unsigned attributes: %v", err)
		}
	}
	signed := st.content
	if r.signedAttrs != nil {
		var content cryptobyte.String
		attrsEl := cryptobyte.String(r.signedAttrs)
		if !attrsEl.ReadASN1(&content, tagCtx0) {
			return s, fmt.Errorf("malformed signed attributes")
		}
		attrs, err := parseAttributes(content)
		if err != nil {
			return s, fmt.Errorf("signed attributes: %v", err)
		}
		var digest []byte
		digests := 0
		for _, a := range attrs {
			switch {
			case a.Type.Equal(oidAttrMessageDigest):
				digests++
				v := cryptobyte.String(nil)
				if len(a.values) == 1 {
					v = a.values[0]
				}
				if len(a.values) != 1 || !v.ReadASN1Bytes(&digest, cbasn1.OCTET_STRING) || !v.Empty() {
					return s, fmt.Errorf("malformed message-digest attribute")
				}
			case a.Type.Equal(oidAttrSigningTime):
				var t time.Time
				if len(a.values) != 1 {
					return s, fmt.Errorf("malformed signing-time attribute")
				}
				if rest, err := asn1.Unmarshal(a.values[0], &t); err != nil || len(rest) != 0 {
					return s, fmt.Errorf("malformed signing-time attribute")
				}
				if t.After(s.cert.NotAfter) || t.Before(s.cert.NotBefore) {
					return s, fmt.Errorf("signing time %s is outside of the certificate's validity", t.Format(time.RFC3339))
				}
			}
		}
		if digests != 1 {
			return s, fmt.Errorf("want exactly one message-digest attribute")
		}
		if !bytes.Equal(digest, digestOf(h, st.content)) {
			return s, fmt.Errorf("message-digest does not match the tstinfo")
		}
		// The signature covers the attributes with their SET OF tag (RFC 5652 §5.4).
		signed = append([]byte{0x31}, r.signedAttrs[1:]...)
	}
	if err := cmsVerify(s.cert.PublicKey, r.sigAlg, h, signed, r.sig); err != nil {
		return s, fmt.Errorf("signature: %v", err)
	}
	return s, nil
}

// knownCertificate returns the certificate of known whose DER is der, or nil.
func knownCertificate(known []*x509.Certificate, der []byte) *x509.Certificate {
	for _, c := range known {
		if bytes.Equal(c.Raw, der) {
			return c
		}
	}
	return nil
}
