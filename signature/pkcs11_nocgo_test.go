//go:build !cgo

package signature_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dpiblocks/dpi/signature"
)

func TestPKCS11WithoutCgo(t *testing.T) {
	_, err := signature.OpenPKCS11("pkcs11:token=dpi;object=k", signature.PKCS11Options{Module: "/usr/lib/softhsm/libsofthsm2.so"})
	assert.ErrorIs(t, err, signature.ErrPKCS11Unavailable)
}
