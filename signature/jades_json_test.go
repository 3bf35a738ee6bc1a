package signature_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

func jadesOptions(f *fixture, level signature.Level) signature.SignerOptions {
	o := signature.SignerOptions{Format: signature.JAdES, Level: level, TSAURL: f.pki.TSAURL}
	if level == signature.LevelLT || level == signature.LevelLTA {
		o.Roots = f.pki.Pool()
	}
	return o
}

// JAdES at B-T, B-LT and B-LTA is written in JSON serialization with its etsiU
// components, and validates at that level; from B-LT on with the network off.
func TestJAdESLevels(t *testing.T) {
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			f := newFixture(t)
			cred := f.issue(t, kt)
			for _, tc := range []struct {
				level      signature.Level
				format     string
				components []string
			}{
				{signature.LevelT, "JAdES-BASELINE-T", []string{"sigTst"}},
				{signature.LevelLT, "JAdES-BASELINE-LT", []string{"sigTst", "xVals", "rVals"}},
				{signature.LevelLTA, "JAdES-BASELINE-LTA", []string{"sigTst", "xVals", "rVals", "arcTst", "tstVD"}},
			} {
				f.pki.SetOCSPAvailable(true)
				f.pki.SetCRLAvailable(true)
				sig := f.sign(t, cred, jadesOptions(f, tc.level), document)
				assert.Equal(t, tc.components, etsiUNames(t, sig))
				p := f.policy()
				if tc.level != signature.LevelT {
					p, _ = f.offlinePolicy()
				}
				r := validate(t, document, sig, p)
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				assert.Equal(t, tc.format, r.Format, r.Warnings)
				require.NotNil(t, r.Timestamp)
				assert.True(t, r.Timestamp.Valid)

				r = validate(t, append([]byte("x"), document...), sig, p)
				assert.Equal(t, signature.SigCryptoFailure, r.SubIndication)
			}
		})
	}
}

// etsiUNames returns the component names of a JSON JAdES signature's etsiU array.
func etsiUNames(t *testing.T, sig []byte) []string {
	t.Helper()
	var js struct {
		Header struct {
			EtsiU []string `json:"etsiU"`
		} `json:"header"`
	}
	require.NoError(t, json.Unmarshal(sig, &js))
	var names []string
	for _, el := range js.Header.EtsiU {
		var comp map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b64url(t, el), &comp))
		for k := range comp {
			names = append(names, k)
		}
	}
	return names
}

// A compact JAdES-BASELINE-B signature, extended to B-LTA and renewed, outlives its
// certificates as a CAdES one does.
func TestJAdESExtendOutlivesItsCertificates(t *testing.T) {
	f := newLongFixture(t)
	archive1, err := f.pki.AddTSA("archive-1", 8*year)
	require.NoError(t, err)
	cred := f.issue(t, dpitest.ECDSAP256)
	bb := f.sign(t, cred, signature.SignerOptions{Format: signature.JAdES}, document)
	lt := f.extend(t, document, bb, signature.LevelLT, f.pki.TSAURL)
	f.clock.Add(time.Hour)
	lta := f.extend(t, document, lt, signature.LevelLTA, archive1.URL)
	f.clock.Add(6 * year)

	p, requests := f.offlinePolicy()
	r := validate(t, document, lta, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "JAdES-BASELINE-LTA", r.Format, r.Warnings)
	assert.Zero(t, requests.n.Load())
	r = validate(t, document, lt, p)
	assert.Equal(t, signature.OutOfBoundsNoPOE, r.SubIndication, r.Errors)

	f.pki.SetOCSPAvailable(true)
	f.pki.SetCRLAvailable(true)
	archive2, err := f.pki.AddTSA("archive-2", 10*year)
	require.NoError(t, err)
	renewed := f.extend(t, document, lta, signature.LevelLTA, archive2.URL)
	f.clock.Add(4 * year)
	p, _ = f.offlinePolicy()
	r = validate(t, document, renewed, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "JAdES-BASELINE-LTA", r.Format, r.Warnings)
	assert.Len(t, r.ArchiveTimestamps, 2)
}

