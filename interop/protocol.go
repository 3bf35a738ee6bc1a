package interop

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// The HTTP fields of the X-Road message protocol for REST (PR-REST §4.3), and the two that
// carry an envelope.
const (
	HeaderClient           = "X-Road-Client"
	HeaderService          = "X-Road-Service"
	HeaderID               = "X-Road-Id"
	HeaderUserID           = "X-Road-UserId"
	HeaderRepresentedParty = "X-Road-Represented-Party"
	HeaderIssue            = "X-Road-Issue"
	HeaderRequestHash      = "X-Road-Request-Hash"
	HeaderError            = "X-Road-Error"

	// HeaderEnvelope carries a message's signed envelope: a compact JWS with a detached
	// payload.
	HeaderEnvelope = "Dpi-Envelope"
	// HeaderEnvelopeTrailer is the trailer field that signs the digest of a body too large
	// to be held before it was sent.
	HeaderEnvelopeTrailer = "Dpi-Envelope-Trailer"
	// HeaderContentDigest is the RFC 9530 field that carries the SHA-256 digest of a body
	// held before it was sent.
	HeaderContentDigest = "Content-Digest"
)

// protocolVersion is the only version of PR-REST (§2.3) this package speaks.
const protocolVersion = "r1"

// Fault is the body of an X-Road error response (PR-REST §4.6), sent with an X-Road-Error
// header that repeats its Type: "Client.BadRequest", "Server.ServerProxy.DatabaseError", ...
// The Type's first part says where it arose: Client (what the client sent),
// Server.ClientProxy (the client's security server) or Server.ServerProxy (the provider's
// side).
type Fault struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

// ReadFault returns the X-Road error a response carries, reading and closing its body, or
// nil without touching the body when it carries no X-Road-Error header. An error response
// is not signed: it says what the other side reports, and proves nothing.
func ReadFault(resp *http.Response) (*Fault, error) {
	typ := resp.Header.Get(HeaderError)
	if typ == "" {
		return nil, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limits.MaxInteropFault+1))
	if err != nil {
		return nil, err
	}
	f := &Fault{Type: typ}
	if len(b) <= limits.MaxInteropFault && json.Unmarshal(b, f) == nil && f.Type == "" {
		f.Type = typ
	}
	return f, nil
}

// Error types this package answers with, in X-Road's form. Those X-Road's own error codes
// name (its ErrorCodes: BadRequest, InvalidProtocolVersion, UnknownService, MissingSignature,
// MalformedSignature, UnsupportedAlgorithm, UnknownMember, CertValidation,
// InvalidSignatureValue, InvalidBody, MissingValidationInfo, OutdatedGlobalConf,
// MalformedGlobalConf, DatabaseError, LoggingFailed, CannotCreateSignature, InternalError)
// keep X-Road's names. X-Road has no replay defence and no window on a message's signing
// time, so DuplicateMessageId and ClockSkew are this package's own, in the same form.
const (
	faultBadRequest        = "Client.BadRequest"
	faultProtocolVersion   = "Client.InvalidProtocolVersion"
	faultUnknownService    = "Client.UnknownService"
	faultMissingSignature  = "Client.MissingSignature"
	faultMalformed         = "Client.MalformedSignature"
	faultAlgorithm         = "Client.UnsupportedAlgorithm"
	faultUnknownMember     = "Client.UnknownMember"
	faultCertificate       = "Client.CertValidation"
	faultSignature         = "Client.InvalidSignatureValue"
	faultBody              = "Client.InvalidBody"
	faultReplay            = "Client.DuplicateMessageId"
	faultClockSkew         = "Client.ClockSkew"
	faultRevocationUnknown = "Server.ServerProxy.MissingValidationInfo"
	faultDirectoryOutdated = "Server.ServerProxy.OutdatedGlobalConf"
	faultDirectoryBad      = "Server.ServerProxy.MalformedGlobalConf"
	faultDatabase          = "Server.ServerProxy.DatabaseError"
	faultLogging           = "Server.ServerProxy.LoggingFailed"
	faultCannotSign        = "Server.ServerProxy.CannotCreateSignature"
	faultInternal          = "Server.ServerProxy.InternalError"
)

