package signature

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"fmt"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Object identifiers of EN 319 122-1 §5.5 (CAdES-BASELINE-LTA) and of the ETSI validation
// data attributes (EN 319 122-1 §5.5.1 refers to them as certificate-values and
// revocation-values, RFC 5126 §6.3.3, §6.3.4).
var (
	// id-aa-ets-archiveTimestampV3 { itu-t(0) identified-organization(4) etsi(0)
	// electronic-signature-standard(1733) attributes(2) 4 }
	oidAttrArchiveTimestampV3 = asn1.ObjectIdentifier{0, 4, 0, 1733, 2, 4}
	// id-aa-ATSHashIndex-v3 { itu-t(0) identified-organization(4) etsi(0) cades(19122)
	// attributes(1) 5 }
	oidAttrATSHashIndexV3   = asn1.ObjectIdentifier{0, 4, 0, 19122, 1, 5}
	oidAttrCertValues       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	oidAttrRevocationValues = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 24}
)

var (
	tagCtx0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagCtx1 = cbasn1.Tag(1).Constructed().ContextSpecific()
)

// cmsParts is a CMS SignedData with one SignerInfo cut into the elements an archive
// time-stamp covers (EN 319 122-1 §5.5.2, §5.5.3), each kept exactly as it was read, so
// that a signature can be augmented without changing what earlier time-stamps cover.
type cmsParts struct {
	version      []byte   // SignedData.version
	digestAlgs   []byte   // SignedData.digestAlgorithms
	encap        []byte   // SignedData.encapContentInfo
	eContentType []byte   // its eContentType
	certs        [][]byte // CertificateChoices of SignedData.certificates
	crls         [][]byte // RevocationInfoChoice of SignedData.crls
	siFields     [][]byte // SignerInfo version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signature
	unsigned     [][]byte // the Attribute elements of SignerInfo.unsignedAttrs
}

// splitCMS cuts a DER ContentInfo holding a SignedData with exactly one SignerInfo.
func splitCMS(der []byte, f string) (*cmsParts, error) {
	bad := func(what string) error { return malformed(f, what, nil) }
	in := cryptobyte.String(der)
	var ci, wrapped, sd cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() || !ci.ReadASN1ObjectIdentifier(&ct) {
		return nil, bad("content info")
	}
	if !ct.Equal(oidSignedData) {
		return nil, bad("content type is not signed-data")
	}
	if !ci.ReadASN1(&wrapped, tagCtx0) || !ci.Empty() || !wrapped.ReadASN1(&sd, cbasn1.SEQUENCE) || !wrapped.Empty() {
		return nil, bad("signed-data")
	}
	p := &cmsParts{}
	var v, algs, encap cryptobyte.String
	if !sd.ReadASN1Element(&v, cbasn1.INTEGER) || !sd.ReadASN1Element(&algs, cbasn1.SET) ||
		!sd.ReadASN1Element(&encap, cbasn1.SEQUENCE) {
		return nil, bad("signed-data")
	}
	p.version, p.digestAlgs, p.encap = v, algs, encap
	body := encap
	var encapBody, ectype cryptobyte.String
	if !body.ReadASN1(&encapBody, cbasn1.SEQUENCE) || !encapBody.ReadASN1Element(&ectype, cbasn1.OBJECT_IDENTIFIER) {
		return nil, bad("encapsulated content info")
	}
	p.eContentType = ectype
	var err error
	if sd.PeekASN1Tag(tagCtx0) {
		var certs cryptobyte.String
		sd.ReadASN1(&certs, tagCtx0)
		if p.certs, err = elements(certs, limits.MaxSignatureCertificates); err != nil {
			return nil, bad("certificates: " + err.Error())
		}
	}
	if sd.PeekASN1Tag(tagCtx1) {
		var crls cryptobyte.String
		sd.ReadASN1(&crls, tagCtx1)
		if p.crls, err = elements(crls, limits.MaxSignatureRevocationValues); err != nil {
			return nil, bad("crls: " + err.Error())
		}
	}
	var infos, si cryptobyte.String
	if !sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() {
		return nil, bad("signer infos")
	}
	if !infos.ReadASN1(&si, cbasn1.SEQUENCE) || !infos.Empty() {
		return nil, bad("want exactly one signer info")
	}
	fields, err := elements(si, 8)
	if err != nil || len(fields) < 5 {
		return nil, bad("signer info")
	}
	if last := fields[len(fields)-1]; last[0] == byte(tagCtx1) {
		attrs := cryptobyte.String(last)
		var content cryptobyte.String
		if !attrs.ReadASN1(&content, tagCtx1) {
			return nil, bad("unsigned attributes")
		}
		if p.unsigned, err = elements(content, limits.MaxSignedAttributes); err != nil {
			return nil, bad("unsigned attributes: " + err.Error())
		}
		fields = fields[:len(fields)-1]
	}
	p.siFields = fields
	return p, nil
}

