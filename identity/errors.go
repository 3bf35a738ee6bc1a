package identity

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per class of failure. A rejected token yields a *RejectedError that
// wraps one of them, so callers match with errors.Is and read the detail with errors.As.
var (
	// ErrConfig reports an invalid Config or Issuer, found by a constructor.
	ErrConfig = errors.New("identity: invalid configuration")
	// ErrUnavailable reports that the IdP's discovery document or keys could not be
	// obtained: the token was not judged.
	ErrUnavailable = errors.New("identity: identity provider unavailable")

	// ErrMalformed: the token is not a compact JWS (or JWE) with JSON header and claims.
	ErrMalformed = errors.New("identity: malformed token")
	// ErrAlgorithm: the algorithm is none, HMAC, unknown or not allowed for the issuer.
	ErrAlgorithm = errors.New("identity: algorithm not allowed")
	// ErrHeader: the header carries key material (jwk, jku, x5u, x5c), a crit list, or a
	// typ of another kind of token.
	ErrHeader = errors.New("identity: forbidden header")
	// ErrUnknownKey: no key of the issuer's key set has the token's kid.
	ErrUnknownKey = errors.New("identity: unknown signing key")
	// ErrKeyMismatch: the kid names a key of another type, curve, algorithm or use, a key
	// that is too weak, or a key that has expired.
	ErrKeyMismatch = errors.New("identity: signing key does not fit the algorithm")
	// ErrCertificate: an x5c chain does not verify to the configured trust anchors, or its
	// leaf does not name the issuer.
	ErrCertificate = errors.New("identity: issuer certificate not trusted")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("identity: invalid signature")
	// ErrIssuer: the iss claim is not a configured issuer.
	ErrIssuer = errors.New("identity: untrusted issuer")
	// ErrAudience: aud does not contain the client ID or names an audience the client does
	// not trust, or azp names another client.
	ErrAudience = errors.New("identity: wrong audience")
	// ErrExpired: exp is missing or past.
	ErrExpired = errors.New("identity: token expired")
	// ErrNotYetValid: nbf is in the future.
	ErrNotYetValid = errors.New("identity: token not yet valid")
	// ErrIssuedAt: iat is missing or in the future.
	ErrIssuedAt = errors.New("identity: bad issued-at time")
	// ErrNonce: the nonce is missing or differs from the one the login sent.
	ErrNonce = errors.New("identity: nonce mismatch")
	// ErrHash: at_hash or c_hash does not match the access token or code.
	ErrHash = errors.New("identity: token hash mismatch")
	// ErrAuthTime: auth_time is missing, in the future, or older than max_age.
	ErrAuthTime = errors.New("identity: authentication too old")
	// ErrClaims: a required claim is missing or has the wrong type.
	ErrClaims = errors.New("identity: bad claims")
	// ErrLoA: the level of assurance is below the minimum; the error is a *LoAError.
	ErrLoA = errors.New("identity: level of assurance too low")
	// ErrNationalID: the national number the profile names is missing or invalid.
	ErrNationalID = errors.New("identity: bad national identity number")
	// ErrLogin: a login callback was refused (state, cookie, IdP error, code exchange).
	ErrLogin = errors.New("identity: login failed")
)

// RejectedError reports which check rejected a token. Check is a short stable name
// ("signature", "aud", "exp", "nonce", ...); Reason is a human detail that never contains
// the token, a key or a personal number.
type RejectedError struct {
	Check  string
	Reason string
	Err    error // the sentinel
}

// Error names the failed check and its reason.
func (e *RejectedError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("identity: token rejected: %s check failed", e.Check)
	}
	return fmt.Sprintf("identity: token rejected: %s check failed: %s", e.Check, e.Reason)
}

// Unwrap returns the sentinel.
func (e *RejectedError) Unwrap() error { return e.Err }

func reject(sentinel error, check, format string, a ...any) error {
	return &RejectedError{Check: check, Reason: fmt.Sprintf(format, a...), Err: sentinel}
}

// LoAError reports a level of assurance below the minimum asked for. It wraps ErrLoA.
type LoAError struct {
	Got, Want LoA
	ACR       string // the acr the IdP asserted, if any
}

// Error names both levels.
func (e *LoAError) Error() string {
	return fmt.Sprintf("identity: level of assurance %s is below the required %s", e.Got, e.Want)
}

// Unwrap returns ErrLoA.
func (e *LoAError) Unwrap() error { return ErrLoA }