// serverFaultMessages are the messages of the server's own failures: fixed, because the
// error behind one may name a responder, a file or a database the client has no business
// knowing. The detail in the answer finds the cause in the server's log.
var serverFaultMessages = map[string]string{
	faultRevocationUnknown: "the revocation status of the signer's certificate is unknown: try again later",
	faultDirectoryOutdated: "the member directory is unavailable or has expired: try again later",
	faultDirectoryBad:      "the member directory held is not valid",
	faultDatabase:          "the replay store failed",
	faultLogging:           "the message log failed",
	faultCannotSign:        "the response could not be signed",
	faultInternal:          "the request was refused",
}

// errSeen, errLog, errSign and errDirectory mark failures of the replay store, the message
// log, the signer and the directory, which are the server's, not the client's.
var (
	errSeen      = errors.New("interop: replay store")
	errLog       = errors.New("interop: message log")
	errSign      = errors.New("interop: signing")
	errDirectory = errors.New("interop: directory")
)

// faultFor maps an error to the status and X-Road error type the server answers with: 400
// and a Client type for what the client sent (PR-REST §4.6, category 3), 500 and a
// Server.ServerProxy type for the server's own failures (category 4), among them a
// revocation status nobody could give and a directory that is unavailable or has expired:
// the message may be good, and asking again later may decide.
func faultFor(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) {
		switch e.Check {
		case CheckProtocolVersion:
			return http.StatusBadRequest, faultProtocolVersion
		case CheckService:
			return http.StatusBadRequest, faultUnknownService
		case CheckNoEnvelope:
			return http.StatusBadRequest, faultMissingSignature
		}
	}
	for _, m := range []struct {
		err error
		typ string
	}{
		{ErrAlgorithm, faultAlgorithm},
		{ErrUnknownMember, faultUnknownMember},
		{ErrCertificate, faultCertificate},
		{ErrSignature, faultSignature},
		{ErrBody, faultBody},
		{ErrReplay, faultReplay},
		{ErrClockSkew, faultClockSkew},
		{ErrMalformed, faultMalformed},
		{ErrIdentifier, faultBadRequest},
		{ErrProtocol, faultBadRequest},
	} {
		if errors.Is(err, m.err) {
			return http.StatusBadRequest, m.typ
		}
	}
	switch {
	case errors.Is(err, ErrRevocationUnknown):
		return http.StatusInternalServerError, faultRevocationUnknown
	case errors.Is(err, ErrDirectoryUnavailable):
		return http.StatusInternalServerError, faultDirectoryOutdated
	case errors.Is(err, ErrDirectory):
		return http.StatusInternalServerError, faultDirectoryBad
	case errors.Is(err, errDirectory):
		return http.StatusInternalServerError, faultDirectoryOutdated
	case errors.Is(err, errSeen):
		return http.StatusInternalServerError, faultDatabase
	case errors.Is(err, errLog):
		return http.StatusInternalServerError, faultLogging
	case errors.Is(err, errSign):
		return http.StatusInternalServerError, faultCannotSign
	}
	return http.StatusInternalServerError, faultInternal
}

