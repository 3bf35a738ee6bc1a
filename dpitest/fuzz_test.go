package dpitest_test

import (
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/digitorus/timestamp"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// FuzzTimeStamp feeds arbitrary TimeStampReq bytes to the TSA: it must answer every input
// with a well-formed TimeStampResp, never panic.
func FuzzTimeStamp(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(f, err)
	f.Cleanup(pki.Close)
	d := sha256.Sum256([]byte("seed"))
	for _, r := range []timestamp.Request{
		{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Certificates: true, Nonce: big.NewInt(7)},
		{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], TSAPolicyOID: asn1.ObjectIdentifier{2, 999, 3161, 1}},
		{HashAlgorithm: crypto.SHA1, HashedMessage: d[:20]},
	} {
		b, err := r.Marshal()
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, req []byte) {
		resp := pki.TimeStamp(req)
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(resp, &v)
		if err != nil || len(rest) != 0 {
			t.Fatalf("malformed TimeStampResp for %x", req)
		}
	})
}
