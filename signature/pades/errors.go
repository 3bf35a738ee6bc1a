package pades

import (
	"errors"
	"fmt"
)

// Sentinel errors. Validate returns a report per signature for what it could check; it
// returns an error when there is nothing to report on: not a PDF, an encrypted one, one
// over a cap, or a policy without trust anchors.
var (
	// ErrMalformed reports a PDF that could not be read: not a PDF, a structure the PDF
	// library refuses, or a trailer without a catalog.
	ErrMalformed = errors.New("pades: malformed pdf")

	// ErrEncrypted reports an encrypted PDF: its strings and streams (the signature's
	// /Contents among them) are not what was signed in the clear, and this package neither
	// signs nor validates one.
	ErrEncrypted = errors.New("pades: encrypted pdf")

	// ErrTooLarge reports a PDF over a cap in internal/limits: too many revisions,
	// signatures or fields, or a tree too deep.
	ErrTooLarge = errors.New("pades: pdf over a limit")

	// ErrConfig reports a Config that NewSigner refuses, or a document the signer's
	// configuration cannot sign (a certification of a document already signed, a page
	// that does not exist).
	ErrConfig = errors.New("pades: unusable configuration")
)

// Error describes a refusal: the check that failed and why. Err is one of the sentinels
// (ErrMalformed may be joined with the PDF library's error). Messages never carry the
// document's content.
type Error struct {
	Check  string // e.g. "header", "encryption", "revisions", "byteRange", "level"
	Reason string // lower-case
	Err    error
}

// Error names the failed check and its reason.
func (e *Error) Error() string {
	if errors.Is(e.Err, ErrMalformed) && e.Err != ErrMalformed {
		return fmt.Sprintf("%v: %s: %s", ErrMalformed, e.Check, e.Reason)
	}
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Check, e.Reason)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func malformedError(check, reason string) *Error {
	return &Error{Check: check, Reason: reason, Err: ErrMalformed}
}

func configError(check, reason string) *Error {
	return &Error{Check: check, Reason: reason, Err: ErrConfig}
}
