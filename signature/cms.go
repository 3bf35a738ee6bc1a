package signature

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sort"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/dpiblocks/dpi/internal/ber"
	"github.com/dpiblocks/dpi/internal/limits"
)

// Object identifiers of RFC 5652, RFC 5035, RFC 3161, RFC 5754, RFC 5758 and RFC 8419.
var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrSigningCertV1    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidAttrSigningCertV2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidAttrSignatureTSToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithS256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithS384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithS512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// digestOIDs are the digest algorithms accepted for signing and validation. SHA-1 is known
// only so that it is named when refused.
var digestOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
	{oidSHA1, crypto.SHA1},
}

func hashFromOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, d := range digestOIDs {
		if d.oid.Equal(oid) {
			return d.hash
		}
	}
	return 0
}

func oidFromHash(h crypto.Hash) asn1.ObjectIdentifier {
	for _, d := range digestOIDs {
		if d.hash == h {
			return d.oid
		}
	}
	return nil
}

// hashAllowed is the digest policy for signatures, time-stamp imprints and signing
// certificate references: SHA-2 of 256 bits or more.
func hashAllowed(h crypto.Hash) bool {
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}

// ASN.1 structures of RFC 5652 §3, §5, used for parsing. encoding/asn1 accepts DER only: an
// indefinite length (BER) is refused, and every length is checked against the input.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// issuerSerial is a parsed IssuerSerial (RFC 5035 §4, RFC 2634 §5.4.1): a certificate named
// by its issuer and serial number.
type issuerSerial struct {
	dirName []byte // the issuer's DER Name; nil unless the GeneralNames is one directoryName
	serial  *big.Int
}

// parseIssuerSerial parses a DER IssuerSerial ::= SEQUENCE { issuer GeneralNames,
// serialNumber CertificateSerialNumber }; ok is false when der is not one.
func parseIssuerSerial(der []byte) (is *issuerSerial, ok bool) {
	in := cryptobyte.String(der)
	var body, names cryptobyte.String
	serial := new(big.Int)
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() ||
		!body.ReadASN1(&names, cbasn1.SEQUENCE) || !body.ReadASN1Integer(serial) || !body.Empty() {
		return nil, false
	}
	var first cryptobyte.String
	var firstTag cbasn1.Tag
	count := 0
	for ; !names.Empty(); count++ {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&name, &tag) {
			return nil, false
		}
		if count == 0 {
			first, firstTag = name, tag
		}
	}
	is = &issuerSerial{serial: serial}
	// The issuer is named by exactly one directoryName ([4] EXPLICIT Name), as OpenSSL's ESS
	// check requires: a list that also holds other names is not that issuer's.
	if count == 1 && firstTag == cbasn1.Tag(4).Constructed().ContextSpecific() {
		is.dirName = first
	}
	return is, true
}

// names reports whether is names c. The issuer name is compared as DER bytes, as the
// signer identifier is (findSigner) and as crypto/x509 builds chains.
func (is *issuerSerial) names(c *x509.Certificate) bool {
	return is.dirName != nil && bytes.Equal(is.dirName, c.RawIssuer) && is.serial.Cmp(c.SerialNumber) == 0
}

// essCertIDv2 is RFC 5035 §3: hashAlgorithm DEFAULT sha256, certHash, issuerSerial OPTIONAL.
type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

// signingCertificateV1 is RFC 2634 §5.4: ESSCertID is certHash (SHA-1), issuerSerial
// OPTIONAL.
type signingCertificateV1 struct {
	Certs []struct {
		CertHash     []byte
		IssuerSerial asn1.RawValue `asn1:"optional"`
	}
	Policies asn1.RawValue `asn1:"optional"`
}

type signingCertificateV2 struct {
	Certs    []essCertIDv2
	Policies asn1.RawValue `asn1:"optional"`
}

