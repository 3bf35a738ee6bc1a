package identity

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/dpiblocks/dpi/internal/limits"
)

// The JWS compact serialization (RFC 7515 §7.1) is parsed here rather than by a general JOSE
// library so that what we refuse is refused by construction: there is no code path that
// reads a key from the token, accepts "none" or an HMAC, or skips an unknown crit. Signature
// verification itself is the standard library's.

// b64 is strict base64url without padding: a signature or header has one encoding only.
var b64 = base64.RawURLEncoding.Strict()

// jwsHeader is the protected header. Members that would carry key material or change how
// the signature is processed are captured only to refuse them.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Cty  string          `json:"cty"`
	JWK  json.RawMessage `json:"jwk"`
	JKU  json.RawMessage `json:"jku"`
	X5U  json.RawMessage `json:"x5u"`
	X5C  json.RawMessage `json:"x5c"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Zip  json.RawMessage `json:"zip"`
	Enc  json.RawMessage `json:"enc"`
}

// parsedJWS is a compact JWS split and decoded, not yet verified.
type parsedJWS struct {
	header       jwsHeader
	signingInput string // BASE64URL(header) "." BASE64URL(payload)
	payload      []byte
	signature    []byte
}

// algorithm describes one JWS signature algorithm of RFC 7518 §3 (and RFC 8037 for EdDSA).
type algorithm struct {
	name  string
	hash  crypto.Hash
	kind  keyKind
	curve elliptic.Curve // for ECDSA
	pss   bool
}

type keyKind uint8

const (
	kindEC keyKind = iota + 1
	kindRSA
	kindEd25519
)

func (k keyKind) String() string {
	switch k {
	case kindEC:
		return "EC"
	case kindRSA:
		return "RSA"
	case kindEd25519:
		return "OKP"
	}
	return "unknown"
}

// algorithms are all the JWS algorithms this package can ever verify. HS256/384/512 and
// none are absent on purpose: an ID token from a national IdP is verified with the IdP's
// public key, and an HMAC "keyed" with a public key is the classic key-confusion forgery.
var algorithms = map[string]*algorithm{
	"ES256": {name: "ES256", hash: crypto.SHA256, kind: kindEC, curve: elliptic.P256()},
	"ES384": {name: "ES384", hash: crypto.SHA384, kind: kindEC, curve: elliptic.P384()},
	"ES512": {name: "ES512", hash: crypto.SHA512, kind: kindEC, curve: elliptic.P521()},
	"RS256": {name: "RS256", hash: crypto.SHA256, kind: kindRSA},
	"RS384": {name: "RS384", hash: crypto.SHA384, kind: kindRSA},
	"RS512": {name: "RS512", hash: crypto.SHA512, kind: kindRSA},
	"PS256": {name: "PS256", hash: crypto.SHA256, kind: kindRSA, pss: true},
	"PS384": {name: "PS384", hash: crypto.SHA384, kind: kindRSA, pss: true},
	"PS512": {name: "PS512", hash: crypto.SHA512, kind: kindRSA, pss: true},
	"EdDSA": {name: "EdDSA", hash: crypto.SHA512, kind: kindEd25519},
}

// DefaultAlgorithms are accepted when neither an Issuer nor its Profile names algorithms:
// the secure defaults, and RS256 because most national IdPs still sign with it.
var defaultAlgorithms = []string{"ES256", "EdDSA", "PS256", "RS256"}

// idTokenTypes are the typ values of an ID token or userinfo JWT (absent, or JWT).
var idTokenTypes = []string{"", "jwt", "application/jwt"}

// splitJWS parses a compact JWS and checks its header against what we refuse outright; its
// typ must be one of idTokenTypes.
func splitJWS(token string) (*parsedJWS, error) { return splitTypedJWS(token, idTokenTypes, false) }

// splitTypedJWS is splitJWS for another kind of token: typ, compared case-insensitively,
// must be one of types. anchoredX5C lets an x5c header through, for a caller that will
// verify the chain against its own trust anchors before using the key.
func splitTypedJWS(token string, types []string, anchoredX5C bool) (*parsedJWS, error) {
	return splitJWSWithin(token, limits.MaxIDTokenSize, types, anchoredX5C)
}

// splitJWSWithin is splitTypedJWS for a token that may be up to maxSize bytes.
func splitJWSWithin(token string, maxSize int, types []string, anchoredX5C bool) (*parsedJWS, error) {
	if len(token) > maxSize {
		return nil, reject(ErrMalformed, "format", "token larger than %d bytes", maxSize)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, reject(ErrMalformed, "format", "not a compact jws")
	}
	var j parsedJWS
	hb, err := b64.DecodeString(h)
	if err != nil {
		return nil, reject(ErrMalformed, "format", "header is not base64url")
	}
	if err := strictUnmarshal(hb, &j.header); err != nil {
		return nil, reject(ErrMalformed, "format", "header is not a json object")
	}
	if err := checkHeader(&j.header, types, anchoredX5C); err != nil {
		return nil, err
	}
	if j.payload, err = b64.DecodeString(p); err != nil {
		return nil, reject(ErrMalformed, "format", "payload is not base64url")
	}
	if j.signature, err = b64.DecodeString(s); err != nil {
		return nil, reject(ErrMalformed, "format", "signature is not base64url")
	}
	j.signingInput = token[:len(h)+1+len(p)]
	return &j, nil
}

// strictUnmarshal decodes one JSON object and refuses trailing data.
func strictUnmarshal(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errNotObject
	}
	return json.Unmarshal(b, v)
}

var errNotObject = errors.New("not a json object")

func checkHeader(h *jwsHeader, types []string, anchoredX5C bool) error {
	switch {
	case len(h.JWK) > 0:
		return reject(ErrHeader, "header", "jwk header: keys are taken from the issuer's key set only")
	case len(h.JKU) > 0:
		return reject(ErrHeader, "header", "jku header: keys are taken from the issuer's key set only")
	case len(h.X5U) > 0:
		return reject(ErrHeader, "header", "x5u header: keys are taken from the issuer's key set only")
	case len(h.X5C) > 0 && !anchoredX5C:
		return reject(ErrHeader, "header", "x5c header: certificates in the token are not anchored")
	case len(h.Crit) > 0:
		// RFC 7515 §4.1.11: a recipient must reject a crit extension it does not
		// understand, and this verifier understands none.
		return reject(ErrHeader, "header", "crit header: no extension is understood")
	case len(h.B64) > 0:
		return reject(ErrHeader, "header", "b64 header: unencoded payloads are not accepted")
	case len(h.Zip) > 0 || len(h.Enc) > 0:
		return reject(ErrHeader, "header", "jwe member in a jws header")
	}
	if !slices.Contains(types, strings.ToLower(h.Typ)) {
		// Token confusion: an access token (at+jwt), a logout token (logout+jwt), a DPoP proof
		// or an SD-JWT are not ID tokens even when signed by the same key, and the reverse.
		return reject(ErrHeader, "typ", "typ %q is not expected here", truncate(h.Typ, 32))
	}
	if h.Alg == "none" || h.Alg == "" {
		return reject(ErrAlgorithm, "alg", "unsigned tokens are refused")
	}
	if _, ok := algorithms[h.Alg]; !ok {
		return reject(ErrAlgorithm, "alg", "algorithm %q is not supported", truncate(h.Alg, 16))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// fits reports why key cannot verify alg, or "" when it can.
func fits(alg *algorithm, key crypto.PublicKey) string {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if alg.kind != kindEC {
			return "kid names an EC key but alg is " + alg.name
		}
		if k.Curve != alg.curve {
			return "key curve " + k.Curve.Params().Name + " does not fit " + alg.name
		}
	case *rsa.PublicKey:
		if alg.kind != kindRSA {
			return "kid names an RSA key but alg is " + alg.name
		}
		if k.N.BitLen() < limits.MinRSABits {
			return "rsa key shorter than the minimum"
		}
	case ed25519.PublicKey:
		if alg.kind != kindEd25519 {
			return "kid names an Ed25519 key but alg is " + alg.name
		}
	default:
		return "unsupported key type"
	}
	return ""
}

// verifySignature checks sig over input with key under alg. The key must already fit alg.
func verifySignature(alg *algorithm, key crypto.PublicKey, input string, sig []byte) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*n { // RFC 7518 §3.4: R || S, fixed size, never DER
			return false
		}
		var buf [2*(3+66) + 3]byte
		return ecdsa.VerifyASN1(k, digest(alg.hash, input), ecdsaDER(buf[:0], sig[:n], sig[n:]))
	case *rsa.PublicKey:
		if alg.pss {
			// RFC 7518 §3.5: the salt is as long as the hash.
			return rsa.VerifyPSS(k, alg.hash, digest(alg.hash, input), sig,
				&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash}) == nil
		}
		return rsa.VerifyPKCS1v15(k, alg.hash, digest(alg.hash, input), sig) == nil
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize && ed25519.Verify(k, []byte(input), sig)
	}
	return false
}

// ecdsaDER encodes a raw R || S signature as the DER SEQUENCE of two INTEGERs that
// crypto/ecdsa verifies, without the big.Int round trip ecdsa.Verify makes.
func ecdsaDER(dst, r, s []byte) []byte {
	integer := func(b []byte) []byte {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
		return b
	}
	r, s = integer(r), integer(s)
	size := func(b []byte) int {
		if b[0] >= 0x80 {
			return len(b) + 1
		}
		return len(b)
	}
	body := 2 + size(r) + 2 + size(s)
	dst = append(dst, 0x30)
	if body >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(body))
	for _, b := range [][]byte{r, s} {
		dst = append(dst, 0x02, byte(size(b)))
		if b[0] >= 0x80 {
			dst = append(dst, 0)
		}
		dst = append(dst, b...)
	}
	return dst
}

func digest(h crypto.Hash, input string) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256([]byte(input))
		return s[:]
	case crypto.SHA384:
		s := sha512.Sum384([]byte(input))
		return s[:]
	default:
		s := sha512.Sum512([]byte(input))
		return s[:]
	}
}

// halfHash computes at_hash / c_hash (OpenID Connect Core §3.1.3.6, §3.3.2.11): the
// base64url left half of the hash of the value, with the hash of the token's algorithm
// (SHA-512 for EdDSA with Ed25519).
func halfHash(alg *algorithm, value string) string {
	d := digest(alg.hash, value)
	return base64.RawURLEncoding.EncodeToString(d[:len(d)/2])
}
