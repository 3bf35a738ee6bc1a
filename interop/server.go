package interop

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
)

// HandlerConfig configures the server side. Provider is required, and exactly one of
// SecurityServer or the pair Signer and Verifier; the zero value of every other field is
// safe.
type HandlerConfig struct {
	// Provider is the subsystem whose services the handler serves, or a member, whose
	// subsystems' services it serves. A request for any other provider's service is refused
	// (Client.UnknownService).
	Provider ClientID
	// SecurityServer says a security server stands in front of the handler: it verified the
	// client and will sign the response, so the handler takes X-Road-Client, X-Road-Service
	// and X-Road-Id as the security server passes them (PR-REST §4.3) and signs nothing.
	// Only the security server must be able to reach the handler.
	SecurityServer bool
	// Signer signs every response; Verifier checks every request's envelope. Both are
	// required unless SecurityServer is set, and refused with it.
	Signer   *Signer
	Verifier *Verifier
	// Seen remembers accepted message IDs, for replay defence; nil means an in-memory store
	// (NewMemorySeenIDs). Service instances that share their clients need a shared store
	// (OpenSeenIDs).
	Seen SeenIDs
	// Log, when set, receives a record of every request received and response sent, with
	// the message ID as its reference.
	Log *evidence.Log
	// LogBodies puts each body, up to the evidence log's payload cap, in its record's
	// payload. Off by default: bodies are often personal data.
	LogBodies bool
	// Logger receives refused requests and failures after a response was sent; nil logs
	// nothing.
	Logger *slog.Logger
}

// Message is what the server side learned about a request, given to the wrapped handler
// through the request's context (MessageFrom).
type Message struct {
	// Client is the service client: X-Road-Client.
	Client ClientID
	// Service is the service called.
	Service ServiceID
	// ID is the message ID, X-Road-Id.
	ID string
	// UserID is X-Road-UserId: the person whose action caused the request, as the client
	// says. It is not verified by anyone but the client.
	UserID string
	// RepresentedParty is X-Road-Represented-Party, or nil.
	RepresentedParty *RepresentedParty
	// Issue is X-Road-Issue.
	Issue string
	// Path is the service's own path and query: what follows the service identifier.
	Path string
	// Signer is the certificate that signed the request's envelope, nil behind a security
	// server.
	Signer *x509.Certificate
	// SignedAt is the envelope's signing time, zero behind a security server.
	SignedAt time.Time
}

type messageKey struct{}

// MessageFrom returns the Message the server side put in a request's context.
func MessageFrom(ctx context.Context) (*Message, bool) {
	m, ok := ctx.Value(messageKey{}).(*Message)
	return m, ok
}

type handler struct {
	cfg  HandlerConfig
	next http.Handler
	seen SeenIDs
	log  messageLog
}

// NewHandler returns next wrapped in the server side of the protocol: it parses the /r1
// path and the X-Road headers, verifies the request's envelope and refuses a replay, gives
// next the Message in the request's context, signs next's response and binds it to the
// request, and logs both. A request that fails a check never reaches next: it is answered
// in X-Road's error form (an X-Road-Error header and a JSON {type, message, detail}).
//
// The request body reaches next as it arrives; its digest is checked when it ends, and a
// body that does not match makes next's read fail instead of ending, and the response
// become a Client.InvalidBody error. A response of up to limits.MaxInteropInlineBody bytes
// is held until next returns and signed whole; a longer one streams, and its digest is
// signed in a trailer.
func NewHandler(cfg HandlerConfig, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fail(ErrConfig, CheckConfig, "no handler")
	}
	if err := cfg.Provider.Validate(); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "provider: %v", err)
	}
	if cfg.SecurityServer {
		if cfg.Signer != nil || cfg.Verifier != nil {
			return nil, fail(ErrConfig, CheckConfig, "a handler behind a security server signs and verifies nothing")
		}
	} else if cfg.Signer == nil || cfg.Verifier == nil {
		return nil, fail(ErrConfig, CheckConfig, "a Signer and a Verifier are required, unless SecurityServer is set")
	}
	h := &handler{cfg: cfg, next: next, seen: cfg.Seen, log: messageLog{log: cfg.Log, bodies: cfg.LogBodies}}
	if h.seen == nil {
		h.seen = NewMemorySeenIDs(SeenConfig{Now: nowFunc(cfg.Verifier)})
	}
	return h, nil
}

func nowFunc(v *Verifier) func() time.Time {
	if v == nil {
		return time.Now
	}
	return v.now
}

// serves reports whether the handler serves svc.
func (h *handler) serves(svc ServiceID) bool {
	if h.cfg.Provider.IsSubsystem() {
		return svc.Provider == h.cfg.Provider
	}
	return svc.Provider.MemberID() == h.cfg.Provider
}

