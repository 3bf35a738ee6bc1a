package consent

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
	"fmt"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"

	"github.com/dpiblocks/dpi/internal/limits"
)

// ReceiptVersion names the form of a receipt's payload.
const ReceiptVersion = "dpi-consent-receipt/v1"

// receiptType is the JWS typ of a receipt (RFC 7515 §4.1.9), so that a receipt is never
// taken for another kind of token signed with the same key.
const receiptType = "dpi-consent-receipt+jws"

// Receipt is what a signed receipt says: the record as it stood after the event, and the
// event, with where it is in the evidence log. A person keeps it as proof of what they
// agreed to or withdrew, and when.
type Receipt struct {
	// Version is ReceiptVersion.
	Version string `json:"version"`
	// Record is the record after the event.
	Record Record `json:"record"`
	// Event is the change the receipt is for.
	Event Event `json:"event"`
}

// receiptAlgorithm returns the JWS algorithm key signs receipts with: ES256 for an ECDSA
// P-256 key, EdDSA for Ed25519. Any other key is refused.
func receiptAlgorithm(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return jose.ES256, nil
		}
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("%w: a receipt key must be ECDSA P-256 or Ed25519", ErrConfig)
}

// SignReceipt signs r as a compact JWS (RFC 7515) whose payload is the RFC 8785 canonical
// JSON of r, with signer's key (ES256 for ECDSA P-256, EdDSA for Ed25519). The key may be
// in an HSM or a KMS: only its Sign method is used.
func SignReceipt(signer crypto.Signer, r *Receipt) (string, error) {
	alg, err := receiptAlgorithm(signer.Public())
	if err != nil {
		return "", err
	}
	r.Version = ReceiptVersion
	body, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("%w: encode receipt: %v", ErrInput, err)
	}
	payload, err := jcs.Transform(body)
	if err != nil {
		return "", fmt.Errorf("%w: canonicalise receipt: %v", ErrInput, err)
	}
	header, _ := json.Marshal(map[string]string{"alg": string(alg), "typ": receiptType})
	input := b64(header) + "." + b64(payload)
	var sig []byte
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
		return "", fmt.Errorf("consent: sign receipt: %w", err)
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawECDSA converts an ASN.1 ECDSA P-256 signature into the 64-byte r||s of JWS (RFC 7518
// §3.4).
func rawECDSA(der []byte) ([]byte, error) {
	var s struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &s); err != nil || len(rest) != 0 || s.R == nil || s.S == nil {
		return nil, fmt.Errorf("malformed ECDSA signature from the signer")
	}
	out := make([]byte, 64)
	if s.R.BitLen() > 256 || s.S.BitLen() > 256 {
		return nil, fmt.Errorf("malformed ECDSA signature from the signer")
	}
	s.R.FillBytes(out[:32])
	s.S.FillBytes(out[32:])
	return out, nil
}

// VerifyReceipt checks a compact JWS receipt with the controller's public key, offline,
// and returns what it says. It refuses (ErrReceipt, in an *Error naming the check) a
// receipt that is not a compact JWS of the receipt type, has header parameters other than
// alg and typ, is signed with an algorithm other than the key's (ES256 or EdDSA), does not
// verify, or whose payload is not, byte for byte, the canonical JSON SignReceipt writes for
// a receipt with only known fields.
func VerifyReceipt(compact string, pub crypto.PublicKey) (*Receipt, error) {
	if len(compact) > limits.MaxConsentReceipt {
		return nil, fail(ErrReceipt, "format", "too large")
	}
	alg, err := receiptAlgorithm(pub)
	if err != nil {
		return nil, err
	}
	// ParseSignedCompact, not ParseSigned: the latter also takes the JSON serialisation, with
	// an unprotected header, and strips whitespace.
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fail(ErrReceipt, "format", "not a compact JWS signed with %s", alg)
	}
	// One receipt has one string: no line breaks, which base64 skips, and no stray bits.
	protected, _, _ := strings.Cut(compact, ".")
	rawHeader, err := base64.RawURLEncoding.DecodeString(protected)
	if err != nil || compact != b64(rawHeader)+"."+b64(jws.UnsafePayloadWithoutVerification())+"."+b64(jws.Signatures[0].Signature) {
		return nil, fail(ErrReceipt, "format", "not in the compact form of RFC 7515")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != receiptType {
		return nil, fail(ErrReceipt, "typ", "not a consent receipt")
	}
	// go-jose keeps a valid x5c chain and a nonce out of ExtraHeaders, and skips parameters
	// whose value is null: read the header's names from its own bytes, where none hides.
	var names map[string]json.RawMessage
	if json.Unmarshal(rawHeader, &names) != nil || len(names) != 2 || names["alg"] == nil || names["typ"] == nil {
		return nil, fail(ErrReceipt, "header", "header parameters other than alg and typ")
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, fail(ErrReceipt, "signature", "does not verify with this key")
	}
	canonical, err := jcs.Transform(payload)
	if err != nil || !bytes.Equal(canonical, payload) {
		return nil, fail(ErrReceipt, "payload", "not canonical JSON")
	}
	var r Receipt
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fail(ErrReceipt, "payload", "not a receipt")
	}
	// The signed bytes must be exactly what SignReceipt signs for the receipt they decode
	// to: a time written "+00:00" or with trailing zeros, an empty field omitempty drops, a
	// name in other case, base64 with stray bits or a repeated name each decode to the
	// same receipt, and none of them is accepted as another signed form of it.
	again, err := json.Marshal(&r)
	if err == nil {
		again, err = jcs.Transform(again)
	}
	if err != nil || !bytes.Equal(again, payload) {
		return nil, fail(ErrReceipt, "payload", "not the canonical form of a receipt")
	}
	if r.Version != ReceiptVersion {
		return nil, fail(ErrReceipt, "version", "not %s", ReceiptVersion)
	}
	if r.Event.RecordID != r.Record.ID || r.Event.Status != r.Record.Status || !r.Event.Status.Known() {
		return nil, fail(ErrReceipt, "status", "the event does not match the record")
	}
	return &r, nil
}
