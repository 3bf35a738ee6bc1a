package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/interop"
)

const (
	envClient  = "EE/GOV/70000001/benefits"
	envService = "EE/GOV/70000002/registry/person"
)

// envelopeFixture is the sign fixture plus two recipients (P-256 and RSA) and a stranger,
// each a key file and a certificate file, and a binary body.
type envelopeFixture struct {
	*signFixture
	ecKey, ecCert, rsaKey, rsaCert, otherKey string
	body                                     string
}

func newEnvelopeFixture(t *testing.T) *envelopeFixture {
	t.Helper()
	f := &envelopeFixture{signFixture: newSignFixture(t)}
	recipient := func(name string, kt dpitest.KeyType) (string, string) {
		c, err := f.pki.Issue(dpitest.CertOptions{CommonName: name, KeyType: kt})
		require.NoError(t, err)
		k, err := dpitest.KeyPEM(c.Key)
		require.NoError(t, err)
		kp, cp := filepath.Join(f.dir, name+"-key.pem"), filepath.Join(f.dir, name+"-cert.pem")
		require.NoError(t, os.WriteFile(kp, k, 0o600))
		require.NoError(t, os.WriteFile(cp, dpitest.CertsPEM(c.Cert), 0o600))
		return kp, cp
	}
	f.ecKey, f.ecCert = recipient("registry-ec", dpitest.ECDSAP256)
	f.rsaKey, f.rsaCert = recipient("registry-rsa", dpitest.RSA2048)
	f.otherKey, _ = recipient("stranger", dpitest.ECDSAP256)
	f.body = filepath.Join(f.dir, "body.bin")
	require.NoError(t, os.WriteFile(f.body, []byte("{\"person\":\"EE38001085718\"}\n\x00\xff\xfe"), 0o600))
	return f
}

// seal runs dpi envelope seal with the fixture's credential and writes the envelope to a
// file, whose name it returns.
func (f *envelopeFixture) seal(t *testing.T, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "envelope.json")
	args := append([]string{"envelope", "seal", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--client", envClient, "--service", envService, "-o", out}, extra...)
	code, stdout, stderr := contractRun(t, "", append(args, f.body)...)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout)
	return out
}

func TestEnvelopeSealOpen(t *testing.T) {
	f := newEnvelopeFixture(t)
	body, err := os.ReadFile(f.body)
	require.NoError(t, err)

	signed := f.seal(t, "--id", "msg-1")
	raw, err := os.ReadFile(signed)
	require.NoError(t, err)
	var flat map[string]string
	require.NoError(t, json.Unmarshal(raw, &flat))
	assert.ElementsMatch(t, []string{"protected", "payload", "signature"}, mapKeys(flat))
	payload, err := base64.RawURLEncoding.DecodeString(flat["payload"])
	require.NoError(t, err)
	assert.Equal(t, body, payload, "the payload is the body itself")

	code, out, errOut := contractRun(t, "", "envelope", "open", "--trust", f.roots, signed)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, string(body), out, "the body, byte for byte")
	assert.Contains(t, errOut, "valid: "+envClient+" to "+envService+", id msg-1")

	sealed := f.seal(t, "--encrypt-to", f.ecCert, "--encrypt-to", f.rsaCert)
	raw, err = os.ReadFile(sealed)
	require.NoError(t, err)
	var jwe map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &jwe))
	assert.Contains(t, jwe, "recipients")
	for _, key := range []string{f.ecKey, f.rsaKey} {
		code, out, errOut := contractRun(t, "", "envelope", "open", "--trust", f.roots, "--key", key, sealed)
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, string(body), out)
		assert.Contains(t, errOut, ", decrypted")
	}
	code, out, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, "--key", f.otherKey, sealed)
	assert.Equal(t, exitRejected, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "does not decrypt")
	code, _, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, sealed)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "give --key")

	// Standard input, both ways.
	code, env, errOut := contractRun(t, "Tere!", "envelope", "seal", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--client", envClient, "--service", envService, "-")
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut = contractRun(t, env, "envelope", "open", "--trust", f.roots, "--json")
	require.Equal(t, exitOK, code, errOut)
	var rep envelopeJSON
	onlyJSON(t, out, &rep)
	assert.Equal(t, "utf8", rep.BodyEncoding)
	assert.Equal(t, "Tere!", *rep.Body)
}

