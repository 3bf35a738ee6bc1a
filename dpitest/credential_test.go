package dpitest_test

import (
	"crypto/tls"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// WritePEM writes a key pair that crypto/tls (as any PEM-reading server would) loads back,
// with the chain in order and both files private to the owner.
func TestCredentialWritePEM(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.RSA2048} {
		cred, err := pki.Issue(dpitest.CertOptions{CommonName: "mx.test", KeyType: kt, Usage: dpitest.UsageTLS})
		require.NoError(t, err)
		certFile, keyFile, err := cred.WritePEM(t.TempDir())
		require.NoError(t, err)
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		require.NoError(t, err)
		require.Len(t, pair.Certificate, len(cred.Chain))
		assert.Equal(t, cred.Cert.Raw, pair.Certificate[0])
		for _, f := range []string{certFile, keyFile} {
			st, err := os.Stat(f)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		}
	}
	_, _, err = (&dpitest.Credential{}).WritePEM(t.TempDir())
	assert.Error(t, err)
}
