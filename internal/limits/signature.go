package limits

// Caps for package signature. A detached signature is small (a CMS SignedData or a compact
// JWS with its certificates and one time-stamp token); the signed document itself is streamed
// and has no cap, except where an algorithm cannot stream (see MaxBufferedPayload).
const (
	// MaxSignature caps an encoded CAdES or JAdES signature given to signature.Validate.
	MaxSignature = 4 << 20

	// MaxSignatureCertificates caps the certificates carried in one signature, and the
	// certificates in a chain that revocation is checked for.
	MaxSignatureCertificates = 32

	// MaxSignedAttributes caps the signed (and, separately, the unsigned) attributes of one
	// CMS SignerInfo.
	MaxSignedAttributes = 32

	// MaxJWSHeader caps the decoded protected header of a JWS (it carries x5c, so it is
	// larger than a token header).
	MaxJWSHeader = 256 << 10

	// MaxBufferedPayload caps a document signed or validated with EdDSA in JAdES: pure
	// Ed25519 signs the whole JWS signing input, so that document is held in memory.
	MaxBufferedPayload = 64 << 20

	// MaxOCSPResponse caps an OCSP response read from a responder or from a file.
	MaxOCSPResponse = 64 << 10

	// MaxCRL caps a certificate revocation list read from a distribution point or from a
	// file.
	MaxCRL = 16 << 20

	// MaxRevocationFile caps a file of CRLs or OCSP responses given to signature.LoadCRLs
	// or LoadOCSPResponses (and to dpi verify and sign --crl, --ocsp): a MaxCRL list in PEM
	// is a third larger than its DER.
	MaxRevocationFile = 24 << 20

	// MaxRevocationItems caps the CRLs or OCSP responses (or PEM blocks) in one such file,
	// and the --crl and --ocsp files one dpi command reads.
	MaxRevocationItems = 64

	// MaxTSAResponse caps an RFC 3161 time-stamp response read from a TSA.
	MaxTSAResponse = 256 << 10
)

// MaxSignatureRevocationValues caps the CRLs and OCSP responses carried in one signature
// (CMS SignedData.crls, for CAdES-BASELINE-LT).
const MaxSignatureRevocationValues = 64

// MaxSignatureTimestamps caps the signature and archive time-stamps of one CAdES signature
// (each is validated, with its chain and revocation data): a renewal every few years for
// a century stays below it.
const MaxSignatureTimestamps = 32