// cmsSignature is a parsed CAdES signature with one signer.
type cmsSignature struct {
	certs        []*x509.Certificate
	signer       *x509.Certificate // nil when sid matches no certificate
	digestOID    asn1.ObjectIdentifier
	hash         crypto.Hash // 0 when digestOID is unknown
	sigAlgOID    asn1.ObjectIdentifier
	sigValue     []byte
	signedAttrs  []byte // DER of the SET OF Attribute that was signed
	contentType  asn1.ObjectIdentifier
	messageDig   []byte
	signingTime  *time.Time
	certRefsV2   []essCertIDv2
	certRefV2IS  *issuerSerial // issuerSerial of certRefsV2[0], when present and well-formed
	hasCertRefV1 bool
	certRefV1    []byte        // SHA-1 hash of the first ESSCertID of a signing-certificate (v1)
	certRefV1IS  *issuerSerial // its issuerSerial, when present and well-formed
	tsTokens     [][]byte
	archives     [][]byte           // archive-time-stamp-v3 tokens, in the order they appear
	parts        *cmsParts          // the elements an archive time-stamp covers
	revocation   embeddedRevocation // SignedData.crls, and any revocation-values attribute
	problems     []string           // EN 319 122-1 / RFC 5652 attribute rules broken
}

// parseCMS parses a detached CMS SignedData with exactly one SignerInfo. A signature in
// BER (indefinite lengths, as NSS writes it: pdfsig, Firefox) is read as its DER form, the
// form RFC 5652 §5.4 computes the signed attributes' digest over; the content bytes of
// every value, the signature value among them, are the same in both.
func parseCMS(der []byte) (*cmsSignature, error) {
	const f = "CAdES"
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		d, berErr := ber.ToDER(der)
		if berErr != nil {
			return nil, malformed(f, "content info", err)
		}
		der = d
		if rest, err = asn1.Unmarshal(der, &ci); err != nil {
			return nil, malformed(f, "content info", err)
		}
	}
	if len(rest) != 0 {
		return nil, malformed(f, "trailing data", nil)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, malformed(f, "content type is not signed-data", nil)
	}
	var sd signedData
	if rest, err = asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, malformed(f, "signed-data", err)
	}
	if len(rest) != 0 {
		return nil, malformed(f, "trailing data in signed-data", nil)
	}
	if len(sd.EncapContentInfo.EContent.FullBytes) != 0 {
		return nil, malformed(f, "signature is not detached (content is encapsulated)", nil)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, malformed(f, "want exactly one signer info", nil)
	}
	s := &cmsSignature{}
	if len(sd.Certificates.Bytes) > 0 {
		input := cryptobyte.String(sd.Certificates.Bytes)
		for !input.Empty() {
			var raw cryptobyte.String
			var tag cbasn1.Tag
			if !input.ReadAnyASN1Element(&raw, &tag) {
				return nil, malformed(f, "certificates", nil)
			}
			if tag != cbasn1.SEQUENCE {
				continue // other certificate formats (RFC 5652 §10.2.2) are ignored
			}
			if len(s.certs) >= limits.MaxSignatureCertificates {
				return nil, malformed(f, "too many certificates", nil)
			}
			c, err := x509.ParseCertificate(raw)
			if err != nil {
				return nil, malformed(f, "certificate", err)
			}
			s.certs = append(s.certs, c)
		}
	}
	if len(sd.CRLs.FullBytes) > 0 {
		if s.revocation, err = parseRevocationChoices(sd.CRLs.Bytes); err != nil {
			return nil, err
		}
	}
	if s.parts, err = splitCMS(der, f); err != nil {
		return nil, err
	}
	var si signerInfo
	if rest, err = asn1.Unmarshal(sd.SignerInfos[0].FullBytes, &si); err != nil {
		return nil, malformed(f, "signer info", err)
	}
	if len(rest) != 0 {
		return nil, malformed(f, "trailing data in signer info", nil)
	}
	s.digestOID = si.DigestAlgorithm.Algorithm
	s.hash = hashFromOID(si.DigestAlgorithm.Algorithm)
	s.sigAlgOID = si.SignatureAlgorithm.Algorithm
	s.sigValue = si.Signature
	s.signer = findSigner(si, s.certs)

	if !sd.EncapContentInfo.EContentType.Equal(oidData) {
		s.problems = append(s.problems, "encapsulated content type is not id-data")
	}
	if len(si.SignedAttrs.FullBytes) == 0 {
		s.problems = append(s.problems, "signed attributes are missing")
		return s, nil
	}
	// The signature covers the attributes with their SET OF tag, not the [0] IMPLICIT one
	// they are sent with (RFC 5652 §5.4).
	s.signedAttrs = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	attrs, err := parseAttributes(si.SignedAttrs.Bytes)
	if err != nil {
		return nil, malformed(f, "signed attributes", err)
	}
	s.readSignedAttributes(attrs)
	if len(si.UnsignedAttrs.FullBytes) != 0 {
		unsigned, err := parseAttributes(si.UnsignedAttrs.Bytes)
		if err != nil {
			return nil, malformed(f, "unsigned attributes", err)
		}
		if err := s.readUnsignedAttributes(unsigned); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readUnsignedAttributes collects the time-stamps and the validation data of the unsigned
// attributes (EN 319 122-1 §5.3, §5.5); other attributes are ignored.
func (s *cmsSignature) readUnsignedAttributes(unsigned []parsedAttribute) error {
	const f = "CAdES"
	var revocation []byte
	for _, a := range unsigned {
		switch {
		case a.Type.Equal(oidAttrSignatureTSToken):
			s.tsTokens = append(s.tsTokens, a.values...)
		case a.Type.Equal(oidAttrArchiveTimestampV3):
			s.archives = append(s.archives, a.values...)
		case a.Type.Equal(oidAttrCertValues), a.Type.Equal(oidAttrRevocationValues):
			for _, v := range a.values {
				certs, rev, err := validationValues(a.Type, v)
				if err != nil {
					return malformed(f, "validation data attribute "+a.Type.String(), err)
				}
				for _, raw := range certs {
					if len(s.certs) >= limits.MaxSignatureCertificates {
						return malformed(f, "too many certificates", nil)
					}
					c, err := x509.ParseCertificate(raw)
					if err != nil {
						return malformed(f, "certificate-values", err)
					}
					if !containsCert(s.certs, c) {
						s.certs = append(s.certs, c)
					}
				}
				for _, r := range rev {
					revocation = append(revocation, r...)
				}
			}
		}
	}
	if len(s.tsTokens)+len(s.archives) > limits.MaxSignatureTimestamps {
		return malformed(f, "too many time-stamps", nil)
	}
	if revocation == nil {
		return nil
	}
	extra, err := parseRevocationChoices(revocation)
	if err != nil {
		return err
	}
	if len(s.revocation.crls)+len(s.revocation.ocsp)+len(extra.crls)+len(extra.ocsp) > limits.MaxSignatureRevocationValues {
		return malformed(f, "too many revocation values", nil)
	}
	s.revocation.crls = append(s.revocation.crls, extra.crls...)
	s.revocation.ocsp = append(s.revocation.ocsp, extra.ocsp...)
	s.revocation.notes = append(s.revocation.notes, extra.notes...)
	return nil
}

type parsedAttribute struct {
	Type   asn1.ObjectIdentifier
	values [][]byte // each value's DER
}

func parseAttributes(content []byte) ([]parsedAttribute, error) {
	var out []parsedAttribute
	input := cryptobyte.String(content)
	for !input.Empty() {
		if len(out) >= limits.MaxSignedAttributes {
			return nil, errTooManyAttributes
		}
		var raw cryptobyte.String
		if !input.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return nil, errBadAttribute
		}
		var a attribute
		if rest, err := asn1.Unmarshal(raw, &a); err != nil || len(rest) != 0 {
			return nil, errBadAttribute
		}
		pa := parsedAttribute{Type: a.Type}
		vals := cryptobyte.String(a.Values.Bytes)
		for !vals.Empty() {
			var v cryptobyte.String
			if !vals.ReadAnyASN1Element(&v, nil) {
				return nil, errBadAttribute
			}
			pa.values = append(pa.values, v)
		}
		out = append(out, pa)
	}
	return out, nil
}

