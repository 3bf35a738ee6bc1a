package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// jwsHeader is the protected header of a JAdES-BASELINE-B signature (TS 119 182-1 §5.1,
// §6.2.1): the algorithm, the unencoded-payload option of RFC 7797 §3, the signing
// certificate by digest and value, and the claimed signing time. Fields are written in
// this order.
type jwsHeader struct {
	Alg     string   `json:"alg"`
	B64     *bool    `json:"b64,omitempty"`
	Crit    []string `json:"crit,omitempty"`
	X5tS256 string   `json:"x5t#S256,omitempty"`
	X5c     []string `json:"x5c,omitempty"`
	Iat     *int64   `json:"iat,omitempty"`
	SigT    string   `json:"sigT,omitempty"`
	Typ     string   `json:"typ,omitempty"`
	Cty     string   `json:"cty,omitempty"`
	Kid     string   `json:"kid,omitempty"`
}

// headerNames are the JSON names of jwsHeader's fields.
var headerNames = []string{"alg", "b64", "crit", "x5t#S256", "x5c", "iat", "sigT", "typ", "cty", "kid"}

// sigTLayout is the claimed signing time format of TS 119 182-1 §5.2.1 (UTC, seconds).
const sigTLayout = "2006-01-02T15:04:05Z"

// understoodCrit are the critical header parameters this package processes.
var understoodCrit = map[string]bool{"b64": true, "sigT": true}

// refusedHeaders would make the signature name its own trust; they are refused outright.
var refusedHeaders = []string{"jwk", "jku", "x5u"}

type jwsAlg struct {
	name  string
	hash  crypto.Hash
	pss   bool
	curve elliptic.Curve
}

var jwsAlgs = map[string]jwsAlg{
	"ES256": {"ES256", crypto.SHA256, false, elliptic.P256()},
	"ES384": {"ES384", crypto.SHA384, false, elliptic.P384()},
	"ES512": {"ES512", crypto.SHA512, false, elliptic.P521()},
	"PS256": {"PS256", crypto.SHA256, true, nil},
	"PS384": {"PS384", crypto.SHA384, true, nil},
	"PS512": {"PS512", crypto.SHA512, true, nil},
	"RS256": {"RS256", crypto.SHA256, false, nil}, // validation only
	"RS384": {"RS384", crypto.SHA384, false, nil}, // validation only
	"RS512": {"RS512", crypto.SHA512, false, nil}, // validation only
	"EdDSA": {"EdDSA", 0, false, nil},
}

// jwsAlgorithm picks the JWS algorithm a key signs with: ES256/384/512 by curve, PS256/384/
// 512 for RSA by digest, EdDSA for Ed25519.
func jwsAlgorithm(pub crypto.PublicKey, h crypto.Hash) (jwsAlg, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		for _, n := range []string{"ES256", "ES384", "ES512"} {
			if jwsAlgs[n].curve == k.Curve {
				return jwsAlgs[n], nil
			}
		}
	case *rsa.PublicKey:
		for _, n := range []string{"PS256", "PS384", "PS512"} {
			if jwsAlgs[n].hash == h {
				return jwsAlgs[n], nil
			}
		}
	case ed25519.PublicKey:
		return jwsAlgs["EdDSA"], nil
	}
	return jwsAlg{}, fmt.Errorf("%w: no jws algorithm for this key and digest", ErrUnsupported)
}

