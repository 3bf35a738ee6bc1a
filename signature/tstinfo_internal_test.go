package signature

import (
	"crypto"
	"math/big"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// The token parser reads what digitorus/timestamp reads (the time, the imprint, the nonce),
// with and without the optional accuracy before the nonce, and refuses a CMS whose signed
// content, a TSTInfo, is not typed id-ct-TSTInfo.
func TestParseTSTokenAgreesWithTimestamp(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	tsa := pki.TSA()
	var content []byte
	for _, accuracy := range []time.Duration{1500 * time.Millisecond, 0} {
		ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA384, HashedMessage: make([]byte, 48), Time: time.Now().UTC(),
			Policy: []int{2, 999, 3161, 1}, Nonce: big.NewInt(424242), Accuracy: accuracy, AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(tsa.Cert, tsa.Key, crypto.SHA256)
		require.NoError(t, err)
		parsed, err := timestamp.ParseResponse(resp)
		require.NoError(t, err)
		want, err := timestamp.Parse(parsed.RawToken)
		require.NoError(t, err)
		got, p7, err := parseTSToken(parsed.RawToken)
		require.NoError(t, err)
		assert.Equal(t, want.HashAlgorithm, got.HashAlgorithm)
		assert.Equal(t, want.HashedMessage, got.HashedMessage)
		assert.True(t, want.Time.Equal(got.Time))
		require.NotNil(t, got.Nonce, "accuracy %v", accuracy)
		assert.Equal(t, 0, want.Nonce.Cmp(got.Nonce), "accuracy %v", accuracy)
		assert.Equal(t, 0, want.SerialNumber.Cmp(got.SerialNumber))
		content = p7.Content
	}

	sd, err := pkcs7.NewSignedData(content)
	require.NoError(t, err)
	require.NoError(t, sd.AddSigner(tsa.Cert, tsa.Key, pkcs7.SignerInfoConfig{}))
	asData, err := sd.Finish()
	require.NoError(t, err)
	_, _, err = parseTSToken(asData)
	assert.ErrorContains(t, err, "not a tstinfo")
}
