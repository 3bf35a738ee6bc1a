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
