package interop_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/interop"
)

// country is one instance's central operator: the PKI of its configuration anchor and the
// signer of its directory.
type country struct {
	instance string
	pki      *dpitest.PKI
	cred     *dpitest.Credential
	signer   *interop.Signer
}

func newCountry(t *testing.T, instance string) *country {
	t.Helper()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: instance + " central server"})
	require.NoError(t, err)
	s, err := interop.NewSigner(cred.Key, cred.Chain)
	require.NoError(t, err)
	return &country{instance: instance, pki: pki, cred: cred, signer: s}
}

func (c *country) anchor() interop.Anchor {
	return interop.Anchor{Instance: c.instance, Roots: c.pki.Pool()}
}

func (c *country) sign(t *testing.T, d *interop.DirectoryDocument) []byte {
	t.Helper()
	b, err := interop.SignDirectory(d, c.signer)
	require.NoError(t, err)
	return b
}

// signRaw signs any header and payload with c's key, for documents SignDirectory refuses
// to make.
func (c *country) signRaw(t *testing.T, header map[string]any, payload any) []byte {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: c.cred.Key}, opts)
	require.NoError(t, err)
	p, err := json.Marshal(payload)
	require.NoError(t, err)
	obj, err := js.Sign(p)
	require.NoError(t, err)
	s, err := obj.CompactSerialize()
	require.NoError(t, err)
	return []byte(s)
}

func (c *country) x5c() []string {
	var out []string
	for _, cert := range c.cred.Chain {
		out = append(out, base64.StdEncoding.EncodeToString(cert.Raw))
	}
	return out
}

func directoryOf(w *world, instance string, issued time.Time, members ...interop.Member) *interop.DirectoryDocument {
	if members == nil {
		members = []interop.Member{
			{ID: agencyA.MemberID(), Certificates: []*x509.Certificate{w.a.Cert}},
			{ID: agencyB, Subjects: []string{w.b.Cert.Subject.String()}, Endpoint: "https://registry.example/"},
		}
	}
	return &interop.DirectoryDocument{Instance: instance, IssuedAt: issued, ExpiresAt: issued.Add(24 * time.Hour), Members: members}
}

