package interop_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
)

// ocspChecker is the kind of RevocationChecker a caller plugs in: it asks the OCSP
// responder each certificate of the chain names (RFC 6960), root excluded.
func ocspChecker(calls *atomic.Int64) interop.RevocationChecker {
	return interop.RevocationCheckerFunc(func(ctx context.Context, chain []*x509.Certificate) (interop.RevocationStatus, error) {
		calls.Add(1)
		if len(chain) < 2 {
			return interop.RevocationUnknown, errors.New("no issuer")
		}
		for i, c := range chain[:len(chain)-1] {
			issuer := chain[i+1]
			if len(c.OCSPServer) == 0 {
				return interop.RevocationUnknown, nil
			}
			req, err := ocsp.CreateRequest(c, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
			if err != nil {
				return interop.RevocationUnknown, err
			}
			hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.OCSPServer[0], bytes.NewReader(req))
			if err != nil {
				return interop.RevocationUnknown, err
			}
			hr.Header.Set("Content-Type", "application/ocsp-request")
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				return interop.RevocationUnknown, err
			}
			der, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return interop.RevocationUnknown, fmt.Errorf("responder answered %d", resp.StatusCode)
			}
			r, err := ocsp.ParseResponseForCert(der, c, issuer)
			if err != nil {
				return interop.RevocationUnknown, err
			}
			switch r.Status {
			case ocsp.Revoked:
				return interop.RevocationRevoked, nil
			case ocsp.Good:
			default:
				return interop.RevocationUnknown, nil
			}
		}
		return interop.RevocationGood, nil
	})
}

// TestRevocation asks a real OCSP responder (dpitest) through the seam: a good signer
// passes, a revoked one is refused over HTTP as X-Road refuses it (Client.CertValidation),
// and a responder that does not answer leaves the status unknown, which is not "good".
func TestRevocation(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	var calls atomic.Int64
	checked := w.verifier(t, interop.VerifierConfig{Revocation: ocspChecker(&calls)})
	srv := w.serve(t, interop.HandlerConfig{Verifier: checked}, echo(t))
	client := w.client(t, interop.TransportConfig{Verifier: checked})

	get := func() *http.Response {
		resp, err := client.Get(srv.URL + "/v1/persons/42")
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, int64(2), calls.Load(), "the request's signer and the response's are checked")

	ctx := context.Background()
	msg, err := w.signA.SignMessage(&interop.SignedMessage{Client: agencyA, Service: service, Body: []byte("x")})
	require.NoError(t, err)
	_, err = checked.VerifyMessage(ctx, msg, interop.NewMemorySeenIDs(interop.SeenConfig{}))
	require.NoError(t, err)

	require.NoError(t, w.pki.Revoke(w.a.Cert, time.Now().Add(-time.Minute)))
	resp = get()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	f, err := interop.ReadFault(resp)
	require.NoError(t, err)
	require.NotNil(t, f)
	assert.Equal(t, "Client.CertValidation", f.Type)
	assert.Contains(t, f.Message, "revocation: revoked")

	_, err = checked.VerifyMessage(ctx, msg, interop.NewMemorySeenIDs(interop.SeenConfig{}))
	assert.ErrorIs(t, err, interop.ErrCertificate)
	var e *interop.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, interop.CheckRevocation, e.Check)

	w.pki.SetOCSPAvailable(false)
	_, err = checked.VerifyMessage(ctx, msg, interop.NewMemorySeenIDs(interop.SeenConfig{}))
	assert.ErrorIs(t, err, interop.ErrRevocationUnknown)
	assert.NotErrorIs(t, err, interop.ErrRejected, "an unknown status is not a rejection")
	w.pki.SetOCSPAvailable(true)

	// B is not revoked: a request from B's key would pass, so the refusal above was A's.
	msgB, err := w.signB.SignMessage(&interop.SignedMessage{Client: agencyB, Service: service, Body: []byte("x")})
	require.NoError(t, err)
	_, err = checked.VerifyMessage(ctx, msgB, interop.NewMemorySeenIDs(interop.SeenConfig{}))
	require.NoError(t, err)
}

// TestRevocationChecker pins what the verifier makes of each answer, and what it gives the
// checker: the chain verified up to the root.
func TestRevocationChecker(t *testing.T) {
	w := newWorld(t, dpitest.Ed25519)
	ctx := context.Background()
	msg, err := w.signA.SignMessage(&interop.SignedMessage{Client: agencyA, Service: service, Body: []byte("x")})
	require.NoError(t, err)
	tests := []struct {
		name   string
		status interop.RevocationStatus
		err    error
		want   error
	}{
		{"good", interop.RevocationGood, nil, nil},
		{"revoked", interop.RevocationRevoked, nil, interop.ErrCertificate},
		{"unknown", interop.RevocationUnknown, nil, interop.ErrRevocationUnknown},
		{"zero value", 0, nil, interop.ErrRevocationUnknown},
		{"out of range", 7, nil, interop.ErrRevocationUnknown},
		{"checker failed", interop.RevocationGood, errors.New("responder unreachable"), interop.ErrRevocationUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []*x509.Certificate
			v := w.verifier(t, interop.VerifierConfig{Revocation: interop.RevocationCheckerFunc(
				func(_ context.Context, chain []*x509.Certificate) (interop.RevocationStatus, error) {
					got = chain
					return tc.status, tc.err
				})})
			_, err := v.VerifyMessage(ctx, msg, interop.NewMemorySeenIDs(interop.SeenConfig{}))
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
			require.Len(t, got, 3)
			assert.Equal(t, w.a.Cert.Raw, got[0].Raw)
			assert.Equal(t, w.pki.Intermediate.Raw, got[1].Raw)
			assert.Equal(t, w.pki.Root.Raw, got[2].Raw)
		})
	}
	assert.Equal(t, "revoked", interop.RevocationRevoked.String())
	assert.Equal(t, "unknown", interop.RevocationStatus(0).String())
	assert.True(t, strings.HasPrefix(interop.RevocationGood.String(), "good"))
}
