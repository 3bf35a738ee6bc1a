package interop_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// directoryFunc lets a function be a Directory, for a directory that fails.
type directoryFunc func(ctx context.Context, id interop.ClientID) (*interop.Member, error)

func (f directoryFunc) Lookup(ctx context.Context, id interop.ClientID) (*interop.Member, error) {
	return f(ctx, id)
}

// revocationAnswer is a checker that always gives the same answer.
func revocationAnswer(s interop.RevocationStatus, err error) interop.RevocationChecker {
	return interop.RevocationCheckerFunc(func(context.Context, []*x509.Certificate) (interop.RevocationStatus, error) {
		return s, err
	})
}

// TestFaults pins, for each way a request is refused that a client must tell apart, the
// exact answer in X-Road's error form (PR-REST §4.6): the status, the X-Road-Error header,
// the Content-Type, and a JSON body of exactly type, message and detail, detail a fresh
// UUID. The server's own failures (revocation status unknown, directory unavailable or
// expired) are 500 with a fixed message that names no responder, file or database.
func TestFaults(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	now := time.Now().Truncate(time.Second).UTC()

	// An expired directory, and one whose publisher is down, both fetched over HTTPS.
	ee := newCountry(t, "EE")
	expiredPub := newPublisher(t)
	expiredPub.publish(ee.sign(t, directoryOf(w, "EE", now.Add(-25*time.Hour))), http.StatusOK)
	downPub := newPublisher(t)
	downPub.publish(nil, http.StatusServiceUnavailable)
	remote := func(p *publisher) interop.Directory {
		d, err := interop.NewRemoteDirectory(interop.RemoteDirectoryConfig{
			Sources: []interop.DirectorySource{{Anchor: ee.anchor(), URL: p.srv.URL}}, Client: p.srv.Client(),
		})
		require.NoError(t, err)
		return d
	}

	fixedID := "3e1ad7f6-8a4c-4a55-9a55-0c5f5f1e2b11"
	signedAt := now.Add(-5 * time.Minute)
	late := w.verifier(t, interop.VerifierConfig{Now: func() time.Time { return signedAt }})

	tests := []struct {
		name     string
		verifier interop.VerifierConfig // B's
		client   interop.TransportConfig
		provider interop.ClientID
		status   int
		typ      string
		message  string
	}{
		{
			name:     "revocation status unknown",
			verifier: interop.VerifierConfig{Revocation: revocationAnswer(interop.RevocationUnknown, nil)},
			status:   http.StatusInternalServerError, typ: "Server.ServerProxy.MissingValidationInfo",
			message: "the revocation status of the signer's certificate is unknown: try again later",
		},
		{
			name:     "revocation responder unavailable",
			verifier: interop.VerifierConfig{Revocation: revocationAnswer(interop.RevocationGood, errors.New("dial tcp 10.0.0.7:80: connection refused"))},
			status:   http.StatusInternalServerError, typ: "Server.ServerProxy.MissingValidationInfo",
			message: "the revocation status of the signer's certificate is unknown: try again later",
		},
		{
			name:     "certificate revoked",
			verifier: interop.VerifierConfig{Revocation: revocationAnswer(interop.RevocationRevoked, nil)},
			status:   http.StatusBadRequest, typ: "Client.CertValidation",
			message: "interop: envelope rejected: certificate not trusted: revocation: revoked",
		},
		{
			name:     "directory expired",
			verifier: interop.VerifierConfig{Directory: remote(expiredPub)},
			status:   http.StatusInternalServerError, typ: "Server.ServerProxy.OutdatedGlobalConf",
			message: "the member directory is unavailable or has expired: try again later",
		},
		{
			name:     "directory unavailable",
			verifier: interop.VerifierConfig{Directory: remote(downPub)},
			status:   http.StatusInternalServerError, typ: "Server.ServerProxy.OutdatedGlobalConf",
			message: "the member directory is unavailable or has expired: try again later",
		},
		{
			name: "directory failing",
			verifier: interop.VerifierConfig{Directory: directoryFunc(func(context.Context, interop.ClientID) (*interop.Member, error) {
				return nil, errors.New("pq: connection to 10.0.0.8 refused")
			})},
			status: http.StatusInternalServerError, typ: "Server.ServerProxy.OutdatedGlobalConf",
			message: "the member directory is unavailable or has expired: try again later",
		},
		{
			name: "directory not valid",
			verifier: interop.VerifierConfig{Directory: directoryFunc(func(context.Context, interop.ClientID) (*interop.Member, error) {
				return nil, fmt.Errorf("%w: loaded from /etc/dpi/ee.jws", interop.ErrDirectory)
			})},
			status: http.StatusInternalServerError, typ: "Server.ServerProxy.MalformedGlobalConf",
			message: "the member directory held is not valid",
		},
		{
			name:   "unknown member",
			client: interop.TransportConfig{Client: interop.ClientID{Instance: "EE", Class: "GOV", Member: "99999999", Subsystem: "x"}},
			status: http.StatusBadRequest, typ: "Client.UnknownMember",
			message: "interop: envelope rejected: unknown member: member: EE/GOV/99999999/x is not in the directory",
		},
		{
			name:     "unknown service",
			provider: interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "other"},
			status:   http.StatusBadRequest, typ: "Client.UnknownService",
			message: "interop: not the X-Road message protocol for REST: service: EE/GOV/70000002/registry/person is not served here",
		},
		{
			name:   "signing time outside the window",
			client: interop.TransportConfig{Verifier: late},
			status: http.StatusBadRequest, typ: "Client.ClockSkew",
			message: "interop: envelope rejected: signing time outside the window: time: signed at " +
				signedAt.Format(time.RFC3339) + ", more than 2m0s from now",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := w.serve(t, interop.HandlerConfig{Provider: tc.provider, Verifier: w.verifier(t, tc.verifier)}, echo(t))
			cfg := tc.client
			if cfg.Client != (interop.ClientID{}) {
				cfg.Signer = w.signA
			}
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/persons/42", nil)
			require.NoError(t, err)
			req.Header.Set(interop.HeaderID, fixedID)
			resp, err := w.client(t, cfg).Do(req)
			require.NoError(t, err)
			assertFaultExactly(t, resp, tc.status, tc.typ, tc.message)
		})
	}

	// A replayed message and a bad signature need a request sent as recorded.
	rec := &recorder{}
	srv := w.serve(t, interop.HandlerConfig{}, echo(t))
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/persons/42", nil)
	require.NoError(t, err)
	req.Header.Set(interop.HeaderID, fixedID)
	resp, err := w.client(t, interop.TransportConfig{Base: rec}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, rec.requests, 1)
	sent := rec.requests[0]
	t.Run("replayed message", func(t *testing.T) {
		assertFaultExactly(t, sent.send(t, nil), http.StatusBadRequest, "Client.DuplicateMessageId",
			"interop: envelope rejected: replayed message: replay: message "+fixedID+" was already received")
	})
	t.Run("bad signature", func(t *testing.T) {
		edit := func(r *http.Request) { r.Header.Set(interop.HeaderUserID, "EE00000000000") }
		assertFaultExactly(t, sent.send(t, edit), http.StatusBadRequest, "Client.InvalidSignatureValue",
			"interop: envelope rejected: signature does not verify: signature: does not verify over the request received")
	})
}

