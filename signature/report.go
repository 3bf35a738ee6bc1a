package signature

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// Indication is the main status of a validation, named as in ETSI EN 319 102-1 §5.1.3.
type Indication string

// Indications of ETSI EN 319 102-1 Table 4.
const (
	TotalPassed   Indication = "TOTAL_PASSED"
	TotalFailed   Indication = "TOTAL_FAILED"
	Indeterminate Indication = "INDETERMINATE"
)

// SubIndication says why a validation did not pass, named as in ETSI EN 319 102-1 Table 5.
type SubIndication string

// Sub-indications this package reports. Under TOTAL_FAILED: FormatFailure, HashFailure,
// SigCryptoFailure, Revoked, Expired, NotYetValid. Under INDETERMINATE: the others.
const (
	FormatFailure                  SubIndication = "FORMAT_FAILURE"
	HashFailure                    SubIndication = "HASH_FAILURE"
	SigCryptoFailure               SubIndication = "SIG_CRYPTO_FAILURE"
	Revoked                        SubIndication = "REVOKED"
	Expired                        SubIndication = "EXPIRED"
	NotYetValid                    SubIndication = "NOT_YET_VALID"
	ChainConstraintsFailure        SubIndication = "CHAIN_CONSTRAINTS_FAILURE"
	CertificateChainGeneralFailure SubIndication = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	CryptoConstraintsFailure       SubIndication = "CRYPTO_CONSTRAINTS_FAILURE"
	SigConstraintsFailure          SubIndication = "SIG_CONSTRAINTS_FAILURE"
	NoSigningCertificateFound      SubIndication = "NO_SIGNING_CERTIFICATE_FOUND"
	NoCertificateChainFound        SubIndication = "NO_CERTIFICATE_CHAIN_FOUND"
	RevokedNoPOE                   SubIndication = "REVOKED_NO_POE"
	RevokedCANoPOE                 SubIndication = "REVOKED_CA_NO_POE"
	OutOfBoundsNoPOE               SubIndication = "OUT_OF_BOUNDS_NO_POE"
	TryLater                       SubIndication = "TRY_LATER"
)

// Report is the outcome of Validate, modelled on the validation report of ETSI EN 319 102-1
// §5.1.3 and TS 119 102-2. Its JSON field names are part of the API:
//
//	indication          TOTAL_PASSED, TOTAL_FAILED or INDETERMINATE
//	subIndication       why not TOTAL_PASSED (absent when passed)
//	format              format and level reached, e.g. "CAdES-BASELINE-LT", "JAdES-BASELINE-B"
//	signedBy            the signing certificate's subject distinguished name
//	signingTime         the signing time the signer claims (signing-time, sigT), if any
//	bestSignatureTime   the earliest time the signature is proven to exist: the signature
//	                    time-stamp's time, or else the validation time
//	validationTime      the time the validation was made for
//	digestAlgorithm     e.g. "SHA-256"
//	signatureAlgorithm  e.g. "ECDSA", "RSA", "Ed25519", "ES256", "PS256"
//	chain               signing certificate first, trust anchor last
//	timestamp           the signature time-stamp, if any
//	archiveTimestamps   the archive time-stamps (CAdES-BASELINE-LTA), latest first
//	revocation          one entry per certificate whose status was checked
//	errors, warnings    human-readable lines, lower-case
type Report struct {
	Indication         Indication         `json:"indication"`
	SubIndication      SubIndication      `json:"subIndication,omitempty"`
	Format             string             `json:"format"`
	SignedBy           string             `json:"signedBy,omitempty"`
	SigningTime        *time.Time         `json:"signingTime,omitempty"`
	BestSignatureTime  time.Time          `json:"bestSignatureTime"`
	ValidationTime     time.Time          `json:"validationTime"`
	DigestAlgorithm    string             `json:"digestAlgorithm,omitempty"`
	SignatureAlgorithm string             `json:"signatureAlgorithm,omitempty"`
	Chain              []CertificateInfo  `json:"chain,omitempty"`
	Timestamp          *TimestampInfo     `json:"timestamp,omitempty"`
	ArchiveTimestamps  []TimestampInfo    `json:"archiveTimestamps,omitempty"`
	Revocation         []RevocationStatus `json:"revocation,omitempty"`
	Errors             []string           `json:"errors,omitempty"`
	Warnings           []string           `json:"warnings,omitempty"`

	// SignerCertificate is the signing certificate, when it was found; not in JSON (the
	// chain carries its description).
	SignerCertificate *x509.Certificate `json:"-"`
}

// Passed reports whether the indication is TOTAL_PASSED.
func (r *Report) Passed() bool { return r != nil && r.Indication == TotalPassed }

// CertificateInfo describes one certificate of the chain.
type CertificateInfo struct {
	Subject      string    `json:"subject"`      // distinguished name, RFC 4514 string form
	Issuer       string    `json:"issuer"`       // distinguished name, RFC 4514 string form
	SerialNumber string    `json:"serialNumber"` // hexadecimal
	NotBefore    time.Time `json:"notBefore"`    // start of validity, UTC
	NotAfter     time.Time `json:"notAfter"`     // end of validity, UTC
	SHA256       string    `json:"sha256"`       // hexadecimal fingerprint of the DER certificate
}

// TimestampInfo describes a signature time-stamp (RFC 3161).
type TimestampInfo struct {
	Time   time.Time `json:"time"`             // genTime, when Valid
	TSA    string    `json:"tsa"`              // subject of the TSA certificate
	Valid  bool      `json:"valid"`            // imprint, signature and TSA chain checked
	Reason string    `json:"reason,omitempty"` // why the time-stamp was ignored, lower-case
}

// RevocationStatus is the revocation status found for one certificate of the chain.
type RevocationStatus struct {
	Subject   string     `json:"subject"`             // the certificate's subject
	Source    string     `json:"source,omitempty"`    // "OCSP" or "CRL"
	Status    string     `json:"status"`              // "good", "revoked" or "unknown"
	RevokedAt *time.Time `json:"revokedAt,omitempty"` // revocation time, when revoked
	Reason    string     `json:"reason,omitempty"`    // why the status is unknown
	// Offline is true when the status comes from data the caller gave (Policy.CRLs or
	// Policy.OCSPResponses): nothing was fetched for this certificate.
	Offline bool `json:"offline,omitempty"`
	// Embedded is true when the status comes from revocation data the signature carries
	// (SignedData.crls of a CAdES-BASELINE-LT signature): nothing was fetched for this
	// certificate.
	Embedded bool `json:"embedded,omitempty"`
}

func certInfo(c *x509.Certificate) CertificateInfo {
	sum := sha256.Sum256(c.Raw)
	return CertificateInfo{
		Subject:      c.Subject.String(),
		Issuer:       c.Issuer.String(),
		SerialNumber: hex.EncodeToString(c.SerialNumber.Bytes()),
		NotBefore:    c.NotBefore.UTC(),
		NotAfter:     c.NotAfter.UTC(),
		SHA256:       hex.EncodeToString(sum[:]),
	}
}

// fail sets the indication unless one was already set: the first failure found wins, and
// checks run from the most to the least conclusive.
func (r *Report) fail(ind Indication, sub SubIndication, msg string) {
	if r.Indication == "" {
		r.Indication, r.SubIndication = ind, sub
	}
	r.Errors = append(r.Errors, msg)
}

func (r *Report) warn(msg string) { r.Warnings = append(r.Warnings, msg) }

func (r *Report) decided() bool { return r.Indication != "" }
