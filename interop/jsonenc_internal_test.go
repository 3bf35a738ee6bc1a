package interop

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertSameJSON checks that the hand-written encodings give json.Marshal's bytes.
func assertSameJSON(t *testing.T, s string, n int64, at time.Time) {
	t.Helper()
	in := &signingInput{Format: EnvelopeFormat, Kind: s, Method: s, Target: s, Status: int(n), Client: s,
		Service: s, ID: s, UserID: s, RepresentedParty: s, Issue: s, ContentType: s, RequestHash: s, Envelope: s, BodyDigest: s}
	want, err := json.Marshal(in)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(in.bytes()))
	empty := &signingInput{}
	want, err = json.Marshal(empty)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(empty.bytes()))

	m := &LogMeta{Direction: s, Message: s, Client: s, Service: s, Method: s, Path: s, Status: int(n), Time: at,
		BodyDigest: s, BodySize: n, RequestHash: s, Signed: n%2 == 0, Complete: n%3 == 0, Fault: s, BodyLogged: n%5 == 0}
	want, wantErr := json.Marshal(m)
	got, err := m.marshal()
	if wantErr != nil {
		assert.Error(t, err)
		return
	}
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	want, err = json.Marshal(&LogMeta{})
	require.NoError(t, err)
	got, err = (&LogMeta{}).marshal()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestFixedJSON(t *testing.T) {
	for _, s := range []string{"", "request", "/r1/EE/GOV/70000002/registry/person/v1/x?a=1&b=<2>", `quote " and \ backslash`,
		"tab\tnewline\n", "ação ñ", "\u2028\u2029", "\xff\xfe invalid", "\x00\x7f"} {
		for _, n := range []int64{0, 1, 200, -3, 1 << 40} {
			for _, at := range []time.Time{{}, time.Date(2026, 12, 1, 5, 0, 0, 123456789, time.UTC),
				time.Date(2026, 12, 1, 5, 0, 0, 0, time.FixedZone("x", -3*3600)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
				assertSameJSON(t, s, n, at)
			}
		}
	}
}

func FuzzFixedJSON(f *testing.F) {
	f.Add("request", int64(200), int64(1764565200))
	f.Add("a<b>&\"\\\u2028\xff", int64(-1), int64(-62135596801))
	f.Fuzz(func(t *testing.T, s string, n, sec int64) {
		assertSameJSON(t, s, n, time.Unix(sec, n).UTC())
	})
}
