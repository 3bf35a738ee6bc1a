package evidence_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// seqs collects the sequence numbers a scan yields, failing the test on an error.
func seqs(t *testing.T, l *evidence.Log, f evidence.Filter) []uint64 {
	t.Helper()
	out := []uint64{}
	for e, err := range l.Scan(context.Background(), f) {
		require.NoError(t, err)
		out = append(out, e.Seq)
	}
	return out
}

func TestScanFindsEntriesByKindReferenceAndTime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		clock := start
		l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Now: func() time.Time { return clock }})
		require.NoError(t, err)
		// Entry i is appended at start+i minutes. Consent records c-0..c-2 get a history
		// each; every third entry is a delivery with no reference.
		for i := range 12 {
			clock = start.Add(time.Duration(i) * time.Minute)
			r := evidence.Record{Kind: "consent.given", Ref: fmt.Sprintf("c-%d", i%3), Payload: []byte("person")}
			switch {
			case i%3 == 2:
				r = evidence.Record{Kind: "notify.delivered", Payload: []byte("person")}
			case i >= 6:
				r.Kind = "consent.withdrawn"
			}
			_, err := l.Append(ctx, r)
			require.NoError(t, err)
		}
		cases := []struct {
			name string
			f    evidence.Filter
			want []uint64
		}{
			{"everything", evidence.Filter{}, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
			{"one record's history", evidence.Filter{Ref: "c-1"}, []uint64{1, 4, 7, 10}},
			{"a kind", evidence.Filter{Kind: "notify.delivered"}, []uint64{2, 5, 8, 11}},
			{"kind and reference", evidence.Filter{Kind: "consent.withdrawn", Ref: "c-0"}, []uint64{6, 9}},
			{"since, inclusive", evidence.Filter{Since: start.Add(9 * time.Minute)}, []uint64{9, 10, 11}},
			{"until, exclusive", evidence.Filter{Until: start.Add(2 * time.Minute)}, []uint64{0, 1}},
			{"a window and a kind", evidence.Filter{Kind: "consent.given", Since: start.Add(time.Minute), Until: start.Add(5 * time.Minute)}, []uint64{1, 3, 4}},
			{"resume after the entry seen last", evidence.Filter{Ref: "c-1", From: 5}, []uint64{7, 10}},
			{"a reference nobody used", evidence.Filter{Ref: "c-9"}, []uint64{}},
			{"far bounds", evidence.Filter{Since: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Ref: "c-2"}, []uint64{}},
			{"from beyond the end", evidence.Filter{From: 1 << 63}, []uint64{}},
		}
		for _, c := range cases {
			assert.Equal(t, c.want, seqs(t, l, c.f), c.name)
		}

		// The entries carry what was appended.
		for e, err := range l.Scan(ctx, evidence.Filter{Ref: "c-2", Kind: "consent.given"}) {
			require.NoError(t, err)
			assert.Equal(t, "c-2", e.Ref)
			assert.Equal(t, []byte("person"), e.Payload)
			assert.True(t, e.CheckPayload(e.Salt, e.Payload))
		}
	})
}

// A scan longer than a page reads page after page, holds no rows open between pages (so
// the caller may append while it scans, even on an in-memory database's only connection),
// and stops when the caller stops.
func TestScanPagesAndStops(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, memoryDB(t), newKey(t))
	const n = 600
	recs := make([]evidence.Record, n)
	for i := range recs {
		recs[i] = evidence.Record{Kind: "k", Ref: "same"}
	}
	_, err := l.AppendBatch(ctx, recs)
	require.NoError(t, err)

	var got uint64
	for e, err := range l.Scan(ctx, evidence.Filter{Ref: "same"}) {
		require.NoError(t, err)
		require.Equal(t, got, e.Seq)
		got++
		if e.Seq == 300 {
			_, err := l.Append(ctx, evidence.Record{Kind: "k", Ref: "other"})
			require.NoError(t, err)
		}
	}
	assert.Equal(t, uint64(n), got)

	stopped := 0
	for range l.Scan(ctx, evidence.Filter{}) {
		stopped++
		if stopped == 10 {
			break
		}
	}
	assert.Equal(t, 10, stopped)
}

func TestScanRefusesFiltersNoEntryMatches(t *testing.T) {
	l := openLog(t, memoryDB(t), newKey(t))
	for _, f := range []evidence.Filter{{Kind: "a\x00b"}, {Ref: "\xff"}, {Ref: string(make([]byte, 300))}} {
		for e, err := range l.Scan(context.Background(), f) {
			assert.Nil(t, e)
			assert.ErrorIs(t, err, evidence.ErrInput)
		}
	}
}
