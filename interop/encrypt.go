package interop

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	josecipher "github.com/go-jose/go-jose/v4/cipher"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Algorithms a message may be encrypted with (RFC 7518): the content key wrapped for each
// recipient with ECDH-ES and AES-256 key wrap (a P-256 key, §4.6) or RSAES-OAEP with
// SHA-256 (an RSA key, §4.3), and the content encrypted with AES-256-GCM (§5.3).
const (
	ECDHESA256KW = "ECDH-ES+A256KW"
	RSAOAEP256   = "RSA-OAEP-256"
	A256GCM      = "A256GCM"
)

// ErrDecrypt reports an encrypted message that does not decrypt with the receiver's key:
// it was encrypted to other recipients, or altered on the way.
var ErrDecrypt = fmt.Errorf("%w: does not decrypt", ErrRejected)

// CheckEncryption is the check an *Error names when an encrypted message is malformed or
// does not decrypt.
const CheckEncryption = "encryption"

// minRSABits is the smallest RSA key a message is encrypted to or opened with.
const minRSABits = 2048

// Recipient is a party a message is encrypted to.
type Recipient struct {
	// Key is the recipient's public key: an *ecdsa.PublicKey on P-256 (ECDH-ES+A256KW) or
	// an *rsa.PublicKey of at least 2048 bits (RSA-OAEP-256).
	Key crypto.PublicKey
	// KeyID goes in the recipient's header as kid, so the recipient finds its entry among
	// several; it may be empty. It is visible to every hop.
	KeyID string
}

// RecipientFromCertificate returns the recipient of cert's public key, with the
// certificate's SHA-256 thumbprint (as x5t#S256 writes it, RFC 7515 §4.1.8) as its KeyID.
// The certificate is the caller's choice: its chain, validity and key usage are not
// checked here.
func RecipientFromCertificate(cert *x509.Certificate) (Recipient, error) {
	if cert == nil {
		return Recipient{}, fail(ErrConfig, CheckConfig, "no recipient certificate")
	}
	sum := sha256.Sum256(cert.Raw)
	r := Recipient{Key: cert.PublicKey, KeyID: base64.RawURLEncoding.EncodeToString(sum[:])}
	if _, err := keyAlgorithmFor(r.Key); err != nil {
		return Recipient{}, err
	}
	return r, nil
}

// keyAlgorithmFor returns the key management algorithm for a recipient's public key.
func keyAlgorithmFor(pub crypto.PublicKey) (jose.KeyAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return jose.ECDH_ES_A256KW, nil
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= minRSABits {
			return jose.RSA_OAEP_256, nil
		}
	}
	return "", fail(ErrConfig, CheckConfig, "a recipient key must be ECDSA P-256 or RSA of at least %d bits", minRSABits)
}

