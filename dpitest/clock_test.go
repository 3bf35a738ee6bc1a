package dpitest_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// Time travel: a PKI on a Clock whose TSA expires after TSAValidity; an AddTSA authority
// made ten years on stamps with the clock's time and a certificate valid from then, and
// its tokens verify with the certificate they carry.
func TestClockTSAValidityAndAddTSA(t *testing.T) {
	const year = 365 * 24 * time.Hour
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := dpitest.NewClock(start)
	pki := startPKI(t, dpitest.PKIOptions{Now: clock.Now, TSAValidity: 2 * year, CAValidity: 30 * year})
	assert.WithinDuration(t, time.Now().Add(2*year), pki.TSA().Cert.NotAfter, 48*time.Hour,
		"the later of the wall clock and the pki clock, plus TSAValidity")
	assert.True(t, pki.Intermediate.NotAfter.After(start.Add(29*year)))
	assert.True(t, pki.Root.NotAfter.After(pki.Intermediate.NotAfter))

	clock.Add(10 * year)
	assert.Equal(t, start.Add(10*year), clock.Now())
	archive, err := pki.AddTSA("archive", 5*year)
	require.NoError(t, err)
	assert.Equal(t, pki.TSAURL+"/archive", archive.URL)
	assert.True(t, archive.Credential.Cert.NotAfter.Equal(clock.Now().Add(5*year)))
	_, err = pki.AddTSA("archive", year)
	assert.ErrorIs(t, err, dpitest.ErrInvalidOptions, "a name is used once")
	_, err = pki.AddTSA("", year)
	assert.ErrorIs(t, err, dpitest.ErrInvalidOptions)

	digest := sha256.Sum256([]byte("archived"))
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Certificates: true}).Marshal()
	require.NoError(t, err)
	resp, err := http.Post(archive.URL, "application/timestamp-query", bytes.NewReader(req))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	ts, err := timestamp.ParseResponse(body)
	require.NoError(t, err)
	assert.True(t, ts.Time.Equal(clock.Now()))
	require.NotEmpty(t, ts.Certificates)
	assert.True(t, ts.Certificates[0].Equal(archive.Credential.Cert), "signed by the added authority")

	resp, err = http.Post(pki.TSAURL+"/nobody", "application/timestamp-query", bytes.NewReader(req))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