var (
	errTooManyAttributes = malformed("CAdES", "too many attributes", nil)
	errBadAttribute      = malformed("CAdES", "attribute", nil)
)

// readSignedAttributes applies RFC 5652 §5.3, §11 and EN 319 122-1 §5.2 to the signed
// attributes; a rule that is broken is recorded as a problem (FORMAT_FAILURE).
func (s *cmsSignature) readSignedAttributes(attrs []parsedAttribute) {
	seen := map[string]bool{}
	for _, a := range attrs {
		key := a.Type.String()
		if seen[key] {
			s.problems = append(s.problems, "signed attribute "+key+" appears more than once")
			continue
		}
		seen[key] = true
		if len(a.values) != 1 {
			switch {
			case a.Type.Equal(oidAttrContentType), a.Type.Equal(oidAttrMessageDigest),
				a.Type.Equal(oidAttrSigningTime), a.Type.Equal(oidAttrSigningCertV2),
				a.Type.Equal(oidAttrSigningCertV1):
				s.problems = append(s.problems, "signed attribute "+key+" must have exactly one value")
				continue
			}
			continue
		}
		v := a.values[0]
		switch {
		case a.Type.Equal(oidAttrContentType):
			var oid asn1.ObjectIdentifier
			if rest, err := asn1.Unmarshal(v, &oid); err != nil || len(rest) != 0 {
				s.problems = append(s.problems, "content-type attribute is malformed")
				continue
			}
			s.contentType = oid
		case a.Type.Equal(oidAttrMessageDigest):
			var d []byte
			if rest, err := asn1.Unmarshal(v, &d); err != nil || len(rest) != 0 {
				s.problems = append(s.problems, "message-digest attribute is malformed")
				continue
			}
			s.messageDig = d
		case a.Type.Equal(oidAttrSigningTime):
			var t time.Time
			if rest, err := asn1.Unmarshal(v, &t); err != nil || len(rest) != 0 {
				s.problems = append(s.problems, "signing-time attribute is malformed")
				continue
			}
			t = t.UTC()
			s.signingTime = &t
		case a.Type.Equal(oidAttrSigningCertV2):
			var sc signingCertificateV2
			if rest, err := asn1.Unmarshal(v, &sc); err != nil || len(rest) != 0 || len(sc.Certs) == 0 {
				s.problems = append(s.problems, "signing-certificate-v2 attribute is malformed")
				continue
			}
			s.certRefsV2 = sc.Certs
			s.certRefV2IS = s.readIssuerSerial("signing-certificate-v2", sc.Certs[0].IssuerSerial)
		case a.Type.Equal(oidAttrSigningCertV1):
			s.hasCertRefV1 = true
			var sc signingCertificateV1
			if rest, err := asn1.Unmarshal(v, &sc); err != nil || len(rest) != 0 || len(sc.Certs) == 0 {
				s.problems = append(s.problems, "signing-certificate attribute is malformed")
				continue
			}
			s.certRefV1 = sc.Certs[0].CertHash
			s.certRefV1IS = s.readIssuerSerial("signing-certificate", sc.Certs[0].IssuerSerial)
		}
	}
	if s.contentType == nil {
		s.problems = append(s.problems, "content-type attribute is missing")
	} else if !s.contentType.Equal(oidData) {
		s.problems = append(s.problems, "content-type attribute is not id-data")
	}
	if s.messageDig == nil {
		s.problems = append(s.problems, "message-digest attribute is missing")
	}
	if s.certRefsV2 == nil && !s.hasCertRefV1 {
		s.problems = append(s.problems, "signing-certificate-v2 attribute is missing")
	}
}