func (s *Signer) signJAdES(ctx context.Context, doc io.Reader, at time.Time) ([]byte, error) {
	leaf := s.chain[0]
	alg, err := jwsAlgorithm(leaf.PublicKey, s.hash)
	if err != nil {
		return nil, err
	}
	f := false
	thumb := sha256.Sum256(leaf.Raw)
	h := jwsHeader{
		Alg: alg.name, B64: &f, Crit: []string{"b64", "sigT"},
		X5tS256: base64.RawURLEncoding.EncodeToString(thumb[:]),
	}
	// The claimed signing time goes in both iat (TS 119 182-1 v1.2.1) and sigT (v1.1.1),
	// to the second, so that validators of either version read it.
	now := at.UTC().Truncate(time.Second)
	iat := now.Unix()
	h.Iat, h.SigT = &iat, now.Format(sigTLayout)
	for _, c := range s.chain {
		h.X5c = append(h.X5c, base64.StdEncoding.EncodeToString(c.Raw))
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	encHeader := base64.RawURLEncoding.EncodeToString(hj)
	// An archive time-stamp covers the document first: it is hashed alongside.
	var docHash hash.Hash
	if s.level == LevelLTA {
		docHash = s.hash.New()
	}
	var sig []byte
	if alg.name == "EdDSA" {
		payload, err := readBounded(ctx, doc, limits.MaxBufferedPayload)
		if err != nil {
			return nil, err
		}
		if docHash != nil {
			docHash.Write(payload)
		}
		sig, err = s.key.Sign(rand.Reader, append([]byte(encHeader+"."), payload...), crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("signature: signing: %w", err)
		}
	} else {
		d := alg.hash.New()
		d.Write([]byte(encHeader + "."))
		var w io.Writer = d
		if docHash != nil {
			w = io.MultiWriter(d, docHash)
		}
		if err := copyStream(ctx, w, doc); err != nil {
			return nil, err
		}
		sig, err = signJWSDigest(s.key, alg, d.Sum(nil))
		if err != nil {
			return nil, err
		}
	}
	compact := []byte(encHeader + ".." + base64.RawURLEncoding.EncodeToString(sig))
	if s.tsa == nil {
		return compact, nil
	}
	// T and above carry unsigned components: JSON serialization.
	js, err := parseJWS(compact)
	if err != nil {
		return nil, err
	}
	x := &jadesExtension{s: js, u: &etsiU{}, tsa: s.tsa, roots: s.roots, level: s.level, archiveHash: s.hash, docHash: docHash,
		rc: &revocationChecker{ctx: ctx, client: s.client, now: s.now, at: at, crls: s.crls, ocsp: s.ocsp}}
	return x.run(ctx)
}

func signJWSDigest(key crypto.Signer, alg jwsAlg, digest []byte) ([]byte, error) {
	if alg.pss {
		sig, err := key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash})
		if err != nil {
			return nil, fmt.Errorf("signature: signing: %w", err)
		}
		return sig, nil
	}
	der, err := key.Sign(rand.Reader, digest, alg.hash)
	if err != nil {
		return nil, fmt.Errorf("signature: signing: %w", err)
	}
	if alg.curve == nil {
		return der, nil
	}
	// JWS carries ECDSA signatures as fixed-size R || S (RFC 7518 §3.4).
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("signature: signing: signer returned a malformed ecdsa signature")
	}
	size := (alg.curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// jwsSignature is a parsed JAdES compact detached signature.
type jwsSignature struct {
	header      jwsHeader
	encHeader   string
	sigValue    []byte
	alg         jwsAlg
	certs       []*x509.Certificate
	signer      *x509.Certificate
	signingTime *time.Time
	kid         *issuerSerial // the certificate kid names, when it is an IssuerSerial
	problems    []string
	warnings    []string
}

// parseJWS parses "header..signature" with a protected header that this package can
// process: a known algorithm, b64 false, every critical parameter understood, and no
// header that carries its own trust (jwk, jku, x5u).
func parseJWS(sig []byte) (*jwsSignature, error) {
	const f = "JAdES"
	parts := strings.Split(string(sig), ".")
	if len(parts) != 3 {
		return nil, malformed(f, "want three dot-separated parts", nil)
	}
	if parts[1] != "" {
		return nil, malformed(f, "payload must be detached", nil)
	}
	if base64.RawURLEncoding.DecodedLen(len(parts[0])) > limits.MaxJWSHeader {
		return nil, malformed(f, "header too large", nil)
	}
	hj, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, malformed(f, "header encoding", err)
	}
	sv, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, malformed(f, "signature encoding", err)
	}
	members, err := jsonObjectKeys(hj)
	if err != nil {
		return nil, malformed(f, "header", err)
	}
	for _, r := range refusedHeaders {
		if members[r] {
			return nil, malformed(f, "header parameter "+r+" is refused", nil)
		}
	}
	s := &jwsSignature{encHeader: parts[0], sigValue: sv}
	if err := json.Unmarshal(hj, &s.header); err != nil {
		return nil, malformed(f, "header", err)
	}
	h := &s.header
	alg, ok := jwsAlgs[h.Alg]
	if !ok {
		return nil, malformed(f, "algorithm is not allowed", nil)
	}
	s.alg = alg
	if h.B64 == nil || *h.B64 {
		return nil, malformed(f, "payload must be unencoded (b64 false)", nil)
	}
	if len(h.Crit) == 0 {
		return nil, malformed(f, "crit must name b64", nil)
	}
	seen := map[string]bool{}
	for _, c := range h.Crit {
		if !understoodCrit[c] || seen[c] || !members[c] {
			return nil, malformed(f, "critical header parameter not understood or absent", nil)
		}
		seen[c] = true
	}
	if !seen["b64"] {
		return nil, malformed(f, "crit must name b64", nil)
	}
	if len(h.X5c) > limits.MaxSignatureCertificates {
		return nil, malformed(f, "too many certificates", nil)
	}
	for _, enc := range h.X5c {
		der, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, malformed(f, "x5c encoding", err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, malformed(f, "x5c certificate", err)
		}
		s.certs = append(s.certs, c)
	}
	s.readSigningTime()
	s.readKid()
	if h.X5tS256 == "" {
		s.problems = append(s.problems, "x5t#S256 header parameter is missing")
	} else if len(s.certs) > 0 {
		thumb, err := base64.RawURLEncoding.DecodeString(h.X5tS256)
		sum := sha256.Sum256(s.certs[0].Raw)
		if err == nil && bytes.Equal(thumb, sum[:]) {
			s.signer = s.certs[0]
		}
	}
	return s, nil
}

