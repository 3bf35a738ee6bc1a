package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestJWCryptoDecryptsSealed has python-jwcrypto decrypt a message sealed to a P-256 key,
// an RSA key and a third key at once, with each recipient's key, and fail with a key it
// was not sealed to.
func TestJWCryptoDecryptsSealed(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	var creds []*dpitest.Credential
	var to []Recipient
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.ECDSAP256} {
		c, err := pki.Issue(dpitest.CertOptions{KeyType: kt})
		require.NoError(t, err)
		r, err := RecipientFromCertificate(c.Cert)
		require.NoError(t, err)
		creds, to = append(creds, c), append(to, r)
	}
	plaintext := []byte("{\"person\":\"EE38001085718\"}\x00\xff")
	for _, n := range []int{1, 3} {
		jwe, err := Seal(plaintext, MessageType, to[:n]...)
		require.NoError(t, err)
		dir := t.TempDir()
		file := filepath.Join(dir, "sealed.json")
		require.NoError(t, os.WriteFile(file, jwe, 0o600))
		for i, c := range creds {
			keyPEM, err := dpitest.KeyPEM(c.Key)
			require.NoError(t, err)
			keyFile := filepath.Join(dir, "key.pem")
			require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
			cmd := exec.Command(py, "testdata/jwcrypto_decrypt.py", keyFile, file)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if i >= n {
				assert.Error(t, err, "jwcrypto must not decrypt with a key the message was not sealed to")
				continue
			}
			require.NoError(t, err, stderr.String())
			assert.Equal(t, plaintext, out)
			assert.Equal(t, `"`+MessageType+`"`, strings.TrimSpace(stderr.String()))
		}
	}
}

// TestJWCryptoVerifiesMessage has python-jwcrypto verify signed messages (ES256, EdDSA),
// with the key of the x5c certificate it checked to the root, and refuse one whose body
// was swapped.
func TestJWCryptoVerifiesMessage(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
			require.NoError(t, err)
			defer pki.Close()
			cred, err := pki.Issue(dpitest.CertOptions{KeyType: kt})
			require.NoError(t, err)
			s, err := NewSigner(cred.Key, cred.Chain)
			require.NoError(t, err)
			client := ClientID{Instance: "EE", Class: "GOV", Member: "70000001", Subsystem: "benefits"}
			svc := ServiceID{Provider: ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}, Code: "person"}
			msg, err := s.SignMessage(&SignedMessage{Client: client, Service: svc, ID: "m-1", Body: []byte("Tere, maailm")})
			require.NoError(t, err)
			dir := t.TempDir()
			file, root := filepath.Join(dir, "msg.json"), filepath.Join(dir, "root.pem")
			require.NoError(t, os.WriteFile(file, msg, 0o600))
			require.NoError(t, os.WriteFile(root, pki.RootsPEM(), 0o600))
			out, err := exec.Command(py, "testdata/jwcrypto_verify_message.py", file, root).CombinedOutput()
			require.NoError(t, err, string(out))
			var got struct {
				Header  map[string]any `json:"header"`
				Payload string         `json:"payload"`
			}
			require.NoError(t, json.Unmarshal(out, &got))
			assert.Equal(t, "Tere, maailm", got.Payload)
			assert.Equal(t, client.String(), got.Header["client"])
			assert.Equal(t, svc.String(), got.Header["service"])
			assert.Equal(t, "m-1", got.Header["id"])
			assert.Equal(t, MessageType, got.Header["typ"])

			var flat map[string]string
			require.NoError(t, json.Unmarshal(msg, &flat))
			flat["payload"] = base64.RawURLEncoding.EncodeToString([]byte("Tere, kõik"))
			swapped, err := json.Marshal(flat)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(file, swapped, 0o600))
			out, err = exec.Command(py, "testdata/jwcrypto_verify_message.py", file, root).CombinedOutput()
			assert.Error(t, err, "jwcrypto must refuse a swapped body: %s", out)
		})
	}
}
