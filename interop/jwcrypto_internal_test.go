package interop

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// TestJWCryptoVerifiesEnvelope has python-jwcrypto verify a request envelope this package
// made, given the signing input the receiver rebuilds from the request it received, and
// refuse it over a signing input with one field changed.
func TestJWCryptoVerifiesEnvelope(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
			require.NoError(t, err)
			defer pki.Close()
			cred, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A", KeyType: kt})
			require.NoError(t, err)
			signer, err := NewSigner(cred.Key, cred.Chain)
			require.NoError(t, err)
			client := ClientID{Instance: "EE", Class: "GOV", Member: "70000001", Subsystem: "benefits"}
			provider := ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}
			dir, err := NewStaticDirectory(Member{ID: client, Certificates: cred.Chain[:1]})
			require.NoError(t, err)
			v, err := NewVerifier(VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
			require.NoError(t, err)

			// The request as B received it, and the signing input B rebuilt from it.
			var got *http.Request
			var input []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				ph, err := readRequestHeaders(r.Header, true)
				if !assert.NoError(t, err) {
					return
				}
				in := &signingInput{Format: EnvelopeFormat, Kind: "request", Method: r.Method, Target: r.RequestURI,
					Client: ph.clientRaw, ID: ph.id, UserID: ph.userID, ContentType: r.Header.Get("Content-Type"),
					BodyDigest: r.Header.Get(HeaderContentDigest)}
				input = in.bytes()
				_, err = v.verifyEnvelope(context.Background(), r.Header.Get(HeaderEnvelope), ph.client, in)
				assert.NoError(t, err)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			tr, err := NewTransport(TransportConfig{Client: client, Service: ServiceID{Provider: provider, Code: "person"},
				Signer: signer, Verifier: v})
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/persons/42", nil)
			require.NoError(t, err)
			req.Header.Set(HeaderUserID, "EE38001085718")
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			require.NotNil(t, got)
			require.NotEmpty(t, input)

			dir2 := t.TempDir()
			payload := filepath.Join(dir2, "payload.json")
			root := filepath.Join(dir2, "root.pem")
			require.NoError(t, os.WriteFile(payload, input, 0o600))
			require.NoError(t, os.WriteFile(root, pki.RootsPEM(), 0o600))
			env := got.Header.Get(HeaderEnvelope)
			out, err := exec.Command(py, "testdata/jwcrypto_verify_envelope.py", env, payload, root).CombinedOutput()
			require.NoError(t, err, string(out))
			var header map[string]any
			require.NoError(t, json.Unmarshal(out, &header))
			assert.Equal(t, envelopeType, header["typ"])
			assert.Contains(t, []any{"ES256", "EdDSA"}, header["alg"])

			var in signingInput
			require.NoError(t, json.Unmarshal(input, &in))
			in.UserID = "EE00000000000"
			require.NoError(t, os.WriteFile(payload, in.bytes(), 0o600))
			out, err = exec.Command(py, "testdata/jwcrypto_verify_envelope.py", env, payload, root).CombinedOutput()
			assert.Error(t, err, "jwcrypto must refuse a signing input with another user: %s", out)
		})
	}
}