// TestEnvelopeOpenRejects: each refusal is exit 1, with nothing on standard output but,
// under --json, the report; a revocation status nobody can tell is exit 3.
func TestEnvelopeOpenRejects(t *testing.T) {
	f := newEnvelopeFixture(t)
	signed := f.seal(t)
	raw, err := os.ReadFile(signed)
	require.NoError(t, err)
	write := func(name string, b []byte) string {
		p := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	var flat map[string]string
	require.NoError(t, json.Unmarshal(raw, &flat))
	flat["payload"] = base64.RawURLEncoding.EncodeToString([]byte("another body"))
	swapped, err := json.Marshal(flat)
	require.NoError(t, err)

	otherPKI, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer otherPKI.Close()
	otherRoots := write("other-roots.pem", otherPKI.RootsPEM())

	code, _, errOut := contractRun(t, "", "envelope", "seal", "--key", f.revokedKey, "--cert", f.revokedCert,
		"--client", envClient, "--service", envService, "-o", filepath.Join(f.dir, "revoked.json"), f.body)
	require.Equal(t, exitOK, code, errOut)

	signer, err := interop.NewSigner(f.cred.Key, f.cred.Chain)
	require.NoError(t, err)
	old, err := signer.SignMessage(&interop.SignedMessage{Client: interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000001"},
		Service:  interop.ServiceID{Provider: interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}, Code: "person"},
		SignedAt: time.Now().Add(-2 * time.Hour), Expires: time.Now().Add(-time.Hour)})
	require.NoError(t, err)

	tests := []struct {
		name  string
		args  []string
		code  int
		check string
	}{
		{"body swapped", []string{"--trust", f.roots, write("swapped.json", swapped)}, exitRejected, interop.CheckSignature},
		{"untrusted signer", []string{"--trust", otherRoots, signed}, exitRejected, interop.CheckCertificate},
		{"revoked signer", []string{"--trust", f.roots, filepath.Join(f.dir, "revoked.json")}, exitRejected, interop.CheckRevocation},
		{"expired message", []string{"--trust", f.roots, write("old.json", old)}, exitRejected, interop.CheckTime},
		{"not an envelope", []string{"--trust", f.roots, f.body}, exitRejected, interop.CheckEnvelope},
		{"a JWE not for the key", []string{"--trust", f.roots, "--key", f.otherKey, f.seal(t, "--encrypt-to", f.ecCert)}, exitRejected, interop.CheckEncryption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := contractRun(t, "", append([]string{"envelope", "open"}, tc.args...)...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "rejected")
			code, out, _ = contractRun(t, "", append([]string{"envelope", "open", "--json"}, tc.args...)...)
			assert.Equal(t, tc.code, code)
			var rep map[string]json.RawMessage
			onlyJSON(t, out, &rep)
			assert.Equal(t, "false", string(rep["valid"]))
			assert.Equal(t, `"`+tc.check+`"`, string(rep["check"]))
		})
	}

	// Replay, with a database that outlives the run.
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "seen.db")
	code, _, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, "--seen-db", dsn, signed)
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := contractRun(t, "", "envelope", "open", "--trust", f.roots, "--seen-db", dsn, signed)
	assert.Equal(t, exitRejected, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "replay")
	if pg := testenv.PostgresURL(t); pg != "" {
		code, _, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, "--seen-db", pg, signed)
		require.Equal(t, exitOK, code, errOut)
		code, _, _ = contractRun(t, "", "envelope", "open", "--trust", f.roots, "--seen-db", pg, signed)
		assert.Equal(t, exitRejected, code, "a replay on PostgreSQL")
	}

	// A certificate that names no responder: unknown without data (3), decided with the
	// CRL given, or not checked at all when the caller says so, loudly.
	code, _, errOut = contractRun(t, "", "envelope", "seal", "--key", f.offlineKey, "--cert", f.offlineCert,
		"--client", envClient, "--service", envService, "-o", filepath.Join(f.dir, "offline.json"), f.body)
	require.Equal(t, exitOK, code, errOut)
	offline := filepath.Join(f.dir, "offline.json")
	code, out, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, offline)
	assert.Equal(t, exitIndeterminate, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "indeterminate")
	code, _, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, "--crl", f.crl, offline)
	assert.Equal(t, exitOK, code, errOut)
	code, _, errOut = contractRun(t, "", "envelope", "open", "--trust", f.roots, "--skip-revocation-unsafe", offline)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "warning: revocation not checked")
}

// TestEnvelopeJWCrypto: python-jwcrypto verifies a signed envelope of dpi envelope seal, and
// decrypts a sealed one to that same kind of JWS.
func TestEnvelopeJWCrypto(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	f := newEnvelopeFixture(t)
	scripts := filepath.Join("..", "..", "interop", "testdata")
	check := func(file string) {
		out, err := exec.Command(py, filepath.Join(scripts, "jwcrypto_verify_message.py"), file, f.roots).CombinedOutput()
		require.NoError(t, err, string(out))
		var got struct {
			Header map[string]any `json:"header"`
		}
		require.NoError(t, json.Unmarshal(out, &got))
		assert.Equal(t, envClient, got.Header["client"])
		assert.Equal(t, envService, got.Header["service"])
		assert.Equal(t, interop.MessageType, got.Header["typ"])
	}
	check(f.seal(t))

	sealed := f.seal(t, "--encrypt-to", f.rsaCert, "--encrypt-to", f.ecCert)
	for _, key := range []string{f.ecKey, f.rsaKey} {
		cmd := exec.Command(py, filepath.Join(scripts, "jwcrypto_decrypt.py"), key, sealed)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		jws, err := cmd.Output()
		require.NoError(t, err, stderr.String())
		file := filepath.Join(t.TempDir(), "decrypted.json")
		require.NoError(t, os.WriteFile(file, jws, 0o600))
		check(file)
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
