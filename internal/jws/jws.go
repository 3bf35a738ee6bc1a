// Package jws signs and strictly verifies the compact JWS (RFC 7515) that blocks hand to
// people and other parties: a payload that is the RFC 8785 canonical JSON of a value, a
// protected header of alg and typ only, signed with a crypto.Signer as ES256 (ECDSA P-256,
// r||s of RFC 7518 §3.4) or EdDSA (Ed25519). Its errors are plain values that each block
// maps onto its own error type and check names.
package jws

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"
)

// Algorithm returns the JWS algorithm a key signs with: ES256 for ECDSA P-256, EdDSA for
// Ed25519. ok is false for any other key.
func Algorithm(pub crypto.PublicKey) (alg jose.SignatureAlgorithm, ok bool) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return jose.ES256, true
		}
	case ed25519.PublicKey:
		return jose.EdDSA, true
	}
	return "", false
}

// Step names the step of [SignCanonical] that failed.
type Step string

// The steps of SignCanonical.
const (
	StepKey          Step = "key"          // the signer's key is neither ECDSA P-256 nor Ed25519
	StepEncode       Step = "encode"       // the value does not marshal to JSON
	StepCanonicalise Step = "canonicalise" // its JSON has no RFC 8785 form
	StepSign         Step = "sign"         // the signer failed, or returned a malformed signature
)

// SignError is the error SignCanonical returns: the step that failed and why.
type SignError struct {
	Step Step
	Err  error
}

func (e *SignError) Error() string { return string(e.Step) + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SignError) Unwrap() error { return e.Err }

// Canonical returns the RFC 8785 canonical JSON of v, as SignCanonical signs it.
func Canonical(v any) ([]byte, error) {
	b, err := canonical(v)
	if err != nil {
		return nil, err.Err
	}
	return b, nil
}

func canonical(v any) ([]byte, *SignError) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, &SignError{StepEncode, err}
	}
	payload, err := jcs.Transform(body)
	if err != nil {
		return nil, &SignError{StepCanonicalise, err}
	}
	return payload, nil
}

// SignCanonical signs the RFC 8785 canonical JSON of v as a compact JWS whose protected
// header is {"alg", "typ"} only. Only signer's Sign method is used, so the key may be in
// an HSM or a KMS. Its errors are *SignError.
func SignCanonical(signer crypto.Signer, typ string, v any) (string, error) {
	alg, ok := Algorithm(signer.Public())
	if !ok {
		return "", &SignError{StepKey, errors.New("the key is neither ECDSA P-256 nor Ed25519")}
	}
	payload, serr := canonical(v)
	if serr != nil {
		return "", serr
	}
	return sign(signer, alg, typ, payload)
}

// SignPayload signs payload, which the caller has written as RFC 8785 canonical JSON
// itself, as SignCanonical signs the canonical JSON of a value. Its errors are *SignError.
func SignPayload(signer crypto.Signer, typ string, payload []byte) (string, error) {
	alg, ok := Algorithm(signer.Public())
	if !ok {
		return "", &SignError{StepKey, errors.New("the key is neither ECDSA P-256 nor Ed25519")}
	}
	return sign(signer, alg, typ, payload)
}

func sign(signer crypto.Signer, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": string(alg), "typ": typ})
	input := b64(header) + "." + b64(payload)
	var sig []byte
	var err error
	if alg == jose.EdDSA {
		sig, err = signer.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	} else {
		digest := sha256.Sum256([]byte(input))
		var der []byte
		if der, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
			sig, err = rawECDSA(der)
		}
	}
	if err != nil {
		return "", &SignError{StepSign, err}
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawECDSA converts an ASN.1 ECDSA P-256 signature into the 64-byte r||s of JWS (RFC 7518
// §3.4).
func rawECDSA(der []byte) ([]byte, error) {
	var s struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &s); err != nil || len(rest) != 0 || s.R == nil || s.S == nil ||
		s.R.Sign() <= 0 || s.S.Sign() <= 0 || s.R.BitLen() > 256 || s.S.BitLen() > 256 {
		return nil, errors.New("malformed ECDSA signature from the signer")
	}
	out := make([]byte, 64)
	s.R.FillBytes(out[:32])
	s.S.FillBytes(out[32:])
	return out, nil
}

// The checks [Verify] names in a *CheckError, in the order it makes them.
const (
	CheckFormat    = "format"    // not a compact JWS signed with the algorithm, or not in its one compact form
	CheckTyp       = "typ"       // the header's typ is not the one expected
	CheckHeader    = "header"    // header parameters other than alg and typ
	CheckSignature = "signature" // the signature does not verify with the key
)

// CheckError is the error Verify returns: the check that failed and why, in words a block
// may pass on.
type CheckError struct {
	Check  string
	Reason string
}

func (e *CheckError) Error() string { return e.Check + ": " + e.Reason }

// Verify checks compact as a JWS that SignCanonical could have made for typ with key,
// whose algorithm is alg (from [Algorithm]), and returns its payload, not yet decoded. It
// refuses the JSON serialisation, any other algorithm, a second form of the same token
// (line breaks, stray bits), a typ other than typ, header parameters other than alg and
// typ, and a signature that does not verify. The caller checks the payload.
func Verify(compact string, alg jose.SignatureAlgorithm, typ string, key crypto.PublicKey) ([]byte, error) {
	// ParseSignedCompact, not ParseSigned: the latter also takes the JSON serialisation, with
	// an unprotected header, and strips whitespace.
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, &CheckError{CheckFormat, fmt.Sprintf("not a compact JWS signed with %s", alg)}
	}
	// One token has one string: no line breaks, which base64 skips, and no stray bits.
	protected, _, _ := strings.Cut(compact, ".")
	rawHeader, err := base64.RawURLEncoding.DecodeString(protected)
	if err != nil || compact != b64(rawHeader)+"."+b64(jws.UnsafePayloadWithoutVerification())+"."+b64(jws.Signatures[0].Signature) {
		return nil, &CheckError{CheckFormat, "not in the compact form of RFC 7515"}
	}
	if got, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); got != typ {
		return nil, &CheckError{CheckTyp, "not " + typ}
	}
	// go-jose keeps a valid x5c chain and a nonce out of ExtraHeaders, and skips parameters
	// whose value is null: read the header's names from its own bytes, where none hides.
	var names map[string]json.RawMessage
	if json.Unmarshal(rawHeader, &names) != nil || len(names) != 2 || names["alg"] == nil || names["typ"] == nil {
		return nil, &CheckError{CheckHeader, "header parameters other than alg and typ"}
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, &CheckError{CheckSignature, "does not verify with this key"}
	}
	return payload, nil
}

// IsCanonical reports whether payload is, byte for byte, the canonical JSON SignCanonical
// writes for v, the value payload decoded to: a time written "+00:00" or with trailing
// zeros, an empty field omitempty drops, a name in other case, base64 with stray bits or a
// repeated name each decode to the same value, and none of them is another signed form
// of it.
func IsCanonical(payload []byte, v any) bool {
	again, err := Canonical(v)
	return err == nil && bytes.Equal(again, payload)
}