// TestVerifyDirectory verifies a signed directory against its anchor, and refuses every
// document a country's anchor does not vouch for.
func TestVerifyDirectory(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	ee, fi := newCountry(t, "EE"), newCountry(t, "FI")
	anchors := []interop.Anchor{ee.anchor(), fi.anchor()}
	now := time.Now().Truncate(time.Second).UTC()
	doc := ee.sign(t, directoryOf(w, "EE", now))

	d, err := interop.VerifyDirectory(append(doc, '\n'), anchors, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "EE", d.Instance)
	assert.Equal(t, now, d.IssuedAt)
	assert.Equal(t, now.Add(24*time.Hour), d.ExpiresAt)
	assert.Equal(t, ee.cred.Cert.Raw, d.Signer.Raw)
	require.Len(t, d.Members, 2)
	assert.Equal(t, agencyA.MemberID(), d.Members[0].ID)
	assert.Equal(t, w.a.Cert.Raw, d.Members[0].Certificates[0].Raw)
	assert.Equal(t, []string{w.b.Cert.Subject.String()}, d.Members[1].Subjects)
	assert.Equal(t, "https://registry.example/", d.Members[1].Endpoint)

	finnish := interop.ClientID{Instance: "FI", Class: "GOV", Member: "0245437-2", Subsystem: "vero"}
	good := map[string]any{"format": interop.DirectoryFormat, "instance": "EE", "issuedAt": now, "expiresAt": now.Add(time.Hour),
		"members": []map[string]any{{"id": agencyA.String(), "subjects": []string{"CN=a"}}}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	hdr := map[string]any{"typ": "dpi-directory+jws", "x5c": ee.x5c()}
	parts := strings.Split(string(doc), ".")
	tests := []struct {
		name  string
		doc   []byte
		now   time.Time
		check string
	}{
		{"signed by another country for EE", fi.sign(t, directoryOf(w, "EE", now)), now, interop.CheckAnchor},
		{"FI listing an EE member", fi.signRaw(t, map[string]any{"typ": "dpi-directory+jws", "x5c": fi.x5c()}, with("instance", "FI")), now, interop.CheckDirectory},
		{"EE listing a FI member", ee.signRaw(t, hdr, with("members", []map[string]any{{"id": finnish.String(), "subjects": []string{"CN=x"}}})), now, interop.CheckDirectory},
		{"no anchor for the instance", ee.signRaw(t, hdr, with("instance", "LV")), now, interop.CheckAnchor},
		{"expired", doc, now.Add(24 * time.Hour), interop.CheckTime},
		{"issued in the future", doc, now.Add(-time.Hour), interop.CheckTime},
		{"valid too long", ee.signRaw(t, hdr, with("expiresAt", now.Add(limits.MaxInteropDirectoryValidity+time.Hour))), now, interop.CheckDirectory},
		{"payload edited", []byte(parts[0] + "." + base64URL.EncodeToString([]byte(`{}`)) + "." + parts[2]), now, interop.CheckSignature},
		{"unknown field", ee.signRaw(t, hdr, with("admin", true)), now, interop.CheckDirectory},
		{"other format", ee.signRaw(t, hdr, with("format", "x")), now, interop.CheckDirectory},
		{"member twice", ee.signRaw(t, hdr, with("members", []map[string]any{{"id": "EE/GOV/1", "subjects": []string{"a"}}, {"id": "EE/GOV/1", "subjects": []string{"b"}}})), now, interop.CheckDirectory},
		{"member without certificates", ee.signRaw(t, hdr, with("members", []map[string]any{{"id": "EE/GOV/1"}})), now, interop.CheckDirectory},
		{"bad certificate", ee.signRaw(t, hdr, with("members", []map[string]any{{"id": "EE/GOV/1", "certificates": []string{"AAAA"}}})), now, interop.CheckDirectory},
		{"http endpoint", ee.signRaw(t, hdr, with("members", []map[string]any{{"id": "EE/GOV/1", "subjects": []string{"a"}, "endpoint": "http://x"}})), now, interop.CheckDirectory},
		{"kid in the header", ee.signRaw(t, map[string]any{"typ": "dpi-directory+jws", "x5c": ee.x5c(), "kid": "k"}, good), now, interop.CheckDirectory},
		{"no x5c", ee.signRaw(t, map[string]any{"typ": "dpi-directory+jws", "kid": "k"}, good), now, interop.CheckDirectory},
		{"typ of envelopes", ee.signRaw(t, map[string]any{"typ": "dpi-interop+jws", "x5c": ee.x5c()}, good), now, interop.CheckDirectory},
		{"alg none", []byte(base64URL.EncodeToString([]byte(`{"alg":"none","typ":"dpi-directory+jws","x5c":[]}`)) + "." + parts[1] + ".AA"), now, interop.CheckAlgorithm},
		{"detached", []byte(parts[0] + ".." + parts[2]), now, interop.CheckDirectory},
		{"oversize", []byte(strings.Repeat("A", limits.MaxInteropDirectory+1)), now, interop.CheckDirectory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := interop.VerifyDirectory(tc.doc, anchors, tc.now)
			require.ErrorIs(t, err, interop.ErrDirectory)
			var e *interop.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.check, e.Check, e.Error())
		})
	}
	// FI's own directory, for FI's members, is good.
	fiDoc := fi.sign(t, directoryOf(w, "FI", now, interop.Member{ID: finnish, Subjects: []string{"CN=vero"}}))
	_, err = interop.VerifyDirectory(fiDoc, anchors, now)
	require.NoError(t, err)
	_, err = interop.VerifyDirectory(fiDoc, []interop.Anchor{ee.anchor()}, now)
	assert.ErrorIs(t, err, interop.ErrDirectory, "without FI's anchor")

	for name, a := range map[string][]interop.Anchor{
		"none":      nil,
		"no roots":  {{Instance: "EE"}},
		"bad name":  {{Instance: "E E", Roots: ee.pki.Pool()}},
		"duplicate": {ee.anchor(), ee.anchor()},
	} {
		_, err := interop.VerifyDirectory(doc, a, now)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
	_, err = interop.SignDirectory(directoryOf(w, "FI", now), fi.signer)
	assert.ErrorIs(t, err, interop.ErrDirectory, "SignDirectory refuses to list EE members in FI's directory")
}

