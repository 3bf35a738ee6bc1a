package interop

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A chain checked once is reused within the cache's lifetime and every certificate's
// validity, never past either, and only for the exact certificates presented.
func TestChainCacheBounds(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{Raw: []byte("leaf"), NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(30 * time.Second)}
	ca := &x509.Certificate{Raw: []byte("ca"), NotBefore: t0.Add(-24 * time.Hour), NotAfter: t0.Add(24 * time.Hour)}
	presented := []*x509.Certificate{leaf, ca}
	var c chainCache
	c.put(presented, presented, t0)

	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		at    time.Time
		hit   bool
	}{
		{"same chain, soon after", presented, t0.Add(10 * time.Second), true},
		{"past the leaf's validity", presented, t0.Add(40 * time.Second), false},
		{"before it was checked", presented, t0.Add(-time.Second), false},
		{"another chain", []*x509.Certificate{ca, leaf}, t0.Add(time.Second), false},
		{"the leaf alone", []*x509.Certificate{leaf}, t0.Add(time.Second), false},
	} {
		_, hit := c.get(tc.chain, tc.at)
		assert.Equal(t, tc.hit, hit, tc.name)
	}

	long := &x509.Certificate{Raw: []byte("long"), NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour)}
	c.put([]*x509.Certificate{long, ca}, []*x509.Certificate{long, ca}, t0)
	_, hit := c.get([]*x509.Certificate{long, ca}, t0.Add(chainCacheTTL+time.Second))
	assert.False(t, hit, "past the cache's lifetime")
}