// elements splits DER content into its elements, at most max of them.
func elements(content cryptobyte.String, max int) ([][]byte, error) {
	var out [][]byte
	for !content.Empty() {
		if len(out) == max {
			return nil, fmt.Errorf("more than %d", max)
		}
		var el cryptobyte.String
		if !content.ReadAnyASN1Element(&el, nil) {
			return nil, fmt.Errorf("not der")
		}
		out = append(out, el)
	}
	return out, nil
}

// encode writes the SignedData back. Elements keep their bytes; certificates and crls are
// written in DER SET OF order.
func (p *cmsParts) encode() ([]byte, error) {
	version := p.version
	for _, r := range p.crls {
		if len(r) > 0 && r[0] == byte(tagCtx1) && !bytes.Equal(version, []byte{0x02, 0x01, 0x05}) {
			// RFC 5652 §5.1: version 5 when crls holds an other revocation info format.
			version = []byte{0x02, 0x01, 0x05}
		}
	}
	sorted := func(in [][]byte) [][]byte {
		out := append([][]byte(nil), in...)
		sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
		return out
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tagCtx0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(version)
				b.AddBytes(p.digestAlgs)
				b.AddBytes(p.encap)
				if len(p.certs) > 0 {
					b.AddASN1(tagCtx0, func(b *cryptobyte.Builder) {
						for _, c := range sorted(p.certs) {
							b.AddBytes(c)
						}
					})
				}
				if len(p.crls) > 0 {
					b.AddASN1(tagCtx1, func(b *cryptobyte.Builder) {
						for _, c := range sorted(p.crls) {
							b.AddBytes(c)
						}
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						for _, f := range p.siFields {
							b.AddBytes(f)
						}
						if len(p.unsigned) > 0 {
							// Unsigned attributes keep the order they were added in: an
							// archive time-stamp is read after those it covers.
							b.AddASN1(tagCtx1, func(b *cryptobyte.Builder) {
								for _, a := range p.unsigned {
									b.AddBytes(a)
								}
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

// addCert and addCRL add an element unless it is there already.
func (p *cmsParts) addCert(der []byte) {
	if !containsBytes(p.certs, der) {
		p.certs = append(p.certs, der)
	}
}

func (p *cmsParts) addCRL(der []byte) {
	if !containsBytes(p.crls, der) {
		p.crls = append(p.crls, der)
	}
}

func (p *cmsParts) full() bool {
	return len(p.certs) > limits.MaxSignatureCertificates || len(p.crls) > limits.MaxSignatureRevocationValues
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// addUnsigned appends an attribute with one value.
func (p *cmsParts) addUnsigned(oid asn1.ObjectIdentifier, value []byte) error {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(value) })
	})
	der, err := b.Bytes()
	if err != nil {
		return err
	}
	p.unsigned = append(p.unsigned, der)
	return nil
}

// attrValueInputs returns, for every value of every unsigned attribute, the encoded
// attrType followed by the encoded value: what unsignedAttrValuesHashIndex hashes (EN 319
// 122-1 §5.5.2, as clarified in V1.1.4).
func (p *cmsParts) attrValueInputs() ([][]byte, error) {
	var out [][]byte
	for _, a := range p.unsigned {
		in := cryptobyte.String(a)
		var attr, typ, values cryptobyte.String
		if !in.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1Element(&typ, cbasn1.OBJECT_IDENTIFIER) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return nil, errBadAttribute
		}
		for !values.Empty() {
			var v cryptobyte.String
			if !values.ReadAnyASN1Element(&v, nil) {
				return nil, errBadAttribute
			}
			out = append(out, append(append([]byte(nil), typ...), v...))
		}
	}
	return out, nil
}

// hashIndex returns the DER ATSHashIndexV3 of the signature as it is now (EN 319 122-1
// §5.5.2): the hashIndAlgorithm, always written (Annex D has no DEFAULT), and one hash per
// certificate, per revocation value and per unsigned attribute value, in order of
// appearance.
func (p *cmsParts) hashIndex(h crypto.Hash) ([]byte, error) {
	attrs, err := p.attrValueInputs()
	if err != nil {
		return nil, err
	}
	seq := func(b *cryptobyte.Builder, items [][]byte) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, it := range items {
				b.AddASN1OctetString(digestOf(h, it))
			}
		})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidFromHash(h)) })
		seq(b, p.certs)
		seq(b, p.crls)
		seq(b, attrs)
	})
	return b.Bytes()
}

// archiveImprint is the message imprint of an archive-time-stamp-v3 (EN 319 122-1 §5.5.3):
// the hash of eContentType, the hash of the signed data (docHash, made with h), the
// SignerInfo fields from version to signature, and the ATSHashIndexV3, all as encoded.
func (p *cmsParts) archiveImprint(h crypto.Hash, docHash, index []byte) []byte {
	d := h.New()
	d.Write(p.eContentType)
	d.Write(docHash)
	for _, f := range p.siFields {
		d.Write(f)
	}
	d.Write(index)
	return d.Sum(nil)
}

