package interop_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// large is longer than limits.MaxInteropInlineBody: it streams, its digest signed in the
// Dpi-Envelope-Trailer trailer.
var large = bytes.Repeat([]byte("0123456789abcdef"), 16<<10)

// bodies answers by path: a long body, a HEAD-able resource, 204 and 304.
func bodies(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/large", func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		sum := sha256.Sum256(got)
		w.Header().Set("X-Request-Sha256", string(sum[:4]))
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(large)
	})
	mux.HandleFunc("/v1/resource", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "11")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	mux.HandleFunc("/v1/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		_, err := w.Write([]byte("ignored"))
		assert.ErrorIs(t, err, http.ErrBodyNotAllowed)
	})
	mux.HandleFunc("/v1/notmodified", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNotModified)
	})
	return mux
}

// TestBodylessAndProxied sends HEAD requests, bodyless responses and long streamed bodies
// straight to B's handler and through a reverse proxy (httputil.ReverseProxy on loopback,
// as an agency's gateway would be), and checks what passes.
func TestBodylessAndProxied(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	srv := w.serve(t, interop.HandlerConfig{}, bodies(t))
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(proxy.Close)
	client := w.client(t, interop.TransportConfig{})

	for _, via := range []struct{ name, url string }{{"direct", srv.URL}, {"proxied", proxy.URL}} {
		t.Run(via.name, func(t *testing.T) {
			// do sends body; with hide, the request has no GetBody and an unknown length,
			// so the transport knows its digest only once it has flowed.
			do := func(method, path string, body []byte, hide ...bool) (*http.Response, []byte, error) {
				var rd io.Reader
				if body != nil {
					rd = bytes.NewReader(body)
				}
				req, err := http.NewRequest(method, via.url+path, rd)
				require.NoError(t, err)
				if len(hide) > 0 && hide[0] {
					req.GetBody, req.ContentLength = nil, -1
				}
				resp, err := client.Do(req)
				if err != nil {
					return nil, nil, err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				return resp, b, err
			}
			t.Run("HEAD", func(t *testing.T) {
				resp, b, err := do(http.MethodHead, "/v1/resource", nil)
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Empty(t, b)
				assert.Equal(t, "11", resp.Header.Get("Content-Length"), "HEAD keeps the GET's length")
				assert.NotEmpty(t, resp.Header.Get(interop.HeaderEnvelope))
			})
			t.Run("GET", func(t *testing.T) {
				resp, b, err := do(http.MethodGet, "/v1/resource", nil)
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, `{"ok":true}`, string(b))
			})
			for _, status := range []int{http.StatusNoContent, http.StatusNotModified} {
				t.Run(strconv.Itoa(status), func(t *testing.T) {
					path := map[int]string{http.StatusNoContent: "/v1/nocontent", http.StatusNotModified: "/v1/notmodified"}[status]
					resp, b, err := do(http.MethodGet, path, nil)
					require.NoError(t, err)
					assert.Equal(t, status, resp.StatusCode)
					assert.Empty(t, b)
				})
			}
			t.Run("long response, trailer", func(t *testing.T) {
				resp, b, err := do(http.MethodGet, "/v1/large", nil)
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, large, b)
			})
			t.Run("long request, digest known", func(t *testing.T) {
				// http.NewRequest gives a bytes.Reader a GetBody: the transport hashes a
				// copy first and signs the digest in the envelope, so no trailer is needed.
				resp, b, err := do(http.MethodPost, "/v1/large", large)
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, large, b)
			})
			t.Run("long request, trailer", func(t *testing.T) {
				resp, b, err := do(http.MethodPost, "/v1/large", large, true)
				require.NoError(t, err)
				if via.name == "direct" {
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					assert.Equal(t, large, b)
					return
				}
				// httputil.ReverseProxy forwards a response's trailers but not a request's
				// (Trailer is a hop-by-hop field, and the values the server read are not
				// copied to the request it sends on): the request's body digest is lost, and
				// the handler refuses the request rather than trust a body nobody signed.
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
				assert.Equal(t, "Client.InvalidBody", resp.Header.Get(interop.HeaderError))
			})
		})
	}
}

// heapPeak samples the live heap until stop is called, and returns its peak above the
// heap when it started.
func heapPeak(t *testing.T) (stop func() uint64) {
	t.Helper()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := read(); v > max {
				max = v
			}
			select {
			case <-done:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		if m := <-peak; m > base {
			return m - base
		}
		return 0
	}
}

