//go:build !cgo

package signature

import "crypto"

// p11token stands in for the cgo-backed token session in a build without cgo: nothing can
// be opened, so its methods are never reached through OpenPKCS11.
type p11token struct{}

func openPKCS11(*pkcs11URI, string, string) (crypto.PublicKey, *p11token, error) {
	return nil, nil, ErrPKCS11Unavailable
}

func (*p11token) sign([]byte, crypto.SignerOpts) ([]byte, error) { return nil, ErrPKCS11Unavailable }

func (*p11token) close() error { return nil }
