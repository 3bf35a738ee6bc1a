package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

var asn1Null = asn1.RawValue{FullBytes: []byte{0x05, 0x00}}

// keyPolicy checks a public key against the algorithm policy: RSA of 2048 bits or more,
// ECDSA on P-256, P-384 or P-521, Ed25519.
func keyPolicy(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("rsa key of %d bits is under %d", k.N.BitLen(), MinRSABits)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("ecdsa curve is not allowed")
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("public key type %T is not allowed", pub)
	}
	return nil
}

// defaultHash picks the digest for a key: SHA-384 for P-384, SHA-512 for P-521 and Ed25519
// (RFC 8419 §3.1), SHA-256 otherwise.
func defaultHash(pub crypto.PublicKey) crypto.Hash {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return crypto.SHA384
		case elliptic.P521():
			return crypto.SHA512
		}
	case ed25519.PublicKey:
		return crypto.SHA512
	}
	return crypto.SHA256
}

// cmsSignatureAlgorithm returns the SignerInfo signatureAlgorithm for a key and digest:
// rsaEncryption (RFC 3370 §3.2), ecdsa-with-SHA* (RFC 5758 §3.2), id-Ed25519 (RFC 8419).
func cmsSignatureAlgorithm(pub crypto.PublicKey, h crypto.Hash) (pkix.AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1Null}, nil
	case *ecdsa.PublicKey:
		switch h {
		case crypto.SHA256:
			return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithS256}, nil
		case crypto.SHA384:
			return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithS384}, nil
		case crypto.SHA512:
			return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithS512}, nil
		}
	case ed25519.PublicKey:
		if h == crypto.SHA512 {
			return pkix.AlgorithmIdentifier{Algorithm: oidEd25519}, nil
		}
	}
	return pkix.AlgorithmIdentifier{}, ErrUnsupported
}

// cmsVerify checks a SignerInfo signature over the DER signed attributes.
func cmsVerify(pub crypto.PublicKey, sigAlg asn1.ObjectIdentifier, h crypto.Hash, signed, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		sh := h
		switch {
		case sigAlg.Equal(oidRSAEncryption):
		case sigAlg.Equal(oidSHA256WithRSA):
			sh = crypto.SHA256
		case sigAlg.Equal(oidSHA384WithRSA):
			sh = crypto.SHA384
		case sigAlg.Equal(oidSHA512WithRSA):
			sh = crypto.SHA512
		default:
			return errAlgorithm
		}
		if sh != h {
			return errAlgorithm
		}
		return rsa.VerifyPKCS1v15(k, h, digestOf(h, signed), sig)
	case *ecdsa.PublicKey:
		switch {
		case sigAlg.Equal(oidECPublicKey), sigAlg.Equal(oidECDSAWithS256) && h == crypto.SHA256,
			sigAlg.Equal(oidECDSAWithS384) && h == crypto.SHA384, sigAlg.Equal(oidECDSAWithS512) && h == crypto.SHA512:
		default:
			return errAlgorithm
		}
		if !ecdsa.VerifyASN1(k, digestOf(h, signed), sig) {
			return errBadSignature
		}
		return nil
	case ed25519.PublicKey:
		if !sigAlg.Equal(oidEd25519) {
			return errAlgorithm
		}
		if !ed25519.Verify(k, signed, sig) {
			return errBadSignature
		}
		return nil
	}
	return errAlgorithm
}

var (
	errAlgorithm    = fmt.Errorf("%w: signature algorithm does not match the key or digest", ErrUnsupported)
	errBadSignature = fmt.Errorf("signature value does not verify")
)

func digestOf(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// signDigest signs with any crypto.Signer: a digest for RSA PKCS #1 v1.5 and ECDSA, the
// message itself for Ed25519.
func signDigest(key crypto.Signer, h crypto.Hash, msg []byte, pss bool) ([]byte, error) {
	switch key.Public().(type) {
	case ed25519.PublicKey:
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	case *rsa.PublicKey:
		if pss {
			return key.Sign(rand.Reader, digestOf(h, msg), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
		}
	}
	return key.Sign(rand.Reader, digestOf(h, msg), h)
}

func algorithmName(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "ECDSA"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return "unknown"
}

// chainKeyPolicy applies keyPolicy to every certificate of a verified chain.
func chainKeyPolicy(chain []*x509.Certificate) error {
	for _, c := range chain {
		if err := keyPolicy(c.PublicKey); err != nil {
			return fmt.Errorf("certificate %q: %w", c.Subject.CommonName, err)
		}
	}
	return nil
}