// Seal encrypts plaintext to every recipient, as one JWE in the general JSON serialization
// (RFC 7516 §7.2.1): a protected header holding enc (A256GCM) and, when not empty, cty
// (the plaintext's media type, RFC 7516 §4.1.12), and for each recipient alg
// (ECDH-ES+A256KW or RSA-OAEP-256, by the recipient's key), the ephemeral key epk for
// ECDH-ES and kid, in the recipient's header or, when there is one recipient, protected.
// Any one recipient's key opens it. Nothing is signed: seal a signed
// message (SignMessage) so that its recipients know who wrote it.
func Seal(plaintext []byte, contentType string, recipients ...Recipient) ([]byte, error) {
	if len(recipients) == 0 || len(recipients) > limits.MaxInteropRecipients {
		return nil, fail(ErrConfig, CheckConfig, "a message is sealed to 1 to %d recipients", limits.MaxInteropRecipients)
	}
	if len(plaintext) > limits.MaxInteropMessage {
		return nil, fail(ErrConfig, CheckConfig, "plaintext longer than %d bytes", limits.MaxInteropMessage)
	}
	rcpts := make([]jose.Recipient, len(recipients))
	for i, r := range recipients {
		alg, err := keyAlgorithmFor(r.Key)
		if err != nil {
			return nil, err
		}
		rcpts[i] = jose.Recipient{Algorithm: alg, Key: r.Key, KeyID: r.KeyID}
	}
	opts := &jose.EncrypterOptions{}
	if contentType != "" {
		opts = opts.WithContentType(jose.ContentType(contentType))
	}
	enc, err := jose.NewMultiEncrypter(jose.A256GCM, rcpts, opts)
	if err != nil {
		return nil, fmt.Errorf("interop: seal: %w", err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return nil, fmt.Errorf("interop: seal: %w", err)
	}
	// go-jose writes one recipient in the flattened form; the general form is the one
	// format for any number of recipients.
	var flat struct {
		jweJSON
		Header       json.RawMessage `json:"header,omitempty"`
		EncryptedKey string          `json:"encrypted_key,omitempty"`
	}
	if err := json.Unmarshal([]byte(obj.FullSerialize()), &flat); err != nil {
		return nil, fmt.Errorf("interop: seal: %w", err)
	}
	out := flat.jweJSON
	if len(out.Recipients) == 0 {
		out.Recipients = []jweRecipient{{Header: flat.Header, EncryptedKey: flat.EncryptedKey}}
	}
	for i := range out.Recipients {
		if string(out.Recipients[i].Header) == "null" {
			out.Recipients[i].Header = nil
		}
	}
	return json.Marshal(out)
}

// jweJSON is the general JSON serialization of a JWE as Seal writes it and Open reads it.
type jweJSON struct {
	Protected  string         `json:"protected"`
	Recipients []jweRecipient `json:"recipients"`
	IV         string         `json:"iv"`
	Ciphertext string         `json:"ciphertext"`
	Tag        string         `json:"tag"`
}

type jweRecipient struct {
	Header       json.RawMessage `json:"header,omitempty"`
	EncryptedKey string          `json:"encrypted_key"`
}

// OpenerConfig configures an Opener. Key is required; the zero value of every other field
// is safe.
type OpenerConfig struct {
	// Key is the receiver's private key: an *ecdsa.PrivateKey on P-256 or an
	// *rsa.PrivateKey of at least 2048 bits; or a key that keeps its secret to itself, as
	// an HSM's does: an ECDHKey on P-256, asked for the ECDH shared secret of each
	// ECDH-ES+A256KW recipient, or a crypto.Decrypter whose public key is RSA of at least
	// 2048 bits, asked to decrypt each RSA-OAEP-256 recipient's key with OAEP and SHA-256.
	Key crypto.PrivateKey
	// KeyAlgorithms allows key management algorithms, a subset of ECDH-ES+A256KW and
	// RSA-OAEP-256 that includes the one Key's type uses; empty allows both, so that a
	// message sealed to recipients of both kinds opens.
	KeyAlgorithms []string
	// ContentAlgorithms allows content encryption algorithms; empty allows A256GCM, the
	// only one there is.
	ContentAlgorithms []string
}

// ECDHKey is a P-256 private key that computes ECDH shared secrets (RFC 7518 §4.6) and
// never shows its scalar: a *ecdh.PrivateKey, or a key in an HSM (PKCS#11's
// CKM_ECDH1_DERIVE) or a KMS behind these two methods. It must be safe for concurrent use.
type ECDHKey interface {
	// Public returns the public key: an *ecdh.PublicKey or an *ecdsa.PublicKey on P-256.
	Public() crypto.PublicKey
	// ECDH returns the shared secret with remote, the x-coordinate of the shared point in
	// 32 bytes. remote has been checked to lie on P-256.
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}

var _ ECDHKey = (*ecdh.PrivateKey)(nil)

// Opener decrypts messages sealed to its key. Build one with NewOpener; it is immutable and
// safe for concurrent use.
type Opener struct {
	key      any // what go-jose decrypts with: a private key, or an opaqueKey
	keyAlgs  []jose.KeyAlgorithm
	contAlgs []jose.ContentEncryption
}

// NewOpener checks cfg and returns an opener.
func NewOpener(cfg OpenerConfig) (*Opener, error) {
	var pub crypto.PublicKey
	var key any = cfg.Key
	switch k := cfg.Key.(type) {
	case *ecdsa.PrivateKey:
		pub = k.Public()
	case *rsa.PrivateKey:
		pub = k.Public()
	case ECDHKey:
		pub = ecdsaPublic(k.Public())
		key = &opaqueKey{ecdh: k}
	case crypto.Decrypter:
		pub = k.Public()
		key = &opaqueKey{rsa: k}
	case nil:
		return nil, fail(ErrConfig, CheckConfig, "no decryption key")
	}
	own, err := keyAlgorithmFor(pub)
	if err != nil {
		return nil, fail(ErrConfig, CheckConfig, "a decryption key must be ECDSA P-256 or RSA of at least %d bits", minRSABits)
	}
	if ok, _ := key.(*opaqueKey); ok != nil && ok.rsa != nil && own != jose.RSA_OAEP_256 {
		return nil, fail(ErrConfig, CheckConfig, "a crypto.Decrypter must hold an RSA key: an EC key decrypts as an ECDHKey")
	}
	o := &Opener{key: key}
	for _, a := range cfg.KeyAlgorithms {
		if a != ECDHESA256KW && a != RSAOAEP256 {
			return nil, fail(ErrConfig, CheckConfig, "key algorithm %q is not %s or %s", truncate(a), ECDHESA256KW, RSAOAEP256)
		}
		o.keyAlgs = append(o.keyAlgs, jose.KeyAlgorithm(a))
	}
	if len(o.keyAlgs) == 0 {
		o.keyAlgs = []jose.KeyAlgorithm{jose.ECDH_ES_A256KW, jose.RSA_OAEP_256}
	}
	if !slices.Contains(o.keyAlgs, own) {
		return nil, fail(ErrConfig, CheckConfig, "KeyAlgorithms does not allow %s, which the key uses", own)
	}
	for _, a := range cfg.ContentAlgorithms {
		if a != A256GCM {
			return nil, fail(ErrConfig, CheckConfig, "content algorithm %q is not %s", truncate(a), A256GCM)
		}
		o.contAlgs = append(o.contAlgs, jose.ContentEncryption(a))
	}
	if len(o.contAlgs) == 0 {
		o.contAlgs = []jose.ContentEncryption{jose.A256GCM}
	}
	return o, nil
}

// ecdsaPublic returns a P-256 public key as an *ecdsa.PublicKey, which keyAlgorithmFor
// reads, or nil.
func ecdsaPublic(pub crypto.PublicKey) crypto.PublicKey {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return k
	case *ecdh.PublicKey:
		if k.Curve() != ecdh.P256() {
			return nil
		}
		p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), k.Bytes())
		if err != nil {
			return nil
		}
		return p
	}
	return nil
}

