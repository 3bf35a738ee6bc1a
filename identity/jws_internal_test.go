package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestECDSADER checks the hand-written DER against encoding/asn1 for every curve and for
// the edge cases of INTEGER encoding (leading zeros, high bit set, zero).
func TestECDSADER(t *testing.T) {
	check := func(r, s []byte) {
		want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
		require.NoError(t, err)
		assert.Equal(t, want, ecdsaDER(nil, r, s))
	}
	for _, n := range []int{32, 48, 66} {
		r, s := make([]byte, n), make([]byte, n)
		check(r, s)
		for i := range r {
			r[i], s[i] = 0xff, 0x7f
		}
		check(r, s)
		r[0], r[1], s[0] = 0, 0x80, 0
		check(r, s)
		for range 50 {
			_, _ = rand.Read(r)
			_, _ = rand.Read(s)
			check(r, s)
		}
	}
	// And it verifies real signatures on every curve.
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		alg := map[elliptic.Curve]*algorithm{elliptic.P256(): algorithms["ES256"], elliptic.P384(): algorithms["ES384"], elliptic.P521(): algorithms["ES512"]}[c]
		r, s, err := ecdsa.Sign(rand.Reader, k, digest(alg.hash, "input"))
		require.NoError(t, err)
		n := (c.Params().BitSize + 7) / 8
		sig := make([]byte, 2*n)
		r.FillBytes(sig[:n])
		s.FillBytes(sig[n:])
		assert.True(t, verifySignature(alg, &k.PublicKey, "input", sig))
		assert.False(t, verifySignature(alg, &k.PublicKey, "other", sig))
	}
}
