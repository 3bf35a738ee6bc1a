package consent

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"

	"github.com/dpiblocks/dpi/internal/jws"
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
	if alg, ok := jws.Algorithm(pub); ok {
		return alg, nil
	}
	return "", fmt.Errorf("%w: a receipt key must be ECDSA P-256 or Ed25519", ErrConfig)
}

// SignReceipt signs r as a compact JWS (RFC 7515) whose payload is the RFC 8785 canonical
// JSON of r, with signer's key (ES256 for ECDSA P-256, EdDSA for Ed25519). The key may be
// in an HSM or a KMS: only its Sign method is used.
func SignReceipt(signer crypto.Signer, r *Receipt) (string, error) {
	_, err := receiptAlgorithm(signer.Public())
	if err != nil {
		return "", err
	}
	r.Version = ReceiptVersion
	var compact string
	if payload, ok := canonicalReceipt(r); ok {
		compact, err = jws.SignPayload(signer, receiptType, payload)
	} else {
		compact, err = jws.SignCanonical(signer, receiptType, r)
	}
	var se *jws.SignError
	if errors.As(err, &se) {
		switch se.Step {
		case jws.StepEncode:
			return "", fmt.Errorf("%w: encode receipt: %v", ErrInput, se.Err)
		case jws.StepCanonicalise:
			return "", fmt.Errorf("%w: canonicalise receipt: %v", ErrInput, se.Err)
		}
		return "", fmt.Errorf("consent: sign receipt: %w", se.Err)
	}
	return compact, err
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
	payload, err := jws.Verify(compact, alg, receiptType, pub)
	if err != nil {
		ce := err.(*jws.CheckError)
		if ce.Check == jws.CheckTyp {
			return nil, fail(ErrReceipt, "typ", "not a consent receipt")
		}
		return nil, fail(ErrReceipt, ce.Check, "%s", ce.Reason)
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
	// to, not merely the same receipt.
	if !jws.IsCanonical(payload, &r) {
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
