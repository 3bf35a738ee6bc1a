package signature

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePKCS11URI(t *testing.T) {
	slot := uint(7)
	for _, tc := range []struct {
		uri  string
		want pkcs11URI
	}{
		{"pkcs11:", pkcs11URI{}},
		{"pkcs11:token=dpi;object=agency%20key", pkcs11URI{token: "dpi", object: "agency key"}},
		{"pkcs11:id=%01%ff;type=private", pkcs11URI{id: []byte{0x01, 0xff}}},
		{"pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=abc;slot-id=7",
			pkcs11URI{manufacturer: "SoftHSM project", model: "SoftHSM v2", serial: "abc", slotID: &slot}},
		{"pkcs11:token=a+b?pin-value=12%2634&module-path=/usr/lib/x.so",
			pkcs11URI{token: "a+b", pinValue: "12&34", modulePath: "/usr/lib/x.so"}},
		{"pkcs11:token=t;x-vendor=1?x-other=2&pin-source=file:/run/pin", pkcs11URI{token: "t", pinSource: "file:/run/pin"}},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			u, err := parsePKCS11URI(tc.uri)
			require.NoError(t, err)
			assert.Equal(t, tc.want, *u)
		})
	}
}

func TestParsePKCS11URIRefuses(t *testing.T) {
	for _, uri := range []string{
		"",
		"token=dpi",
		"PKCS11:token=dpi",
		"pkcs11:token",
		"pkcs11:token=a;token=b",
		"pkcs11:type=cert",
		"pkcs11:slot-id=x",
		"pkcs11:library-manufacturer=x",
		"pkcs11:unknown=x",
		"pkcs11:token=%zz",
		"pkcs11:?module-name=softhsm2",
		"pkcs11:?pin-value=1&pin-value=2",
		"pkcs11:" + strings.Repeat("a", 5000),
	} {
		_, err := parsePKCS11URI(uri)
		assert.ErrorIs(t, err, ErrPKCS11URI, uri)
	}
}

func TestOpenPKCS11OptionsRefused(t *testing.T) {
	pinFile := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("1234\r\nignored"), 0o600))
	pin, err := readPINSource("file://" + pinFile)
	require.NoError(t, err)
	assert.Equal(t, "1234", pin)
	pin, err = readPINSource(pinFile)
	require.NoError(t, err)
	assert.Equal(t, "1234", pin)
	_, err = readPINSource("https://example.org/pin")
	assert.ErrorIs(t, err, ErrPKCS11URI)
	_, err = readPINSource("file://host/etc/pin")
	assert.ErrorIs(t, err, ErrPKCS11URI)
	_, err = readPINSource(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, ErrPKCS11)

	_, err = OpenPKCS11("pkcs11:token=x?pin-value=1&pin-source=/p&module-path=/m.so", PKCS11Options{})
	assert.ErrorIs(t, err, ErrPKCS11URI)
}

// FuzzPKCS11URI: the URI parser returns a value or an ErrPKCS11URI, never panics.
func FuzzPKCS11URI(f *testing.F) {
	f.Add("pkcs11:token=dpi;object=k;id=%01?pin-value=1234&module-path=/usr/lib/softhsm/libsofthsm2.so")
	f.Add("pkcs11:slot-id=4294967296")
	f.Add("pkcs11:x-a=%;b")
	f.Fuzz(func(t *testing.T, uri string) {
		u, err := parsePKCS11URI(uri)
		if (u == nil) == (err == nil) {
			t.Fatalf("parsePKCS11URI(%q) = %v, %v", uri, u, err)
		}
	})
}