// exchange is one request on its way through the handler.
type exchange struct {
	msg       *Message
	clientRaw string
	service   string
	env       *verified
	reqHash   string
	reqEntry  *logEntry
	body      *digestReader
	bodyErr   error
	complete  bool
	// stripped and strippedRaw are the service's own path, decoded and as sent, when the
	// request came to a /r1 path.
	stripped, strippedRaw string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, err := h.accept(r)
	if err != nil {
		writeFault(w, h.cfg.Logger, err)
		return
	}
	ctx := context.WithValue(r.Context(), messageKey{}, x.msg)
	r2 := r.WithContext(ctx)
	r2.Body = x.body
	if x.stripped != "" {
		// next sees the service's own path, as behind a security server (PR-REST §4.1).
		u := *r.URL
		u.Path, u.RawPath = x.stripped, x.strippedRaw
		r2.URL = &u
	}
	rs := &responseSigner{h: h, w: w, x: x, hash: sha256.New(), keep: h.log.capture(), sign: !h.cfg.SecurityServer, head: r.Method == http.MethodHead}
	h.next.ServeHTTP(rs, r2)
	// A handler that left the body unread (a GET, an answer from the path alone) has its
	// body checked here, if it is short: a small body is verified before the response is
	// signed.
	if !x.body.done() {
		_, _ = io.Copy(io.Discard, io.LimitReader(x.body, limits.MaxInteropInlineBody))
	}
	rs.finish(ctx)
}

// accept reads and checks what a request says before next sees it.
func (h *handler) accept(r *http.Request) (*exchange, error) {
	target := r.RequestURI
	var svc ServiceID
	var rest string
	var err error
	viaR1 := !h.cfg.SecurityServer || strings.HasPrefix(target, "/"+protocolVersion+"/")
	if !viaR1 {
		// A provider's security server calls the service's own URL and names the service
		// in X-Road-Service.
		raw := lastValue(r.Header, HeaderService)
		if raw == "" {
			return nil, fail(ErrProtocol, CheckHeader, "no %s", HeaderService)
		}
		if svc, err = ParseServiceID(raw); err != nil {
			return nil, err
		}
		rest = target
	} else if svc, rest, err = parseTarget(target); err != nil {
		return nil, err
	}
	if !h.serves(svc) {
		return nil, fail(ErrProtocol, CheckService, "%s is not served here", svc)
	}
	ph, err := readRequestHeaders(r.Header, !h.cfg.SecurityServer)
	if err != nil {
		return nil, err
	}
	x := &exchange{
		stripped:  "/",
		clientRaw: ph.clientRaw,
		service:   svc.String(),
		msg: &Message{
			Client: ph.client, Service: svc, ID: ph.id, UserID: ph.userID,
			RepresentedParty: ph.party, Issue: ph.issue, Path: rest,
		},
	}
	if viaR1 {
		if raw, _, _ := strings.Cut(rest, "?"); raw != "" {
			dec, err := url.PathUnescape(raw)
			if err != nil {
				return nil, fail(ErrProtocol, CheckPath, "the service path is not percent-encoded properly")
			}
			x.stripped, x.strippedRaw = dec, raw
		}
	} else {
		x.stripped = ""
	}
	x.reqEntry = &logEntry{kind: KindRequestReceived, id: ph.id, body: h.log.capture(), meta: LogMeta{
		Direction: "received", Message: "request", Client: ph.clientRaw, Service: x.service,
		Method: r.Method, Path: rest, Time: time.Now().UTC(),
	}}
	if h.cfg.SecurityServer {
		x.body = newDigestReader(r.Body, r.Body, x.reqEntry.body, func(d string, n int64) error {
			x.reqEntry.meta.BodyDigest, x.reqEntry.meta.BodySize, x.complete = d, n, true
			return nil
		})
		return x, nil
	}

	envs := r.Header.Values(HeaderEnvelope)
	if len(envs) > 1 {
		return nil, fail(ErrMalformed, CheckEnvelope, "more than one %s", HeaderEnvelope)
	}
	compact := ""
	if len(envs) == 1 {
		compact = envs[0]
	}
	in := &signingInput{
		Format: EnvelopeFormat, Kind: "request", Method: r.Method, Target: target,
		Client: ph.clientRaw, ID: ph.id, UserID: ph.userID, RepresentedParty: ph.partyRaw, Issue: ph.issue,
		ContentType: lastValue(r.Header, "Content-Type"), BodyDigest: digestTrailer,
	}
	if cds := r.Header.Values(HeaderContentDigest); len(cds) > 0 {
		if len(cds) > 1 {
			return nil, fail(ErrMalformed, CheckEnvelope, "more than one %s", HeaderContentDigest)
		}
		if err := checkContentDigest(cds[0]); err != nil {
			return nil, err
		}
		in.BodyDigest = cds[0]
	}
	v := h.cfg.Verifier
	env, err := v.verifyEnvelope(r.Context(), compact, ph.client, in)
	if err != nil {
		return nil, err
	}
	fresh, err := h.seen.Add(r.Context(), replayKey(ph.client, ph.id), env.at.Add(v.skew+time.Second))
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, fail(ErrReplay, CheckReplay, "message %s was already received", ph.id)
	}
	x.env = env
	x.reqHash = requestHash(compact)
	x.msg.Signer, x.msg.SignedAt = env.signer, env.at
	x.reqEntry.meta.Time, x.reqEntry.meta.Signed, x.reqEntry.meta.RequestHash = env.at, true, x.reqHash
	x.body = newDigestReader(r.Body, r.Body, x.reqEntry.body, func(d string, n int64) error {
		x.reqEntry.meta.BodyDigest, x.reqEntry.meta.BodySize = d, n
		var err error
		if env.digest == digestTrailer {
			err = verifyTrailer(env, lastValue(r.Trailer, HeaderEnvelopeTrailer), d)
		} else if d != env.digest {
			err = fail(ErrBody, CheckBody, "the body received is not the body signed")
		}
		if err != nil {
			x.bodyErr = err
			return err
		}
		x.complete = true
		return nil
	})
	return x, nil
}

