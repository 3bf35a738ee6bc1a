package signature_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

// flattenedMembers returns the members of one signature in JSON serialization: those of a
// flattened one as they are, or, for a compact one, its protected header and signature.
func flattenedMembers(t *testing.T, sig []byte) map[string]any {
	t.Helper()
	m := map[string]any{}
	if bytes.HasPrefix(sig, []byte("{")) {
		require.NoError(t, json.Unmarshal(sig, &m))
		return m
	}
	parts := strings.Split(string(sig), ".")
	require.Len(t, parts, 3)
	m["protected"], m["signature"] = parts[0], parts[2]
	return m
}

// general wraps signatures made by this package in the general JWS JSON serialization
// (RFC 7515 §7.2.1), as EU DSS writes it; top holds further top-level members.
func general(t *testing.T, top map[string]any, sigs ...[]byte) []byte {
	t.Helper()
	doc := map[string]any{}
	for k, v := range top {
		doc[k] = v
	}
	els := []any{}
	for _, s := range sigs {
		els = append(els, flattenedMembers(t, s))
	}
	doc["signatures"] = els
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

// A signature in the general JSON serialization validates as its flattened (or compact)
// form does, at every level, with the detached payload absent or empty; a changed
// document still fails.
func TestJAdESGeneralSerialization(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	for _, tc := range []struct {
		level  signature.Level
		format string
	}{
		{signature.LevelB, "JAdES-BASELINE-B"},
		{signature.LevelT, "JAdES-BASELINE-T"},
		{signature.LevelLT, "JAdES-BASELINE-LT"},
		{signature.LevelLTA, "JAdES-BASELINE-LTA"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			f.pki.SetOCSPAvailable(true)
			f.pki.SetCRLAvailable(true)
			opts := jadesOptions(f, tc.level)
			if tc.level == signature.LevelB {
				opts = signature.SignerOptions{Format: signature.JAdES}
			}
			sig := f.sign(t, cred, opts, document)
			p := f.policy()
			if tc.level == signature.LevelLT || tc.level == signature.LevelLTA {
				p, _ = f.offlinePolicy()
			}
			want := validate(t, document, sig, p)
			require.Equal(t, signature.TotalPassed, want.Indication, want.Errors)
			require.Equal(t, tc.format, want.Format, want.Warnings)
			for name, top := range map[string]map[string]any{
				"no payload":    nil,
				"empty payload": {"payload": ""},
			} {
				t.Run(name, func(t *testing.T) {
					g := general(t, top, sig)
					r := validate(t, document, g, p)
					assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
					assert.Equal(t, want.Format, r.Format, r.Warnings)
					assert.Equal(t, want.Warnings, r.Warnings)
					assert.Equal(t, want.SignedBy, r.SignedBy)

					r = validate(t, append([]byte("x"), document...), g, p)
					assert.Equal(t, signature.TotalFailed, r.Indication)
					assert.Equal(t, signature.SigCryptoFailure, r.SubIndication)
				})
			}
		})
	}
}

// What the general JSON serialization must not accept: a mix with the flattened form
// (RFC 7515 §7.2.2), no signature, several (as a CMS with several signers), an attached
// payload, and members the flattened form refuses, in the element.
func TestJAdESGeneralRefuses(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	other := f.issue(t, dpitest.RSA2048)
	sig := f.sign(t, cred, jadesOptions(f, signature.LevelT), document)
	sig2 := f.sign(t, other, jadesOptions(f, signature.LevelT), document)
	one := flattenedMembers(t, sig)
	withElement := func(fn func(el map[string]any)) []byte {
		el := flattenedMembers(t, sig)
		fn(el)
		b, err := json.Marshal(map[string]any{"signatures": []any{el}})
		require.NoError(t, err)
		return b
	}
	mixed := func(member string) []byte {
		b, err := json.Marshal(map[string]any{"signatures": []any{one}, member: one[member]})
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name   string
		sig    []byte
		reason string
	}{
		{"signatures beside signature", mixed("signature"), "both the general and the flattened"},
		{"signatures beside protected", mixed("protected"), "both the general and the flattened"},
		{"signatures beside header", mixed("header"), "both the general and the flattened"},
		{"empty signatures", []byte(`{"signatures":[]}`), "no signature"},
		{"null signatures", []byte(`{"signatures":null}`), "no signature"},
		{"signatures not an array", []byte(`{"signatures":{}}`), "signatures: not an array"},
		{"many signatures", []byte(`{"signatures":[{}` + strings.Repeat(`,{}`, 99999) + `]}`), "100000 signatures"},
		{"element not an object", []byte(`{"signatures":["x"]}`), "signatures element"},
		{"two signatures", general(t, nil, sig, sig2), "2 signatures: only one is supported"},
		{"the same signature twice", general(t, nil, sig, sig), "2 signatures: only one is supported"},
		{"attached payload", general(t, map[string]any{"payload": "eA"}, sig), "payload must be detached"},
		{"payload in the element", withElement(func(el map[string]any) { el["payload"] = "" }), "member payload is not allowed"},
		{"unknown member in the element", withElement(func(el map[string]any) { el["extra"] = 1 }), "member extra is not allowed"},
		{"unprotected x5c in the element", withElement(func(el map[string]any) {
			el["header"].(map[string]any)["x5c"] = []string{"AA=="}
		}), "unprotected header parameter x5c"},
		{"case-folded member in the element", withElement(func(el map[string]any) {
			el["Signature"] = el["signature"]
			delete(el, "signature")
		}), "only in case"},
		{"unknown top-level member", general(t, map[string]any{"extra": 1}, sig), "member extra is not allowed"},
		{"duplicate signatures", []byte(strings.Replace(string(general(t, nil, sig)), `{"signatures":`, `{"signatures":[],"signatures":`, 1)), "duplicate member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := signature.Validate(context.Background(), bytes.NewReader(document), tc.sig, f.policy())
			require.Error(t, err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, signature.ErrMalformed)
			var fe *signature.FormatError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "JAdES", fe.Format)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
}

// A protected header changed in the general form (the same JSON, one space added, so that
// it still parses) no longer matches the signature value.
func TestJAdESGeneralTamperedHeader(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, jadesOptions(f, signature.LevelT), document)
	el := flattenedMembers(t, sig)
	hdr := b64url(t, el["protected"].(string))
	el["protected"] = base64.RawURLEncoding.EncodeToString(append(append(hdr[:len(hdr)-1:len(hdr)-1], ' '), '}'))
	b, err := json.Marshal(map[string]any{"signatures": []any{el}})
	require.NoError(t, err)
	r := validate(t, document, b, f.policy())
	assert.Equal(t, signature.TotalFailed, r.Indication)
	assert.Equal(t, signature.SigCryptoFailure, r.SubIndication, r.Errors)
	// The signature time-stamp is over the signature value alone, which did not change.
	require.NotNil(t, r.Timestamp)
	assert.True(t, r.Timestamp.Valid)
}

