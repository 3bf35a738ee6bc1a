package consent

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per class of failure. Errors that carry detail are *Error values that
// wrap one of them: match with errors.Is, read the detail with errors.As.
var (
	// ErrConfig reports a Config that is missing something or contradicts itself.
	ErrConfig = errors.New("consent: invalid configuration")
	// ErrInput reports a record, request or filter the store refuses.
	ErrInput = errors.New("consent: input rejected")
	// ErrNotFound reports a record the store does not hold.
	ErrNotFound = errors.New("consent: not found")
	// ErrTransition reports a status change the record's status does not allow, such as
	// withdrawing a withdrawn consent.
	ErrTransition = errors.New("consent: status change not allowed")
	// ErrNotYours reports a person acting on a record that is another person's.
	ErrNotYours = errors.New("consent: record of another person")
	// ErrReceipt reports a receipt that is malformed, signed with another key or an
	// algorithm not allowed, or whose signature does not verify.
	ErrReceipt = errors.New("consent: receipt rejected")
	// ErrTampered reports stored records that differ from what the evidence log says.
	ErrTampered = errors.New("consent: store does not verify")
)

// Error says which check failed. Check is a short stable name ("status", "signature",
// "recipient", ...); Reason is a human detail that never holds a key, a token or a
// personal number.
type Error struct {
	Check  string
	Reason string
	Err    error // the sentinel
}

// Error names the sentinel, the check and the reason.
func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%v: %s", e.Err, e.Check)
	}
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Check, e.Reason)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func fail(sentinel error, check, format string, a ...any) error {
	return &Error{Check: check, Reason: fmt.Sprintf(format, a...), Err: sentinel}
}