// TestKnownDigestProxied sends a 64 MiB request body whose digest the client knows before
// sending (from the request's GetBody, or a Content-Digest the caller set) through
// httputil.ReverseProxy, which drops request trailers: the digest is signed in the
// envelope, the body streams in constant memory and arrives whole, and a body that is not
// the one declared, or is changed on the way, never ends at the handler.
func TestKnownDigestProxied(t *testing.T) {
	const size = 64 << 20
	w := newWorld(t, dpitest.Ed25519)
	var readErr atomic.Pointer[error]
	var digests atomic.Value
	srv := w.serve(t, interop.HandlerConfig{}, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		digests.Store(r.Header.Get(interop.HeaderContentDigest) + " " + r.Trailer.Get(interop.HeaderEnvelopeTrailer))
		got := count{h: sha256.New()}
		if _, err := io.Copy(&got, r.Body); err != nil {
			readErr.Store(&err)
			http.Error(rw, "body", http.StatusUnprocessableEntity)
			return
		}
		_, _ = fmt.Fprintf(rw, "%d %x", got.n, got.h.Sum(nil))
	}))
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	var flip atomic.Bool
	p := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if flip.Load() {
			r.Body = &flipper{r: r.Body, at: size / 2}
		}
		p.ServeHTTP(rw, r)
	}))
	t.Cleanup(proxy.Close)
	client := w.client(t, interop.TransportConfig{})
	want := newStream(size)
	_, err = io.Copy(io.Discard, want)
	require.NoError(t, err)
	sum := want.h.Sum(nil)
	digest, err := interop.ContentDigest(newStream(size))
	require.NoError(t, err)
	other, err := interop.ContentDigest(newStream(size - 1))
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		getBody bool   // the request can give a copy of its body
		declare string // the Content-Digest the caller sets
		flip    bool   // the proxy changes one byte
		sendErr bool   // RoundTrip fails with ErrBody
		status  int
	}{
		{name: "GetBody", getBody: true, status: http.StatusOK},
		{name: "Content-Digest set", declare: digest, status: http.StatusOK},
		{name: "Content-Digest set, GetBody too", getBody: true, declare: digest, status: http.StatusOK},
		{name: "Content-Digest of another body", declare: other, sendErr: true},
		{name: "changed on the way", getBody: true, flip: true, status: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readErr.Store(nil)
			digests.Store("")
			flip.Store(tc.flip)
			req, err := http.NewRequest(http.MethodPost, proxy.URL+"/v1/archive", io.NopCloser(newStream(size)))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/octet-stream")
			if tc.getBody {
				req.ContentLength = size
				req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(newStream(size)), nil }
			}
			if tc.declare != "" {
				req.Header.Set(interop.HeaderContentDigest, tc.declare)
			}
			stop := heapPeak(t)
			resp, err := client.Do(req)
			var b []byte
			if err == nil {
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			peak := stop()
			t.Logf("live heap grew by at most %d KiB", peak>>10)
			assert.Less(t, peak, uint64(size/4), "the body is streamed, not held: heap grew by %d bytes", peak)
			if tc.sendErr {
				require.Error(t, err)
				assert.ErrorIs(t, err, interop.ErrBody)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.StatusCode, string(b))
			if tc.status != http.StatusOK {
				assert.Equal(t, "Client.InvalidBody", resp.Header.Get(interop.HeaderError))
				e := readErr.Load()
				require.NotNil(t, e, "the handler's read failed")
				assert.ErrorIs(t, *e, interop.ErrBody)
				return
			}
			assert.Equal(t, fmt.Sprintf("%d %x", size, sum), string(b))
			assert.Equal(t, digest+" ", digests.Load(), "the digest is signed in the envelope, with no trailer")
		})
	}
}

// TestDeclaredDigest sends short bodies with a Content-Digest set by the caller: the right
// one is sent, and a wrong, malformed or repeated one is refused before anything is sent.
func TestDeclaredDigest(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	var calls atomic.Int64
	srv := w.serve(t, interop.HandlerConfig{}, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(rw, r.Body)
	}))
	client := w.client(t, interop.TransportConfig{})
	body := []byte(`{"person":"42"}`)
	right, err := interop.ContentDigest(bytes.NewReader(body))
	require.NoError(t, err)
	wrong, err := interop.ContentDigest(strings.NewReader(`{"person":"43"}`))
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		declare []string
		err     error
	}{
		{name: "right", declare: []string{right}},
		{name: "another body's", declare: []string{wrong}, err: interop.ErrBody},
		{name: "malformed", declare: []string{"sha-256=:abc:"}, err: interop.ErrMalformed},
		{name: "not SHA-256", declare: []string{"sha-512=:" + strings.Repeat("A", 86) + "==:"}, err: interop.ErrMalformed},
		{name: "twice", declare: []string{right, right}, err: interop.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/echo", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header[interop.HeaderContentDigest] = tc.declare
			resp, err := client.Do(req)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Equal(t, before, calls.Load(), "nothing was sent")
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, body, b)
		})
	}
}
