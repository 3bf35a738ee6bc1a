package limits

import "time"

// Caps of package interop on what another agency, a security server or anyone on the network
// may make it read or hold. A member is trusted for what it signs, not for its resource use.
const (
	// MaxInteropIDPart caps one part of an X-Road identifier (instance, member class, member
	// code, subsystem code, service code, service version), decoded. X-Road's central server
	// keeps them in columns of 255 characters.
	MaxInteropIDPart = 255

	// MaxInteropIDText caps the text form of an identifier (a header value or the identifier
	// part of a /r1 path), percent-encoded: six parts of MaxInteropIDPart bytes, each byte
	// possibly written as three characters, and their separators.
	MaxInteropIDText = 6 * (3*MaxInteropIDPart + 1)

	// MaxInteropRequestURI caps the request target of an incoming /r1 request (path and
	// query). PR-REST §4.2 asks for a limit and names 2,000 characters as what most clients
	// enforce; this leaves room for long service paths and queries.
	MaxInteropRequestURI = 8 << 10

	// MaxInteropMessageID caps an X-Road-Id: it is the message log's reference, which the
	// evidence log caps at 255 bytes.
	MaxInteropMessageID = MaxEvidenceRef

	// MaxInteropHeaderValue caps X-Road-UserId and X-Road-Issue.
	MaxInteropHeaderValue = 255

	// MaxInteropEnvelope caps a signed envelope (the compact JWS of a Dpi-Envelope or
	// Dpi-Envelope-Trailer field) with its certificate chain.
	MaxInteropEnvelope = 32 << 10

	// MaxInteropChain caps the certificates in an envelope's x5c: the signer's certificate
	// and its intermediates.
	MaxInteropChain = 4

	// MaxInteropFault caps an X-Road error body ({type, message, detail}) a client reads.
	MaxInteropFault = 64 << 10

	// MaxInteropInlineBody is the largest body that is held in memory so that its digest
	// goes in the envelope header, signed once. A larger body streams, and its digest is
	// signed again in the trailer once it has flowed.
	MaxInteropInlineBody = 64 << 10

	// MaxInteropSeenIDs caps the message IDs an in-memory replay cache holds by default;
	// when every one is still inside its window, new messages are refused rather than
	// letting an old one in.
	MaxInteropSeenIDs = 1 << 20

	// MaxInteropClockSkew caps the configurable window of time around now in which an
	// envelope's signing time is accepted.
	MaxInteropClockSkew = 10 * time.Minute
)
