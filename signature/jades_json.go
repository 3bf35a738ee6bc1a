package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/gowebpki/jcs"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/dpiblocks/dpi/internal/limits"
)

// JAdES in JWS JSON serialization (TS 119 182-1 §5.3, RFC 7515 §7.2.2): a flattened JSON
// object whose unprotected header holds only etsiU, the array of unsigned components,
// each the base64url encoding of a JSON object with one member:
//
//	{"protected":"<header>","header":{"etsiU":["<component>",...]},"signature":"<value>"}
//
//	sigTst  {"tstTokens":[{"val":"<base64 DER TimeStampToken>"}]}          (JAdES-BASELINE-T)
//	        over the base64url-encoded signature value (§5.3.4)
//	xVals   [{"x509Cert":{"val":"<base64 DER certificate>"}},...]          (JAdES-BASELINE-LT)
//	rVals   {"crlVals":[{"val":"<CRL>"}],"ocspVals":[{"val":"<OCSPResponse>"}]}
//	arcTst  {"tstTokens":[{"val":"<token>"}]}                              (JAdES-BASELINE-LTA)
//	tstVD   {"xVals":[...],"rVals":{...}}: validation data of time-stamps
//
// An etsiU array may instead hold its components in clear JSON (§5.3.1: all of them one way
// or all the other). Those are read for their data as the encoded ones are, and an arcTst
// over them is validated when it names, in canonAlg, a canonicalisation this package
// implements (§5.3.1, §5.3.6.3.1.2): only RFC 8785 JCS, as canonAlgJCS. This package
// writes base64url-encoded components only.
//
// The general JSON serialization (RFC 7515 §7.2.1), which EU DSS writes by default, holds
// the same members in an element of a "signatures" array; it is read when that array holds
// exactly one element, and Extend keeps it:
//
//	{"signatures":[{"protected":"<header>","header":{"etsiU":[...]},"signature":"<value>"}]}
//
// The payload is detached (no "payload" member, or an empty one) and unencoded (b64
// false), as in the compact form, which stays the form of JAdES-BASELINE-B.

// Names of the etsiU components this package reads and writes.
const (
	etsiSigTst = "sigTst"
	etsiXVals  = "xVals"
	etsiRVals  = "rVals"
	etsiArcTst = "arcTst"
	etsiTstVD  = "tstVD"
)

// canonAlgJCS is the canonAlg (TS 119 182-1 §5.4.3.3, a URI) this package accepts for an
// arcTst over etsiU components in clear JSON: the RFC 8785 JSON Canonicalization Scheme,
// named by its RFC 2648 URN. TS 119 182-1 leaves canonAlg an open URI and lists no
// algorithm for it, so any other identifier is refused rather than guessed at.
const canonAlgJCS = "urn:ietf:rfc:8785"

// jwsJSON is the flattened JWS JSON serialization this package writes.
type jwsJSON struct {
	Protected string          `json:"protected"`
	Header    *jwsUnprotected `json:"header,omitempty"`
	Signature string          `json:"signature"`
}

// jwsGeneral is the general JWS JSON serialization, with its payload detached, that Extend
// writes for a signature that came in it.
type jwsGeneral struct {
	Signatures []jwsJSON `json:"signatures"`
}

type jwsUnprotected struct {
	EtsiU []string `json:"etsiU"`
}

type pkiOb struct {
	Val string `json:"val"`
}

type tstContainer struct {
	TstTokens []struct {
		Val      string `json:"val"`
		Encoding string `json:"encoding,omitempty"`
	} `json:"tstTokens"`
	CanonAlg    string `json:"canonAlg,omitempty"`
	TimeStamped string `json:"timeStamped,omitempty"`
}

type xValsItem struct {
	X509Cert *pkiOb `json:"x509Cert,omitempty"`
}

type rVals struct {
	CRLVals  []pkiOb `json:"crlVals,omitempty"`
	OCSPVals []pkiOb `json:"ocspVals,omitempty"`
}

type tstVD struct {
	XVals []xValsItem `json:"xVals,omitempty"`
	RVals *rVals      `json:"rVals,omitempty"`
}

