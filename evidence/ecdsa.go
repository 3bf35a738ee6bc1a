package evidence

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// algECDSA is the C2SP signed-note signature type 0x02: ECDSA over SHA-256 of the note
// text, ASN.1 DER signatures, as implemented by github.com/transparency-dev/formats/note
// (and the Sigstore Rekor log). golang.org/x/mod/sumdb/note knows only Ed25519 (0x01).
const algECDSA = 0x02

// ecdsaVerifierKey returns the note verifier key of a P-256 public key:
// "name+hash+base64(0x02 || SPKI DER)", whose hash is SHA-256(SPKI DER)[:4].
func ecdsaVerifierKey(name string, pub *ecdsa.PublicKey) (string, error) {
	if pub.Curve != elliptic.P256() {
		return "", fmt.Errorf("%w: ECDSA checkpoint keys must be on P-256", ErrConfig)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return name + "+" + fmt.Sprintf("%08x", ecdsaKeyHash(der)) + "+" + base64.StdEncoding.EncodeToString(append([]byte{algECDSA}, der...)), nil
}

func ecdsaKeyHash(der []byte) uint32 {
	h := sha256.Sum256(der)
	return binary.BigEndian.Uint32(h[:4])
}

// parseECDSAVerifierKey parses a key made by ecdsaVerifierKey. It returns ok false when the
// key is not of type 0x02, so the caller can hand it to note.NewVerifier.
func parseECDSAVerifierKey(vkey string) (v note.Verifier, ok bool, err error) {
	name, rest, found := strings.Cut(vkey, "+")
	hash16, key64, found2 := strings.Cut(rest, "+")
	if !found || !found2 {
		return nil, false, nil
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) < 2 || key[0] != algECDSA {
		return nil, false, nil
	}
	der := key[1:]
	h, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil || len(hash16) != 8 || uint32(h) != ecdsaKeyHash(der) {
		return nil, true, fmt.Errorf("%w: malformed verifier key", ErrConfig)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	k, isEC := pub.(*ecdsa.PublicKey)
	if err != nil || !isEC || k.Curve != elliptic.P256() {
		return nil, true, fmt.Errorf("%w: verifier key is not a P-256 public key", ErrConfig)
	}
	return &ecdsaVerifier{name: name, hash: uint32(h), pub: k}, true, nil
}

type ecdsaVerifier struct {
	name string
	hash uint32
	pub  *ecdsa.PublicKey
}

var _ note.Verifier = (*ecdsaVerifier)(nil)

func (v *ecdsaVerifier) Name() string    { return v.name }
func (v *ecdsaVerifier) KeyHash() uint32 { return v.hash }
func (v *ecdsaVerifier) Verify(msg, sig []byte) bool {
	d := sha256.Sum256(msg)
	return ecdsa.VerifyASN1(v.pub, d[:], sig)
}
