package dpitest_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
)

func postTSA(t testing.TB, pki *dpitest.PKI, contentType string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(pki.TSAURL, contentType, bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK {
		assert.Equal(t, "application/timestamp-reply", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, b
}

func TestTSA(t *testing.T) {
	genTime := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	pki := startPKI(t, dpitest.PKIOptions{Now: func() time.Time { return genTime }})
	doc := []byte("the document")
	for _, tc := range []struct {
		hash   crypto.Hash
		digest []byte
	}{
		{crypto.SHA256, func() []byte { d := sha256.Sum256(doc); return d[:] }()},
		{crypto.SHA512, func() []byte { d := sha512.Sum512(doc); return d[:] }()},
	} {
		nonce := big.NewInt(0x5eed)
		req, err := (&timestamp.Request{HashAlgorithm: tc.hash, HashedMessage: tc.digest, Certificates: true, Nonce: nonce}).Marshal()
		require.NoError(t, err)
		code, body := postTSA(t, pki, "application/timestamp-query", req)
		require.Equal(t, http.StatusOK, code)
		ts, err := timestamp.ParseResponse(body)
		require.NoError(t, err)
		assert.Equal(t, tc.digest, ts.HashedMessage)
		assert.Equal(t, tc.hash, ts.HashAlgorithm)
		assert.Equal(t, genTime, ts.Time)
		assert.Equal(t, 0, nonce.Cmp(ts.Nonce), "nonce echoed")
		assert.Equal(t, dpitest.TSAPolicyOID, ts.Policy.String())
		require.NotEmpty(t, ts.Certificates)
		assert.Equal(t, pki.TSA().Cert.Raw, ts.Certificates[0].Raw)
	}
}

func TestTSARejects(t *testing.T) {
	pki := startPKI(t, dpitest.PKIOptions{})
	digest := sha256.Sum256([]byte("x"))
	mustReq := func(r timestamp.Request) []byte {
		b, err := r.Marshal()
		require.NoError(t, err)
		return b
	}
	sha1Digest := make([]byte, 20)
	for _, tc := range []struct {
		name string
		req  []byte
		want string
	}{
		{"garbage", []byte("garbage"), "wrong format"},
		{"empty", nil, "wrong format"},
		{"huge", make([]byte, 1<<20), "wrong format"},
		{"sha1", mustReq(timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: sha1Digest}), "Algorithm"},
		{"short digest", mustReq(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:5]}), "wrong format"},
		{"other policy", mustReq(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:],
			TSAPolicyOID: asn1.ObjectIdentifier{1, 2, 3}}), "policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := postTSA(t, pki, "application/timestamp-query", tc.req)
			require.Equal(t, http.StatusOK, code)
			_, err := timestamp.ParseResponse(body)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "rejected")
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	good := mustReq(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:]})
	code, _ := postTSA(t, pki, "text/plain", good)
	assert.Equal(t, http.StatusUnsupportedMediaType, code)

	pki.SetTSAAvailable(false)
	code, _ = postTSA(t, pki, "application/timestamp-query", good)
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

// TestOpenSSLTimeStamp has openssl build the request and verify the reply, including the
// ESS signing-certificate attribute and the TSA certificate's critical EKU.
func TestOpenSSLTimeStamp(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) { openSSLTimeStamp(t, openssl, kt) })
	}
}

func openSSLTimeStamp(t *testing.T, openssl string, caKey dpitest.KeyType) {
	pki := startPKI(t, dpitest.PKIOptions{KeyType: caKey})
	dir := t.TempDir()
	data := writeFile(t, dir, "doc.txt", []byte("a document to time-stamp\n"))
	root := writeFile(t, dir, "root.pem", pki.RootsPEM())
	chain := writeFile(t, dir, "chain.pem", dpitest.CertsPEM(pki.TSA().Chain...))
	query := dir + "/req.tsq"

	for _, certReq := range []bool{true, false} {
		args := []string{"ts", "-query", "-data", data, "-sha256", "-out", query}
		if certReq {
			args = append(args, "-cert")
		}
		out, err := runOpenSSL(t, openssl, args...)
		require.NoError(t, err, out)
		req := readFile(t, query)
		code, resp := postTSA(t, pki, "application/timestamp-query", req)
		require.Equal(t, http.StatusOK, code)
		reply := writeFile(t, dir, "resp.tsr", resp)

		out, err = runOpenSSL(t, openssl, "ts", "-verify", "-data", data, "-in", reply, "-CAfile", root, "-untrusted", chain)
		require.NoError(t, err, out)
		assert.Contains(t, out, "Verification: OK")
		// The nonce openssl put in the query is checked too.
		out, err = runOpenSSL(t, openssl, "ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", root, "-untrusted", chain)
		require.NoError(t, err, out)
		assert.Contains(t, out, "Verification: OK")

		out, err = runOpenSSL(t, openssl, "ts", "-reply", "-in", reply, "-text")
		require.NoError(t, err, out)
		assert.Contains(t, out, "Policy OID: "+dpitest.TSAPolicyOID)
		assert.True(t, strings.Contains(out, "Nonce: 0x"), out)
	}

	// Another document does not verify against the token.
	other := writeFile(t, dir, "other.txt", []byte("another document\n"))
	out, err := runOpenSSL(t, openssl, "ts", "-verify", "-data", other, "-in", dir+"/resp.tsr", "-CAfile", root, "-untrusted", chain)
	assert.Error(t, err, out)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// BenchmarkTimeStamp measures one RFC 3161 exchange over loopback HTTP.
func BenchmarkTimeStamp(b *testing.B) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(b, err)
	b.Cleanup(pki.Close)
	d := sha256.Sum256([]byte("x"))
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Certificates: true}).Marshal()
	require.NoError(b, err)
	for b.Loop() {
		if code, _ := postTSA(b, pki, "application/timestamp-query", req); code != http.StatusOK {
			b.Fatal(code)
		}
	}
}