// atsHashIndex is a parsed ATSHashIndexV3.
type atsHashIndex struct {
	hash               crypto.Hash
	certs, crls, attrs [][]byte
}

// parseATSHashIndex reads an ATSHashIndexV3; a missing hashIndAlgorithm is SHA-256, as
// the clause 5.5.2 syntax has it.
func parseATSHashIndex(der []byte) (*atsHashIndex, error) {
	bad := fmt.Errorf("ats-hash-index-v3 is malformed")
	in := cryptobyte.String(der)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad
	}
	idx := &atsHashIndex{hash: crypto.SHA256}
	parts, err := elements(body, 4)
	if err != nil || len(parts) < 3 {
		return nil, bad
	}
	if len(parts) == 4 {
		alg := cryptobyte.String(parts[0])
		var algBody cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !alg.ReadASN1(&algBody, cbasn1.SEQUENCE) || !algBody.ReadASN1ObjectIdentifier(&oid) {
			return nil, bad
		}
		if !algBody.Empty() && !bytes.Equal(algBody, []byte{0x05, 0x00}) {
			return nil, bad
		}
		if idx.hash = hashFromOID(oid); idx.hash == 0 {
			return nil, fmt.Errorf("ats-hash-index-v3 digest %v is not known", oid)
		}
		parts = parts[1:]
	}
	lists := []*[][]byte{&idx.certs, &idx.crls, &idx.attrs}
	for i, part := range parts {
		s := cryptobyte.String(part)
		var seq cryptobyte.String
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return nil, bad
		}
		for !seq.Empty() {
			if len(*lists[i]) == limits.MaxSignatureCertificates+limits.MaxSignatureRevocationValues+limits.MaxSignedAttributes {
				return nil, bad
			}
			var h []byte
			if !seq.ReadASN1Bytes(&h, cbasn1.OCTET_STRING) || len(h) != idx.hash.Size() {
				return nil, bad
			}
			*lists[i] = append(*lists[i], h)
		}
	}
	return idx, nil
}

// covers checks that every hash of the index names an element the signature still holds:
// a certificate, a revocation value or an unsigned attribute value that was removed or
// changed after the archive time-stamp breaks it. Elements added later are allowed, and
// not covered.
func (idx *atsHashIndex) covers(p *cmsParts) error {
	attrs, err := p.attrValueInputs()
	if err != nil {
		return err
	}
	for _, c := range []struct {
		what   string
		hashes [][]byte
		items  [][]byte
	}{{"certificate", idx.certs, p.certs}, {"revocation value", idx.crls, p.crls}, {"unsigned attribute value", idx.attrs, attrs}} {
		have := make(map[string]bool, len(c.items))
		for _, it := range c.items {
			have[string(digestOf(idx.hash, it))] = true
		}
		for _, h := range c.hashes {
			if !have[string(h)] {
				return fmt.Errorf("ats-hash-index-v3 names a %s the signature no longer holds", c.what)
			}
		}
	}
	return nil
}

// validationValues reads the ETSI certificate-values and revocation-values unsigned
// attributes (RFC 5126 §6.3.3, §6.3.4), as other tools write B-LT data:
//
//	CertificateValues ::= SEQUENCE OF Certificate
//	RevocationValues ::= SEQUENCE { crlVals [0] SEQUENCE OF CertificateList OPTIONAL,
//	    ocspVals [1] SEQUENCE OF BasicOCSPResponse OPTIONAL, otherRevVals [2] ... OPTIONAL }
//
// It returns the certificates, and the revocation values as RevocationInfoChoice elements
// (a CRL as is, an OCSP response as id-ri-ocsp-response), for parseRevocationChoices.
func validationValues(oid asn1.ObjectIdentifier, value []byte) (certs, revocation [][]byte, err error) {
	bad := fmt.Errorf("malformed")
	in := cryptobyte.String(value)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, nil, bad
	}
	if oid.Equal(oidAttrCertValues) {
		certs, err = elements(body, limits.MaxSignatureCertificates)
		return certs, nil, err
	}
	for !body.Empty() {
		var part cryptobyte.String
		var tag cbasn1.Tag
		if !body.ReadAnyASN1(&part, &tag) {
			return nil, nil, bad
		}
		var seq cryptobyte.String
		switch tag {
		case tagCtx0, tagCtx1:
			if !part.ReadASN1(&seq, cbasn1.SEQUENCE) || !part.Empty() {
				return nil, nil, bad
			}
		default:
			continue // otherRevVals: not read
		}
		items, err := elements(seq, limits.MaxSignatureRevocationValues)
		if err != nil {
			return nil, nil, bad
		}
		for _, it := range items {
			if tag == tagCtx1 {
				it = ocspChoice(wrapBasicOCSP(it))
			}
			revocation = append(revocation, it)
		}
		if len(revocation) > limits.MaxSignatureRevocationValues {
			return nil, nil, fmt.Errorf("too many revocation values")
		}
	}
	return nil, revocation, nil
}
