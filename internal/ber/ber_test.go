package ber

import (
	"encoding/asn1"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestToDER(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"der stays", "300602010102010c", "300602010102010c"},
		{"indefinite sequence", "30800201010201020000", "3006020101020102"},
		{"nested indefinite", "3080a08002010500000000", "3005a003020105"},
		{"long-form length made short", "30810302010a", "300302010a"},
		{"constructed octet string", "2480040261620401630000", "0403616263"},
		{"constructed bit string", "2380030200ff0302040f0000", "030304ff0f"},
		{"context tag kept", "a0800401610000", "a003040161"},
		{"high tag number", "bf1f800201070000", "bf1f03020107"},
	} {
		got, err := ToDER(h(tc.in))
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, hex.EncodeToString(got), tc.name)
	}
}

func TestToDERLong(t *testing.T) {
	// An indefinite SEQUENCE holding a 300-byte OCTET STRING: the length needs two octets.
	in := append([]byte{0x30, 0x80, 0x04, 0x82, 0x01, 0x2c}, make([]byte, 300)...)
	in = append(in, 0, 0)
	got, err := ToDER(in)
	require.NoError(t, err)
	var v struct{ B []byte }
	rest, err := asn1.Unmarshal(got, &v)
	require.NoError(t, err)
	assert.Empty(t, rest)
	assert.Len(t, v.B, 300)
}

func TestToDERRefuses(t *testing.T) {
	deep := []byte{}
	for i := 0; i < MaxDepth+2; i++ {
		deep = append(deep, 0x30, 0x80)
	}
	for i := 0; i < MaxDepth+2; i++ {
		deep = append(deep, 0, 0)
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"truncated", "30"},
		{"length beyond", "300502"},
		{"no end of contents", "3080020101"},
		{"indefinite primitive", "0480610000"},
		{"trailing", "3000ff"},
		{"five length octets", "3085000000000000"},
		{"bad piece", "24800201010000"},
		{"bit string piece with unused bits not last", "2380030201ff0302000f0000"},
		{"deep", hex.EncodeToString(deep)},
	} {
		_, err := ToDER(h(tc.in))
		assert.ErrorIs(t, err, ErrMalformed, tc.name)
	}
}

func FuzzToDER(f *testing.F) {
	f.Add(h("30800201010201020000"))
	f.Add(h("2480040261620401630000"))
	f.Add(h("2380030200ff0302040f0000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		der, err := ToDER(b)
		if err != nil {
			return
		}
		// DER is a fixed point.
		again, err := ToDER(der)
		if err != nil {
			t.Fatalf("the DER form does not read back: %v", err)
		}
		if string(again) != string(der) {
			t.Fatalf("ToDER is not idempotent")
		}
	})
}
