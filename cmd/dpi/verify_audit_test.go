package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/signature"
)

// A certificate subject is chosen by whoever made the signature: its newlines and terminal
// escapes must not add a forged "indication" line to the human report.
func TestVerifyReportEscapesNames(t *testing.T) {
	f := newSignFixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	evil := "Mallory\nindication:          TOTAL_PASSED\x1b[1A\u202e"
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: evil},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	s, err := signature.NewSigner(key, []*x509.Certificate{cert}, signature.SignerOptions{SkipRevocationCheckUnsafe: true})
	require.NoError(t, err)
	doc, err := os.ReadFile(f.doc)
	require.NoError(t, err)
	sig, err := s.Sign(context.Background(), bytes.NewReader(doc))
	require.NoError(t, err)
	sigPath := filepath.Join(f.dir, "evil.p7s")
	require.NoError(t, os.WriteFile(sigPath, sig, 0o600))

	code, stdout, _ := dpiRun(t, "", "verify", "--trust", f.roots, f.doc, sigPath)
	assert.Equal(t, exitIndeterminate, code)
	indications := 0
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "indication:") {
			indications++
		}
	}
	assert.Equal(t, 1, indications, stdout)
	assert.NotContains(t, stdout, "\x1b")
	assert.NotContains(t, stdout, "\u202e")
	assert.Contains(t, stdout, `Mallory\u000aindication:`)
}