func (d *digestReader) done() bool { return d.err != nil }

// responseSigner holds next's response, or streams it once it outgrows
// limits.MaxInteropInlineBody, and signs it.
type responseSigner struct {
	h         *handler
	w         http.ResponseWriter
	x         *exchange
	sign      bool
	status    int
	buf       []byte
	streaming bool
	hash      hash.Hash
	n         int64
	keep      *capture
	env       string
	at        time.Time
	failed    bool
	// head says the request was HEAD: the response's body, which net/http does not send,
	// is neither signed nor logged, and its digest is the empty body's.
	head bool
}

// bodyless reports whether the response carries no body on the wire: the answer to a HEAD,
// or a status that has none (RFC 9110 §6.4.1: 1xx, 204, 304).
func (rs *responseSigner) bodyless() bool {
	return rs.head || rs.status == http.StatusNoContent || rs.status == http.StatusNotModified
}

var _ http.Flusher = (*responseSigner)(nil)

func (rs *responseSigner) Header() http.Header { return rs.w.Header() }

func (rs *responseSigner) WriteHeader(code int) {
	if rs.status != 0 {
		return
	}
	if code >= 100 && code < 200 {
		rs.w.WriteHeader(code)
		return
	}
	rs.status = code
	if !rs.sign {
		rs.streaming = true
		rs.w.WriteHeader(code)
	}
}

func (rs *responseSigner) Write(p []byte) (int, error) {
	if rs.status == 0 {
		rs.WriteHeader(http.StatusOK)
	}
	if rs.failed {
		return 0, errors.New("interop: the response could not be signed")
	}
	if rs.bodyless() {
		if rs.head {
			return len(p), nil // as net/http does with a HEAD's body
		}
		return 0, http.ErrBodyNotAllowed
	}
	rs.hash.Write(p)
	rs.n += int64(len(p))
	rs.keep.write(p)
	if rs.streaming {
		return rs.w.Write(p)
	}
	if len(rs.buf)+len(p) <= limits.MaxInteropInlineBody {
		rs.buf = append(rs.buf, p...)
		return len(p), nil
	}
	if err := rs.startStreaming(); err != nil {
		return 0, err
	}
	return rs.w.Write(p)
}