// opaqueKey unwraps a recipient's content key with a key that keeps its secret: go-jose
// hands it each recipient's encrypted key and header (jose.OpaqueKeyDecrypter). Open has
// checked the headers already: alg is allowed, epk is there for ECDH-ES only, and there is
// no apu or apv.
type opaqueKey struct {
	rsa  crypto.Decrypter
	ecdh ECDHKey
}

var _ jose.OpaqueKeyDecrypter = (*opaqueKey)(nil)

// DecryptKey returns the content key of one recipient.
func (k *opaqueKey) DecryptKey(encryptedKey []byte, h jose.Header) ([]byte, error) {
	switch jose.KeyAlgorithm(h.Algorithm) {
	case jose.RSA_OAEP_256:
		if k.rsa == nil {
			return nil, errors.New("not an RSA recipient")
		}
		return k.rsa.Decrypt(rand.Reader, encryptedKey, &rsa.OAEPOptions{Hash: crypto.SHA256})
	case jose.ECDH_ES_A256KW:
		if k.ecdh == nil {
			return nil, errors.New("not an ECDH-ES recipient")
		}
		epk, err := parseEPK(h.ExtraHeaders["epk"])
		if err != nil {
			return nil, err
		}
		z, err := k.ecdh.ECDH(epk)
		if err != nil {
			return nil, err
		}
		if len(z) != 32 {
			return nil, errors.New("the ECDH shared secret is not 32 bytes")
		}
		// RFC 7518 §4.6.2: Concat KDF with SHA-256 over Z, the algorithm, empty PartyUInfo
		// and PartyVInfo, and the key's length in bits.
		kek := make([]byte, 32)
		algID := binary.BigEndian.AppendUint32(nil, uint32(len(ECDHESA256KW)))
		algID = append(algID, ECDHESA256KW...)
		empty := make([]byte, 4)
		if _, err := io.ReadFull(josecipher.NewConcatKDF(crypto.SHA256, z, algID, empty, empty, []byte{0, 0, 1, 0}, nil), kek); err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(kek)
		if err != nil {
			return nil, err
		}
		return josecipher.KeyUnwrap(block, encryptedKey)
	}
	return nil, errors.New("key algorithm not allowed")
}

