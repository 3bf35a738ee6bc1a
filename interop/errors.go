package interop

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per class of failure. The rejections of an envelope each have their
// own sentinel, and each of those wraps ErrRejected: errors.Is(err, ErrReplay) and
// errors.Is(err, ErrRejected) both hold for a replayed message. Errors that carry detail are
// *Error values wrapping one of them.
var (
	// ErrConfig reports a configuration that is missing something or contradicts itself.
	ErrConfig = errors.New("interop: invalid configuration")
	// ErrIdentifier reports an X-Road identifier that is malformed or breaks PR-REST §4.8.
	ErrIdentifier = errors.New("interop: invalid identifier")
	// ErrProtocol reports a request or response that does not follow the X-Road message
	// protocol for REST: a path that is not /r1/{serviceId}, a missing or malformed
	// X-Road header.
	ErrProtocol = errors.New("interop: not the X-Road message protocol for REST")

	// ErrRejected reports an envelope that was checked and refused. Each sentinel below
	// wraps it.
	ErrRejected = errors.New("interop: envelope rejected")
	// ErrMalformed reports a missing, oversize or malformed envelope (JOSE header,
	// signature, certificate chain, digest field).
	ErrMalformed = fmt.Errorf("%w: malformed", ErrRejected)
	// ErrAlgorithm reports an envelope signed with an algorithm the verifier does not allow.
	ErrAlgorithm = fmt.Errorf("%w: algorithm not allowed", ErrRejected)
	// ErrUnknownMember reports a sender the directory does not list, or a signer
	// certificate the directory does not list for that member.
	ErrUnknownMember = fmt.Errorf("%w: unknown member", ErrRejected)
	// ErrCertificate reports a signer certificate that does not chain to the roots, has
	// expired, is not yet valid, or may not sign.
	ErrCertificate = fmt.Errorf("%w: certificate not trusted", ErrRejected)
	// ErrSignature reports a signature that does not verify over the message received: the
	// method, path, a protocol header or the status differ from what was signed.
	ErrSignature = fmt.Errorf("%w: signature does not verify", ErrRejected)
	// ErrBody reports a body whose digest is not the one signed: the body was swapped,
	// truncated or extended.
	ErrBody = fmt.Errorf("%w: body does not match its digest", ErrRejected)
	// ErrRequestHash reports a response that is bound to another request.
	ErrRequestHash = fmt.Errorf("%w: response for another request", ErrRejected)
	// ErrReplay reports a message ID the receiver has already seen inside the window.
	ErrReplay = fmt.Errorf("%w: replayed message", ErrRejected)
	// ErrClockSkew reports a signing time outside the verifier's window around now.
	ErrClockSkew = fmt.Errorf("%w: signing time outside the window", ErrRejected)
)

// Error says which check failed. Check is a short stable name (the Check constants); Reason
// is a human detail that never holds a key, a body or a personal number.
type Error struct {
	Check  string
	Reason string
	Err    error // the sentinel
}

// The checks an *Error names.
const (
	CheckIdentifier  = "identifier"
	CheckPath        = "path"
	CheckHeader      = "header"
	CheckService     = "service"
	CheckEnvelope    = "envelope"
	CheckAlgorithm   = "alg"
	CheckMember      = "member"
	CheckCertificate = "certificate"
	CheckSignature   = "signature"
	CheckBody        = "body digest"
	CheckRequestHash = "request hash"
	CheckMessageID   = "message id"
	CheckReplay      = "replay"
	CheckTime        = "time"
	CheckConfig      = "config"

	// CheckProtocolVersion names a /rN path of a version other than r1.
	CheckProtocolVersion = "protocol version"
	// CheckNoEnvelope names a message that carries no envelope where one is required.
	CheckNoEnvelope = "no envelope"
)

// Error names the sentinel, the check and the reason.
func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%v: %s", e.Err, e.Check)
	}
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Check, e.Reason)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func fail(sentinel error, check, format string, a ...any) *Error {
	return &Error{Check: check, Reason: fmt.Sprintf(format, a...), Err: sentinel}
}