// assertFaultExactly checks an answer in X-Road's error form, byte for byte but for the
// detail, which is a fresh UUID.
func assertFaultExactly(t *testing.T, resp *http.Response, status int, typ, message string) {
	t.Helper()
	defer resp.Body.Close()
	assert.Equal(t, status, resp.StatusCode)
	assert.Equal(t, []string{typ}, resp.Header.Values(interop.HeaderError))
	assert.Equal(t, "application/json;charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Empty(t, resp.Header.Get(interop.HeaderEnvelope), "an error is not signed")
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var f struct{ Type, Message, Detail string }
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&f), string(b))
	assert.Regexp(t, uuidRE, f.Detail)
	want, err := json.Marshal(map[string]string{"type": typ, "message": message, "detail": f.Detail})
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(b))
	assert.Equal(t, `{"type":`, string(b[:8]), "type first, as PR-REST §4.6 writes it")
}

// TestVerifierNeedsRevocationDecision: a verifier with no revocation checker and no
// SkipRevocationUnsafe is refused, with an error that says what to set; both at once are
// refused too.
func TestVerifierNeedsRevocationDecision(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	_, err := interop.NewVerifier(interop.VerifierConfig{Roots: w.pki.Pool(), Directory: w.dir})
	require.ErrorIs(t, err, interop.ErrConfig)
	assert.EqualError(t, err, "interop: invalid configuration: config: no revocation checker: set Revocation, or SkipRevocationUnsafe to accept revoked signers")
	_, err = interop.NewVerifier(interop.VerifierConfig{Roots: w.pki.Pool(), Directory: w.dir,
		Revocation: revocationAnswer(interop.RevocationGood, nil), SkipRevocationUnsafe: true})
	assert.ErrorIs(t, err, interop.ErrConfig)
	var zero interop.VerifierConfig
	_, err = interop.NewVerifier(zero)
	assert.ErrorIs(t, err, interop.ErrConfig, "the zero config refuses")
}
