package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Errors of the key loaders.
var (
	// ErrKeyFormat reports key, certificate or revocation material (CRLs, OCSP responses)
	// that could not be decoded: not PEM or DER of a supported kind, truncated, or (for
	// encrypted keys and PKCS#12) a wrong password.
	ErrKeyFormat = errors.New("signature: unreadable key material")

	// ErrKeyPassword reports an encrypted key given without a password, or a wrong password
	// where the format can tell.
	ErrKeyPassword = errors.New("signature: wrong or missing key password")
)

// KeyError reports a private key this package refuses to sign with: an RSA key under 2048
// bits, an elliptic curve other than P-256, P-384 or P-521, or a key type that cannot sign.
// It names the key type, never the key.
type KeyError struct {
	Type string // "RSA", "ECDSA", "Ed25519", or the Go type of an unknown key
	Bits int    // the key size in bits, where it has one
	// Reason is the failed check, lower-case.
	Reason string
}

// Error names the key type and size and the failed check.
func (e *KeyError) Error() string {
	if e.Bits > 0 {
		return fmt.Sprintf("signature: unsupported %s-%d key: %s", e.Type, e.Bits, e.Reason)
	}
	return fmt.Sprintf("signature: unsupported %s key: %s", e.Type, e.Reason)
}

// MinRSABits is the smallest RSA modulus the loaders accept.
const MinRSABits = 2048

// checkSigningKey applies the key policy of the loaders to a decoded key.
func checkSigningKey(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < MinRSABits {
			return nil, &KeyError{Type: "RSA", Bits: bits, Reason: fmt.Sprintf("modulus under %d bits", MinRSABits)}
		}
		return k, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, &KeyError{Type: "ECDSA", Bits: k.Curve.Params().BitSize, Reason: "curve not allowed"}
	case ed25519.PrivateKey:
		return k, nil
	case *ed25519.PrivateKey:
		return *k, nil
	case nil:
		return nil, fmt.Errorf("%w: no private key", ErrKeyFormat)
	}
	return nil, &KeyError{Type: fmt.Sprintf("%T", key), Reason: "not a signing key type"}
}

// LoadPrivateKey decodes a signing key from PEM or DER: PKCS#8 ("PRIVATE KEY"), encrypted
// PKCS#8 ("ENCRYPTED PRIVATE KEY", PBES2 with PBKDF2 and AES-CBC, RFC 8018, as written by
// `openssl genpkey -aes-256-cbc` or `openssl pkcs8 -topk8 -v2 aes-256-cbc`), PKCS#1 RSA
// ("RSA PRIVATE KEY") or SEC 1 EC ("EC PRIVATE KEY"). Other PEM blocks in the input
// ("EC PARAMETERS", certificates) are skipped; more than one private key is an error.
//
// password decrypts an encrypted PKCS#8 key and is ignored otherwise. Legacy OpenSSL PEM
// encryption ("Proc-Type: 4,ENCRYPTED", an MD5-based key derivation) is refused: convert
// such a key with `openssl pkcs8 -topk8`.
//
// The key must be RSA of at least [MinRSABits] bits, ECDSA on P-256, P-384 or P-521, or
// Ed25519; anything else is a [*KeyError]. Undecodable input matches [ErrKeyFormat].
func LoadPrivateKey(pemOrDER []byte, password []byte) (crypto.Signer, error) {
	if len(pemOrDER) > limits.MaxKeyFile {
		return nil, fmt.Errorf("%w: key file over %d bytes", ErrKeyFormat, limits.MaxKeyFile)
	}
	if !bytes.Contains(pemOrDER, []byte("-----BEGIN")) {
		return parseDERKey(pemOrDER)
	}
	var found *pem.Block
	rest := pemOrDER
	for n := 0; ; n++ {
		if n > limits.MaxPEMBlocks {
			return nil, fmt.Errorf("%w: more than %d pem blocks", ErrKeyFormat, limits.MaxPEMBlocks)
		}
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if found != nil {
				return nil, fmt.Errorf("%w: more than one private key", ErrKeyFormat)
			}
			found = b
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no private key pem block", ErrKeyFormat)
	}
	if found.Headers["Proc-Type"] != "" {
		return nil, fmt.Errorf("%w: legacy pem encryption (convert with openssl pkcs8 -topk8)", ErrKeyFormat)
	}
	switch found.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(found.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: pkcs#8: %v", ErrKeyFormat, err)
		}
		return checkSigningKey(k)
	case "ENCRYPTED PRIVATE KEY":
		der, err := decryptPKCS8(found.Bytes, password)
		if err != nil {
			return nil, err
		}
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			// A wrong password usually fails the padding check, but one in 256 passes it and
			// leaves garbage here.
			return nil, fmt.Errorf("%w: encrypted pkcs#8", ErrKeyPassword)
		}
		return checkSigningKey(k)
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(found.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: pkcs#1: %v", ErrKeyFormat, err)
		}
		return checkSigningKey(k)
	default: // "EC PRIVATE KEY"
		k, err := x509.ParseECPrivateKey(found.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: sec1: %v", ErrKeyFormat, err)
		}
		return checkSigningKey(k)
	}
}

