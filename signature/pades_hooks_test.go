package signature_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// The PAdES hooks: a CMS without signing-time that validates with /M as the claimed time,
// and fails without it; a document time-stamp over a digest that validates over the same
// bytes and fails over others.
func TestPAdESHooks(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	s, err := signature.NewSigner(cred.Key, cred.Chain, signature.SignerOptions{TSAURL: f.pki.TSAURL, Now: f.clock.Now})
	require.NoError(t, err)
	ctx := context.Background()
	ranges := []byte("the byte ranges of a pdf")
	sum := sha256.Sum256(ranges)
	at := f.clock.Now()
	cms, err := s.SignPAdES(ctx, sum[:], at)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		data signature.PAdESData
		ind  signature.Indication
		sub  signature.SubIndication
	}{
		{"with /M", signature.PAdESData{SigningTime: &at}, signature.TotalPassed, ""},
		{"without /M", signature.PAdESData{}, signature.TotalFailed, signature.FormatFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := signature.ValidatePAdES(ctx, bytes.NewReader(ranges), cms, f.policy(), tc.data)
			require.NoError(t, err)
			assert.Equal(t, tc.ind, r.Indication, r.Errors)
			assert.Equal(t, tc.sub, r.SubIndication)
			assert.Equal(t, "PAdES-BASELINE-T", r.Format)
			assert.Empty(t, r.Warnings, "no signing-time attribute")
		})
	}

	token, err := s.DocumentTimestamp(ctx, sum[:])
	require.NoError(t, err)
	r, err := signature.ValidateDocumentTimestamp(ctx, bytes.NewReader(ranges), token, f.policy(), signature.PAdESData{})
	require.NoError(t, err)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.Equal(t, "PAdES-DOCUMENT-TIMESTAMP", r.Format)
	r, err = signature.ValidateDocumentTimestamp(ctx, bytes.NewReader([]byte("other bytes")), token, f.policy(), signature.PAdESData{})
	require.NoError(t, err)
	assert.Equal(t, signature.HashFailure, r.SubIndication)

	_, err = s.ValidationDataPAdES(ctx, cms, at)
	require.ErrorIs(t, err, signature.ErrUnsupported, "a b-t signer has no roots")
}
