package signature

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// TestAnchorOf checks what a validation takes for a trust anchor of a pool, and so leaves
// out of the intermediates: exactly the certificates of that pool, by DER, and nothing
// another pool holds.
func TestAnchorOf(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	other, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer other.Close()
	roots, tsaRoots := pki.Pool(), other.Pool()
	v := &validation{policy: &Policy{Roots: roots}}

	anchor := v.anchorOf(roots)
	assert.True(t, anchor(pki.Root), "the root, self-signed and in the pool")
	assert.False(t, anchor(other.Root), "a self-signed certificate the pool does not hold")
	assert.False(t, anchor(pki.Intermediate), "not self-issued, and no chain ended at it yet")
	assert.False(t, v.anchorOf(tsaRoots)(pki.Root), "an anchor of roots is not one of another pool")
	assert.False(t, v.anchorOf(nil)(pki.Root))

	// A pool that trusts the intermediate itself: learnt from a chain that ended there.
	v.learnAnchor(roots, []*x509.Certificate{pki.Intermediate})
	assert.True(t, anchor(pki.Intermediate))

	pool := v.intermediates(roots, []*x509.Certificate{pki.Root, pki.Intermediate, other.Root})
	want := x509.NewCertPool()
	want.AddCert(other.Root)
	assert.True(t, pool.Equal(want), "only the certificate that is no anchor of roots stays")
}
