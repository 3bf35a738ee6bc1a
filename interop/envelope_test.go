package interop_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

var base64URL = base64.RawURLEncoding

var (
	agencyA  = interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000001", Subsystem: "benefits"}
	agencyB  = interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}
	stranger = interop.ClientID{Instance: "EE", Class: "COM", Member: "10000009", Subsystem: "x"}
	service  = interop.ServiceID{Provider: agencyB, Code: "person"}
)

// world is two agencies, A (client) and B (provider), with certificates from one test PKI
// and a directory listing both.
type world struct {
	pki    *dpitest.PKI
	a, b   *dpitest.Credential
	dir    *interop.StaticDirectory
	signA  *interop.Signer
	signB  *interop.Signer
	verify *interop.Verifier
}

func newWorld(t *testing.T, kt dpitest.KeyType) *world {
	t.Helper()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	w := &world{pki: pki}
	w.a, err = pki.Issue(dpitest.CertOptions{CommonName: "agency A", KeyType: kt})
	require.NoError(t, err)
	w.b, err = pki.Issue(dpitest.CertOptions{CommonName: "agency B", KeyType: kt})
	require.NoError(t, err)
	w.dir, err = interop.NewStaticDirectory(
		interop.Member{ID: agencyA.MemberID(), Certificates: []*x509.Certificate{w.a.Cert}},
		interop.Member{ID: agencyB, Subjects: []string{w.b.Cert.Subject.String()}},
	)
	require.NoError(t, err)
	w.signA, err = interop.NewSigner(w.a.Key, w.a.Chain)
	require.NoError(t, err)
	w.signB, err = interop.NewSigner(w.b.Key, w.b.Chain)
	require.NoError(t, err)
	w.verify = w.verifier(t, interop.VerifierConfig{})
	return w
}

func (w *world) verifier(t *testing.T, cfg interop.VerifierConfig) *interop.Verifier {
	t.Helper()
	if cfg.Roots == nil {
		cfg.Roots = w.pki.Pool()
	}
	if cfg.Directory == nil {
		cfg.Directory = w.dir
	}
	if cfg.Revocation == nil {
		cfg.SkipRevocationUnsafe = true
	}
	v, err := interop.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// echo answers with what the handler was told, and the body it read.
func echo(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := interop.MessageFrom(r.Context())
		if !assert.True(t, ok) {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		signer := ""
		if m.Signer != nil {
			signer = m.Signer.Subject.CommonName
		}
		party := ""
		if m.RepresentedParty != nil {
			party = m.RepresentedParty.String()
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"client": m.Client.String(), "service": m.Service.String(), "id": m.ID, "user": m.UserID,
			"party": party, "path": m.Path, "signer": signer, "body": string(body), "method": r.Method, "urlPath": r.URL.Path, "query": r.URL.RawQuery,
		})
	})
}