// parseEPK reads an ephemeral public key (RFC 7518 §4.6.1.1): a P-256 JWK with x and y,
// which ecdh checks lie on the curve, so that an invalid-curve point never reaches the key.
func parseEPK(v any) (*ecdh.PublicKey, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("epk is not a JWK")
	}
	kty, _ := m["kty"].(string)
	crv, _ := m["crv"].(string)
	xs, _ := m["x"].(string)
	ys, _ := m["y"].(string)
	if kty != "EC" || crv != "P-256" {
		return nil, errors.New("epk is not a P-256 key")
	}
	x, errX := base64.RawURLEncoding.Strict().DecodeString(xs)
	y, errY := base64.RawURLEncoding.Strict().DecodeString(ys)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, errors.New("epk coordinates are not 32 bytes of base64url")
	}
	return ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...))
}

// Open decrypts a JWE that Seal made, or another implementation made in the same form: the
// general JSON serialization with a protected header of enc and, optionally, cty and typ,
// and recipients each with alg and, optionally, epk and kid, in its header or (for all
// recipients) protected. It returns the
// plaintext and the cty the sender protected ("" when none). Anything else is refused
// before any key is used: the compact or flattened form, unprotected shared headers,
// additional authenticated data, compression (zip), crit, an algorithm not allowed, more
// than limits.MaxInteropRecipients recipients or more than limits.MaxInteropJWE bytes
// (ErrMalformed, ErrAlgorithm). A message sealed to other keys, or altered, is ErrDecrypt.
func (o *Opener) Open(jwe []byte) (plaintext []byte, contentType string, err error) {
	if len(jwe) > limits.MaxInteropJWE {
		return nil, "", fail(ErrMalformed, CheckEncryption, "longer than %d bytes", limits.MaxInteropJWE)
	}
	var m jweJSON
	dec := json.NewDecoder(bytes.NewReader(jwe))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, "", fail(ErrMalformed, CheckEncryption, "not a JWE in the general JSON serialization")
	}
	if m.Protected == "" || m.IV == "" || m.Ciphertext == "" || m.Tag == "" {
		return nil, "", fail(ErrMalformed, CheckEncryption, "protected, iv, ciphertext and tag are required")
	}
	if len(m.Recipients) == 0 || len(m.Recipients) > limits.MaxInteropRecipients {
		return nil, "", fail(ErrMalformed, CheckEncryption, "not 1 to %d recipients", limits.MaxInteropRecipients)
	}
	prot, err := jweHeader(m.Protected, true)
	if err != nil {
		return nil, "", err
	}
	var enc string
	if json.Unmarshal(prot["enc"], &enc) != nil {
		return nil, "", fail(ErrMalformed, CheckEncryption, "enc is not a string")
	}
	if !slices.Contains(o.contAlgs, jose.ContentEncryption(enc)) {
		return nil, "", fail(ErrAlgorithm, CheckAlgorithm, "content algorithm %q is not allowed", truncate(enc))
	}
	if raw, ok := prot["cty"]; ok && json.Unmarshal(raw, &contentType) != nil {
		return nil, "", fail(ErrMalformed, CheckEncryption, "cty is not a string")
	}
	for i, r := range m.Recipients {
		if len(r.Header) > limits.MaxInteropJWEHeader || r.EncryptedKey == "" {
			return nil, "", fail(ErrMalformed, CheckEncryption, "recipient %d is malformed", i)
		}
		h := map[string]json.RawMessage{}
		if r.Header != nil {
			if h, err = jweFields(r.Header, false); err != nil {
				return nil, "", err
			}
		}
		for _, k := range recipientParams {
			if v, ok := prot[k]; ok {
				if _, dup := h[k]; dup {
					return nil, "", fail(ErrMalformed, CheckEncryption, "recipient %d: %s both protected and not", i, k)
				}
				h[k] = v
			}
		}
		var alg string
		if json.Unmarshal(h["alg"], &alg) != nil {
			return nil, "", fail(ErrMalformed, CheckEncryption, "recipient %d: alg is not a string", i)
		}
		if !slices.Contains(o.keyAlgs, jose.KeyAlgorithm(alg)) {
			return nil, "", fail(ErrAlgorithm, CheckAlgorithm, "key algorithm %q is not allowed", truncate(alg))
		}
		if _, ok := h["epk"]; ok != (alg == ECDHESA256KW) {
			return nil, "", fail(ErrMalformed, CheckEncryption, "recipient %d: epk goes with ECDH-ES only", i)
		}
	}
	obj, err := jose.ParseEncryptedJSON(string(jwe), o.keyAlgs, o.contAlgs)
	if err != nil {
		return nil, "", fail(ErrMalformed, CheckEncryption, "not a JWE go-jose accepts")
	}
	_, _, plaintext, err = obj.DecryptMulti(o.key)
	if err != nil {
		return nil, "", fail(ErrDecrypt, CheckEncryption, "not sealed to this key, or altered")
	}
	return plaintext, contentType, nil
}

