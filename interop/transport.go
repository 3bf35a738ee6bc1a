package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
)

// TransportConfig configures the client side. Client and Service are required, and exactly
// one of SecurityServer or the pair Signer and Verifier; the zero value of every other
// field is safe.
type TransportConfig struct {
	// Client is the member or subsystem that calls: X-Road-Client.
	Client ClientID
	// Service is the service called. Its provider must be a subsystem, and it may not have
	// a version: the /r1 path has no place for one (PR-REST §4.1).
	Service ServiceID
	// SecurityServer says requests go to the client's own security server, which signs them
	// and verifies the responses: the transport sends and reads the plain protocol.
	SecurityServer bool
	// Signer signs every request; Verifier checks every response, which the service's
	// provider must have signed. Both are required unless SecurityServer is set, and
	// refused with it.
	Signer   *Signer
	Verifier *Verifier
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Log, when set, receives a record of every request sent and response received, with
	// the message ID as its reference, once the response's body has been read to its end or
	// closed.
	Log *evidence.Log
	// LogBodies puts each body, up to the evidence log's payload cap, in its record's
	// payload. Off by default.
	LogBodies bool
}

// Transport is an http.RoundTripper that speaks the X-Road message protocol for REST for
// one client and one service. A request's URL names the server (the security server, or the
// provider's endpoint) and the service's own path: GET https://ss.example/v1/bar/zyggy?quu=1
// is sent as GET https://ss.example/r1/{serviceId}/v1/bar/zyggy?quu=1 with X-Road-Client,
// and X-Road-Id (a fresh UUID unless the request has one). X-Road-UserId,
// X-Road-Represented-Party and X-Road-Issue are sent as the request sets them, once checked.
//
// Without a security server, every request is signed and every response verified. A
// request body of up to limits.MaxInteropInlineBody bytes is held and its digest signed in
// the envelope. A longer one streams, and its digest is signed in the envelope when it is
// known before the body is sent: the request's Content-Digest, which the caller sets (with
// ContentDigest, over a file it has hashed), or else the digest of a copy of the body from
// the request's GetBody (which http.NewRequest sets for a bytes.Reader, bytes.Buffer or
// strings.Reader), read once more for it. Such a body is hashed again as it is sent, and
// one that is not the body declared makes RoundTrip fail with ErrBody before the body's
// end is sent. Only a long body whose digest nobody knows beforehand has it signed in a
// trailer, which a reverse proxy may drop (httputil.ReverseProxy does).
//
// A response's envelope is verified before RoundTrip returns it, and its body as it is
// read: the last Read fails instead of returning io.EOF when the body is not the one
// signed. Trust a response only once its body has been read to the end. A response carrying X-Road-Error is returned
// unverified, as the other side's report: ReadFault reads it.
//
// A Transport is immutable and safe for concurrent use.
type Transport struct {
	cfg     TransportConfig
	base    http.RoundTripper
	service string
	client  string
	log     messageLog
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport checks cfg and returns a transport.
func NewTransport(cfg TransportConfig) (*Transport, error) {
	if err := cfg.Client.Validate(); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "client: %v", err)
	}
	if err := cfg.Service.Validate(); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "service: %v", err)
	}
	if cfg.Service.Version != "" {
		return nil, fail(ErrConfig, CheckConfig, "the REST protocol carries no service version: put it in the path")
	}
	if cfg.SecurityServer {
		if cfg.Signer != nil || cfg.Verifier != nil {
			return nil, fail(ErrConfig, CheckConfig, "a transport to a security server signs and verifies nothing")
		}
	} else if cfg.Signer == nil || cfg.Verifier == nil {
		return nil, fail(ErrConfig, CheckConfig, "a Signer and a Verifier are required, unless SecurityServer is set")
	}
	t := &Transport{cfg: cfg, base: cfg.Base, service: cfg.Service.String(), client: cfg.Client.String(),
		log: messageLog{log: cfg.Log, bodies: cfg.LogBodies}}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	return t, nil
}

// call is one request on its way through the transport.
type call struct {
	mu       sync.Mutex
	method   string
	id       string
	reqHash  string
	reqEntry *logEntry
	env      *verified
}

