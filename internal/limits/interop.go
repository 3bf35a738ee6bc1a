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

	// MaxInteropJWE caps an encrypted message (JWE, JSON serialization) read before it is
	// decrypted: a signed message of MaxInteropMessage bytes, encrypted and base64url
	// encoded, with its recipients.
	MaxInteropJWE = 40 << 20

	// MaxInteropJWEHeader caps a JWE's protected header and each recipient's header, once
	// decoded: an algorithm, an ephemeral key and a key identifier.
	MaxInteropJWEHeader = 4 << 10

	// MaxInteropRecipients caps the recipients of one JWE, sealed or opened: each recipient
	// costs an ECDH or RSA operation to the receiver looking for its own.
	MaxInteropRecipients = 16

	// MaxInteropMessageBody caps the body of a signed message (SignMessage,
	// VerifyMessage): the message is held in memory whole, unlike an HTTP body.
	MaxInteropMessageBody = 16 << 20

	// MaxInteropMessage caps a signed message (JWS, flattened JSON serialization): a body
	// of MaxInteropMessageBody bytes base64url encoded, its header and a certificate chain.
	MaxInteropMessage = MaxInteropMessageBody/3*4 + 64<<10

	// MaxInteropMessageLifetime caps the time between a signed message's signing and its
	// expiry: a receiver remembers its ID that long for replay defence.
	MaxInteropMessageLifetime = 30 * 24 * time.Hour

	// MaxInteropDirectory caps a signed directory document read from a file or over HTTP.
	MaxInteropDirectory = 8 << 20

	// MaxInteropDirectoryMembers caps the members one directory document lists.
	MaxInteropDirectoryMembers = 20000

	// MaxInteropMemberCertificates caps the certificates, and separately the subjects, one
	// directory entry lists for a member.
	MaxInteropMemberCertificates = 8

	// MaxInteropSubject caps a certificate subject a directory entry lists, as
	// x509.Certificate.Subject.String() writes it.
	MaxInteropSubject = 1 << 10

	// MaxInteropDirectoryValidity caps the time between a directory document's issue and
	// its expiry, so that a signed document cannot be replayed for longer than this after
	// a member was removed from it.
	MaxInteropDirectoryValidity = 31 * 24 * time.Hour

	// InteropRevocationTimeout caps the time the dpi command waits for one OCSP responder
	// or CRL distribution point while it checks an envelope's signer.
	InteropRevocationTimeout = 10 * time.Second

	// MaxInteropDirectoryFetch caps the time one fetch of a directory document over HTTP
	// may take.
	MaxInteropDirectoryFetch = 30 * time.Second
)