// readIssuerSerial parses the optional issuerSerial of an ESSCertID(v2); one that is
// present and malformed is a problem (FORMAT_FAILURE).
func (s *cmsSignature) readIssuerSerial(attr string, raw asn1.RawValue) *issuerSerial {
	if len(raw.FullBytes) == 0 {
		return nil
	}
	is, ok := parseIssuerSerial(raw.FullBytes)
	if !ok {
		s.problems = append(s.problems, attr+" issuerSerial is malformed")
	}
	return is
}

// findSigner returns the certificate named by the signer identifier (RFC 5652 §5.3).
func findSigner(si signerInfo, certs []*x509.Certificate) *x509.Certificate {
	sid := si.SID
	if sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 {
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c
			}
		}
		return nil
	}
	var ias issuerAndSerial
	if rest, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || len(rest) != 0 || ias.Serial == nil {
		return nil
	}
	for _, c := range certs {
		if bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) && c.SerialNumber.Cmp(ias.Serial) == 0 {
			return c
		}
	}
	return nil
}

// buildSignedAttributes returns the DER SET OF Attribute that is signed: content-type,
// signing-time, message-digest and signing-certificate-v2 (EN 319 122-1 §5.2.1-§5.2.3).
func buildSignedAttributes(digest []byte, signingTime time.Time, signer *x509.Certificate) ([]byte, error) {
	certHash := crypto.SHA256.New()
	certHash.Write(signer.Raw)
	attrs := []struct {
		oid   asn1.ObjectIdentifier
		value func(b *cryptobyte.Builder)
	}{
		{oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }},
		{oidAttrSigningTime, func(b *cryptobyte.Builder) {
			t := signingTime.UTC().Truncate(time.Second)
			if t.Year() >= 1950 && t.Year() < 2050 {
				b.AddASN1UTCTime(t)
			} else {
				b.AddASN1GeneralizedTime(t)
			}
		}},
		{oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }},
		{oidAttrSigningCertV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
						// hashAlgorithm is omitted: its DEFAULT is id-sha256.
						b.AddASN1OctetString(certHash.Sum(nil))
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
								b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
									b.AddBytes(signer.RawIssuer)
								})
							})
							b.AddASN1BigInt(signer.SerialNumber)
						})
					})
				})
			})
		}},
	}
	if signingTime.IsZero() { // PAdES (EN 319 142-1 §6.3): the time is the PDF's /M
		attrs = append(attrs[:1], attrs[2:]...)
	}
	encoded := make([][]byte, 0, len(attrs))
	for _, a := range attrs {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.oid)
			b.AddASN1(cbasn1.SET, a.value)
		})
		der, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		encoded = append(encoded, der)
	}
	return derSetOf(encoded)
}

