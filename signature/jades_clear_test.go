package signature_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/gowebpki/jcs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// jcsURN is the canonAlg of RFC 8785 JCS, the one canonicalisation the validator accepts.
const jcsURN = "urn:ietf:rfc:8785"

// jwsParts is a JAdES signature in JSON serialization with its etsiU elements as they are.
type jwsParts struct {
	Protected string `json:"protected"`
	Header    struct {
		EtsiU []json.RawMessage `json:"etsiU"`
	} `json:"header"`
	Signature string `json:"signature"`
}

func parseParts(t *testing.T, sig []byte) *jwsParts {
	t.Helper()
	var p jwsParts
	require.NoError(t, json.Unmarshal(sig, &p))
	return &p
}

// bytes writes the signature with its etsiU elements byte for byte (json.Marshal would
// compact them).
func (p *jwsParts) bytes(t *testing.T) []byte {
	t.Helper()
	protected, err := json.Marshal(p.Protected)
	require.NoError(t, err)
	sig, err := json.Marshal(p.Signature)
	require.NoError(t, err)
	var b bytes.Buffer
	b.WriteString(`{"protected":` + string(protected) + `,"header":{"etsiU":[`)
	for i, el := range p.Header.EtsiU {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(el)
	}
	b.WriteString(`]},"signature":` + string(sig) + `}`)
	return b.Bytes()
}

// name returns the component name of etsiU element i, encoded or in clear.
func (p *jwsParts) name(t *testing.T, i int) string {
	t.Helper()
	var comp map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(clearElement(t, p.Header.EtsiU[i]), &comp))
	require.Len(t, comp, 1)
	for k := range comp {
		return k
	}
	return ""
}

// clearElement returns an etsiU element in clear JSON, decoding it if it is base64url-encoded.
func clearElement(t *testing.T, el json.RawMessage) json.RawMessage {
	t.Helper()
	var enc string
	if json.Unmarshal(el, &enc) != nil {
		return el
	}
	return b64url(t, enc)
}

// tsaToken asks the time-stamp authority at url for a token over a SHA-256 imprint.
func tsaToken(t *testing.T, url string, imprint []byte) []byte {
	t.Helper()
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: imprint, Certificates: true}).Marshal()
	require.NoError(t, err)
	resp, err := http.Post(url, "application/timestamp-query", bytes.NewReader(req))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	ts, err := timestamp.ParseResponse(body)
	require.NoError(t, err)
	return ts.RawToken
}

// clearJAdES rewrites a JAdES-BASELINE-LTA signature with one arcTst with every etsiU
// component in clear JSON (its sigTst token's encoding made explicit), and replaces its arcTst with one from the TSA at tsaURL whose
// imprint is computed as TS 119 182-1 §5.3.6.3.1.2 says: over the document, the header,
// the signature value and the RFC 8785 canonical form of each component before it. The
// new arcTst names canonAlg, none when empty.
func clearJAdES(t *testing.T, sig, doc []byte, canonAlg, tsaURL string) []byte {
	t.Helper()
	p := parseParts(t, sig)
	arc := -1
	for i, el := range p.Header.EtsiU {
		p.Header.EtsiU[i] = clearElement(t, el)
		switch p.name(t, i) {
		case "arcTst":
			require.Equal(t, -1, arc, "one arcTst")
			arc = i
		case "sigTst":
			// The token's encoding, DER (§5.4.3.3), given explicitly: a covered object
			// with two members, whose order a canonicalisation must settle.
			var st map[string]map[string][]map[string]string
			require.NoError(t, json.Unmarshal(p.Header.EtsiU[i], &st))
			st["sigTst"]["tstTokens"][0]["encoding"] = "http://uri.etsi.org/19182/DER"
			b, err := json.Marshal(st)
			require.NoError(t, err)
			p.Header.EtsiU[i] = b
		}
	}
	require.NotEqual(t, -1, arc)
	h := sha256.New()
	h.Write(doc)
	h.Write([]byte("." + p.Protected + "." + p.Signature + "."))
	for _, el := range p.Header.EtsiU[:arc] {
		canon, err := jcs.Transform(el)
		require.NoError(t, err)
		h.Write(canon)
	}
	tok := tsaToken(t, tsaURL, h.Sum(nil))
	container := map[string]any{"tstTokens": []map[string]string{{"val": base64.StdEncoding.EncodeToString(tok)}}}
	if canonAlg != "" {
		container["canonAlg"] = canonAlg
	}
	el, err := json.Marshal(map[string]any{"arcTst": container})
	require.NoError(t, err)
	p.Header.EtsiU[arc] = el
	return p.bytes(t)
}

// respell writes a JSON value as no canonicaliser would: members in reverse order,
// spaces around the separators, and "/" escaped, so that only its RFC 8785 form matches.
func respell(t *testing.T, raw []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	var b strings.Builder
	var write func(v any)
	write = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Sort(sort.Reverse(sort.StringSlice(keys)))
			b.WriteString("{ ")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(" , ")
				}
				write(k)
				b.WriteString(" : ")
				write(x[k])
			}
			b.WriteString(" }")
		case []any:
			b.WriteString("[ ")
			for i, e := range x {
				if i > 0 {
					b.WriteString(" , ")
				}
				write(e)
			}
			b.WriteString(" ]")
		case string:
			s, err := json.Marshal(x)
			require.NoError(t, err)
			b.WriteString(strings.ReplaceAll(string(s), "/", `\/`))
		case json.Number:
			b.WriteString(x.String())
		default:
			s, err := json.Marshal(x)
			require.NoError(t, err)
			b.Write(s)
		}
	}
	write(v)
	return []byte(b.String())
}

