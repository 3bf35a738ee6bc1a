package signature

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"hash"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Encrypted PKCS#8 (RFC 5958 §3) with PBES2 (RFC 8018 §6.2): the form `openssl genpkey
// -aes-256-cbc` and `openssl pkcs8 -topk8` write. Only PBKDF2 key derivation and AES-CBC
// encryption are accepted; PBES1 (DES, RC2, MD5) is refused.
var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	prfs      = []struct {
		oid asn1.ObjectIdentifier
		h   func() hash.Hash
	}{
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}, sha1.New}, // hmacWithSHA1, the RFC 8018 default
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, sha256.New},
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}, sha512.New384},
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}, sha512.New},
	}
	aesCBC = []struct {
		oid    asn1.ObjectIdentifier
		keyLen int
	}{
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, 16},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, 24},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, 32},
	}
)

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 returns the PrivateKeyInfo DER inside an EncryptedPrivateKeyInfo.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	bad := func(reason string) error { return fmt.Errorf("%w: encrypted pkcs#8: %s", ErrKeyFormat, reason) }
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, bad("malformed")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, bad("only pbes2 is supported")
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, bad("malformed pbes2 parameters")
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, bad("only pbkdf2 key derivation is supported")
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, bad("malformed pbkdf2 parameters")
	}
	if kdf.Iterations < 1 || kdf.Iterations > limits.MaxKDFIterations {
		return nil, bad(fmt.Sprintf("pbkdf2 iterations outside 1..%d", limits.MaxKDFIterations))
	}
	prf := prfs[0].h
	if len(kdf.PRF.Algorithm) > 0 {
		prf = nil
		for _, p := range prfs {
			if p.oid.Equal(kdf.PRF.Algorithm) {
				prf = p.h
			}
		}
		if prf == nil {
			return nil, bad("unsupported pbkdf2 prf")
		}
	}
	keyLen := 0
	for _, c := range aesCBC {
		if c.oid.Equal(params.EncryptionScheme.Algorithm) {
			keyLen = c.keyLen
		}
	}
	if keyLen == 0 {
		return nil, bad("only aes-cbc encryption is supported")
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, bad("pbkdf2 key length does not match the cipher")
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 || len(iv) != aes.BlockSize {
		return nil, bad("malformed aes-cbc iv")
	}
	ct := info.EncryptedData
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, bad("ciphertext is not whole blocks")
	}
	if len(password) == 0 {
		return nil, fmt.Errorf("%w: the key is encrypted", ErrKeyPassword)
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, bad("pbkdf2")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, bad("aes")
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	// PKCS#5 padding. A wrong password fails here (or, rarely, in the PKCS#8 parse).
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, fmt.Errorf("%w: encrypted pkcs#8", ErrKeyPassword)
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("%w: encrypted pkcs#8", ErrKeyPassword)
		}
	}
	return pt[:len(pt)-pad], nil
}