// jweHeader decodes a protected header and checks its parameters.
func jweHeader(b64 string, protected bool) (map[string]json.RawMessage, error) {
	if len(b64) > limits.MaxInteropJWEHeader*4/3+4 {
		return nil, fail(ErrMalformed, CheckEncryption, "protected header longer than %d bytes", limits.MaxInteropJWEHeader)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fail(ErrMalformed, CheckEncryption, "protected header is not base64url")
	}
	return jweFields(raw, protected)
}

// recipientParams are the header parameters of a recipient, which may also be protected.
var recipientParams = []string{"alg", "epk", "kid"}

// jweFields decodes a JWE header and refuses any parameter outside the allow-list of its
// place: enc, cty, typ and a recipient's parameters protected; alg, epk and kid per
// recipient. A parameter this
// package does not name (zip, crit, jku, x5u, p2c, ...) is refused rather than ignored.
func jweFields(raw []byte, protected bool) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fail(ErrMalformed, CheckEncryption, "a header is not a JSON object")
	}
	allowed, required := recipientParams, "alg"
	if protected {
		allowed, required = append([]string{"enc", "cty", "typ"}, recipientParams...), "enc"
	}
	for k := range fields {
		if !slices.Contains(allowed, k) {
			return nil, fail(ErrMalformed, CheckEncryption, "header parameter %q is not one of %s", truncate(k), strings.Join(allowed, ", "))
		}
	}
	if fields[required] == nil {
		return nil, fail(ErrMalformed, CheckEncryption, "a header has no %s", required)
	}
	return fields, nil
}