// parseDERKey tries the DER forms in turn: PKCS#8, PKCS#1, SEC 1.
func parseDERKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return checkSigningKey(k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return checkSigningKey(k)
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return checkSigningKey(k)
	}
	return nil, fmt.Errorf("%w: not a pem or der private key", ErrKeyFormat)
}

// LoadPKCS12 decodes a PKCS#12 (PFX, RFC 7292) file holding one private key, its
// certificate and optionally CA certificates, as exported by browsers, Windows and
// `openssl pkcs12 -export`. It returns the key, the certificate and the CA certificates
// (chain, in file order). The key must match the certificate and pass the policy of
// [LoadPrivateKey].
func LoadPKCS12(data []byte, password string) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
	if len(data) > limits.MaxKeyFile {
		return nil, nil, nil, fmt.Errorf("%w: pkcs#12 file over %d bytes", ErrKeyFormat, limits.MaxKeyFile)
	}
	if err := checkPFXWork(data); err != nil {
		return nil, nil, nil, err
	}
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, nil, nil, fmt.Errorf("%w: pkcs#12", ErrKeyPassword)
		}
		return nil, nil, nil, fmt.Errorf("%w: pkcs#12: %v", ErrKeyFormat, err)
	}
	signer, err := checkSigningKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return nil, nil, nil, fmt.Errorf("%w: pkcs#12 key does not match its certificate", ErrKeyFormat)
	}
	return signer, cert, chain, nil
}

// checkPFXWork refuses a PFX whose MAC key derivation asks for more than
// limits.MaxKDFIterations iterations: go-pkcs12 runs the MAC's KDF before anything else and
// does not cap it, so a crafted file could otherwise pin a CPU.
func checkPFXWork(data []byte) error {
	var pfx struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  struct {
			Mac        asn1.RawValue
			MacSalt    []byte
			Iterations int `asn1:"optional,default:1"`
		} `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return fmt.Errorf("%w: pkcs#12: %v", ErrKeyFormat, err)
	}
	if pfx.MacData.Iterations > limits.MaxKDFIterations {
		return fmt.Errorf("%w: pkcs#12 mac iterations over %d", ErrKeyFormat, limits.MaxKDFIterations)
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// LoadCertificates decodes every certificate in PEM input ("CERTIFICATE" blocks, other
// blocks skipped) or, when the input holds no PEM, in concatenated DER. It returns them in
// input order and fails when there are none.
func LoadCertificates(pemOrDER []byte) ([]*x509.Certificate, error) {
	if len(pemOrDER) > limits.MaxKeyFile {
		return nil, fmt.Errorf("%w: certificate file over %d bytes", ErrKeyFormat, limits.MaxKeyFile)
	}
	var certs []*x509.Certificate
	if !bytes.Contains(pemOrDER, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificates(pemOrDER)
		if err != nil {
			return nil, fmt.Errorf("%w: der certificates: %v", ErrKeyFormat, err)
		}
		certs = c
	} else {
		rest := pemOrDER
		for n := 0; ; n++ {
			if n > limits.MaxPEMBlocks {
				return nil, fmt.Errorf("%w: more than %d pem blocks", ErrKeyFormat, limits.MaxPEMBlocks)
			}
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: certificate %d: %v", ErrKeyFormat, len(certs)+1, err)
			}
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrKeyFormat)
	}
	if len(certs) > limits.MaxPEMBlocks {
		return nil, fmt.Errorf("%w: more than %d certificates", ErrKeyFormat, limits.MaxPEMBlocks)
	}
	return certs, nil
}
