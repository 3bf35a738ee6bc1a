package evidence_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func ecdsaKey(t testing.TB) (*ecdsa.PublicKey, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return &k.PublicKey, k
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// seededKey returns a key and the hex seed a child process rebuilds it from.
func seededKey(t testing.TB) (string, ed25519.PrivateKey) {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	_, err := rand.Read(seed)
	require.NoError(t, err)
	return hex.EncodeToString(seed), ed25519.NewKeyFromSeed(seed)
}

func keyFromSeed(s string) ed25519.PrivateKey {
	seed, err := hex.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		panic("test child: bad key seed")
	}
	return ed25519.NewKeyFromSeed(seed)
}
