package signature

import (
	"bytes"
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// An archive time-stamp proves the existence only of what it covers. A signature
// time-stamp added after it (not in its hash index) gets no proof of existence from it, so
// once its authority's certificate has expired it counts for nothing; the same time-stamp
// covered by the archive time-stamp still counts. Either way the archive time-stamp
// proves that the signature existed at its time.
func TestArchiveTimestampCoversOnlyWhatItIndexes(t *testing.T) {
	const year = 365 * 24 * time.Hour
	clock := newTestClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: clock.Now, CAValidity: 40 * year, TSAValidity: 2 * year})
	require.NoError(t, err)
	defer pki.Close()
	archiveTSA, err := pki.AddTSA("archive", 8*year)
	require.NoError(t, err)
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Registry", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	doc := []byte("resolution")
	ctx := context.Background()
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{Now: clock.Now, SkipRevocationCheckUnsafe: true})
	require.NoError(t, err)
	bb, err := s.Sign(ctx, bytes.NewReader(doc))
	require.NoError(t, err)
	parsed, err := parseCMS(bb)
	require.NoError(t, err)
	digest := digestOf(crypto.SHA256, doc)
	short, err := newTSAClient(pki.TSAURL, nil)
	require.NoError(t, err)
	archive, err := newTSAClient(archiveTSA.URL, nil)
	require.NoError(t, err)
	rc := func() *revocationChecker { return &revocationChecker{ctx: ctx, now: clock.Now, at: clock.Now()} }

	sigTst, err := short.stamp(ctx, parsed.sigValue)
	require.NoError(t, err)
	covered, err := splitCMS(bb, "CAdES")
	require.NoError(t, err)
	require.NoError(t, covered.addUnsigned(oidAttrSignatureTSToken, sigTst))
	require.NoError(t, addArchive(ctx, archive, rc(), pki.Pool(), covered, crypto.SHA256, digest))
	late, err := splitCMS(bb, "CAdES")
	require.NoError(t, err)
	require.NoError(t, addArchive(ctx, archive, rc(), pki.Pool(), late, crypto.SHA256, digest))
	require.NoError(t, late.addUnsigned(oidAttrSignatureTSToken, sigTst))
	signedAt := clock.Now()

	clock.Add(3 * year) // the signature time-stamp authority has expired
	for name, tc := range map[string]struct {
		parts *cmsParts
		valid bool
	}{"covered": {covered, true}, "added after": {late, false}} {
		t.Run(name, func(t *testing.T) {
			sig, err := tc.parts.encode()
			require.NoError(t, err)
			r, err := Validate(ctx, bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool(), Now: clock.Now})
			require.NoError(t, err)
			require.NotNil(t, r.Timestamp)
			assert.Equal(t, tc.valid, r.Timestamp.Valid, r.Timestamp.Reason)
			if !tc.valid {
				assert.Contains(t, r.Timestamp.Reason, "expired before the time-stamp's proof of existence")
			}
			require.Len(t, r.ArchiveTimestamps, 1)
			assert.True(t, r.ArchiveTimestamps[0].Valid, r.ArchiveTimestamps[0].Reason)
			assert.WithinDuration(t, signedAt, r.BestSignatureTime, time.Minute, "the archive time-stamp proves the signature")
		})
	}
}
