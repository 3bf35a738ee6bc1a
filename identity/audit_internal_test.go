package identity

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
)

// at_hash and c_hash are the left half of the hash of the token's algorithm (OpenID
// Connect Core §3.1.3.6): SHA-384 for *384, SHA-512 for *512 and for EdDSA with Ed25519.
func TestHalfHashPerAlgorithm(t *testing.T) {
	const v = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
	s256, s384, s512 := sha256.Sum256([]byte(v)), sha512.Sum384([]byte(v)), sha512.Sum512([]byte(v))
	enc := base64.RawURLEncoding.EncodeToString
	want := map[string]string{
		"ES256": enc(s256[:16]), "RS256": enc(s256[:16]), "PS256": enc(s256[:16]),
		"ES384": enc(s384[:24]), "RS384": enc(s384[:24]), "PS384": enc(s384[:24]),
		"ES512": enc(s512[:32]), "RS512": enc(s512[:32]), "PS512": enc(s512[:32]),
		"EdDSA": enc(s512[:32]),
	}
	assert.Len(t, want, len(algorithms))
	for name, a := range algorithms {
		assert.Equal(t, want[name], halfHash(a, v), name)
	}
}
