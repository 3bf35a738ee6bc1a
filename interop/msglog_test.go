package interop_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/store"
)

func openLog(t *testing.T, db *store.DB, origin string) *evidence.Log {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	l, err := evidence.Open(context.Background(), db, evidence.Config{Origin: origin, Signer: key})
	require.NoError(t, err)
	return l
}

func scan(t *testing.T, l *evidence.Log, ref string) []*evidence.Entry {
	t.Helper()
	var out []*evidence.Entry
	for e, err := range l.Scan(context.Background(), evidence.Filter{Ref: ref}) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// TestMessageLog checks that both sides log the request and the response of one exchange,
// under its message ID, with the metadata that ties them, and bodies only when asked.
func TestMessageLog(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		w := newWorld(t, dpitest.ECDSAP256)
		logA := openLog(t, db, "agency-a.example/interop")
		logB := openLog(t, db, "agency-b.example/interop")
		srv := w.serve(t, interop.HandlerConfig{Log: logB, LogBodies: true}, echo(t))
		c := w.client(t, interop.TransportConfig{Log: logA})

		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/persons?x=1", strings.NewReader(`{"name":"Ana"}`))
		require.NoError(t, err)
		req.Header.Set(interop.HeaderID, "msg-log-1")
		resp, err := c.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())

		a := scan(t, logA, "msg-log-1")
		b := scan(t, logB, "msg-log-1")
		require.Len(t, a, 2)
		require.Len(t, b, 2)
		meta := func(e *evidence.Entry) interop.LogMeta {
			var m interop.LogMeta
			require.NoError(t, json.Unmarshal(e.Meta, &m))
			return m
		}
		assert.Equal(t, interop.KindRequestSent, a[0].Kind)
		assert.Equal(t, interop.KindResponseReceived, a[1].Kind)
		assert.Equal(t, interop.KindRequestReceived, b[0].Kind)
		assert.Equal(t, interop.KindResponseSent, b[1].Kind)
		reqA, respA, reqB, respB := meta(a[0]), meta(a[1]), meta(b[0]), meta(b[1])
		for _, m := range []interop.LogMeta{reqA, respA, reqB, respB} {
			assert.Equal(t, agencyA.String(), m.Client)
			assert.Equal(t, service.String(), m.Service)
			assert.True(t, m.Signed)
			assert.True(t, m.Complete)
			assert.Equal(t, reqA.RequestHash, m.RequestHash, "every record carries the request hash")
			assert.False(t, m.Time.IsZero())
		}
		assert.Equal(t, resp.Header.Get(interop.HeaderRequestHash), reqA.RequestHash)
		assert.Equal(t, "sent", reqA.Direction)
		assert.Equal(t, "received", reqB.Direction)
		assert.Equal(t, http.MethodPost, reqB.Method)
		assert.Equal(t, "/v1/persons?x=1", reqB.Path)
		assert.Equal(t, reqA.Path, reqB.Path)
		assert.Equal(t, reqA.BodyDigest, reqB.BodyDigest)
		assert.Equal(t, respA.BodyDigest, respB.BodyDigest)
		assert.Equal(t, int64(len(body)), respA.BodySize)
		assert.Equal(t, http.StatusOK, respB.Status)
		assert.Equal(t, respA.Time, respB.Time, "the response's signing time")

		// Bodies: off on A's side, on on B's.
		assert.False(t, reqA.BodyLogged)
		assert.Empty(t, a[0].Payload)
		assert.True(t, reqB.BodyLogged)
		assert.Equal(t, `{"name":"Ana"}`, string(b[0].Payload))
		assert.Equal(t, body, b[1].Payload)
	})
}