// etsiU is a parsed etsiU array.
type etsiU struct {
	raw         []string // the elements as they appear, base64url-encoded; "" for one in clear json
	clear       [][]byte // the elements in clear json as they appear; nil for a base64url one
	sigTst      [][]byte
	sigTstPos   []int    // the index in raw of each
	archives    [][]byte // arcTst tokens
	archivePos  []int    // the index in raw of each
	archiveAlgs []string // the canonAlg of each one's arcTst, "" when absent
	certs       []*x509.Certificate
	revocation  embeddedRevocation
	dataSeen    bool // xVals, rVals or tstVD present
	warnings    []string

	// general says the signature came in the general JSON serialization (RFC 7515 §7.2.1),
	// its one signature in a "signatures" array; Extend writes it back in that form.
	general bool
}

func looksLikeJSON(sig []byte) bool {
	t := bytes.TrimLeft(sig, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// parseJWSJSON parses a JWS JSON serialization (RFC 7515 §7.2) with one signature: the
// flattened form (§7.2.2), or the general form (§7.2.1) whose "signatures" array holds one
// element. Each form is read as it is, never both: a "signatures" member beside a top-level
// protected, header or signature is refused (§7.2.2: "signatures" must not be present in
// the flattened form). The payload is detached in either form: no "payload" member, or an
// empty one. Several signatures are refused, as a CMS with several signers is: one call
// validates one signature, and which of several must pass (RFC 7515 §5.2 leaves it to the
// application) is not decided here. The signature itself, at the top level or in the
// array, is read by parseJWSObject.
func parseJWSJSON(sig []byte) (*jwsSignature, *etsiU, error) {
	const f = "JAdES"
	members, err := jsonObjectKeysFor(sig, []string{"protected", "header", "signature", "payload", "signatures"})
	if err != nil {
		return nil, nil, malformed(f, "json serialization", err)
	}
	for m := range members {
		switch m {
		case "protected", "header", "signature", "payload", "signatures":
		default:
			return nil, nil, malformed(f, "member "+m+" is not allowed", nil)
		}
	}
	var raw struct {
		Payload    *string         `json:"payload"`
		Signatures json.RawMessage `json:"signatures"`
	}
	if err := json.Unmarshal(sig, &raw); err != nil {
		return nil, nil, malformed(f, "json serialization", err)
	}
	if raw.Payload != nil && *raw.Payload != "" {
		return nil, nil, malformed(f, "payload must be detached", nil)
	}
	if !members["signatures"] {
		return parseJWSObject(sig)
	}
	if members["protected"] || members["header"] || members["signature"] {
		return nil, nil, malformed(f, "both the general and the flattened json serialization (rfc 7515 §7.2.2)", nil)
	}
	el, n, err := firstElement(raw.Signatures)
	switch {
	case err != nil:
		return nil, nil, malformed(f, "signatures", err)
	case n == 0:
		return nil, nil, malformed(f, "general json serialization with no signature", nil)
	case n > 1:
		return nil, nil, malformed(f, fmt.Sprintf("general json serialization with %d signatures: only one is supported", n), nil)
	}
	em, err := jsonObjectKeysFor(el, []string{"protected", "header", "signature"})
	if err != nil {
		return nil, nil, malformed(f, "signatures element", err)
	}
	for m := range em {
		switch m {
		case "protected", "header", "signature":
		default:
			return nil, nil, malformed(f, "signatures element member "+m+" is not allowed", nil)
		}
	}
	js, u, err := parseJWSObject(el)
	if err != nil {
		return nil, nil, err
	}
	u.general = true
	return js, u, nil
}

// firstElement returns the first element of a JSON array (null counts as empty) and the
// number of elements, decoding them one at a time into one buffer: a long array of small
// elements, within limits.MaxSignature, costs no more memory than its largest element.
func firstElement(arr json.RawMessage) (json.RawMessage, int, error) {
	dec := json.NewDecoder(bytes.NewReader(arr))
	tok, err := dec.Token()
	if err != nil {
		return nil, 0, err
	}
	if tok == nil {
		return nil, 0, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, 0, fmt.Errorf("not an array")
	}
	var first, skip json.RawMessage
	n := 0
	for ; dec.More(); n++ {
		dst := &skip
		if n == 0 {
			dst = &first
		}
		if err := dec.Decode(dst); err != nil {
			return nil, 0, err
		}
	}
	return first, n, nil
}

// parseJWSObject parses the members of one signature in JSON serialization, the top-level
// object of the flattened form or an element of the general form's "signatures" (whose
// member names the caller checked): the protected header and the signature as the compact
// form is parsed, and the etsiU array. Any unprotected header parameter but etsiU is
// refused: an unprotected x5c or alg would be unsigned.
func parseJWSObject(obj []byte) (*jwsSignature, *etsiU, error) {
	const f = "JAdES"
	var raw struct {
		Protected string          `json:"protected"`
		Header    json.RawMessage `json:"header"`
		Signature string          `json:"signature"`
	}
	if err := json.Unmarshal(obj, &raw); err != nil {
		return nil, nil, malformed(f, "json serialization", err)
	}
	s, err := parseJWS([]byte(raw.Protected + ".." + raw.Signature))
	if err != nil {
		return nil, nil, err
	}
	u := &etsiU{}
	if len(raw.Header) == 0 {
		return s, u, nil
	}
	hm, err := jsonObjectKeysFor(raw.Header, []string{"etsiU"})
	if err != nil {
		return nil, nil, malformed(f, "unprotected header", err)
	}
	for m := range hm {
		if m != "etsiU" {
			return nil, nil, malformed(f, "unprotected header parameter "+m+" is not allowed", nil)
		}
	}
	var h struct {
		EtsiU []json.RawMessage `json:"etsiU"`
	}
	if err := json.Unmarshal(raw.Header, &h); err != nil {
		return nil, nil, malformed(f, "unprotected header", err)
	}
	if len(h.EtsiU) > limits.MaxSignedAttributes {
		return nil, nil, malformed(f, "too many etsiU components", nil)
	}
	for i, el := range h.EtsiU {
		if err := u.add(el); err != nil {
			return nil, nil, malformed(f, fmt.Sprintf("etsiU component %d", i+1), err)
		}
	}
	return s, u, nil
}

// add reads one etsiU element, base64url-encoded or in clear JSON.
func (u *etsiU) add(el json.RawMessage) error {
	var obj []byte
	var enc string
	if err := json.Unmarshal(el, &enc); err == nil {
		b, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil {
			return fmt.Errorf("not base64url")
		}
		obj = b
		u.clear = append(u.clear, nil)
	} else {
		obj = el
		enc = ""
		u.clear = append(u.clear, el)
	}
	u.raw = append(u.raw, enc)
	keys, err := jsonObjectKeysFor(obj, nil)
	if err != nil {
		return err
	}
	if len(keys) != 1 {
		return fmt.Errorf("want exactly one member")
	}
	var comp map[string]json.RawMessage
	if err := json.Unmarshal(obj, &comp); err != nil {
		return err
	}
	for name, value := range comp {
		switch name {
		case etsiSigTst, etsiArcTst:
			var c tstContainer
			if err := json.Unmarshal(value, &c); err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			if c.TimeStamped != "" && c.TimeStamped != "all" {
				u.warnings = append(u.warnings, name+" with timeStamped "+c.TimeStamped+" is not read")
				continue
			}
			for _, t := range c.TstTokens {
				if t.Encoding != "" && t.Encoding != "http://uri.etsi.org/19182/DER" {
					u.warnings = append(u.warnings, name+" token in encoding "+t.Encoding+" is not read")
					continue
				}
				der, err := base64.StdEncoding.DecodeString(t.Val)
				if err != nil {
					return fmt.Errorf("%s: token encoding", name)
				}
				if len(u.sigTst)+len(u.archives) >= limits.MaxSignatureTimestamps {
					return fmt.Errorf("too many time-stamps")
				}
				if name == etsiSigTst {
					u.sigTst = append(u.sigTst, der)
					u.sigTstPos = append(u.sigTstPos, len(u.raw)-1)
				} else {
					u.archives = append(u.archives, der)
					u.archivePos = append(u.archivePos, len(u.raw)-1)
					u.archiveAlgs = append(u.archiveAlgs, c.CanonAlg)
				}
			}
		case etsiXVals:
			var xs []xValsItem
			if err := json.Unmarshal(value, &xs); err != nil {
				return fmt.Errorf("xVals: %v", err)
			}
			if err := u.addData(xs, nil); err != nil {
				return err
			}
		case etsiRVals:
			var rv rVals
			if err := json.Unmarshal(value, &rv); err != nil {
				return fmt.Errorf("rVals: %v", err)
			}
			if err := u.addData(nil, &rv); err != nil {
				return err
			}
		case etsiTstVD:
			var vd tstVD
			if err := json.Unmarshal(value, &vd); err != nil {
				return fmt.Errorf("tstVD: %v", err)
			}
			if err := u.addData(vd.XVals, vd.RVals); err != nil {
				return err
			}
		default:
			u.warnings = append(u.warnings, "etsiU component "+name+" is not read")
		}
	}
	return nil
}

// addData adds certificates and revocation values to what the signature carries.
func (u *etsiU) addData(xs []xValsItem, rv *rVals) error {
	u.dataSeen = true
	for _, x := range xs {
		if x.X509Cert == nil {
			continue // otherCert: not read
		}
		der, err := base64.StdEncoding.DecodeString(x.X509Cert.Val)
		if err != nil {
			return fmt.Errorf("xVals: certificate encoding")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("xVals: %v", err)
		}
		if len(u.certs) >= limits.MaxSignatureCertificates {
			return fmt.Errorf("too many certificates")
		}
		if !containsCert(u.certs, c) {
			u.certs = append(u.certs, c)
		}
	}
	if rv == nil {
		return nil
	}
	var choices []byte
	for _, c := range rv.CRLVals {
		der, err := base64.StdEncoding.DecodeString(c.Val)
		if err != nil {
			return fmt.Errorf("crlVals: encoding")
		}
		choices = append(choices, der...)
	}
	for _, o := range rv.OCSPVals {
		der, err := base64.StdEncoding.DecodeString(o.Val)
		if err != nil {
			return fmt.Errorf("ocspVals: encoding")
		}
		choices = append(choices, ocspChoice(fullOCSPResponse(der))...)
	}
	e, err := parseRevocationChoices(choices)
	if err != nil {
		return fmt.Errorf("rVals: %v", err)
	}
	if len(u.revocation.crls)+len(u.revocation.ocsp)+len(e.crls)+len(e.ocsp) > limits.MaxSignatureRevocationValues {
		return fmt.Errorf("too many revocation values")
	}
	u.revocation.crls = append(u.revocation.crls, e.crls...)
	u.revocation.ocsp = append(u.revocation.ocsp, e.ocsp...)
	u.revocation.notes = append(u.revocation.notes, e.notes...)
	return nil
}

// fullOCSPResponse returns an OCSPResponse: der itself, or the successful response around
// it when it is a BasicOCSPResponse (whose first element is a SEQUENCE, where an
// OCSPResponse has its ENUMERATED status).
func fullOCSPResponse(der []byte) []byte {
	in := cryptobyte.String(der)
	var body cryptobyte.String
	if in.ReadASN1(&body, cbasn1.SEQUENCE) && body.PeekASN1Tag(cbasn1.SEQUENCE) {
		return wrapBasicOCSP(der)
	}
	return der
}

// jsonObjectKeysFor is jsonObjectKeys with names the member names compared case-blind.
func jsonObjectKeysFor(b []byte, names []string) (map[string]bool, error) {
	return objectKeys(b, names)
}

// jadesWith validates a parsed JAdES signature, with its etsiU components when it came in
// JSON serialization (u nil for the compact form).
func (v *validation) jadesWith(doc io.Reader, s *jwsSignature, u *etsiU) (*Report, error) {
	if u == nil {
		u = &etsiU{}
	}
	r := v.report
	r.Format = "JAdES-BASELINE-B"
	if len(u.sigTst) > 0 {
		r.Format = "JAdES-BASELINE-T"
	}
	r.SigningTime = s.signingTime
	r.SignatureAlgorithm = s.alg.name
	for _, p := range s.problems {
		r.fail(TotalFailed, FormatFailure, p)
	}
	for _, w := range append(append([]string(nil), s.warnings...), u.warnings...) {
		r.warn(w)
	}
	for _, n := range u.revocation.notes {
		r.warn(n)
	}
	if !u.revocation.empty() {
		v.rc.embedded = &u.revocation
	}
	archives, archiveHashes := readArchiveTokens(u.archives, false, append(append([]*x509.Certificate(nil), s.certs...), u.certs...)...)
	var digest, input []byte
	prefix := []byte(s.encHeader + ".")
	docHashes := map[crypto.Hash]hash.Hash{}
	var ws []io.Writer
	for _, h := range archiveHashes {
		if docHashes[h] == nil {
			docHashes[h] = h.New()
			ws = append(ws, docHashes[h])
		}
	}
	var d hash.Hash
	if s.alg.name == "EdDSA" {
		r.DigestAlgorithm = "none"
		payload, err := readBounded(v.ctx, doc, limits.MaxBufferedPayload)
		if err != nil {
			return nil, err
		}
		input = append(prefix, payload...)
		for _, dh := range docHashes {
			dh.Write(payload)
		}
	} else {
		r.DigestAlgorithm = hashName(s.alg.hash)
		d = s.alg.hash.New()
		d.Write(prefix)
		if err := copyStream(v.ctx, io.MultiWriter(append(ws, d)...), doc); err != nil {
			return nil, err
		}
		digest = d.Sum(nil)
	}
	if s.signer == nil {
		r.fail(Indeterminate, NoSigningCertificateFound, "x5t#S256 does not match the first x5c certificate")
		return v.finish(), nil
	}
	r.SignerCertificate = s.signer
	r.SignedBy = s.signer.Subject.String()
	if err := verifyJWS(s.signer.PublicKey, s.alg, digest, input, s.sigValue); err != nil {
		if errors.Is(err, ErrUnsupported) {
			r.fail(Indeterminate, CryptoConstraintsFailure, "algorithm does not match the signing certificate's key")
		} else {
			r.fail(TotalFailed, SigCryptoFailure, "signature value does not verify over the document")
		}
	}
	if s.kid != nil && !s.kid.names(s.signer) {
		r.fail(Indeterminate, NoSigningCertificateFound, "kid names another certificate than x5t#S256 and x5c")
	}
	certs := append(append([]*x509.Certificate(nil), s.certs...), u.certs...)
	control, archived := r.ValidationTime, time.Time{}
	encSig := base64.RawURLEncoding.EncodeToString(s.sigValue)
	if len(archives) > 0 {
		// An arcTst covers the etsiU components before it (TS 119 182-1 §5.3.6.3.1).
		control, archived = v.archives(archives, certs, archiveScope{
			imprint: func(a *archiveToken, h crypto.Hash) ([]byte, error) {
				covered, err := u.archiveCovered(u.archivePos[a.pos], u.archiveAlgs[a.pos])
				if err != nil {
					return nil, err
				}
				return jadesArchiveImprint(docHashes[h], s.encHeader, encSig, covered)
			},
			coversArchive: func(a, b *archiveToken) bool { return u.archivePos[b.pos] < u.archivePos[a.pos] },
			coversSigTst:  func(a *archiveToken) bool { return len(u.sigTstPos) > 0 && u.sigTstPos[0] < u.archivePos[a.pos] },
		})
	}
	if len(u.sigTst) > 0 {
		// TS 119 182-1 §5.3.4: the imprint is over the base64url-encoded signature value.
		v.timestamp(u.sigTst[0], []byte(encSig), certs, control)
	}
	v.archivedAt(archived)
	v.certificate(s.signer, certs, s.signingTime)
	v.claimedTime(s.signingTime)
	for _, n := range v.rc.notes {
		r.warn(n)
	}
	if len(u.sigTst) > 0 && u.dataSeen {
		v.ltLevel(certs)
	}
	if len(archives) > 0 {
		v.ltaLevel()
	}
	return v.finish(), nil
}

// jadesArchiveImprint is the imprint of an arcTst (TS 119 182-1 §5.3.6.3.1, timeStamped
// "all"): the hash of the payload (docHash, the document hashed so far and cloned here),
// ".", the protected header, ".", the signature value, both base64url-encoded, ".", and
// covered, the etsiU components before the arcTst as archiveCovered gives them.
func jadesArchiveImprint(docHash hash.Hash, encHeader, encSig string, covered []byte) ([]byte, error) {
	if docHash == nil {
		return nil, fmt.Errorf("archive time-stamp digest is not allowed")
	}
	c, ok := docHash.(hash.Cloner)
	if !ok {
		return nil, fmt.Errorf("archive time-stamp digest cannot be continued")
	}
	h, err := c.Clone()
	if err != nil {
		return nil, err
	}
	h.Write([]byte("." + encHeader + "." + encSig + "."))
	h.Write(covered)
	return h.Sum(nil), nil
}

// archiveCovered returns the etsiU components an arcTst at index pos covers, as its
// imprint concatenates them: every element before it, base64url-encoded as it appears
// (§5.3.6.3.1.1, as EU DSS computes it), or, when the elements are in clear JSON, each
// canonicalised with the algorithm canonAlg names (§5.3.6.3.1.2). In clear JSON the arcTst
// must name one (§5.3.1), and only RFC 8785 JCS is accepted; the canonAlg of an encoded
// arcTst, which §5.3.1 forbids, changes nothing. An arcTst whose components are not all in
// one form, itself included, is not validated (§5.3.1 forbids the mix). A refused arcTst
// proves nothing (the missing or unknown canonAlg is INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE,
// never a pass), and the signature is judged without it.
func (u *etsiU) archiveCovered(pos int, canonAlg string) ([]byte, error) {
	clearForm := u.clear[pos] != nil
	for _, el := range u.clear[:pos] {
		if (el != nil) != clearForm {
			return nil, fmt.Errorf("archive time-stamp over etsiU components both in clear json and base64url-encoded (ts 119 182-1 §5.3.1)")
		}
	}
	var covered []byte
	if !clearForm {
		for _, el := range u.raw[:pos] {
			covered = append(covered, el...)
		}
		return covered, nil
	}
	switch canonAlg {
	case canonAlgJCS:
	case "":
		return nil, &tokenError{Indeterminate, CryptoConstraintsFailure,
			"archive time-stamp over etsiU components in clear json names no canonAlg (ts 119 182-1 §5.3.1)"}
	default:
		return nil, &tokenError{Indeterminate, CryptoConstraintsFailure,
			fmt.Sprintf("archive time-stamp canonicalisation algorithm %q is not supported (only %s, rfc 8785)", canonAlg, canonAlgJCS)}
	}
	for i, el := range u.clear[:pos] {
		canon, err := jcs.Transform(el)
		if err != nil {
			return nil, fmt.Errorf("archive time-stamp: etsiU component %d has no rfc 8785 canonical form", i+1)
		}
		covered = append(covered, canon...)
	}
	return covered, nil
}

// jadesJSONSink collects validation data for an etsiU component, as addPathData hands it
// over (certificates, and RevocationInfoChoice elements).
type jadesJSONSink struct {
	have  []*x509.Certificate // certificates the signature carries already
	certs [][]byte
	crls  [][]byte
	ocsp  [][]byte
}

func (k *jadesJSONSink) addCert(der []byte) {
	for _, c := range k.have {
		if bytes.Equal(c.Raw, der) {
			return
		}
	}
	if !containsBytes(k.certs, der) {
		k.certs = append(k.certs, der)
	}
}

func (k *jadesJSONSink) addCRL(choice []byte) {
	if len(choice) > 0 && choice[0] == 0x30 {
		if !containsBytes(k.crls, choice) {
			k.crls = append(k.crls, choice)
		}
		return
	}
	in := cryptobyte.String(choice)
	var body, value cryptobyte.String
	if in.ReadASN1(&body, tagCtx1) && body.SkipASN1(cbasn1.OBJECT_IDENTIFIER) && body.ReadAnyASN1Element(&value, nil) {
		if !containsBytes(k.ocsp, value) {
			k.ocsp = append(k.ocsp, value)
		}
	}
}

func (k *jadesJSONSink) count() int { return len(k.certs) + len(k.crls) + len(k.ocsp) }

func (k *jadesJSONSink) full() bool {
	return len(k.have)+len(k.certs) > limits.MaxSignatureCertificates || len(k.crls)+len(k.ocsp) > limits.MaxSignatureRevocationValues
}

// data returns the xVals and rVals of what was collected.
func (k *jadesJSONSink) data() ([]xValsItem, *rVals) {
	var xs []xValsItem
	for _, c := range k.certs {
		xs = append(xs, xValsItem{X509Cert: &pkiOb{Val: base64.StdEncoding.EncodeToString(c)}})
	}
	if len(k.crls)+len(k.ocsp) == 0 {
		return xs, nil
	}
	rv := &rVals{}
	for _, c := range k.crls {
		rv.CRLVals = append(rv.CRLVals, pkiOb{Val: base64.StdEncoding.EncodeToString(c)})
	}
	for _, o := range k.ocsp {
		rv.OCSPVals = append(rv.OCSPVals, pkiOb{Val: base64.StdEncoding.EncodeToString(o)})
	}
	return xs, rv
}

// etsiComponent encodes one etsiU element: the base64url encoding of {name: value}.
func etsiComponent(name string, value any) (string, error) {
	b, err := json.Marshal(map[string]any{name: value})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func tstComponent(name string, token []byte) (string, error) {
	return etsiComponent(name, map[string]any{"tstTokens": []pkiOb{{Val: base64.StdEncoding.EncodeToString(token)}}})
}

// jadesExtension augments a JAdES signature (parsed, its etsiU so far in u) as Extend
// augments a CAdES one, and returns it in JSON serialization. docHash is the document
// hashed with archiveHash, to be continued for an archive time-stamp.
type jadesExtension struct {
	s           *jwsSignature
	u           *etsiU
	tsa         *tsaClient
	rc          *revocationChecker
	roots       *x509.CertPool
	level       Level
	archiveHash crypto.Hash
	docHash     hash.Hash
}

func (x *jadesExtension) run(ctx context.Context) ([]byte, error) {
	s, u := x.s, x.u
	// The components are written base64url-encoded; those in clear JSON would have to be
	// rewritten, which breaks any arcTst over them.
	for _, el := range u.clear {
		if el != nil {
			return nil, fmt.Errorf("%w: etsiU components in clear json cannot be kept", ErrNotExtendable)
		}
	}
	encSig := base64.RawURLEncoding.EncodeToString(s.sigValue)
	add := func(name string, value any) error {
		el, err := etsiComponent(name, value)
		if err != nil {
			return err
		}
		u.raw = append(u.raw, el)
		return nil
	}
	if len(u.sigTst) == 0 {
		tok, err := x.tsa.stamp(ctx, []byte(encSig))
		if err != nil {
			return nil, err
		}
		el, err := tstComponent(etsiSigTst, tok)
		if err != nil {
			return nil, err
		}
		u.raw = append(u.raw, el)
		u.sigTst = [][]byte{tok}
	}
	certs := append(append([]*x509.Certificate(nil), s.certs...), u.certs...)
	if x.level.longTerm() {
		pool := certPool(certs)
		tsTime, tsaPath, err := checkTimestamp(u.sigTst[0], []byte(encSig), x.roots, pool)
		if err != nil {
			return nil, fmt.Errorf("%w: signature time-stamp: %v", ErrNotExtendable, err)
		}
		if len(u.archives) == 0 && (!u.dataSeen || x.level == LevelLT) {
			at := tsTime
			if at.After(s.signer.NotAfter) {
				at = s.signer.NotAfter
			}
			chains, err := s.signer.Verify(x509.VerifyOptions{Roots: x.roots, Intermediates: pool, CurrentTime: at,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if err != nil {
				return nil, fmt.Errorf("%w: no chain from the signing certificate to Roots at the signature time-stamp's time", ErrNotExtendable)
			}
			sink := &jadesJSONSink{have: certs}
			if err := addPathData(x.rc, sink, "signing", chains[0], func(at time.Time) bool { return at.After(tsTime) }); err != nil {
				return nil, err
			}
			if err := addPathData(x.rc, sink, "time-stamp authority", tsaPath, nil); err != nil {
				return nil, err
			}
			xs, rv := sink.data()
			if len(xs) > 0 {
				if err := add(etsiXVals, xs); err != nil {
					return nil, err
				}
			}
			if rv != nil {
				if err := add(etsiRVals, rv); err != nil {
					return nil, err
				}
			}
		} else if x.level == LevelLTA && len(u.archives) > 0 {
			archives, _ := readArchiveTokens(u.archives, false)
			for _, a := range archives {
				if a.err != nil {
					continue
				}
				_, chain, err := a.tok.verify(func(crypto.Hash) ([]byte, error) { return a.tok.ts.HashedMessage, nil }, x.roots, pool)
				if err != nil {
					return nil, fmt.Errorf("%w: latest archive time-stamp: %v", ErrNotExtendable, err)
				}
				if err := x.addTstVD(chain, certs, add); err != nil {
					return nil, err
				}
				break
			}
		}
		if x.level == LevelLTA {
			if len(u.raw) >= limits.MaxSignedAttributes {
				return nil, fmt.Errorf("%w: more than %d etsiU components", ErrTooLarge, limits.MaxSignedAttributes)
			}
			imprint, err := jadesArchiveImprint(x.docHash, s.encHeader, encSig, []byte(strings.Join(u.raw, "")))
			if err != nil {
				return nil, err
			}
			tok, err := x.tsa.stampImprint(ctx, x.archiveHash, imprint)
			if err != nil {
				return nil, err
			}
			t, err := parseToken(tok)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrTimestamp, err)
			}
			_, chain, err := t.verify(func(crypto.Hash) ([]byte, error) { return imprint, nil }, x.roots, pool)
			if err != nil {
				return nil, fmt.Errorf("%w: archive time-stamp: %v", ErrTimestamp, err)
			}
			el, err := tstComponent(etsiArcTst, tok)
			if err != nil {
				return nil, err
			}
			u.raw = append(u.raw, el)
			if err := x.addTstVD(chain, certs, add); err != nil {
				return nil, err
			}
		}
	}
	var out []byte
	var err error
	one := jwsJSON{Protected: s.encHeader, Header: &jwsUnprotected{EtsiU: u.raw}, Signature: encSig}
	if u.general {
		out, err = json.Marshal(jwsGeneral{Signatures: []jwsJSON{one}})
	} else {
		out, err = json.Marshal(one)
	}
	if err == nil && len(out) > limits.MaxSignature {
		return nil, fmt.Errorf("%w: signature over %d bytes", ErrTooLarge, limits.MaxSignature)
	}
	return out, err
}

// addTstVD adds the validation data of a time-stamp authority's chain as a tstVD
// component.
func (x *jadesExtension) addTstVD(chain, have []*x509.Certificate, add func(string, any) error) error {
	sink := &jadesJSONSink{have: have}
	if err := addPathData(x.rc, sink, "archive time-stamp authority", chain, nil); err != nil {
		return err
	}
	if sink.count() == 0 {
		return nil
	}
	xs, rv := sink.data()
	return add(etsiTstVD, tstVD{XVals: xs, RVals: rv})
}

// jadesParts parses a JAdES signature in either serialization.
func jadesParts(sig []byte) (*jwsSignature, *etsiU, error) {
	if looksLikeJSON(sig) {
		return parseJWSJSON(sig)
	}
	s, err := parseJWS(sig)
	return s, &etsiU{}, err
}
