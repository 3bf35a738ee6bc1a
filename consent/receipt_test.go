package consent_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/store"
)

const receiptTyp = "dpi-consent-receipt+jws"

var b64 = base64.RawURLEncoding.EncodeToString

// signRaw signs header and payload, as given, into a compact JWS with key (Ed25519 or
// ECDSA P-256): what a forger holding the right key could send.
func signRaw(t testing.TB, key crypto.Signer, header, payload []byte) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		require.NoError(t, err)
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	default:
		t.Fatalf("no signer for %T", key)
	}
	return input + "." + b64(sig)
}

func header(alg string, extra map[string]any) []byte {
	h := map[string]any{"alg": alg, "typ": receiptTyp}
	for k, v := range extra {
		h[k] = v
	}
	b, _ := json.Marshal(h)
	return b
}

// canonical returns the RFC 8785 form of v after edit changed its generic JSON form.
func canonical(t testing.TB, v any, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	if edit != nil {
		edit(m)
	}
	b, err = json.Marshal(m)
	require.NoError(t, err)
	out, err := jcs.Transform(b)
	require.NoError(t, err)
	return out
}

func parts(compact string) (header, payload, sig []byte) {
	p := strings.Split(compact, ".")
	header, _ = base64.RawURLEncoding.DecodeString(p[0])
	payload, _ = base64.RawURLEncoding.DecodeString(p[1])
	sig, _ = base64.RawURLEncoding.DecodeString(p[2])
	return
}

// receiptFixture gives a receipt the store signed, what it says, and the store's key.
func receiptFixture(t *testing.T) (string, *consent.Receipt, ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	f := newFixture(t, db)
	ch, err := f.store.Give(ctx, grant(f.pseudo.Person("BR", "cpf", "39053344705")))
	require.NoError(t, err)
	rc, err := consent.VerifyReceipt(ch.Receipt, f.key.Public())
	require.NoError(t, err)
	return ch.Receipt, rc, f.key
}

func selfSignedCert(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "forger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return der
}