// publisher serves a directory document over HTTPS on loopback, or an error status, and
// counts the fetches.
type publisher struct {
	srv     *httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	fetches atomic.Int64
}

func newPublisher(t *testing.T) *publisher {
	p := &publisher{status: http.StatusOK}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.status != http.StatusOK {
			w.WriteHeader(p.status)
			return
		}
		_, _ = w.Write(p.doc)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *publisher) publish(doc []byte, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doc, p.status = doc, status
}

// TestRemoteDirectory fetches a directory over HTTPS, caches it, refreshes it, keeps the
// last good one while the publisher fails (until it expires, never after), refuses an
// older one, and federates with a second country read from a file.
func TestRemoteDirectory(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	ee, fi := newCountry(t, "EE"), newCountry(t, "FI")
	pub := newPublisher(t)
	t0 := time.Now().Truncate(time.Second).UTC()
	clk := &clock{}
	clk.ns.Store(t0.UnixNano())
	pub.publish(ee.sign(t, directoryOf(w, "EE", t0, interop.Member{ID: agencyA.MemberID(), Certificates: []*x509.Certificate{w.a.Cert}})), http.StatusOK)

	finnish := interop.ClientID{Instance: "FI", Class: "GOV", Member: "0245437-2", Subsystem: "vero"}
	fiFile := filepath.Join(t.TempDir(), "fi.jws")
	require.NoError(t, os.WriteFile(fiFile, fi.sign(t, directoryOf(w, "FI", t0, interop.Member{ID: finnish, Subjects: []string{"CN=vero"}})), 0o600))

	dir, err := interop.NewRemoteDirectory(interop.RemoteDirectoryConfig{
		Sources: []interop.DirectorySource{
			{Anchor: ee.anchor(), URL: pub.srv.URL + "/ee/directory.jws"},
			{Anchor: fi.anchor(), URL: "file://" + fiFile},
		},
		Client: pub.srv.Client(), Refresh: 10 * time.Minute, Retry: time.Minute, Now: clk.Now,
	})
	require.NoError(t, err)
	ctx := context.Background()
	lookup := func(id interop.ClientID) error {
		_, err := dir.Lookup(ctx, id)
		return err
	}

	require.NoError(t, lookup(agencyA))
	require.NoError(t, lookup(agencyA.MemberID()))
	assert.ErrorIs(t, lookup(agencyB), interop.ErrUnknownMember, "B is not in the first document")
	assert.Equal(t, int64(1), pub.fetches.Load(), "fetched once, then cached")
	require.NoError(t, lookup(finnish))
	assert.ErrorIs(t, lookup(interop.ClientID{Instance: "LV", Class: "GOV", Member: "1"}), interop.ErrUnknownMember)

	// A newer document adds B; it is fetched once the refresh interval has passed.
	pub.publish(ee.sign(t, directoryOf(w, "EE", t0.Add(5*time.Minute))), http.StatusOK)
	clk.Add(9 * time.Minute)
	assert.ErrorIs(t, lookup(agencyB), interop.ErrUnknownMember)
	clk.Add(2 * time.Minute)
	require.NoError(t, lookup(agencyB))
	assert.Equal(t, int64(2), pub.fetches.Load())

	// An older document, replayed, does not replace it.
	pub.publish(ee.sign(t, directoryOf(w, "EE", t0, interop.Member{ID: agencyA.MemberID(), Certificates: []*x509.Certificate{w.a.Cert}})), http.StatusOK)
	clk.Add(11 * time.Minute)
	require.NoError(t, lookup(agencyB))
	assert.Equal(t, int64(3), pub.fetches.Load())

	// The publisher fails: the last good document serves until it expires, with one
	// fetch per Retry, and never after its expiry.
	pub.publish(nil, http.StatusInternalServerError)
	clk.Add(2 * time.Minute)
	before := pub.fetches.Load()
	for range 5 {
		require.NoError(t, lookup(agencyB))
	}
	assert.Equal(t, before+1, pub.fetches.Load(), "a failed fetch is not retried before Retry")
	clk.ns.Store(t0.Add(5*time.Minute + 24*time.Hour).UnixNano())
	err = lookup(agencyB)
	assert.ErrorIs(t, err, interop.ErrDirectoryUnavailable)
	assert.NotErrorIs(t, err, interop.ErrUnknownMember)
	before = pub.fetches.Load()
	assert.ErrorIs(t, lookup(agencyA), interop.ErrDirectoryUnavailable)
	assert.Equal(t, before, pub.fetches.Load(), "no fetch before Retry, even without a document")

	// A document from FI's anchor for EE is refused; EE's own, fresh, is taken.
	pub.publish(fi.sign(t, directoryOf(w, "EE", clk.Now())), http.StatusOK)
	clk.Add(time.Minute)
	assert.ErrorIs(t, lookup(agencyA), interop.ErrDirectoryUnavailable)
	pub.publish(ee.sign(t, directoryOf(w, "EE", clk.Now())), http.StatusOK)
	clk.Add(time.Minute)
	require.NoError(t, lookup(agencyA))

	// FI's file expired too: Refresh says so, and reads a fresh one.
	assert.ErrorIs(t, dir.Refresh(ctx), interop.ErrDirectory)
	assert.ErrorIs(t, lookup(finnish), interop.ErrDirectoryUnavailable)
	require.NoError(t, os.WriteFile(fiFile, fi.sign(t, directoryOf(w, "FI", clk.Now(), interop.Member{ID: finnish, Subjects: []string{"CN=vero"}})), 0o600))
	require.NoError(t, dir.Refresh(ctx))
	require.NoError(t, lookup(finnish))
	require.NoError(t, os.WriteFile(fiFile, []byte("not a directory"), 0o600))
	assert.ErrorIs(t, dir.Refresh(ctx), interop.ErrDirectory)
	require.NoError(t, lookup(finnish), "the last good document still serves")
}