// RoundTrip sends req as an X-Road REST request and returns the response, verified when the
// transport signs.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r, c, err := t.prepare(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if err := t.accept(r.Context(), resp, c); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// prepare builds the request to send: the /r1 target, the X-Road fields and, when the
// transport signs, the envelope.
func (t *Transport) prepare(req *http.Request) (*http.Request, *call, error) {
	if req.URL == nil {
		return nil, nil, fail(ErrProtocol, CheckPath, "request without a URL")
	}
	r := req.Clone(req.Context())
	escaped := "/" + protocolVersion + "/" + t.service + req.URL.EscapedPath()
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, nil, fail(ErrProtocol, CheckPath, "the path is not percent-encoded properly")
	}
	r.URL.Path, r.URL.RawPath, r.URL.Opaque = path, escaped, ""
	h := r.Header
	// A Content-Digest the caller set is the digest it knows of the body: checked below
	// against the body, and signed in the envelope in place of a trailer.
	known := h.Values(HeaderContentDigest)
	for _, k := range []string{HeaderEnvelope, HeaderEnvelopeTrailer, HeaderContentDigest, HeaderRequestHash, HeaderService, HeaderError} {
		h.Del(k)
	}
	h.Set(HeaderClient, t.client)
	if lastValue(h, HeaderID) == "" {
		h.Set(HeaderID, newMessageID())
	}
	ph, err := readRequestHeaders(h, true)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range []string{HeaderID, HeaderUserID, HeaderRepresentedParty, HeaderIssue} {
		if v := lastValue(h, k); v != "" {
			h.Set(k, v)
		}
	}
	target := r.URL.RequestURI()
	c := &call{id: ph.id, method: r.Method}
	c.reqEntry = &logEntry{kind: KindRequestSent, id: ph.id, body: t.log.capture(), meta: LogMeta{
		Direction: "sent", Message: "request", Client: t.client, Service: t.service,
		Method: r.Method, Path: strings.TrimPrefix(target, "/"+protocolVersion+"/"+t.service),
		Time: time.Now().UTC(),
	}}
	if t.cfg.SecurityServer {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = newDigestReader(r.Body, r.Body, c.reqEntry.body, func(d string, n int64) error {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.reqEntry.meta.BodyDigest, c.reqEntry.meta.BodySize, c.reqEntry.meta.Complete = d, n, true
				return nil
			})
		} else {
			c.reqEntry.meta.BodyDigest, c.reqEntry.meta.Complete = contentDigest(emptySum[:]), true
		}
		return r, c, nil
	}

	signer := t.cfg.Signer
	at := signingTime(t.cfg.Verifier.now())
	in := &signingInput{
		Format: EnvelopeFormat, Kind: "request", Method: r.Method, Target: target,
		Client: t.client, ID: ph.id, UserID: ph.userID, RepresentedParty: ph.partyRaw, Issue: ph.issue,
		ContentType: lastValue(h, "Content-Type"), BodyDigest: digestTrailer,
	}
	declared := ""
	if len(known) > 0 {
		if len(known) > 1 {
			return nil, nil, fail(ErrMalformed, CheckBody, "more than one %s", HeaderContentDigest)
		}
		if err := checkContentDigest(known[0]); err != nil {
			return nil, nil, err
		}
		declared = known[0]
	}
	var held []byte
	streamed := false
	if r.Body != nil && r.Body != http.NoBody {
		held, err = io.ReadAll(io.LimitReader(r.Body, limits.MaxInteropInlineBody+1))
		if err != nil {
			return nil, nil, err
		}
		streamed = len(held) > limits.MaxInteropInlineBody
	}
	if !streamed {
		if r.Body != nil {
			r.Body.Close()
		}
		d := contentDigest(sha256Sum(held))
		if declared != "" && declared != d {
			return nil, nil, errBodySent
		}
		in.BodyDigest = d
		h.Set(HeaderContentDigest, d)
		c.reqEntry.body.write(held)
		c.reqEntry.meta.BodyDigest, c.reqEntry.meta.BodySize, c.reqEntry.meta.Complete = d, int64(len(held)), true
		r.ContentLength = int64(len(held))
		if len(held) == 0 {
			r.Body, r.GetBody = http.NoBody, nil
		} else {
			r.Body = io.NopCloser(bytes.NewReader(held))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(held)), nil }
		}
	}
	if streamed && declared == "" && req.GetBody != nil {
		if declared, err = digestCopy(req.GetBody); err != nil {
			return nil, nil, err
		}
	}
	if streamed && declared != "" {
		// The digest is known before the body flows: the envelope signs it, and the body
		// streams without a trailer, which a reverse proxy may drop (httputil.ReverseProxy
		// does). The body is hashed again as it is sent, and a body that is not the one
		// declared fails before its end, so the receiver never sees it end.
		in.BodyDigest = declared
		h.Set(HeaderContentDigest, declared)
	}
	env, err := signer.sign(in, at, true)
	if err != nil {
		return nil, nil, err
	}
	h.Set(HeaderEnvelope, env)
	c.reqHash = requestHash(env)
	c.reqEntry.meta.Time, c.reqEntry.meta.Signed, c.reqEntry.meta.RequestHash = at, true, c.reqHash
	if streamed && declared != "" {
		body := r.Body
		if r.ContentLength <= 0 {
			r.ContentLength = -1
		}
		r.GetBody = nil
		r.Body = newDigestReader(io.MultiReader(bytes.NewReader(held), body), body, c.reqEntry.body, func(d string, n int64) error {
			if d != declared {
				return errBodySent
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.reqEntry.meta.BodyDigest, c.reqEntry.meta.BodySize, c.reqEntry.meta.Complete = d, n, true
			return nil
		})
	} else if streamed {
		body := r.Body
		trailer := http.Header{HeaderEnvelopeTrailer: nil}
		r.Trailer, r.ContentLength, r.GetBody = trailer, -1, nil
		r.Body = newDigestReader(io.MultiReader(bytes.NewReader(held), body), body, c.reqEntry.body, func(d string, n int64) error {
			tin := &signingInput{Format: EnvelopeFormat, Kind: "trailer", Envelope: envelopeHash(env), BodyDigest: d}
			tr, err := signer.sign(tin, at, false)
			if err != nil {
				return err
			}
			trailer.Set(HeaderEnvelopeTrailer, tr)
			c.mu.Lock()
			defer c.mu.Unlock()
			c.reqEntry.meta.BodyDigest, c.reqEntry.meta.BodySize, c.reqEntry.meta.Complete = d, n, true
			return nil
		})
	}
	return r, c, nil
}