// Flush sends what is held and streams from then on.
func (rs *responseSigner) Flush() {
	if rs.status == 0 {
		rs.WriteHeader(http.StatusOK)
	}
	if rs.bodyless() {
		return // nothing to stream: the response is signed whole when the handler returns
	}
	if !rs.streaming && !rs.failed {
		if rs.startStreaming() != nil {
			return
		}
	}
	_ = http.NewResponseController(rs.w).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (rs *responseSigner) Unwrap() http.ResponseWriter { return rs.w }

// setHeaders sets the X-Road fields a response carries (PR-REST §4.3), and settles its
// Content-Type before it is signed: net/http would otherwise sniff one from the body after
// the envelope was made.
func (rs *responseSigner) setHeaders() {
	h := rs.w.Header()
	if _, ok := h["Content-Type"]; !ok {
		if len(rs.buf) > 0 {
			h.Set("Content-Type", http.DetectContentType(rs.buf))
		} else {
			h["Content-Type"] = nil
		}
	}
	h.Set(HeaderClient, rs.x.clientRaw)
	h.Set(HeaderService, rs.x.service)
	h.Set(HeaderID, rs.x.msg.ID)
	h.Set(HeaderRequestHash, rs.x.reqHash)
	h.Del(HeaderError)
}

func (rs *responseSigner) input(digest string) *signingInput {
	return &signingInput{
		Format: EnvelopeFormat, Kind: "response", Status: rs.status, Client: rs.x.clientRaw,
		Service: rs.x.service, ID: rs.x.msg.ID, ContentType: lastValue(rs.w.Header(), "Content-Type"),
		RequestHash: rs.x.reqHash, BodyDigest: digest,
	}
}

// startStreaming signs the response's envelope without its digest, announces the trailer
// that will sign it, and sends what is held.
func (rs *responseSigner) startStreaming() error {
	rs.at = signingTime(rs.h.cfg.Verifier.now())
	rs.setHeaders()
	h := rs.w.Header()
	h.Del(HeaderContentDigest)
	h.Del("Content-Length")
	env, err := rs.h.cfg.Signer.sign(rs.input(digestTrailer), rs.at, true)
	if err != nil {
		rs.failed = true
		writeFault(rs.w, rs.h.cfg.Logger, err)
		return err
	}
	rs.env = env
	h.Set(HeaderEnvelope, env)
	h.Set("Trailer", HeaderEnvelopeTrailer)
	rs.streaming = true
	rs.w.WriteHeader(rs.status)
	if len(rs.buf) > 0 {
		if _, err := rs.w.Write(rs.buf); err != nil {
			return err
		}
	}
	rs.buf = nil
	return nil
}

// finish signs and sends a held response, or the trailer of a streamed one, once both
// messages are in the log.
func (rs *responseSigner) finish(ctx context.Context) {
	if rs.status == 0 {
		rs.WriteHeader(http.StatusOK)
	}
	if rs.failed {
		return
	}
	x := rs.x
	x.reqEntry.meta.Complete = x.complete
	digest := contentDigest(rs.hash.Sum(nil))
	respEntry := &logEntry{kind: KindResponseSent, id: x.msg.ID, body: rs.keep, meta: LogMeta{
		Direction: "sent", Message: "response", Client: x.clientRaw, Service: x.service,
		Status: rs.status, Time: time.Now().UTC(), BodyDigest: digest, BodySize: rs.n,
		RequestHash: x.reqHash, Signed: rs.sign, Complete: true,
	}}
	if !rs.sign {
		if err := rs.h.log.append(ctx, x.reqEntry, respEntry); err != nil && rs.h.cfg.Logger != nil {
			rs.h.cfg.Logger.Error("interop: message log", "id", x.msg.ID, "err", err)
		}
		return
	}
	if rs.streaming {
		respEntry.meta.Time = rs.at
		if x.bodyErr != nil {
			// The request did not verify: the trailer stays unsigned, so the client
			// refuses the response too.
			rs.logFailure(x.bodyErr)
			return
		}
		if err := rs.h.log.append(ctx, x.reqEntry, respEntry); err != nil {
			rs.logFailure(err)
			return
		}
		in := &signingInput{Format: EnvelopeFormat, Kind: "trailer", Envelope: envelopeHash(rs.env), BodyDigest: digest}
		tr, err := rs.h.cfg.Signer.sign(in, rs.at, false)
		if err != nil {
			rs.logFailure(err)
			return
		}
		rs.w.Header().Set(HeaderEnvelopeTrailer, tr)
		return
	}
	if x.bodyErr != nil {
		respEntry.meta.Status, respEntry.meta.Signed, respEntry.body = faultStatus(x.bodyErr), false, nil
		respEntry.meta.Fault = faultType(x.bodyErr)
		_ = rs.h.log.append(ctx, x.reqEntry, respEntry)
		writeFault(rs.w, rs.h.cfg.Logger, x.bodyErr)
		return
	}
	rs.at = signingTime(rs.h.cfg.Verifier.now())
	respEntry.meta.Time = rs.at
	rs.setHeaders()
	rs.w.Header().Set(HeaderContentDigest, digest)
	env, err := rs.h.cfg.Signer.sign(rs.input(digest), rs.at, true)
	if err == nil {
		err = rs.h.log.append(ctx, x.reqEntry, respEntry)
	}
	if err != nil {
		writeFault(rs.w, rs.h.cfg.Logger, err)
		return
	}
	rs.w.Header().Set(HeaderEnvelope, env)
	rs.w.WriteHeader(rs.status)
	_, _ = rs.w.Write(rs.buf)
}

func (rs *responseSigner) logFailure(err error) {
	if rs.h.cfg.Logger != nil {
		rs.h.cfg.Logger.Error("interop: streamed response left unsigned", "id", rs.x.msg.ID, "err", err)
	}
}

func faultStatus(err error) int {
	s, _ := faultFor(err)
	return s
}

func faultType(err error) string {
	_, t := faultFor(err)
	return t
}