// derSetOf encodes a SET OF with its elements in DER order (X.690 §11.6).
func derSetOf(elems [][]byte) ([]byte, error) {
	sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	return b.Bytes()
}

// buildSignedData assembles the detached CMS SignedData (RFC 5652 §5.1) around one signer.
func buildSignedData(hash crypto.Hash, sigAlg pkix.AlgorithmIdentifier, signedAttrs, sigValue []byte,
	chain []*x509.Certificate, tsToken []byte) ([]byte, error) {
	return buildSignedDataWith(hash, sigAlg, signedAttrs, sigValue, chain, tsToken, nil)
}

// buildSignedDataWith is buildSignedData with revocation data in crls: DER
// RevocationInfoChoice elements (RFC 5652 §10.2.1), written as a DER SET OF. chain[0] is the
// signer; the other certificates follow in order.
func buildSignedDataWith(hash crypto.Hash, sigAlg pkix.AlgorithmIdentifier, signedAttrs, sigValue []byte,
	chain []*x509.Certificate, tsToken []byte, revocation [][]byte) ([]byte, error) {
	digestOID := oidFromHash(hash)
	// RFC 5652 §5.1: version 5 when crls holds an other (OtherRevocationInfoFormat) choice.
	version := int64(1)
	for _, r := range revocation {
		if len(r) > 0 && r[0] != 0x30 {
			version = 5
		}
	}
	var crls []byte
	if len(revocation) > 0 {
		set, err := derSetOf(append([][]byte(nil), revocation...))
		if err != nil {
			return nil, err
		}
		crls = setContent(set)
	}
	signer := chain[0]
	addAlg := func(b *cryptobyte.Builder, alg pkix.AlgorithmIdentifier) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg.Algorithm)
			if len(alg.Parameters.FullBytes) > 0 {
				b.AddBytes(alg.Parameters.FullBytes)
			}
		})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					addAlg(b, pkix.AlgorithmIdentifier{Algorithm: digestOID})
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncapsulatedContentInfo
					b.AddASN1ObjectIdentifier(oidData)
				})
				certs := make([][]byte, 0, len(chain))
				for _, c := range chain {
					certs = append(certs, c.Raw)
				}
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c)
					}
				})
				if crls != nil {
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddBytes(crls)
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { // SignerInfos
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(signer.RawIssuer)
							b.AddASN1BigInt(signer.SerialNumber)
						})
						addAlg(b, pkix.AlgorithmIdentifier{Algorithm: digestOID})
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(setContent(signedAttrs))
						})
						addAlg(b, sigAlg)
						b.AddASN1OctetString(sigValue)
						if tsToken != nil {
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									b.AddASN1ObjectIdentifier(oidAttrSignatureTSToken)
									b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(tsToken) })
								})
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

// setContent returns the content octets of a DER SET.
func setContent(der []byte) []byte {
	s := cryptobyte.String(der)
	var content cryptobyte.String
	if !s.ReadASN1(&content, cbasn1.SET) {
		return nil
	}
	return content
}