var emptySum = sha256Sum(nil)

// errBodySent is the refusal of a request body that is not the one whose digest the caller
// gave.
var errBodySent = fail(ErrBody, CheckBody, "the body sent is not the body whose %s was given", HeaderContentDigest)

// digestCopy hashes a fresh copy of a request's body, from its GetBody.
func digestCopy(getBody func() (io.ReadCloser, error)) (string, error) {
	rc, err := getBody()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	return ContentDigest(rc)
}

// ContentDigest reads r to its end and returns its RFC 9530 Content-Digest with SHA-256,
// in the form a Transport signs: "sha-256=:BASE64:". Set it as a request's Content-Digest
// to have a long body's digest signed in the envelope rather than in a trailer.
func ContentDigest(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return contentDigest(h.Sum(nil)), nil
}

// accept checks a response before it is returned and wraps its body so that the body is
// checked, and both messages logged, as it ends.
func (t *Transport) accept(ctx context.Context, resp *http.Response, c *call) error {
	respEntry := &logEntry{kind: KindResponseReceived, id: c.id, body: t.log.capture(), meta: LogMeta{
		Direction: "received", Message: "response", Client: t.client, Service: t.service,
		Status: resp.StatusCode, Time: time.Now().UTC(), RequestHash: lastValue(resp.Header, HeaderRequestHash),
		Fault: resp.Header.Get(HeaderError),
	}}
	if id := lastValue(resp.Header, HeaderID); id != "" && id != c.id && respEntry.meta.Fault == "" {
		return fail(ErrRequestHash, CheckMessageID, "the response is for message %s, not %s", truncate(id), c.id)
	}
	var check func(d string) error
	if !t.cfg.SecurityServer && respEntry.meta.Fault == "" {
		env, err := t.verifyResponse(ctx, resp, c)
		if err != nil {
			return err
		}
		c.env = env
		respEntry.meta.Time, respEntry.meta.Signed = env.at, true
		check = func(d string) error {
			if env.digest == digestTrailer {
				return verifyTrailer(env, lastValue(resp.Trailer, HeaderEnvelopeTrailer), d)
			}
			if d != env.digest {
				return fail(ErrBody, CheckBody, "the body received is not the body signed")
			}
			return nil
		}
	}
	rb := &responseBody{t: t, c: c, entry: respEntry}
	rb.dr = newDigestReader(resp.Body, resp.Body, respEntry.body, func(d string, n int64) error {
		respEntry.meta.BodyDigest, respEntry.meta.BodySize = d, n
		if check != nil {
			if err := check(d); err != nil {
				rb.log(ctx)
				return err
			}
		}
		respEntry.meta.Complete = true
		return rb.log(ctx)
	})
	resp.Body = rb
	if c.method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		// No body comes (RFC 9110 §6.4.1; net/http gives an empty one): check the signed
		// digest, the empty body's, and log now, not when the caller reads or closes.
		if _, err := io.Copy(io.Discard, io.LimitReader(rb, 1)); err != nil {
			return err
		}
	}
	return nil
}

