package interop_test

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// stream is a generated body of n bytes that hashes what it gives, so that a test compares
// digests without holding either side.
type stream struct {
	n, off int64
	h      hash.Hash
}

var pattern = func() []byte {
	b := make([]byte, 64<<10+7) // a length prime to 64 KiB, so reads do not repeat in step
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}()

func newStream(n int64) *stream { return &stream{n: n, h: sha256.New()} }

func (s *stream) Read(p []byte) (int, error) {
	if s.off >= s.n {
		return 0, io.EOF
	}
	if rem := s.n - s.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := copy(p, pattern[s.off%int64(len(pattern)):])
	s.h.Write(p[:n])
	s.off += int64(n)
	return n, nil
}

// count hashes and counts what it is given.
type count struct {
	n int64
	h hash.Hash
}

func (c *count) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// TestStreamGiB sends a 1 GiB request body and receives a 1 GiB response body, both signed
// and verified as they flow: the bytes arrive whole, and their digests match the digests of
// the bytes generated.
func TestStreamGiB(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	w := newWorld(t, dpitest.Ed25519)
	var got count
	var out *stream
	srv := w.serve(t, interop.HandlerConfig{}, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got = count{h: sha256.New()}
		if _, err := io.Copy(&got, r.Body); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		out = newStream(size)
		rw.Header().Set("Content-Type", "application/octet-stream")
		_, _ = io.Copy(rw, out)
	}))
	c := w.client(t, interop.TransportConfig{})
	in := newStream(size)
	resp, err := c.Post(srv.URL+"/v1/archive", "application/octet-stream", in)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get(interop.HeaderContentDigest), "a streamed body's digest is signed in the trailer")
	back := count{h: sha256.New()}
	_, err = io.Copy(&back, resp.Body)
	require.NoError(t, err)

	assert.Equal(t, size, got.n)
	assert.Equal(t, in.h.Sum(nil), got.h.Sum(nil))
	assert.Equal(t, size, back.n)
	assert.Equal(t, out.h.Sum(nil), back.h.Sum(nil))
	assert.NotEmpty(t, resp.Trailer.Get(interop.HeaderEnvelopeTrailer))
}

// flipper flips one byte of a body at offset as it passes.
type flipper struct {
	r      io.ReadCloser
	off    int64
	at     int64
	called atomic.Bool
}

func (f *flipper) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 1
		f.called.Store(true)
	}
	f.off += int64(n)
	return n, err
}

func (f *flipper) Close() error { return f.r.Close() }

// TestStreamTampered flips one byte in the middle of a streamed request body, and of a
// streamed response body, on the way: the reader's last Read fails with ErrBody.
func TestStreamTampered(t *testing.T) {
	const size = 4 << 20
	w := newWorld(t, dpitest.ECDSAP256)
	var readErr atomic.Value
	srv := w.serve(t, interop.HandlerConfig{}, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			readErr.Store(err)
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		_, _ = io.Copy(rw, newStream(int64(n)))
	}))
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)

	t.Run("request", func(t *testing.T) {
		p := httputil.NewSingleHostReverseProxy(target)
		front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			r.Body = &flipper{r: r.Body, at: size / 2}
			p.ServeHTTP(rw, r)
		}))
		defer front.Close()
		c := w.client(t, interop.TransportConfig{})
		resp, err := c.Post(front.URL+"/v1/archive?n=0", "application/octet-stream", newStream(size))
		require.NoError(t, err)
		assertFault(t, resp, http.StatusBadRequest, "Client.InvalidBody")
		e, _ := readErr.Load().(error)
		assert.ErrorIs(t, e, interop.ErrBody)
	})

	t.Run("request, streamed answer", func(t *testing.T) {
		p := httputil.NewSingleHostReverseProxy(target)
		front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			r.Body = &flipper{r: r.Body, at: size / 2}
			p.ServeHTTP(rw, r)
		}))
		defer front.Close()
		c := w.client(t, interop.TransportConfig{})
		resp, err := c.Post(front.URL+"/v1/archive?n="+strconv.Itoa(size), "application/octet-stream", newStream(size))
		require.NoError(t, err)
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		assert.ErrorIs(t, err, interop.ErrBody, "the trailer of a response to a request whose body failed is left unsigned")
	})

	t.Run("response", func(t *testing.T) {
		p := httputil.NewSingleHostReverseProxy(target)
		f := &flipper{at: size / 2}
		p.ModifyResponse = func(r *http.Response) error { f.r = r.Body; r.Body = f; return nil }
		front := httptest.NewServer(p)
		defer front.Close()
		c := w.client(t, interop.TransportConfig{})
		resp, err := c.Post(front.URL+"/v1/archive?n="+strconv.Itoa(size), "application/octet-stream", bytes.NewReader([]byte("x")))
		require.NoError(t, err)
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		assert.True(t, f.called.Load())
		assert.ErrorIs(t, err, interop.ErrBody)
		assert.Equal(t, int64(size), n)
	})
}