// TestRemoteDirectoryVerifier runs signed requests over loopback with both agencies
// trusting a directory fetched over HTTPS: a member listed passes, one removed from the
// next document is refused (Client.UnknownMember).
func TestRemoteDirectoryVerifier(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	ee := newCountry(t, "EE")
	pub := newPublisher(t)
	now := time.Now().Truncate(time.Second).UTC()
	pub.publish(ee.sign(t, directoryOf(w, "EE", now.Add(-time.Minute))), http.StatusOK)
	dir, err := interop.NewRemoteDirectory(interop.RemoteDirectoryConfig{
		Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: pub.srv.URL}}, Client: pub.srv.Client(),
	})
	require.NoError(t, err)
	require.NoError(t, dir.Refresh(context.Background()))
	v := w.verifier(t, interop.VerifierConfig{Directory: dir})
	srv := w.serve(t, interop.HandlerConfig{Verifier: v}, echo(t))
	client := w.client(t, interop.TransportConfig{Verifier: v})

	resp, err := client.Get(srv.URL + "/v1/persons/42")
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	pub.publish(ee.sign(t, directoryOf(w, "EE", now, interop.Member{ID: agencyB, Certificates: []*x509.Certificate{w.b.Cert}})), http.StatusOK)
	require.NoError(t, dir.Refresh(context.Background()))
	resp, err = client.Get(srv.URL + "/v1/persons/42")
	require.NoError(t, err)
	f, err := interop.ReadFault(resp)
	require.NoError(t, err)
	require.NotNil(t, f)
	assert.Equal(t, "Client.UnknownMember", f.Type)
}

func TestRemoteDirectoryConfig(t *testing.T) {
	ee := newCountry(t, "EE")
	for name, cfg := range map[string]interop.RemoteDirectoryConfig{
		"no sources":          {},
		"plain http":          {Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: "http://conf.example/ee"}}},
		"relative path":       {Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: "conf/ee.jws"}}},
		"remote file":         {Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: "file://host/ee.jws"}}},
		"no roots":            {Sources: []interop.DirectorySource{{Anchor: interop.Anchor{Instance: "EE"}, URL: "/ee.jws"}}},
		"same instance twice": {Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: "/a"}, {Anchor: ee.anchor(), URL: "/b"}}},
		"negative refresh":    {Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: "/a"}}, Refresh: -time.Second},
	} {
		_, err := interop.NewRemoteDirectory(cfg)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
}
