package notify

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors, one per class of failure. Errors that carry detail are *Error values that
// wrap one of them: match with errors.Is, read the detail with errors.As.
var (
	// ErrConfig reports a Config that is missing something or contradicts itself.
	ErrConfig = errors.New("notify: invalid configuration")
	// ErrTemplate reports a template that cannot be parsed.
	ErrTemplate = errors.New("notify: template rejected")
	// ErrInput reports a message the outbox refuses when it is created: a personalisation
	// field missing or not in the template, an unknown channel, an address the channel
	// cannot reach, content too long.
	ErrInput = errors.New("notify: message rejected")
	// ErrNotFound reports a notification the outbox does not hold.
	ErrNotFound = errors.New("notify: not found")

	// ErrPermanent is what a Channel returns when the receiver refused the notification
	// and sending it again will not help: the notification becomes permanent-failure.
	ErrPermanent = errors.New("notify: delivery refused")
	// ErrTemporary is what a Channel returns when the receiver failed for now (busy, rate
	// limited, down): the notification is tried again on the retry schedule, and becomes
	// temporary-failure after the last attempt.
	ErrTemporary = errors.New("notify: delivery failed for now")
	// ErrEndpointGone is what a Channel returns when the receiver asked never to be sent
	// anything again (HTTP 410 Gone): the notification becomes permanent-failure and the
	// outbox disables the endpoint until Outbox.EnableEndpoint.
	ErrEndpointGone = errors.New("notify: endpoint gone")

	// ErrSignature reports a webhook request whose headers, timestamp or signatures do not
	// verify.
	ErrSignature = errors.New("notify: webhook signature rejected")
)

// Error says which check failed. Check is a short stable name ("personalisation", "http
// status", "timestamp", ...); Reason is a human detail that never holds a key, a secret or a
// personalisation value.
type Error struct {
	Check  string
	Reason string
	// RetryAfter, on an ErrTemporary from a channel, is how long the receiver asked to be
	// left alone (an HTTP Retry-After); zero follows the retry schedule.
	RetryAfter time.Duration
	Err        error // the sentinel
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
