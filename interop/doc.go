// Package interop carries requests and responses between agencies as the X-Road message
// protocol for REST does, with or without a security server: member and service
// identifiers, an http.RoundTripper for the client side and an http.Handler middleware for
// the server side, and, where no security server stands between the two, signed envelopes
// that bind each response to its request, replay defence and a message log in the evidence
// log.
//
// # Standards
//
//   - X-Road Message Protocol for REST (PR-REST), version 1.0.3 and later: the /r1 request
//     target (§4.1), percent-encoding of identifier parts (§4.2), the X-Road-* header fields
//     (§4.3), the error form X-Road-Error + {type, message, detail} (§4.6) and the
//     identifier character restrictions (§4.8). The worked examples of §4.1, §4.2, §4.3,
//     §4.6 and §6 are test vectors in testdata/pr-rest-vectors.json.
//   - RFC 7515 JWS, compact serialization with a detached payload (Appendix F) for
//     envelopes, with an attached one for directory documents (§7.1), the flattened JSON
//     serialization (§7.2.2) for signed messages; RFC 7518 §3.4 ES256 and RFC 8037 §3.1
//     EdDSA (Ed25519); x5c (RFC 7515 §4.1.6).
//   - RFC 7516 JWE, general JSON serialization (§7.2.1), with RFC 7518 §4.6 ECDH-ES+A256KW,
//     §4.3 RSA-OAEP-256 and §5.3 A256GCM.
//   - RFC 9530 Content-Digest (sha-256) for the digest of a body held before it is sent.
//   - RFC 5280 certificate path validation, through crypto/x509.
//   - CloudEvents 1.0: the context attributes (core specification §3), the JSON event
//     format (§3, §3.1 for data and data_base64) and the NATS protocol binding's
//     structured content mode, for events published through NATS JetStream.
//
// # Identifiers
//
// ClientID names a member or one of its subsystems, INSTANCE/CLASS/MEMBER[/SUBSYSTEM];
// ServiceID a service, INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/VERSION];
// RepresentedParty the party of X-Road-Represented-Party, [CLASS/]CODE. Each part is at most
// 255 bytes of A-Z, a-z, 0-9 and '()+,-.=? (§4.8), written percent-encoded (§4.2: "?" as
// %3F). A /r1 path carries exactly five service parts, as X-Road's security server reads
// them: what follows is the service's own path, so a version cannot be sent over REST.
//
// # With a security server
//
// Set TransportConfig.SecurityServer and point requests at the client's security server:
// the transport sends /r1/{serviceId}/path with X-Road-Client and X-Road-Id, and the
// security server signs, verifies and logs. Behind the provider's security server, set
// HandlerConfig.SecurityServer: the handler reads the X-Road fields the security server
// passes and gives them to the service as a Message.
//
// # Without a security server: envelopes
//
// The handler given to NewHandler sees the service's own path (/r1/{serviceId} stripped,
// as a provider behind a security server does) and finds the rest in MessageFrom.
//
// Every request and response carries an envelope in the Dpi-Envelope field: a compact JWS
// with a detached payload, signed with the member's crypto.Signer (ES256 or EdDSA), its
// certificate chain in x5c and its signing time in iat. The payload, which is not sent,
// is a JSON object the receiver rebuilds from the message it received: EnvelopeFormat, the
// kind of message, the method and request target or the status, X-Road-Client,
// X-Road-Service, X-Road-Id, X-Road-UserId, X-Road-Represented-Party, X-Road-Issue,
// Content-Type, the request hash and the body's digest. A response's X-Road-Request-Hash is
// the base64 SHA-512 of its request's envelope, so a response answers one request only.
//
// Bodies stream, in constant memory at any size. A body of up to
// limits.MaxInteropInlineBody bytes (64 KiB) is held, and its SHA-256 goes in the
// Content-Digest field the envelope signs. A longer request body whose digest the client
// knows before sending (a Content-Digest the caller sets, see ContentDigest, or one the
// Transport computes from a copy the request's GetBody gives) is signed the same way and
// streams; the client hashes it again as it goes, and fails the request before the body's
// end when it is not the body declared. Any other longer body is sent as it comes: the
// envelope signs "trailer" in place of the digest, and a second JWS, the
// Dpi-Envelope-Trailer trailer field, signs the digest and the hash of the envelope once
// the body has flowed. The
// receiver hashes the body as it reads it, and the Read that would return io.EOF returns the
// rejection instead when the body is not the one signed: trust a body only once it has been
// read to the end. A request's envelope is verified before the handler runs, so the handler
// knows who asks; a request body that fails at its end turns a held response into a
// Client.InvalidBody error, and leaves a streamed one without its trailer, which the client
// then refuses.
//
// A response without a body on the wire (the answer to a HEAD, a 204 or a 304) signs the
// empty body's digest, whatever the handler wrote, and the client checks it before
// RoundTrip returns. Through a reverse proxy (tested with httputil.ReverseProxy): the
// envelope, Content-Digest and the X-Road fields pass as headers, and a streamed response's
// trailer passes; a streamed request's trailer does not (Go's proxy drops request
// trailers), so a request whose digest was signed in a trailer is refused with
// Client.InvalidBody, never accepted unsigned. On such paths, give a long request body's
// digest up front (tested with 64 MiB through httputil.ReverseProxy).
//
// # Trust
//
// A Verifier trusts nothing by default: it needs the roots a signer's certificate must
// chain to, a Directory saying which certificates (or subjects) may sign for which member,
// and a revocation decision: a RevocationChecker the caller fills (with package
// signature's OCSP and CRL code, a cache, its own CRLs), or SkipRevocationUnsafe, said out
// loud; it allows ES256 and EdDSA only, or a subset. An envelope is refused, with an *Error
// naming the check and a sentinel that wraps ErrRejected, when it is missing, oversize or
// malformed, or has a header parameter other than alg, typ, x5c and iat (ErrMalformed);
// signed with another algorithm (ErrAlgorithm); from a sender the directory does not list,
// or with a certificate not listed for it (ErrUnknownMember); with a certificate that does
// not chain to the roots, has expired, may not sign or is revoked (ErrCertificate); when
// nobody can say whether it is revoked (ErrRevocationUnknown, not a rejection); when the signature
// does not cover what was received (ErrSignature); when the body is not the one signed
// (ErrBody); for a response bound to another request (ErrRequestHash); for a message ID
// already seen (ErrReplay); or signed outside the window around now (ErrClockSkew).
//
// Over HTTP the server answers a refusal in X-Road's error form, status 400 and a type
// naming what the client sent: Client.BadRequest, Client.InvalidProtocolVersion,
// Client.UnknownService, Client.MissingSignature, Client.MalformedSignature,
// Client.UnsupportedAlgorithm, Client.UnknownMember, Client.CertValidation,
// Client.InvalidSignatureValue, Client.InvalidBody, Client.DuplicateMessageId,
// Client.ClockSkew; and its own failures with status 500: Server.ServerProxy.MissingValidationInfo
// (nobody could say whether the signer's certificate is revoked),
// Server.ServerProxy.OutdatedGlobalConf (the directory is unavailable or has expired),
// Server.ServerProxy.MalformedGlobalConf (the directory held is not valid),
// Server.ServerProxy.DatabaseError (the replay store), Server.ServerProxy.LoggingFailed (the
// message log), Server.ServerProxy.CannotCreateSignature, Server.ServerProxy.InternalError.
// The names are X-Road's error codes, but for DuplicateMessageId and ClockSkew: X-Road has no
// replay defence and no window on a message's signing time. A 500 carries a fixed message
// that names no responder, file or database; its detail is the key to the server's log line.
//
// # Replay defence
//
// The server accepts a message ID from a client once: it records the pair in a SeenIDs
// store until the envelope's signing time plus the verifier's window, after which the
// envelope is refused as too old anyway. NewMemorySeenIDs keeps them in memory, bounded,
// and refuses new messages rather than forget an unexpired one; OpenSeenIDs keeps them in
// a table of the block's database, under a unique key, for many instances.
//
// # Message log
//
// With a Log, every message sent and received is appended to an evidence.Log: kind
// interop.request.sent, interop.request.received, interop.response.sent or
// interop.response.received, the message ID as the reference, LogMeta as the metadata
// (client, service, method, path, status, signing time, body digest and size, request
// hash, direction, whether it was signed and read whole) and, only with LogBodies, the body
// as the erasable payload. A request and its response are appended together, as one batch:
// the server appends them before it releases a held response or signs a streamed one's
// trailer, the client once it has read the response's body to its end.
//
// # Events
//
// A Publisher signs events and publishes them to NATS JetStream; a Consumer reads them
// from a JetStream pull consumer, verifies each and hands it to a handler, at least once.
// An Event is a CloudEvents 1.0 event (id, source, type, subject, time, datacontenttype,
// dataschema, data) sent in structured content mode, the message's data the JSON event
// format (§3, data_base64 for data that is not JSON) and its Content-Type EventMediaType.
// Its source is the publisher's ClientID. The same envelope signs it as signs a request:
// a compact JWS with a detached payload in the message's Dpi-Envelope header, whose
// signing input has kind "event", the source as the client, the event ID, the media type
// and the Content-Digest of the event's JSON exactly as sent, so every attribute and the
// data are covered, and the Verifier that checks requests checks events, at the time the
// stream stored each. The Nats-Msg-Id header is the event ID, so the stream stores an event
// published twice within its duplicate window once, and the consumer refuses a message
// whose Nats-Msg-Id is not the signed ID. An event the handler fails is delivered again; one
// that is unsigned, forged, from a sender the directory does not list, signed outside the
// window or not a CloudEvent this package reads (an extension attribute, an attribute
// twice) is terminated, never reaches the handler, and is reported with an *Error.
//
// # Trust directory
//
// A directory document is a JWS (typ dpi-directory+jws, alg ES256 or EdDSA, x5c) over a
// JSON DirectoryDocument: an X-Road instance, its members with their certificates or
// subjects and endpoints, an issue time and an expiry at most 31 days later. SignDirectory
// makes one; VerifyDirectory checks one against Anchors, one per instance: the signer's
// chain must lead to the roots of the anchor of the instance the document names, and every
// member must belong to that instance, so one country's anchor never vouches for another
// country's members. A RemoteDirectory is a Directory that reads one document per instance
// over HTTPS or from a file, verifies it, caches it for Refresh, and while fetches fail
// keeps the last good one until its expiry, never after (ErrDirectoryUnavailable); it never
// replaces a document with an older one. Federating with another country is adding its
// DirectorySource.
//
// # Messages outside HTTP, and encryption
//
// Signer.SignMessage signs a body with its routing fields (client, service, id, iat, exp)
// in the protected header of a flattened JSON JWS whose payload is the body itself;
// Verifier.VerifyMessage checks it as an envelope is checked, and its expiry, and records
// its ID in a SeenIDs store. Seal encrypts any plaintext (a signed message, typically) to
// one or several Recipients, P-256 or RSA keys, as a general JSON JWE; an Opener decrypts
// with the receiver's key. Open refuses, before any key is used, every header parameter
// outside a short allow-list (zip, crit, jku, p2c, ...), other algorithms, and more than
// limits.MaxInteropRecipients recipients. Nothing is signed by encryption alone: seal a
// signed message. The dpi command's "envelope seal" and "envelope open" are these calls.
//
// # Example
//
//	signer, _ := interop.NewSigner(key, chain)
//	verifier, _ := interop.NewVerifier(interop.VerifierConfig{Roots: roots, Directory: dir, Revocation: checker})
//	// client side
//	t, _ := interop.NewTransport(interop.TransportConfig{
//		Client: client, Service: service, Signer: signer, Verifier: verifier, Log: log})
//	resp, err := (&http.Client{Transport: t}).Get("https://agency-b.example/v1/persons/42")
//	// server side
//	h, _ := interop.NewHandler(interop.HandlerConfig{
//		Provider: provider, Signer: signer, Verifier: verifier, Seen: seen, Log: log}, mux)
//	// in mux's handlers: msg, _ := interop.MessageFrom(r.Context()); msg.Client, msg.UserID
//
// # What it does not do yet
//
// Not built yet: encryption of HTTP bodies on the way (Seal a signed message instead); a
// revocation checker of its own (the block asks the caller's; the dpi command brings one).
// An Opener takes a key that keeps its secret, as an HSM's does: a crypto.Decrypter for RSA
// or an ECDHKey for P-256. Trailers need HTTP/1.1 chunked encoding or HTTP/2 end to end. It
// never runs a security server, does not carry SOAP, and does not follow redirects it is
// not told to (PR-REST §4.4).
package interop