// serve starts B's handler on loopback.
func (w *world) serve(t *testing.T, cfg interop.HandlerConfig, next http.Handler) *httptest.Server {
	t.Helper()
	if cfg.Provider == (interop.ClientID{}) {
		cfg.Provider = agencyB
	}
	if !cfg.SecurityServer {
		if cfg.Signer == nil {
			cfg.Signer = w.signB
		}
		if cfg.Verifier == nil {
			cfg.Verifier = w.verify
		}
	}
	h, err := interop.NewHandler(cfg, next)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (w *world) client(t *testing.T, cfg interop.TransportConfig) *http.Client {
	t.Helper()
	if cfg.Client == (interop.ClientID{}) {
		cfg.Client = agencyA
	}
	if cfg.Service == (interop.ServiceID{}) {
		cfg.Service = service
	}
	if !cfg.SecurityServer {
		if cfg.Signer == nil {
			cfg.Signer = w.signA
		}
		if cfg.Verifier == nil {
			cfg.Verifier = w.verify
		}
	}
	tr, err := interop.NewTransport(cfg)
	require.NoError(t, err)
	return &http.Client{Transport: tr}
}

func decodeEcho(t *testing.T, resp *http.Response) map[string]string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			w := newWorld(t, kt)
			srv := w.serve(t, interop.HandlerConfig{}, echo(t))
			c := w.client(t, interop.TransportConfig{})

			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/persons/42?full=1", strings.NewReader(`{"q":1}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(interop.HeaderUserID, "EE38001085718")
			req.Header.Set(interop.HeaderRepresentedParty, "COM/12345678")
			resp, err := c.Do(req)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, agencyA.String(), resp.Header.Get(interop.HeaderClient))
			assert.Equal(t, service.String(), resp.Header.Get(interop.HeaderService))
			assert.NotEmpty(t, resp.Header.Get(interop.HeaderRequestHash))
			assert.NotEmpty(t, resp.Header.Get(interop.HeaderContentDigest))
			m := decodeEcho(t, resp)
			assert.Equal(t, agencyA.String(), m["client"])
			assert.Equal(t, service.String(), m["service"])
			assert.Equal(t, "/v1/persons/42?full=1", m["path"])
			assert.Equal(t, "/v1/persons/42", m["urlPath"], "the handler sees the service's own path")
			assert.Equal(t, "full=1", m["query"])
			assert.Equal(t, "EE38001085718", m["user"])
			assert.Equal(t, "COM/12345678", m["party"])
			assert.Equal(t, "agency A", m["signer"])
			assert.Equal(t, `{"q":1}`, m["body"])
			assert.Len(t, m["id"], 36)
			assert.Equal(t, resp.Header.Get(interop.HeaderID), m["id"])

			// A GET without a body, and a message ID the caller chose.
			req, err = http.NewRequest(http.MethodGet, srv.URL+"/v1/persons/43", nil)
			require.NoError(t, err)
			req.Header.Set(interop.HeaderID, "caller-chosen-1")
			resp, err = c.Do(req)
			require.NoError(t, err)
			m = decodeEcho(t, resp)
			assert.Equal(t, "caller-chosen-1", m["id"])
			assert.Equal(t, "", m["body"])
		})
	}
}

// recorder is a base transport that keeps a copy of each request it sends and of each
// response it receives.
type recorder struct {
	mu        sync.Mutex
	requests  []*recorded
	responses []*recorded
}

type recorded struct {
	method, url string
	status      int
	header      http.Header
	body        []byte
	trailer     http.Header
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Trailer = nil
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.requests = append(rec.requests, &recorded{method: req.Method, url: req.URL.String(), header: req.Header.Clone(), body: body})
	rec.responses = append(rec.responses, &recorded{status: resp.StatusCode, header: resp.Header.Clone(), body: rb, trailer: resp.Trailer.Clone()})
	return resp, nil
}

