package limits

// Caps for the protocol peers in package dpitest. Tests point arbitrary clients (and fuzzers)
// at these servers, so every request body is read through a cap.
const (
	// MaxOCSPRequest caps an OCSP request (RFC 6960 §4.1) read by the dpitest responder, over
	// POST or in a GET path. A request for one certificate is about 100 bytes.
	MaxOCSPRequest = 16 << 10

	// MaxTSARequest caps an RFC 3161 TimeStampReq read by the dpitest time-stamp authority. A
	// request with a SHA-512 imprint, a nonce and a policy is under 200 bytes.
	MaxTSARequest = 16 << 10
)

// Caps for the key loaders of package signature (signature/keys.go). Key files come from
// the operator, not from strangers, but the loaders are also fuzzed and used by the CLI.
const (
	// MaxKeyFile caps a private key, PKCS#12 or certificate file given to a loader.
	MaxKeyFile = 1 << 20

	// MaxPEMBlocks caps the PEM blocks (and certificates) read from one file.
	MaxPEMBlocks = 64

	// MaxKDFIterations caps the PBKDF2 iterations of an encrypted PKCS#8 key and the MAC
	// iterations of a PKCS#12 file: a work factor an attacker who crafts the file would
	// otherwise choose. OpenSSL writes 2048 (PKCS#8) and 2048 or 10000 (PKCS#12); OWASP
	// recommends 600000 for PBKDF2-HMAC-SHA256.
	MaxKDFIterations = 4_000_000

	// MaxPINFile caps a PKCS#11 PIN read from an RFC 7512 pin-source file.
	MaxPINFile = 1 << 10

	// MaxPKCS11URI caps an RFC 7512 pkcs11: URI.
	MaxPKCS11URI = 4 << 10
)
