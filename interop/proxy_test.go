package interop_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

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
			do := func(method, path string, body []byte) (*http.Response, []byte, error) {
				var rd io.Reader
				if body != nil {
					rd = bytes.NewReader(body)
				}
				req, err := http.NewRequest(method, via.url+path, rd)
				require.NoError(t, err)
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
			t.Run("long request, trailer", func(t *testing.T) {
				resp, b, err := do(http.MethodPost, "/v1/large", large)
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