// Extend keeps the general form: a general B-T signature extended to B-LTA comes back in
// the general form, with one signature, and validates at that level.
func TestJAdESGeneralExtend(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := general(t, nil, f.sign(t, cred, jadesOptions(f, signature.LevelT), document))
	lta := f.extend(t, document, sig, signature.LevelLTA, f.pki.TSAURL)
	var g struct {
		Signatures []struct {
			Header struct {
				EtsiU []string `json:"etsiU"`
			} `json:"header"`
		} `json:"signatures"`
	}
	require.NoError(t, json.Unmarshal(lta, &g))
	require.Len(t, g.Signatures, 1)
	assert.Len(t, g.Signatures[0].Header.EtsiU, 5)
	assert.NotContains(t, string(lta), `"payload"`)
	p, _ := f.offlinePolicy()
	r := validate(t, document, lta, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "JAdES-BASELINE-LTA", r.Format, r.Warnings)

	_, err := signature.Extend(context.Background(), bytes.NewReader(document),
		general(t, nil, sig, sig), signature.ExtendOptions{Level: signature.LevelLTA, TSAURL: f.pki.TSAURL, Roots: f.pki.Pool()})
	assert.ErrorIs(t, err, signature.ErrMalformed)
}

// python3-jwcrypto, whose JWS.deserialize reads the general JSON serialization, verifies
// the JWS of a JAdES-BASELINE-LTA signature dpi accepts in that form (the payload put
// back, as in the flattened test), and refuses it over a changed document.
func TestJWCryptoVerifiesJAdESGeneral(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	f := newFixture(t)
	dir := t.TempDir()
	docPath := writeFile(t, dir, "doc.txt", document)
	script := writeFile(t, dir, "verify.py", []byte(`
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter, JWSEHeaderRegistry
sig = json.load(open(sys.argv[1]))
assert 'payload' not in sig and len(sig['signatures']) == 1
assert list(sig['signatures'][0]['header']) == ['etsiU']
sig['payload'] = open(sys.argv[2], 'rb').read().decode('utf-8')
registry = JWSEHeaderRegistry({'sigT': JWSEHeaderParameter('claimed signing time', False, True, None),
                               'etsiU': JWSEHeaderParameter('unsigned components', False, False, None)})
key = jwk.JWK.from_pem(open(sys.argv[3], 'rb').read())
j = jws.JWS(header_registry=registry)
j.allowed_algs = ['ES256']
j.deserialize(json.dumps(sig), key)
assert j.is_valid
print("ok")
`))
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := general(t, nil, f.sign(t, cred, jadesOptions(f, signature.LevelLTA), document))
	p, _ := f.offlinePolicy()
	r := validate(t, document, sig, p)
	require.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	sigPath := writeFile(t, dir, "sig.json", sig)
	certPath := writeFile(t, dir, "cert.pem", dpitest.CertsPEM(cred.Cert))
	out := runTool(t, py, script, sigPath, docPath, certPath)
	assert.Equal(t, "ok\n", string(out))
	tampered := writeFile(t, dir, "tampered.txt", append([]byte("x"), document...))
	assert.Error(t, exec.Command(py, script, sigPath, tampered, certPath).Run())
}