// readSigningTime reads the claimed signing time from iat or sigT; when both are present
// they must name the same second.
func (s *jwsSignature) readSigningTime() {
	h := &s.header
	var fromIat, fromSigT *time.Time
	if h.Iat != nil {
		t := time.Unix(*h.Iat, 0).UTC()
		fromIat = &t
	}
	if h.SigT != "" {
		t, err := time.Parse(sigTLayout, h.SigT)
		if err != nil {
			s.problems = append(s.problems, "sigT header parameter is malformed")
			return
		}
		fromSigT = &t
	}
	switch {
	case fromIat == nil && fromSigT == nil:
		s.problems = append(s.problems, "claimed signing time (iat or sigT) is missing")
	case fromIat != nil && fromSigT != nil && !fromIat.Equal(*fromSigT):
		s.problems = append(s.problems, "iat and sigT header parameters disagree")
	case fromSigT != nil:
		s.signingTime = fromSigT
	default:
		s.signingTime = fromIat
	}
}

// readKid reads the kid header parameter, which TS 119 182-1 §5.1.4 makes the base64 of a
// DER IssuerSerial (RFC 5035) naming the signing certificate. A kid that is not one names
// no certificate (RFC 7515 lets kid be any string): it is ignored, with a warning.
func (s *jwsSignature) readKid() {
	if s.header.Kid == "" {
		return
	}
	der, err := base64.StdEncoding.DecodeString(s.header.Kid)
	is, ok := parseIssuerSerial(der)
	if err != nil || !ok {
		s.warnings = append(s.warnings, "kid header parameter is not a base64 der issuerSerial (ts 119 182-1 §5.1.4): ignored")
		return
	}
	s.kid = is
}

// jsonObjectKeys returns the member names of a JSON object, refusing duplicates (a header
// read differently by two parsers is a classic JOSE confusion).
func jsonObjectKeys(b []byte) (map[string]bool, error) { return objectKeys(b, headerNames) }

// objectKeys is jsonObjectKeys with names the member names that another may not equal
// case-blind.
func objectKeys(b []byte, names []string) (map[string]bool, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a json object")
	}
	keys := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("bad member name")
		}
		if keys[k] {
			return nil, fmt.Errorf("duplicate member %q", k)
		}
		// encoding/json matches member names to fields case-insensitively (with Unicode
		// folding: "ſigT" is sigT), and the last one wins: {"b64":true,"B64":false} would
		// read as b64 false here and true to every other JOSE library.
		for _, name := range names {
			if k != name && strings.EqualFold(k, name) {
				return nil, fmt.Errorf("member %q differs from %q only in case", k, name)
			}
		}
		keys[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return keys, nil
}

// verifyJWS checks the signature value over the signing input whose digest (or, for
// EdDSA, whole bytes) the caller computed from the streamed document.
func verifyJWS(pub crypto.PublicKey, alg jwsAlg, digest, input, sig []byte) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if alg.curve == nil || alg.curve != k.Curve {
			return errAlgorithm
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return errBadSignature
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errBadSignature
		}
		return nil
	case *rsa.PublicKey:
		if alg.curve != nil || alg.hash == 0 {
			return errAlgorithm
		}
		if alg.pss {
			// RFC 7518 §3.5: the salt is as long as the digest.
			return rsa.VerifyPSS(k, alg.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash})
		}
		return rsa.VerifyPKCS1v15(k, alg.hash, digest, sig)
	case ed25519.PublicKey:
		if alg.name != "EdDSA" {
			return errAlgorithm
		}
		if !ed25519.Verify(k, input, sig) {
			return errBadSignature
		}
		return nil
	}
	return errAlgorithm
}
