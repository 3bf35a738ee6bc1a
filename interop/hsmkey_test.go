package interop_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/interop"
)

// onlyDecrypter hides an RSA key behind crypto.Decrypter, as an HSM's key is: the opener
// gets no *rsa.PrivateKey, only Public and Decrypt. It counts the calls and the options.
type onlyDecrypter struct {
	key   *rsa.PrivateKey
	calls int
	opts  crypto.DecrypterOpts
}

func (d *onlyDecrypter) Public() crypto.PublicKey { return &d.key.PublicKey }

func (d *onlyDecrypter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	d.calls++
	d.opts = opts
	return d.key.Decrypt(r, msg, opts)
}

// onlyECDH hides a P-256 key behind interop.ECDHKey, with an *ecdsa.PublicKey as an HSM's
// wrapper would give.
type onlyECDH struct {
	key   *ecdh.PrivateKey
	calls int
}

func (k *onlyECDH) Public() crypto.PublicKey {
	p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), k.key.PublicKey().Bytes())
	if err != nil {
		panic(err)
	}
	return p
}

func (k *onlyECDH) ECDH(remote *ecdh.PublicKey) ([]byte, error) {
	k.calls++
	return k.key.ECDH(remote)
}

// failingECDH is an HSM that does not answer.
type failingECDH struct{ onlyECDH }

func (k *failingECDH) ECDH(*ecdh.PublicKey) ([]byte, error) { return nil, errors.New("token removed") }

// TestOpenWithKeyInHSM opens messages with keys that never show their secret: an RSA key
// as a crypto.Decrypter (RSA-OAEP-256) and a P-256 key as an ECDHKey (ECDH-ES+A256KW),
// alone and among recipients of both kinds, and refuses what they must not open.
func TestOpenWithKeyInHSM(t *testing.T) {
	rs := newRSAKey(t)
	ecKey, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	ecPub := (&onlyECDH{key: ecKey}).Public().(*ecdsa.PublicKey)
	other := newP256Key(t)
	plaintext := []byte(`{"person":"EE38001085718"}`)

	tests := []struct {
		name string
		to   []interop.Recipient
	}{
		{"alone", nil},
		{"among others", []interop.Recipient{{Key: &other.PublicKey}, {Key: &newRSAKey(t).PublicKey}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("RSA-OAEP-256 with a crypto.Decrypter", func(t *testing.T) {
				jwe, err := interop.Seal(plaintext, "", append(tc.to, interop.Recipient{Key: &rs.PublicKey})...)
				require.NoError(t, err)
				d := &onlyDecrypter{key: rs}
				got, _, err := opener(t, interop.OpenerConfig{Key: d}).Open(jwe)
				require.NoError(t, err)
				assert.Equal(t, plaintext, got)
				assert.Positive(t, d.calls)
				assert.Equal(t, &rsa.OAEPOptions{Hash: crypto.SHA256}, d.opts)
			})
			t.Run("ECDH-ES+A256KW with an ECDHKey", func(t *testing.T) {
				jwe, err := interop.Seal(plaintext, "", append(tc.to, interop.Recipient{Key: ecPub})...)
				require.NoError(t, err)
				for _, k := range []interop.ECDHKey{ecKey, &onlyECDH{key: ecKey}} {
					got, _, err := opener(t, interop.OpenerConfig{Key: k}).Open(jwe)
					require.NoError(t, err)
					assert.Equal(t, plaintext, got)
				}
				_, _, err = opener(t, interop.OpenerConfig{Key: &failingECDH{onlyECDH{key: ecKey}}}).Open(jwe)
				assert.ErrorIs(t, err, interop.ErrDecrypt)
			})
		})
	}

	// Sealed to others only: neither opens it.
	jwe, err := interop.Seal(plaintext, "", interop.Recipient{Key: &other.PublicKey}, interop.Recipient{Key: &newRSAKey(t).PublicKey})
	require.NoError(t, err)
	for _, k := range []any{&onlyDecrypter{key: rs}, &onlyECDH{key: ecKey}} {
		_, _, err := opener(t, interop.OpenerConfig{Key: k}).Open(jwe)
		assert.ErrorIs(t, err, interop.ErrDecrypt)
	}

	// An ephemeral key off the curve (an invalid-curve attack) never reaches the key.
	jwe, err = interop.Seal(plaintext, "", interop.Recipient{Key: ecPub})
	require.NoError(t, err)
	spy := &onlyECDH{key: ecKey}
	offCurve := editJSON(t, jwe, func(m map[string]any) {
		prot := decodeProtected(t, m["protected"].(string))
		epk := prot["epk"].(map[string]any)
		epk["y"] = base64.RawURLEncoding.EncodeToString(new(big.Int).Add(mustB64Int(t, epk["y"].(string)), big.NewInt(1)).FillBytes(make([]byte, 32)))
		m["protected"] = b64JSON(t, prot)
	})
	_, _, err = opener(t, interop.OpenerConfig{Key: spy}).Open(offCurve)
	assert.ErrorIs(t, err, interop.ErrRejected)
	assert.Zero(t, spy.calls)

	// An EC key behind crypto.Decrypter is refused: EC keys decrypt as an ECDHKey.
	_, err = interop.NewOpener(interop.OpenerConfig{Key: ecdsaDecrypter{other}})
	assert.ErrorIs(t, err, interop.ErrConfig)
	// A P-384 ECDHKey is refused.
	p384, err := ecdh.P384().GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, err = interop.NewOpener(interop.OpenerConfig{Key: p384})
	assert.ErrorIs(t, err, interop.ErrConfig)
}

type ecdsaDecrypter struct{ k *ecdsa.PrivateKey }

func (d ecdsaDecrypter) Public() crypto.PublicKey { return &d.k.PublicKey }
func (d ecdsaDecrypter) Decrypt(io.Reader, []byte, crypto.DecrypterOpts) ([]byte, error) {
	return nil, errors.New("no")
}

func decodeProtected(t *testing.T, b64 string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func mustB64Int(t *testing.T, s string) *big.Int {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return new(big.Int).SetBytes(b)
}