func (r *recorded) send(t *testing.T, edit func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(r.method, r.url, bytes.NewReader(r.body))
	require.NoError(t, err)
	req.Header = r.header.Clone()
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// assertFault checks an answer in X-Road's error form (PR-REST §4.6).
func assertFault(t *testing.T, resp *http.Response, status int, typ string) {
	t.Helper()
	defer resp.Body.Close()
	assert.Equal(t, status, resp.StatusCode)
	assert.Equal(t, typ, resp.Header.Get(interop.HeaderError))
	assert.Equal(t, "application/json;charset=utf-8", resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var f map[string]string
	require.NoError(t, json.Unmarshal(b, &f), string(b))
	assert.Len(t, f, 3, string(b))
	assert.Equal(t, typ, f["type"])
	assert.NotEmpty(t, f["message"])
	assert.Len(t, f["detail"], 36)
}

// TestRequestRejected sends signed requests, edited or signed wrongly, to B's handler and
// expects each refused with its X-Road error type before the handler runs, or, for a body
// swapped, the handler's read to fail and the answer to be Client.InvalidBody.
func TestRequestRejected(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	var reached sync.Map
	next := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		m, _ := interop.MessageFrom(r.Context())
		reached.Store(m.ID, true)
		echo(t).ServeHTTP(rw, r)
	})
	var srv *httptest.Server

	// sign records a request signed by cfg's client, without sending it to B.
	sign := func(t *testing.T, cfg interop.TransportConfig, body string) *recorded {
		t.Helper()
		rec := &recorder{}
		stub := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		defer stub.Close()
		cfg.Base = rec
		c := w.client(t, cfg)
		req, err := http.NewRequest(http.MethodPost, stub.URL+"/v1/persons/42", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(interop.HeaderUserID, "EE38001085718")
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
		require.Len(t, rec.requests, 1)
		r := rec.requests[0]
		r.url = srv.URL + strings.TrimPrefix(r.url, stub.URL)
		return r
	}

	other, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	foreign, err := other.Issue(dpitest.CertOptions{CommonName: "agency A"})
	require.NoError(t, err)
	unlisted, err := w.pki.Issue(dpitest.CertOptions{CommonName: "agency A, second key"})
	require.NoError(t, err)
	expired, err := w.pki.Issue(dpitest.CertOptions{CommonName: "agency A, expired",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	ed, err := w.pki.Issue(dpitest.CertOptions{CommonName: "agency A, Ed25519", KeyType: dpitest.Ed25519})
	require.NoError(t, err)
	dir, err := interop.NewStaticDirectory(
		interop.Member{ID: agencyA.MemberID(), Certificates: []*x509.Certificate{w.a.Cert, foreign.Cert, expired.Cert, ed.Cert}},
		interop.Member{ID: agencyB, Certificates: []*x509.Certificate{w.b.Cert}},
		interop.Member{ID: stranger, Certificates: []*x509.Certificate{w.a.Cert}},
	)
	require.NoError(t, err)
	// B lists certificates for A that do not chain or have expired, to see them refused for
	// that; the clients below sign with a verifier of their own, for their clock only.
	lenient := w.verifier(t, interop.VerifierConfig{Directory: dir})
	srv = w.serve(t, interop.HandlerConfig{Verifier: lenient}, next)
	signer := func(c *dpitest.Credential) *interop.Signer {
		s, err := interop.NewSigner(c.Key, c.Chain)
		require.NoError(t, err)
		return s
	}
	late := w.verifier(t, interop.VerifierConfig{Now: func() time.Time { return time.Now().Add(-5 * time.Minute) }})
	edOnly := w.verifier(t, interop.VerifierConfig{Algorithms: []string{interop.EdDSA}})
	edSrv := w.serve(t, interop.HandlerConfig{Verifier: edOnly}, next)

	for _, tc := range []struct {
		name   string
		cfg    interop.TransportConfig
		body   string
		edit   func(*http.Request)
		to     string
		status int
		fault  string
	}{
		{name: "no envelope", edit: func(r *http.Request) { r.Header.Del(interop.HeaderEnvelope) }, fault: "Client.MissingSignature"},
		{name: "malformed JOSE", edit: func(r *http.Request) { r.Header.Set(interop.HeaderEnvelope, "a.b") }, fault: "Client.MalformedSignature"},
		{name: "payload not detached", edit: func(r *http.Request) {
			p := strings.Split(r.Header.Get(interop.HeaderEnvelope), ".")
			r.Header.Set(interop.HeaderEnvelope, p[0]+".e30."+p[2])
		}, fault: "Client.MalformedSignature"},
		{name: "header parameter not allowed", edit: func(r *http.Request) {
			p := strings.Split(r.Header.Get(interop.HeaderEnvelope), ".")
			r.Header.Set(interop.HeaderEnvelope, editHeader(t, p[0], "jku", "https://evil.example/")+".."+p[2])
		}, fault: "Client.MalformedSignature"},
		{name: "oversize envelope", edit: func(r *http.Request) {
			r.Header.Set(interop.HeaderEnvelope, strings.Repeat("A", 40<<10)+"..A")
		}, fault: "Client.MalformedSignature"},
		{name: "two envelopes", edit: func(r *http.Request) { r.Header.Add(interop.HeaderEnvelope, r.Header.Get(interop.HeaderEnvelope)) }, fault: "Client.MalformedSignature"},
		{name: "malformed digest", edit: func(r *http.Request) { r.Header.Set(interop.HeaderContentDigest, "sha-512=:AA==:") }, fault: "Client.MalformedSignature"},
		{name: "algorithm not allowed", to: "ed", fault: "Client.UnsupportedAlgorithm"},
		{name: "unknown member", cfg: interop.TransportConfig{Client: interop.ClientID{Instance: "EE", Class: "GOV", Member: "99999999"}}, fault: "Client.UnknownMember"},
		{name: "certificate not listed for the member", cfg: interop.TransportConfig{Signer: signer(unlisted)}, fault: "Client.UnknownMember"},
		{name: "certificate not chaining to the roots", cfg: interop.TransportConfig{Signer: signer(foreign)}, fault: "Client.CertValidation"},
		{name: "certificate expired", cfg: interop.TransportConfig{Signer: signer(expired)}, fault: "Client.CertValidation"},
		{name: "signature over other headers: user", edit: func(r *http.Request) { r.Header.Set(interop.HeaderUserID, "EE00000000000") }, fault: "Client.InvalidSignatureValue"},
		{name: "signature over other headers: client", edit: func(r *http.Request) {
			r.Header.Set(interop.HeaderClient, agencyA.MemberID().String())
		}, fault: "Client.InvalidSignatureValue"},
		{name: "signature over another method", edit: func(r *http.Request) { r.Method = http.MethodPut }, fault: "Client.InvalidSignatureValue"},
		{name: "signature over another path", edit: func(r *http.Request) { r.URL.Path += "/x" }, fault: "Client.InvalidSignatureValue"},
		{name: "signature over another digest", edit: func(r *http.Request) {
			r.Header.Set(interop.HeaderContentDigest, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
		}, fault: "Client.InvalidSignatureValue"},
		{name: "signed by another member's key", cfg: interop.TransportConfig{Client: stranger}, edit: func(r *http.Request) {
			r.Header.Set(interop.HeaderClient, agencyA.String())
		}, fault: "Client.InvalidSignatureValue"},
		{name: "body swapped", body: `{"q":1}`, edit: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"q":2}`))
		}, fault: "Client.InvalidBody"},
		{name: "clock skew", cfg: interop.TransportConfig{Verifier: late}, fault: "Client.ClockSkew"},
		{name: "service of another provider", edit: func(r *http.Request) {
			r.URL.Path = strings.Replace(r.URL.Path, "registry", "other", 1)
		}, fault: "Client.UnknownService"},
		{name: "protocol version", edit: func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, "/r1/", "/r2/", 1) }, fault: "Client.InvalidProtocolVersion"},
		{name: "no client", edit: func(r *http.Request) { r.Header.Del(interop.HeaderClient) }, fault: "Client.BadRequest"},
		{name: "malformed client", edit: func(r *http.Request) { r.Header.Set(interop.HeaderClient, "EE/GOV") }, fault: "Client.BadRequest"},
		{name: "no message id", edit: func(r *http.Request) { r.Header.Del(interop.HeaderID) }, fault: "Client.BadRequest"},
		{name: "malformed represented party", edit: func(r *http.Request) { r.Header.Set(interop.HeaderRepresentedParty, "A/B/C") }, fault: "Client.BadRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Verifier == nil {
				cfg.Verifier = lenient
			}
			if cfg.Client == stranger || (cfg.Client != (interop.ClientID{}) && cfg.Signer == nil) {
				cfg.Signer = w.signA
			}
			body := tc.body
			if body == "" {
				body = "{}"
			}
			r := sign(t, cfg, body)
			if tc.to == "ed" {
				r.url = edSrv.URL + strings.TrimPrefix(r.url, srv.URL)
			}
			id := r.header.Get(interop.HeaderID)
			resp := r.send(t, tc.edit)
			assertFault(t, resp, http.StatusBadRequest, tc.fault)
			_, ran := reached.Load(id)
			assert.Equal(t, tc.fault == "Client.InvalidBody", ran, "whether the handler ran")
		})
	}

	t.Run("replayed id", func(t *testing.T) {
		r := sign(t, interop.TransportConfig{}, "{}")
		resp := r.send(t, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
		assertFault(t, r.send(t, nil), http.StatusBadRequest, "Client.DuplicateMessageId")
	})
	t.Run("replay not burnt by a forgery", func(t *testing.T) {
		r := sign(t, interop.TransportConfig{}, "{}")
		assertFault(t, r.send(t, func(r *http.Request) { r.Header.Set(interop.HeaderUserID, "x") }), http.StatusBadRequest, "Client.InvalidSignatureValue")
		resp := r.send(t, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
	})
}

func editHeader(t *testing.T, b64 string, k, v string) string {
	t.Helper()
	raw, err := base64URL.DecodeString(b64)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	m[k] = v
	raw, err = json.Marshal(m)
	require.NoError(t, err)
	return base64URL.EncodeToString(raw)
}

// TestResponseRejected has a client receive responses that B signed for another request,
// or that were edited on the way, and expects each refused.
func TestResponseRejected(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	rec := &recorder{}
	srv := w.serve(t, interop.HandlerConfig{}, echo(t))
	c := w.client(t, interop.TransportConfig{Base: rec})
	resp, err := c.Get(srv.URL + "/v1/persons/1")
	require.NoError(t, err)
	decodeEcho(t, resp)
	canned := rec.responses[0]
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		edit  func(*http.Response) // nil: answer with the response recorded for another request
		want  error
		atEOF bool
	}{
		{name: "response for another request", want: interop.ErrRequestHash},
		{name: "request hash edited", edit: func(r *http.Response) {
			r.Header.Set(interop.HeaderRequestHash, canned.header.Get(interop.HeaderRequestHash))
		}, want: interop.ErrSignature},
		{name: "status edited", edit: func(r *http.Response) { r.StatusCode = http.StatusCreated }, want: interop.ErrSignature},
		{name: "content type edited", edit: func(r *http.Response) { r.Header.Set("Content-Type", "text/html") }, want: interop.ErrSignature},
		{name: "no envelope", edit: func(r *http.Response) { r.Header.Del(interop.HeaderEnvelope) }, want: interop.ErrMalformed},
		{name: "envelope of another response", edit: func(r *http.Response) {
			r.Header.Set(interop.HeaderEnvelope, canned.header.Get(interop.HeaderEnvelope))
		}, want: interop.ErrSignature},
		{name: "body swapped", edit: func(r *http.Response) {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(b, []byte("persons"), []byte("PERSONS"), 1)))
		}, want: interop.ErrBody, atEOF: true},
		{name: "body truncated", edit: func(r *http.Response) {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b[:len(b)-2]))
			r.Header.Del("Content-Length")
			r.ContentLength = -1
		}, want: interop.ErrBody, atEOF: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var front http.Handler
			if tc.edit == nil {
				front = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					for k, v := range canned.header {
						rw.Header()[k] = v
					}
					rw.WriteHeader(canned.status)
					_, _ = rw.Write(canned.body)
				})
			} else {
				p := httputil.NewSingleHostReverseProxy(target)
				p.ModifyResponse = func(r *http.Response) error { tc.edit(r); return nil }
				front = p
			}
			stub := httptest.NewServer(front)
			defer stub.Close()
			c := w.client(t, interop.TransportConfig{})
			req, err := http.NewRequest(http.MethodGet, stub.URL+"/v1/persons/1", nil)
			require.NoError(t, err)
			if tc.edit == nil {
				req.Header.Set(interop.HeaderID, canned.header.Get(interop.HeaderID))
			}
			resp, err := c.Do(req)
			if tc.atEOF {
				require.NoError(t, err)
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, interop.ErrRejected)
			var e *interop.Error
			assert.True(t, errors.As(err, &e))
		})
	}
}

func TestConfigRefused(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	next := http.NotFoundHandler()
	for name, cfg := range map[string]interop.HandlerConfig{
		"no provider":  {Signer: w.signB, Verifier: w.verify},
		"no signer":    {Provider: agencyB, Verifier: w.verify},
		"no verifier":  {Provider: agencyB, Signer: w.signB},
		"both modes":   {Provider: agencyB, Signer: w.signB, Verifier: w.verify, SecurityServer: true},
		"bad provider": {Provider: interop.ClientID{Instance: "EE"}, SecurityServer: true},
	} {
		_, err := interop.NewHandler(cfg, next)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
	for name, cfg := range map[string]interop.TransportConfig{
		"no client":       {Service: service, SecurityServer: true},
		"versioned":       {Client: agencyA, Service: interop.ServiceID{Provider: agencyB, Code: "p", Version: "v1"}, SecurityServer: true},
		"no verifier":     {Client: agencyA, Service: service, Signer: w.signA},
		"signer with ss":  {Client: agencyA, Service: service, Signer: w.signA, SecurityServer: true},
		"member provider": {Client: agencyA, Service: interop.ServiceID{Provider: agencyB.MemberID(), Code: "p"}, SecurityServer: true},
	} {
		_, err := interop.NewTransport(cfg)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
	for name, cfg := range map[string]interop.VerifierConfig{
		"no roots":      {Directory: w.dir, SkipRevocationUnsafe: true},
		"no directory":  {Roots: w.pki.Pool(), SkipRevocationUnsafe: true},
		"RS256":         {Roots: w.pki.Pool(), Directory: w.dir, Algorithms: []string{"RS256"}, SkipRevocationUnsafe: true},
		"none":          {Roots: w.pki.Pool(), Directory: w.dir, Algorithms: []string{"none"}, SkipRevocationUnsafe: true},
		"skew":          {Roots: w.pki.Pool(), Directory: w.dir, MaxSkew: time.Hour, SkipRevocationUnsafe: true},
		"no revocation": {Roots: w.pki.Pool(), Directory: w.dir},
		"both revocation decisions": {Roots: w.pki.Pool(), Directory: w.dir, SkipRevocationUnsafe: true,
			Revocation: interop.RevocationCheckerFunc(func(context.Context, []*x509.Certificate) (interop.RevocationStatus, error) {
				return interop.RevocationGood, nil
			})},
	} {
		_, err := interop.NewVerifier(cfg)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
	rsa, err := w.pki.Issue(dpitest.CertOptions{KeyType: dpitest.RSA2048})
	require.NoError(t, err)
	_, err = interop.NewSigner(rsa.Key, rsa.Chain)
	assert.ErrorIs(t, err, interop.ErrConfig)
	_, err = interop.NewSigner(w.a.Key, w.b.Chain)
	assert.ErrorIs(t, err, interop.ErrConfig)
	_, err = interop.NewSigner(w.a.Key, nil)
	assert.ErrorIs(t, err, interop.ErrConfig)
	_, err = interop.NewStaticDirectory(interop.Member{ID: agencyA})
	assert.ErrorIs(t, err, interop.ErrConfig)
	_, err = interop.NewStaticDirectory(interop.Member{ID: agencyA, Subjects: []string{"CN=x"}}, interop.Member{ID: agencyA, Subjects: []string{"CN=y"}})
	assert.ErrorIs(t, err, interop.ErrConfig)
	_, err = w.dir.Lookup(context.Background(), stranger)
	assert.ErrorIs(t, err, interop.ErrUnknownMember)
}