// A JAdES-BASELINE-LTA signature whose etsiU components are in clear JSON validates as its
// base64url-encoded twin does when its arcTst names RFC 8785 JCS (TS 119 182-1 §5.3.1,
// §5.3.6.3.1.2): the same components written otherwise (members reordered, spaced,
// escaped) still match; a changed value, another canonAlg, none, or components in both
// forms leave the archive time-stamp without effect.
func TestJAdESClearJSONArchive(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	other := f.issue(t, dpitest.RSA2048)
	encoded := f.sign(t, cred, jadesOptions(f, signature.LevelLTA), document)
	require.Equal(t, []string{"sigTst", "xVals", "rVals", "arcTst", "tstVD"}, etsiUNames(t, encoded))
	clear := clearJAdES(t, encoded, document, jcsURN, f.pki.TSAURL)

	edit := func(sig []byte, fn func(p *jwsParts)) []byte {
		p := parseParts(t, sig)
		fn(p)
		return p.bytes(t)
	}
	for _, tc := range []struct {
		name   string
		sig    []byte
		valid  bool
		reason string // in the archive time-stamp's reason, when not valid
	}{
		{name: "as made", sig: clear, valid: true},
		{name: "respelled", valid: true, sig: edit(clear, func(p *jwsParts) {
			for i := range p.Header.EtsiU {
				p.Header.EtsiU[i] = respell(t, p.Header.EtsiU[i])
			}
		})},
		{name: "certificate in xVals changed", reason: "imprint does not match", sig: edit(clear, func(p *jwsParts) {
			var xv struct {
				XVals []map[string]map[string]string `json:"xVals"`
			}
			require.NoError(t, json.Unmarshal(p.Header.EtsiU[1], &xv))
			require.NotEmpty(t, xv.XVals)
			xv.XVals[0]["x509Cert"]["val"] = base64.StdEncoding.EncodeToString(other.Cert.Raw)
			b, err := json.Marshal(xv)
			require.NoError(t, err)
			p.Header.EtsiU[1] = b
		})},
		{name: "signature time-stamp dropped", reason: "imprint does not match", sig: edit(clear, func(p *jwsParts) {
			p.Header.EtsiU = p.Header.EtsiU[1:]
		})},
		{name: "unknown canonAlg", reason: `canonicalisation algorithm "http://example.org/c14n" is not supported`,
			sig: clearJAdES(t, encoded, document, "http://example.org/c14n", f.pki.TSAURL)},
		{name: "no canonAlg", reason: "names no canonAlg", sig: clearJAdES(t, encoded, document, "", f.pki.TSAURL)},
		{name: "both forms", reason: "both in clear json and base64url-encoded", sig: edit(clear, func(p *jwsParts) {
			b, err := json.Marshal(base64.RawURLEncoding.EncodeToString(p.Header.EtsiU[0]))
			require.NoError(t, err)
			p.Header.EtsiU[0] = b
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.pki.SetOCSPAvailable(true)
			f.pki.SetCRLAvailable(true)
			p, requests := f.offlinePolicy()
			r := validate(t, document, tc.sig, p)
			require.Len(t, r.ArchiveTimestamps, 1)
			a := r.ArchiveTimestamps[0]
			if tc.valid {
				assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
				assert.Equal(t, "JAdES-BASELINE-LTA", r.Format, r.Warnings)
				assert.True(t, a.Valid, a.Reason)
				assert.Empty(t, r.Warnings)
				assert.Zero(t, requests.n.Load(), "nothing is fetched")
				return
			}
			assert.False(t, a.Valid)
			assert.Contains(t, a.Reason, tc.reason)
			assert.NotEqual(t, "JAdES-BASELINE-LTA", r.Format)
			assert.Contains(t, joinLines(r.Warnings), "archive time-stamp ignored: "+a.Reason)
		})
	}

	// The writer keeps base64url-encoded components only: it does not rewrite these.
	_, err := signature.Extend(context.Background(), bytes.NewReader(document), clear, signature.ExtendOptions{
		Level: signature.LevelLTA, TSAURL: f.pki.TSAURL, Roots: f.pki.Pool(), Now: f.clock.Now})
	assert.ErrorIs(t, err, signature.ErrNotExtendable)
}

// Six years on, when the signer's and the signature TSA's certificates have expired, a
// clear-JSON JAdES-BASELINE-LTA signature passes on its JCS arcTst alone; with an arcTst
// that names a canonicalisation the validator does not implement, it is INDETERMINATE.
func TestJAdESClearJSONArchiveOutlivesItsCertificates(t *testing.T) {
	f := newLongFixture(t)
	archive, err := f.pki.AddTSA("archive", 8*year)
	require.NoError(t, err)
	cred := f.issue(t, dpitest.ECDSAP256)
	bb := f.sign(t, cred, signature.SignerOptions{Format: signature.JAdES}, document)
	lt := f.extend(t, document, bb, signature.LevelLT, f.pki.TSAURL)
	f.clock.Add(time.Hour)
	lta := f.extend(t, document, lt, signature.LevelLTA, archive.URL)
	jcsSig := clearJAdES(t, lta, document, jcsURN, archive.URL)
	unknown := clearJAdES(t, lta, document, "http://example.org/c14n", archive.URL)
	f.clock.Add(6 * year)

	p, requests := f.offlinePolicy()
	r := validate(t, document, jcsSig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "JAdES-BASELINE-LTA", r.Format, r.Warnings)
	assert.Zero(t, requests.n.Load())

	r = validate(t, document, unknown, p)
	assert.Equal(t, signature.Indeterminate, r.Indication, r.Errors)
	require.Len(t, r.ArchiveTimestamps, 1)
	assert.False(t, r.ArchiveTimestamps[0].Valid)
	assert.Contains(t, r.ArchiveTimestamps[0].Reason, "is not supported")
}