func TestVerifyReceipt(t *testing.T) {
	good, rc, key := receiptFixture(t)
	pub := key.Public()
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	es256, err := consent.SignReceipt(p256, rc)
	require.NoError(t, err)
	gh, gp, gs := parts(good)
	pubRaw := []byte(pub.(ed25519.PublicKey))
	jwkOfKey := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pubRaw)}

	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	hs256 := func(secret []byte) string {
		input := b64(header("HS256", nil)) + "." + b64(gp)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}
	resign := func(edit func(m map[string]any)) string {
		return signRaw(t, key, gh, canonical(t, rc, edit))
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)

	for _, c := range []struct {
		name    string
		compact string
		pub     crypto.PublicKey
		check   string // "" when the receipt verifies
	}{
		{name: "EdDSA", compact: good, pub: pub},
		{name: "ES256", compact: es256, pub: &p256.PublicKey},
		{name: "another key", compact: good, pub: otherKey.Public(), check: "signature"},
		{name: "ES256 receipt, Ed25519 key", compact: es256, pub: pub, check: "format"},
		{name: "ES256 receipt, another P-256 key", compact: es256, pub: &mustP256(t).PublicKey, check: "signature"},
		{name: "flipped signature byte", compact: b64(gh) + "." + b64(gp) + "." + b64(flip(gs, 10)), pub: pub, check: "signature"},
		{name: "flipped payload byte", compact: b64(gh) + "." + b64(flip(gp, 20)) + "." + b64(gs), pub: pub, check: "signature"},
		{name: "flipped ES256 byte", compact: func() string { h, p, s := parts(es256); return b64(h) + "." + b64(p) + "." + b64(flip(s, 40)) }(), pub: &p256.PublicKey, check: "signature"},
		{name: "alg none", compact: b64(header("none", nil)) + "." + b64(gp) + ".", pub: pub, check: "format"},
		{name: "HS256 with the raw public key", compact: hs256(pubRaw), pub: pub, check: "format"},
		{name: "HS256 with the PKIX public key", compact: hs256(spki), pub: pub, check: "format"},
		{name: "HS256 with the PEM public key", compact: hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})), pub: pub, check: "format"},
		{name: "typ JWT", compact: signRaw(t, key, []byte(`{"alg":"EdDSA","typ":"JWT"}`), gp), pub: pub, check: "typ"},
		{name: "no typ", compact: signRaw(t, key, []byte(`{"alg":"EdDSA"}`), gp), pub: pub, check: "typ"},
		{name: "jwk", compact: signRaw(t, key, header("EdDSA", map[string]any{"jwk": jwkOfKey}), gp), pub: pub, check: "header"},
		{name: "kid", compact: signRaw(t, key, header("EdDSA", map[string]any{"kid": "controller-1"}), gp), pub: pub, check: "header"},
		{name: "kid null", compact: signRaw(t, key, header("EdDSA", map[string]any{"kid": nil}), gp), pub: pub, check: "header"},
		{name: "x5c", compact: signRaw(t, key, header("EdDSA", map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(selfSignedCert(t, key))}}), gp), pub: pub, check: "header"},
		{name: "x5u", compact: signRaw(t, key, header("EdDSA", map[string]any{"x5u": "https://forger.example/chain"}), gp), pub: pub, check: "header"},
		{name: "jku", compact: signRaw(t, key, header("EdDSA", map[string]any{"jku": "https://forger.example/jwks"}), gp), pub: pub, check: "header"},
		{name: "nonce", compact: signRaw(t, key, header("EdDSA", map[string]any{"nonce": "n"}), gp), pub: pub, check: "header"},
		{name: "crit", compact: signRaw(t, key, header("EdDSA", map[string]any{"crit": []string{"exp"}, "exp": 1}), gp), pub: pub, check: "header"},
		{name: "non-canonical: spaces", compact: signRaw(t, key, gh, func() []byte { var b bytes.Buffer; _ = json.Indent(&b, gp, "", " "); return b.Bytes() }()), pub: pub, check: "payload"},
		{name: "non-canonical: key order", compact: signRaw(t, key, gh, func() []byte { b, _ := json.Marshal(rc); return b }()), pub: pub, check: "payload"},
		{name: "non-canonical: time with +00:00", compact: signRaw(t, key, gh, bytes.Replace(gp, []byte(`Z"`), []byte(`+00:00"`), 1)), pub: pub, check: "payload"},
		{name: "non-canonical: empty reason", compact: resign(func(m map[string]any) { m["event"].(map[string]any)["reason"] = "" }), pub: pub, check: "payload"},
		{name: "non-canonical: name in other case", compact: resign(func(m map[string]any) { m["Version"] = m["version"]; delete(m, "version") }), pub: pub, check: "payload"},
		{name: "unknown field", compact: resign(func(m map[string]any) { m["admin"] = true }), pub: pub, check: "payload"},
		{name: "unknown nested field", compact: resign(func(m map[string]any) { m["record"].(map[string]any)["score"] = 1 }), pub: pub, check: "payload"},
		{name: "not a receipt", compact: signRaw(t, key, gh, []byte(`[1,2,3]`)), pub: pub, check: "payload"},
		{name: "other version", compact: resign(func(m map[string]any) { m["version"] = "dpi-consent-receipt/v0" }), pub: pub, check: "version"},
		{name: "forged status", compact: resign(func(m map[string]any) { m["record"].(map[string]any)["status"] = string(consent.Withdrawn) }), pub: pub, check: "status"},
		{name: "unknown status", compact: resign(func(m map[string]any) {
			m["record"].(map[string]any)["status"] = "ConsentForever"
			m["event"].(map[string]any)["status"] = "ConsentForever"
		}), pub: pub, check: "status"},
		{name: "event of another record", compact: resign(func(m map[string]any) { m["event"].(map[string]any)["recordId"] = "cr_other" }), pub: pub, check: "status"},
		{name: "JSON serialisation", compact: `{"protected":"` + b64(gh) + `","payload":"` + b64(gp) + `","signature":"` + b64(gs) + `"}`, pub: pub, check: "format"},
		{name: "line break", compact: good[:40] + "\n" + good[40:], pub: pub, check: "format"},
		{name: "trailing newline", compact: good + "\n", pub: pub, check: "format"},
		{name: "two parts", compact: b64(gh) + "." + b64(gp), pub: pub, check: "format"},
		{name: "empty", compact: "", pub: pub, check: "format"},
		{name: "oversize", compact: good + strings.Repeat("A", limits.MaxConsentReceipt), pub: pub, check: "format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := consent.VerifyReceipt(c.compact, c.pub)
			if c.check == "" {
				require.NoError(t, err)
				assert.Equal(t, rc.Record.ID, r.Record.ID)
				assert.Equal(t, rc.Event, r.Event)
				return
			}
			require.ErrorIs(t, err, consent.ErrReceipt)
			var ce *consent.Error
			require.True(t, errors.As(err, &ce), "%T", err)
			assert.Equal(t, c.check, ce.Check, ce.Reason)
			assert.Nil(t, r)
			assert.NotContains(t, err.Error(), string(rc.Record.Person))
		})
	}
}

