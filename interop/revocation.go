package interop

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrRevocationUnknown reports that nobody could say whether a signer certificate was
// revoked: the checker failed, or answered RevocationUnknown. It is not a rejection (it does
// not wrap ErrRejected): the message may be good, and asking again later may decide.
var ErrRevocationUnknown = errors.New("interop: revocation status unknown")

// CheckRevocation is the check an *Error names when a signer certificate is revoked, or its
// status is unknown.
const CheckRevocation = "revocation"

// RevocationStatus is what a RevocationChecker found about a certificate chain. The zero
// value is RevocationUnknown, so a checker that forgets to set it refuses.
type RevocationStatus int

const (
	// RevocationUnknown says the status could not be found: no responder answered, no CRL
	// was at hand, or the answers did not cover the certificate.
	RevocationUnknown RevocationStatus = iota
	// RevocationGood says no certificate of the chain has been revoked.
	RevocationGood
	// RevocationRevoked says a certificate of the chain has been revoked.
	RevocationRevoked
)

// String returns "unknown", "good" or "revoked".
func (s RevocationStatus) String() string {
	switch s {
	case RevocationGood:
		return "good"
	case RevocationRevoked:
		return "revoked"
	}
	return "unknown"
}

// RevocationChecker says whether a signer's certificate, or one of its issuers, has been
// revoked (by OCSP, RFC 6960, or CRL, RFC 5280 §5, or anything else the caller trusts).
// interop does not fetch revocation data itself: the caller fills this seam, with
// package signature's revocation code, an OCSP cache, or the CRLs its deployment
// distributes. It is called on every envelope verified, so an implementation should cache
// answers until their nextUpdate; it must be safe for concurrent use.
type RevocationChecker interface {
	// CheckRevocation returns the status of chain, verified up to one of the verifier's
	// roots: chain[0] is the signer's certificate, each next one issued the one before,
	// and the last is the root, which is not checked. A non-nil error counts as
	// RevocationUnknown.
	CheckRevocation(ctx context.Context, chain []*x509.Certificate) (RevocationStatus, error)
}

// RevocationCheckerFunc lets a function be a RevocationChecker.
type RevocationCheckerFunc func(ctx context.Context, chain []*x509.Certificate) (RevocationStatus, error)

var _ RevocationChecker = RevocationCheckerFunc(nil)

// CheckRevocation calls f.
func (f RevocationCheckerFunc) CheckRevocation(ctx context.Context, chain []*x509.Certificate) (RevocationStatus, error) {
	return f(ctx, chain)
}

// checkRevocation asks the verifier's checker about chain, unless the verifier was built
// with SkipRevocationUnsafe. A revoked certificate is ErrCertificate, which the server
// answers with Client.CertValidation, as X-Road answers a revoked signer; an unknown status
// is ErrRevocationUnknown.
func (v *Verifier) checkRevocation(ctx context.Context, chain []*x509.Certificate) error {
	if v.revocation == nil {
		return nil
	}
	status, err := v.revocation.CheckRevocation(ctx, chain)
	if err != nil {
		return &Error{Check: CheckRevocation, Reason: "the checker failed: " + oneLineErr(err), Err: ErrRevocationUnknown}
	}
	switch status {
	case RevocationGood:
		return nil
	case RevocationRevoked:
		return fail(ErrCertificate, CheckRevocation, "revoked")
	}
	return fail(ErrRevocationUnknown, CheckRevocation, "nobody could say whether the certificate is revoked")
}

// oneLineErr is err's message, bounded, for an *Error's reason.
func oneLineErr(err error) string {
	s := fmt.Sprint(err)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