// verifyResponse checks a response's envelope: signed by the service's provider, over the
// status and fields received, bound to the request sent.
func (t *Transport) verifyResponse(ctx context.Context, resp *http.Response, c *call) (*verified, error) {
	h := resp.Header
	envs := h.Values(HeaderEnvelope)
	if len(envs) > 1 {
		return nil, fail(ErrMalformed, CheckEnvelope, "more than one %s", HeaderEnvelope)
	}
	compact := ""
	if len(envs) == 1 {
		compact = envs[0]
	}
	in := &signingInput{
		Format: EnvelopeFormat, Kind: "response", Status: resp.StatusCode,
		Client: lastValue(h, HeaderClient), Service: lastValue(h, HeaderService), ID: lastValue(h, HeaderID),
		ContentType: lastValue(h, "Content-Type"), RequestHash: lastValue(h, HeaderRequestHash),
		BodyDigest: digestTrailer,
	}
	if cds := h.Values(HeaderContentDigest); len(cds) > 0 {
		if len(cds) > 1 {
			return nil, fail(ErrMalformed, CheckEnvelope, "more than one %s", HeaderContentDigest)
		}
		if err := checkContentDigest(cds[0]); err != nil {
			return nil, err
		}
		in.BodyDigest = cds[0]
	}
	env, err := t.cfg.Verifier.verifyEnvelope(ctx, compact, t.cfg.Service.Provider, in)
	if err != nil {
		return nil, err
	}
	if in.RequestHash != c.reqHash {
		return nil, fail(ErrRequestHash, CheckRequestHash, "the response answers another request")
	}
	if in.ID != c.id || in.Client != t.client || in.Service != t.service {
		return nil, fail(ErrRequestHash, CheckRequestHash, "the response names another message, client or service")
	}
	return env, nil
}

// responseBody is a response's body on its way to the caller: checked as it is read, and
// logged with its request once read to the end, or closed.
type responseBody struct {
	t      *Transport
	c      *call
	entry  *logEntry
	dr     *digestReader
	logged sync.Once
	logErr error
}

func (b *responseBody) Read(p []byte) (int, error) { return b.dr.Read(p) }

func (b *responseBody) Close() error {
	err := b.dr.Close()
	b.log(context.Background())
	return err
}

func (b *responseBody) log(ctx context.Context) error {
	b.logged.Do(func() {
		b.c.mu.Lock()
		req := *b.c.reqEntry
		b.c.mu.Unlock()
		b.logErr = b.t.log.append(ctx, &req, b.entry)
	})
	return b.logErr
}