func mustP256(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// A key VerifyReceipt cannot use is a configuration error, not a rejected receipt.
func TestVerifyReceiptRefusesOtherKeys(t *testing.T) {
	good, _, _ := receiptFixture(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for name, pub := range map[string]crypto.PublicKey{"P-384": &p384.PublicKey, "bytes": []byte("secret"), "nil": nil} {
		_, err := consent.VerifyReceipt(good, pub)
		assert.ErrorIs(t, err, consent.ErrConfig, name)
	}
}

// Python jwcrypto, a JOSE implementation independent of go-jose, verifies our EdDSA and
// ES256 receipts with the controller's public key, sees the receipt type, and finds the
// payload in canonical form (for these ASCII names and integers, RFC 8785 is Python's
// sorted compact JSON); it refuses a receipt with a flipped signature byte.
func TestJWCryptoVerifiesOurReceipts(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	good, rc, key := receiptFixture(t)
	p256 := mustP256(t)
	es256, err := consent.SignReceipt(p256, rc)
	require.NoError(t, err)
	dir := t.TempDir()
	script := filepath.Join(dir, "verify.py")
	require.NoError(t, os.WriteFile(script, []byte(`
import json, sys
from jwcrypto import jwk, jws
token, keyfile, alg = sys.argv[1], sys.argv[2], sys.argv[3]
key = jwk.JWK.from_pem(open(keyfile, 'rb').read())
j = jws.JWS()
j.allowed_algs = [alg]
j.deserialize(open(token).read(), key)
assert j.jose_header == {'alg': alg, 'typ': 'dpi-consent-receipt+jws'}, j.jose_header
payload = j.payload
doc = json.loads(payload)
assert payload == json.dumps(doc, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
assert doc['version'] == 'dpi-consent-receipt/v1'
assert doc['event']['status'] == doc['record']['status']
print(doc['record']['id'])
`), 0o644))
	for _, c := range []struct {
		name, alg, token string
		pub              crypto.PublicKey
	}{
		{"EdDSA", "EdDSA", good, key.Public()},
		{"ES256", "ES256", es256, &p256.PublicKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			der, err := x509.MarshalPKIXPublicKey(c.pub)
			require.NoError(t, err)
			keyFile := filepath.Join(dir, c.name+".pem")
			require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
			tokenFile := filepath.Join(dir, c.name+".jws")
			require.NoError(t, os.WriteFile(tokenFile, []byte(c.token), 0o644))
			out, err := exec.Command(py, script, tokenFile, keyFile, c.alg).CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Equal(t, rc.Record.ID+"\n", string(out))

			h, p, s := parts(c.token)
			s[len(s)-1] ^= 1
			require.NoError(t, os.WriteFile(tokenFile, []byte(b64(h)+"."+b64(p)+"."+b64(s)), 0o644))
			assert.Error(t, exec.Command(py, script, tokenFile, keyFile, c.alg).Run(), "jwcrypto refuses a flipped signature")
		})
	}
}

var updateReceiptVectors = flag.Bool("update-receipt-vectors", false, "rewrite testdata/receipt-vectors.json")

// receiptVectors is testdata/receipt-vectors.json: receipts signed with one fixed Ed25519
// key (Ed25519 signs deterministically), each with the check VerifyReceipt names when it
// refuses it, for another implementation to run.
type receiptVectors struct {
	Comment string            `json:"comment"`
	Key     map[string]string `json:"key"`
	Cases   []receiptVector   `json:"cases"`
}

type receiptVector struct {
	Name    string `json:"name"`
	Receipt string `json:"receipt"`
	// Check is "" for a receipt that verifies.
	Check string `json:"check"`
}

func buildReceiptVectors(t *testing.T) receiptVectors {
	key := fuzzKey
	rc := kantaraReceipt()
	good, err := consent.SignReceipt(key, rc)
	require.NoError(t, err)
	gh, gp, gs := parts(good)
	resign := func(edit func(m map[string]any)) string { return signRaw(t, key, gh, canonical(t, rc, edit)) }
	flipped := bytes.Clone(gs)
	flipped[0] ^= 1
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, ed25519.SeedSize))
	mac := hmac.New(sha256.New, []byte(key.Public().(ed25519.PublicKey)))
	hsInput := b64(header("HS256", nil)) + "." + b64(gp)
	mac.Write([]byte(hsInput))
	return receiptVectors{
		Comment: "dpi consent receipts (compact JWS, RFC 7515, over RFC 8785 JSON) and the check dpi's VerifyReceipt names when it refuses one; check is empty for a receipt that verifies with key",
		Key:     map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(key.Public().(ed25519.PublicKey))},
		Cases: []receiptVector{
			{"valid", good, ""},
			{"signed by another key", signRaw(t, other, gh, gp), "signature"},
			{"flipped signature byte", b64(gh) + "." + b64(gp) + "." + b64(flipped), "signature"},
			{"alg none", b64(header("none", nil)) + "." + b64(gp) + ".", "format"},
			{"HS256 keyed with the public key", hsInput + "." + b64(mac.Sum(nil)), "format"},
			{"typ JWT", signRaw(t, key, []byte(`{"alg":"EdDSA","typ":"JWT"}`), gp), "typ"},
			{"kid header", signRaw(t, key, header("EdDSA", map[string]any{"kid": "k1"}), gp), "header"},
			{"jwk header", signRaw(t, key, header("EdDSA", map[string]any{"jwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(key.Public().(ed25519.PublicKey))}}), gp), "header"},
			{"crit header", signRaw(t, key, header("EdDSA", map[string]any{"crit": []string{"exp"}, "exp": 1}), gp), "header"},
			{"payload not canonical", signRaw(t, key, gh, func() []byte { b, _ := json.Marshal(rc); return b }()), "payload"},
			{"unknown field", resign(func(m map[string]any) { m["admin"] = true }), "payload"},
			{"forged status", resign(func(m map[string]any) { m["record"].(map[string]any)["status"] = string(consent.Withdrawn) }), "status"},
			{"unknown status", resign(func(m map[string]any) {
				m["record"].(map[string]any)["status"] = "ConsentForever"
				m["event"].(map[string]any)["status"] = "ConsentForever"
			}), "status"},
		},
	}
}

func TestReceiptVectors(t *testing.T) {
	built := buildReceiptVectors(t)
	b, err := json.MarshalIndent(built, "", "  ")
	require.NoError(t, err)
	b = append(b, '\n')
	if *updateReceiptVectors {
		require.NoError(t, os.WriteFile("testdata/receipt-vectors.json", b, 0o644))
	}
	raw, err := os.ReadFile("testdata/receipt-vectors.json")
	require.NoError(t, err)
	assert.Equal(t, string(raw), string(b), "run go test -run TestReceiptVectors -update-receipt-vectors after a deliberate change")

	var vec receiptVectors
	require.NoError(t, json.Unmarshal(raw, &vec))
	x, err := base64.RawURLEncoding.DecodeString(vec.Key["x"])
	require.NoError(t, err)
	pub := ed25519.PublicKey(x)
	for _, c := range vec.Cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := consent.VerifyReceipt(c.Receipt, pub)
			if c.Check == "" {
				assert.NoError(t, err)
				return
			}
			var ce *consent.Error
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.ErrorIs(t, err, consent.ErrReceipt)
			assert.Equal(t, c.Check, ce.Check)
		})
	}
}

// jwcrypto reads testdata/receipt-vectors.json as another implementation would: the valid
// receipt verifies with the vector's JWK, and the receipts dpi refuses for their signature
// or algorithm jwcrypto refuses too (the other checks are dpi's own policy).
func TestJWCryptoReadsReceiptVectors(t *testing.T) {
	py := testenv.PythonModule(t, "jwcrypto")
	script := filepath.Join(t.TempDir(), "vectors.py")
	require.NoError(t, os.WriteFile(script, []byte(`
import json, sys
from jwcrypto import jwk, jws
vec = json.load(open(sys.argv[1]))
key = jwk.JWK(**vec['key'])
for case in vec['cases']:
    j = jws.JWS()
    j.allowed_algs = ['EdDSA']
    try:
        j.deserialize(case['receipt'], key)
        ok = True
    except Exception:
        ok = False
    if case['check'] == '':
        assert ok, case['name']
    elif case['check'] in ('signature', 'format'):
        assert not ok, case['name']
print(len(vec['cases']))
`), 0o644))
	out, err := exec.Command(py, script, "testdata/receipt-vectors.json").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "13\n", string(out))
}
