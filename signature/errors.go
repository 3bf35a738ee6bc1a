package signature

import (
	"errors"
	"fmt"
)

// Sentinel errors. Validate reports what it could check in a Report; it returns an error only
// when there is nothing to report on (no trust anchors, an unreadable signature or document).
var (
	// ErrMalformed is matched by a FormatError: the signature could not be parsed.
	ErrMalformed = errors.New("signature: malformed signature")

	// ErrNoTrustAnchors reports a Policy without Roots: validation needs an explicit trust
	// decision.
	ErrNoTrustAnchors = errors.New("signature: policy has no trust anchors")

	// ErrUnsupported reports an algorithm, key type or option this package does not offer.
	ErrUnsupported = errors.New("signature: unsupported")

	// ErrKeyMismatch reports a signing key whose public key is not the certificate's.
	ErrKeyMismatch = errors.New("signature: key does not match certificate")

	// ErrCertificate reports a signing certificate that cannot sign documents (a CA
	// certificate, a key usage or extended key usage for other purposes, outside its
	// validity or revoked at the signing time, or a chain that is empty), through a
	// *CertificateError.
	ErrCertificate = errors.New("signature: unusable signing certificate")

	// ErrRevocationUnknown reports, through a *CertificateError, a signing certificate
	// whose revocation status Sign could not find (unless SignerOptions.SkipRevocationCheckUnsafe): no
	// responder answered usably and no CRL or OCSP response given counts. Try later, or
	// give the signer the revocation data.
	ErrRevocationUnknown = errors.New("signature: revocation status unknown")

	// ErrTimestamp reports a failed exchange with a time-stamping authority, or a
	// time-stamp token that does not match what was sent.
	ErrTimestamp = errors.New("signature: time-stamp failed")

	// ErrTooLarge reports an input over a cap in internal/limits.
	ErrTooLarge = errors.New("signature: input too large")
)

// CertificateError describes why NewSigner or Sign refuses a signing certificate. It names
// the failed check, never the key or the certificate's subject.
type CertificateError struct {
	// Check is the failed check: "chain" (no certificate, a nil one, or an issuer that
	// did not issue it), "basicConstraints" (a CA certificate), "keyUsage",
	// "extKeyUsage", "validity" (expired or not yet valid at the signing time) or
	// "revocation" (revoked, or a status that could not be found).
	Check string
	// Reason says why, lower-case.
	Reason string
	// Err is the sentinel: ErrCertificate, or ErrRevocationUnknown when the revocation
	// status could not be found (nothing was decided about the certificate).
	Err error
}

// Error names the failed check and its reason.
func (e *CertificateError) Error() string {
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Check, e.Reason)
}

// Unwrap returns the sentinel.
func (e *CertificateError) Unwrap() error { return e.Err }

func unusableCertificate(check, reason string) *CertificateError {
	return &CertificateError{Check: check, Reason: reason, Err: ErrCertificate}
}

// FormatError describes why a signature could not be parsed. It matches ErrMalformed.
type FormatError struct {
	Format string // "CAdES", "JAdES" or "" when the format could not be detected
	Reason string // the failed check, lower-case
	Err    error  // the underlying parse error, if any
}

// Error describes the failed check, with the format and the underlying error.
func (e *FormatError) Error() string {
	f := e.Format
	if f == "" {
		f = "signature"
	}
	if e.Err != nil {
		return fmt.Sprintf("signature: malformed %s: %s: %v", f, e.Reason, e.Err)
	}
	return fmt.Sprintf("signature: malformed %s: %s", f, e.Reason)
}

// Is reports whether target is ErrMalformed.
func (e *FormatError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the underlying parse error.
func (e *FormatError) Unwrap() error { return e.Err }

func malformed(format, reason string, err error) error {
	return &FormatError{Format: format, Reason: reason, Err: err}
}