// What the JSON serialization must not accept, and what an archive time-stamp must
// notice.
func TestJAdESJSONRefuses(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, jadesOptions(f, signature.LevelLTA), document)
	var js map[string]any
	require.NoError(t, json.Unmarshal(sig, &js))
	edit := func(fn func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sig, &m))
		fn(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	for name, bad := range map[string][]byte{
		"unprotected x5c": edit(func(m map[string]any) { m["header"].(map[string]any)["x5c"] = []string{"AA=="} }),
		"general serialization": edit(func(m map[string]any) {
			m["signatures"] = []any{}
		}),
		"attached payload": edit(func(m map[string]any) { m["payload"] = "x" }),
		"unknown member":   edit(func(m map[string]any) { m["extra"] = 1 }),
		"etsiU not base64": edit(func(m map[string]any) { m["header"].(map[string]any)["etsiU"] = []any{"%%%"} }),
		"duplicate member": []byte(strings.Replace(string(sig), `"signature":`, `"signature":"AA","signature":`, 1)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := signature.Validate(context.Background(), bytes.NewReader(document), bad, f.policy())
			assert.ErrorIs(t, err, signature.ErrMalformed)
		})
	}

	// The first component (sigTst) removed: the signature time-stamp is gone, and the
	// archive time-stamp no longer matches what it covered.
	dropped := edit(func(m map[string]any) {
		u := m["header"].(map[string]any)["etsiU"].([]any)
		m["header"].(map[string]any)["etsiU"] = u[1:]
	})
	r := validate(t, document, dropped, f.policy())
	assert.NotEqual(t, "JAdES-BASELINE-LTA", r.Format)
	assert.Contains(t, joinLines(r.Warnings), "archive time-stamp ignored")
}

// python3-jwcrypto verifies the JWS of a JAdES-BASELINE-LTA signature in JSON
// serialization (the payload put back, as in the compact test).
func TestJWCryptoVerifiesOurJAdESJSON(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	script := writeFile(t, dir, "verify.py", []byte(`
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter, JWSEHeaderRegistry
sig = json.load(open(sys.argv[1]))
assert 'payload' not in sig and list(sig['header']) == ['etsiU']
sig['payload'] = open(sys.argv[2], 'rb').read().decode('utf-8')
registry = JWSEHeaderRegistry({'sigT': JWSEHeaderParameter('claimed signing time', False, True, None),
                               'etsiU': JWSEHeaderParameter('unsigned components', False, False, None)})
key = jwk.JWK.from_pem(open(sys.argv[3], 'rb').read())
j = jws.JWS(header_registry=registry)
j.allowed_algs = ['ES256']
j.deserialize(json.dumps(sig), key)
print("ok")
`))
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, jadesOptions(f, signature.LevelLTA), document)
	sigPath := writeFile(t, dir, "sig.json", sig)
	certPath := writeFile(t, dir, "cert.pem", dpitest.CertsPEM(cred.Cert))
	out := runTool(t, py, script, sigPath, docPath, certPath)
	assert.Equal(t, "ok\n", string(out))
	tampered := writeFile(t, dir, "tampered.txt", append([]byte("x"), document...))
	assert.Error(t, exec.Command(py, script, sigPath, tampered, certPath).Run())
}

func b64url(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

// An independent reading of TS 119 182-1 (testdata/jades_imprints.py, Python's standard
// library) computes the imprints of the sigTst and arcTst of our JSON JAdES signature, and
// of one whose etsiU components are in clear JSON, respelled, under a JCS arcTst (its own
// RFC 8785 form, from json.dumps); openssl ts -verify finds each in its token.
func TestJAdESImprintsIndependently(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	py := testenv.Tool(t, "python3")
	f := newFixture(t)
	dir := t.TempDir()
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, jadesOptions(f, signature.LevelLTA), document)
	renewed := f.extend(t, document, sig, signature.LevelLTA, f.pki.TSAURL)
	clear := parseParts(t, clearJAdES(t, sig, document, jcsURN, f.pki.TSAURL))
	for i := range clear.Header.EtsiU {
		clear.Header.EtsiU[i] = respell(t, clear.Header.EtsiU[i])
	}
	root := writeFile(t, dir, "root.pem", f.pki.RootsPEM())
	chain := writeFile(t, dir, "chain.pem", dpitest.CertsPEM(f.pki.Intermediate))
	docPath := writeFile(t, dir, "doc.txt", document)
	for _, tc := range []struct {
		name  string
		sig   []byte
		names []string
	}{
		{"base64url", renewed, []string{"sigTst", "arcTst", "arcTst"}},
		{"clear json", clear.bytes(t), []string{"sigTst", "arcTst"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigPath := writeFile(t, dir, "sig.json", tc.sig)
			out := strings.TrimSpace(string(runTool(t, py, "testdata/jades_imprints.py", sigPath, docPath, dir)))
			var names []string
			for _, line := range strings.Split(out, "\n") {
				fields := strings.Fields(line)
				require.Len(t, fields, 3, line)
				names = append(names, fields[0])
				runTool(t, openssl, "ts", "-verify", "-token_in", "-in", fields[2], "-digest", fields[1],
					"-CAfile", root, "-untrusted", chain)
			}
			assert.Equal(t, tc.names, names)
		})
	}
}