// writeFault answers err in X-Road's error form: the X-Road-Error header and a JSON body
// {type, message, detail} (PR-REST §4.6), detail a fresh identifier that the server's log
// line carries too, so an operator finds the cause without it being sent.
func writeFault(w http.ResponseWriter, logger *slog.Logger, err error) {
	status, typ := faultFor(err)
	detail := newMessageID()
	msg := serverFaultMessages[typ]
	var e *Error
	if errors.As(err, &e) && status < 500 {
		msg = e.Error()
	} else if msg == "" {
		msg = serverFaultMessages[faultInternal]
	}
	if logger != nil {
		logger.Warn("interop: request refused", "type", typ, "detail", detail, "err", err)
	}
	b, _ := json.Marshal(Fault{Type: typ, Message: msg, Detail: detail})
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set(HeaderError, typ)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newMessageID returns a random (version 4) UUID, as PR-REST §4.3 recommends for X-Road-Id.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseTarget splits the request target of a /r1 request (PR-REST §4.1) into the service
// identifier and the service's own path with its query: "/r1/I/C/M/S/CODE/v1/x?q=1" gives
// the service I/C/M/S/CODE and "/v1/x?q=1". Exactly five identifier parts follow the
// protocol version, as X-Road's security server reads them.
func parseTarget(target string) (ServiceID, string, error) {
	if len(target) > limits.MaxInteropRequestURI {
		return ServiceID{}, "", fail(ErrProtocol, CheckPath, "request target longer than %d bytes", limits.MaxInteropRequestURI)
	}
	if !strings.HasPrefix(target, "/") {
		return ServiceID{}, "", fail(ErrProtocol, CheckPath, "request target is not a path")
	}
	path, query, hasQuery := strings.Cut(target, "?")
	parts := strings.SplitN(path, "/", 8)
	if len(parts) < 2 || len(parts[1]) != 2 || parts[1][0] != 'r' || parts[1][1] < '0' || parts[1][1] > '9' {
		return ServiceID{}, "", fail(ErrProtocol, CheckPath, "path does not start with /r1/")
	}
	if parts[1] != protocolVersion {
		return ServiceID{}, "", fail(ErrProtocol, CheckProtocolVersion, "protocol version %s is not supported, only %s", parts[1], protocolVersion)
	}
	if len(parts) < 7 {
		return ServiceID{}, "", fail(ErrProtocol, CheckPath, "path does not hold a service identifier of five parts")
	}
	id, err := ParseServiceID(strings.Join(parts[2:7], "/"))
	if err != nil {
		return ServiceID{}, "", err
	}
	rest := ""
	if len(parts) == 8 {
		rest = "/" + parts[7]
	}
	if hasQuery {
		rest += "?" + query
	}
	return id, rest, nil
}

// lastValue returns the last value of a header field: PR-REST §4.3 has the security server
// use the last X-Road-Client when a client sent several.
func lastValue(h http.Header, name string) string {
	v := h.Values(name)
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// checkMessageID accepts an X-Road-Id of visible ASCII, at most limits.MaxInteropMessageID
// bytes: it becomes the message log's reference.
func checkMessageID(id string) error {
	if id == "" {
		return fail(ErrProtocol, CheckMessageID, "no %s", HeaderID)
	}
	if len(id) > limits.MaxInteropMessageID {
		return fail(ErrProtocol, CheckMessageID, "%s longer than %d bytes", HeaderID, limits.MaxInteropMessageID)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return fail(ErrProtocol, CheckMessageID, "%s holds a character other than visible ASCII", HeaderID)
		}
	}
	return nil
}

// checkText accepts an X-Road-UserId or X-Road-Issue: UTF-8 without control characters, at
// most limits.MaxInteropHeaderValue bytes.
func checkText(name, v string) error {
	if len(v) > limits.MaxInteropHeaderValue {
		return fail(ErrProtocol, CheckHeader, "%s longer than %d bytes", name, limits.MaxInteropHeaderValue)
	}
	if !utf8.ValidString(v) {
		return fail(ErrProtocol, CheckHeader, "%s is not UTF-8", name)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return fail(ErrProtocol, CheckHeader, "%s holds a control character", name)
		}
	}
	return nil
}

// protocolHeaders are the X-Road fields of a request, read and checked.
type protocolHeaders struct {
	clientRaw, id, userID, partyRaw, issue string
	client                                 ClientID
	party                                  *RepresentedParty
}

// readRequestHeaders reads and checks the X-Road fields of a request. X-Road-Client is
// required; X-Road-Id is required when needID is set.
func readRequestHeaders(h http.Header, needID bool) (*protocolHeaders, error) {
	p := &protocolHeaders{
		clientRaw: lastValue(h, HeaderClient),
		id:        lastValue(h, HeaderID),
		userID:    lastValue(h, HeaderUserID),
		partyRaw:  lastValue(h, HeaderRepresentedParty),
		issue:     lastValue(h, HeaderIssue),
	}
	if p.clientRaw == "" {
		return nil, fail(ErrProtocol, CheckHeader, "no %s", HeaderClient)
	}
	c, err := ParseClientID(p.clientRaw)
	if err != nil {
		return nil, err
	}
	p.client = c
	if needID || p.id != "" {
		if err := checkMessageID(p.id); err != nil {
			return nil, err
		}
	}
	if err := checkText(HeaderUserID, p.userID); err != nil {
		return nil, err
	}
	if err := checkText(HeaderIssue, p.issue); err != nil {
		return nil, err
	}
	if p.partyRaw != "" {
		rp, err := ParseRepresentedParty(p.partyRaw)
		if err != nil {
			return nil, err
		}
		p.party = &rp
	}
	return p, nil
}
