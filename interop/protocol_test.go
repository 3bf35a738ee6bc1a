package interop_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/interop"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestToSecurityServer has the transport talk to a stand-in for the client's security
// server, which checks that what arrives is the plain protocol of PR-REST §4.1 and §4.3.
func TestToSecurityServer(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	ss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set(interop.HeaderClient, r.Header.Get(interop.HeaderClient))
		w.Header().Set(interop.HeaderService, "INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE")
		w.Header().Set(interop.HeaderID, r.Header.Get(interop.HeaderID))
		w.Header().Set(interop.HeaderRequestHash, "14sEri8SmLNy/DJyTob0ZddAskmdRy5ZUyhbr33iLkaA+gLpWcivUH16fzbuIs7hhs2AnA4lJDloyIihXMlVQA==")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer ss.Close()
	client := interop.ClientID{Instance: "INSTANCE", Class: "CLASS1", Member: "MEMBER1", Subsystem: "SUBSYSTEM1"}
	svc := interop.ServiceID{Provider: interop.ClientID{Instance: "INSTANCE", Class: "CLASS2", Member: "MEMBER2", Subsystem: "SUBSYSTEM2"}, Code: "BARSERVICE"}
	tr, err := interop.NewTransport(interop.TransportConfig{Client: client, Service: svc, SecurityServer: true})
	require.NoError(t, err)
	c := &http.Client{Transport: tr}

	// PR-REST §4.1's example request.
	req, err := http.NewRequest(http.MethodGet, ss.URL+"/v1/bar/zyggy?quu=1", nil)
	require.NoError(t, err)
	req.Header.Set(interop.HeaderUserID, "EE12345678901")
	req.Header.Set(interop.HeaderIssue, "MT324223MSD")
	req.Header.Set(interop.HeaderRepresentedParty, "MEMBERCLASS/MEMBERCODE")
	resp, err := c.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, `{"ok":true}`, string(b))
	assert.Equal(t, "/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1", got.RequestURI)
	assert.Equal(t, []string{"INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1"}, got.Header.Values(interop.HeaderClient))
	assert.Regexp(t, uuidRE, got.Header.Get(interop.HeaderID))
	assert.Equal(t, "EE12345678901", got.Header.Get(interop.HeaderUserID))
	assert.Equal(t, "MT324223MSD", got.Header.Get(interop.HeaderIssue))
	assert.Equal(t, "MEMBERCLASS/MEMBERCODE", got.Header.Get(interop.HeaderRepresentedParty))
	for _, h := range []string{interop.HeaderEnvelope, interop.HeaderContentDigest, interop.HeaderRequestHash} {
		assert.Empty(t, got.Header.Get(h), h)
	}
	assert.Empty(t, gotBody)

	// A request the transport refuses before sending: a malformed represented party.
	req, err = http.NewRequest(http.MethodGet, ss.URL+"/v1/bar", nil)
	require.NoError(t, err)
	req.Header.Set(interop.HeaderRepresentedParty, "A/B/C")
	_, err = c.Do(req)
	assert.ErrorIs(t, err, interop.ErrIdentifier)

	// The security server's X-Road errors (PR-REST §4.6 examples 2 to 4) come back as
	// responses, and ReadFault reads them.
	for _, f := range loadVectors(t).Faults {
		ss.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.Header().Set(interop.HeaderError, f.Header)
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
		})
		resp, err := c.Get(ss.URL + "/v1/bar")
		require.NoError(t, err, f.Section)
		assert.Equal(t, f.Status, resp.StatusCode)
		fault, err := interop.ReadFault(resp)
		require.NoError(t, err)
		require.NotNil(t, fault)
		assert.Equal(t, f.Header, fault.Type, f.Section)
		assert.NotEmpty(t, fault.Message)
		assert.Len(t, fault.Detail, 36)
	}

	// A response for another message ID.
	ss.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(interop.HeaderID, "another")
	})
	_, err = c.Get(ss.URL + "/v1/bar")
	assert.ErrorIs(t, err, interop.ErrRequestHash)
	resp, err = c.Get(ss.URL + "/v1/bar")
	if err == nil {
		f, err := interop.ReadFault(resp)
		assert.NoError(t, err)
		assert.Nil(t, f)
	}
}

// TestBehindSecurityServer has a provider's security server call the handler as X-Road
// does: the service's own path, and the X-Road fields (PR-REST §4.3).
func TestBehindSecurityServer(t *testing.T) {
	provider := interop.ClientID{Instance: "DEV", Class: "COM", Member: "222", Subsystem: "TESTSERVICE"}
	h, err := interop.NewHandler(interop.HandlerConfig{Provider: provider, SecurityServer: true}, echo(t))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v2/pets", bytes.NewReader([]byte(`{"name":"doggie"}`)))
	require.NoError(t, err)
	req.Header.Set(interop.HeaderClient, "DEV/COM/222/TESTCLIENT")
	req.Header.Set(interop.HeaderService, "DEV/COM/222/TESTSERVICE/petstore")
	req.Header.Set(interop.HeaderID, "dcaaa3a2-a158-41e1-8775-309848052358")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	m := decodeEcho(t, resp)
	assert.Equal(t, "DEV/COM/222/TESTCLIENT", m["client"])
	assert.Equal(t, "DEV/COM/222/TESTSERVICE/petstore", m["service"])
	assert.Equal(t, "dcaaa3a2-a158-41e1-8775-309848052358", m["id"])
	assert.Equal(t, "/v2/pets", m["path"])
	assert.Equal(t, `{"name":"doggie"}`, m["body"])
	assert.Equal(t, "", m["signer"])
	assert.Empty(t, resp.Header.Get(interop.HeaderEnvelope))

	for name, edit := range map[string]func(*http.Request){
		"no service":       func(r *http.Request) { r.Header.Del(interop.HeaderService) },
		"no client":        func(r *http.Request) { r.Header.Del(interop.HeaderClient) },
		"another service":  func(r *http.Request) { r.Header.Set(interop.HeaderService, "DEV/COM/222/OTHER/petstore") },
		"user id too long": func(r *http.Request) { r.Header.Set(interop.HeaderUserID, "EE"+strings.Repeat("1", 300)) },
	} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/pets", nil)
		require.NoError(t, err)
		req.Header.Set(interop.HeaderClient, "DEV/COM/222/TESTCLIENT")
		req.Header.Set(interop.HeaderService, "DEV/COM/222/TESTSERVICE/petstore")
		edit(req)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, name)
		want := "Client.BadRequest"
		if name == "another service" {
			want = "Client.UnknownService"
		}
		assertFault(t, resp, http.StatusBadRequest, want)
	}
}
