package consent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/jws"
)

var updateReceiptPins = flag.Bool("update-receipt-pins", false, "rewrite testdata/receipt-pins.txt")

// randomReceipt returns a receipt with random fields: a random record, and an event with a
// random log receipt (sequence numbers past 2^53 included, which RFC 8785 writes as
// doubles).
func randomReceipt(r *rand.Rand) *Receipt {
	rec := randomRecord(r)
	ev := Event{RecordID: rec.ID, Status: rec.Status, At: randomTime(r), By: randomText(r)}
	if r.IntN(2) == 0 {
		ev.Reason = randomText(r)
	}
	ev.Log = evidence.Receipt{Origin: randomText(r), Time: randomTime(r)}
	switch r.IntN(4) {
	case 0:
		ev.Log.Seq = r.Uint64()
	case 1:
		ev.Log.Seq = 1<<53 + r.Uint64N(1000) - 500
	default:
		ev.Log.Seq = r.Uint64N(1 << 20)
	}
	for i := range ev.Log.LeafHash {
		ev.Log.LeafHash[i] = byte(r.Uint32())
	}
	switch r.IntN(5) {
	case 0:
	case 1:
		ev.Log.Salt = []byte{}
	default:
		ev.Log.Salt = make([]byte, evidence.SaltSize)
		for i := range ev.Log.Salt {
			ev.Log.Salt[i] = byte(r.Uint32())
		}
	}
	switch r.IntN(20) {
	case 0:
		rec.Uses = r.IntN(1<<62) - 1<<61
	case 1:
		rec.Validity.MaxUses = 1<<53 + r.IntN(5) - 2
	case 2:
		rec.Created = time.Date(10000+r.IntN(5), 1, 1, 0, 0, 0, 0, time.UTC) // MarshalJSON refuses
	}
	return &Receipt{Record: rec, Event: ev}
}

// pinKey signs the pinned receipts: Ed25519 signs deterministically, so a receipt's
// compact form depends only on its payload.
var pinKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

// TestReceiptPins pins the bytes SignReceipt signs: receipts are signed, so a receipt's
// canonical JSON must never change, whatever writes it. testdata/receipt-pins.txt holds,
// for 500 random receipts from a fixed seed, the SHA-256 of the compact JWS SignReceipt
// gave when the file was written (through encoding/json and gowebpki/jcs), or the error.
func TestReceiptPins(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 27))
	var b strings.Builder
	for i := range 500 {
		compact, err := SignReceipt(pinKey, randomReceipt(r))
		if err != nil {
			fmt.Fprintf(&b, "%d error %v\n", i, err)
			continue
		}
		sum := sha256.Sum256([]byte(compact))
		fmt.Fprintf(&b, "%d %s\n", i, hex.EncodeToString(sum[:]))
	}
	if *updateReceiptPins {
		require.NoError(t, os.WriteFile("testdata/receipt-pins.txt", []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile("testdata/receipt-pins.txt")
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String(), "a receipt's signed bytes changed")
}

// jcsReceipt is the reference: the canonical JSON jws.Canonical writes (json.Marshal, then
// gowebpki/jcs).
func jcsReceipt(r *Receipt) ([]byte, error) {
	r.Version = ReceiptVersion
	return jws.Canonical(r)
}

// compareCanonical fails unless canonicalReceipt writes what jcs writes for r, or declines
// it. It reports whether canonicalReceipt wrote it.
func compareCanonical(t testing.TB, r *Receipt) bool {
	want, wantErr := jcsReceipt(r)
	got, ok := canonicalReceipt(r)
	if !ok {
		return false
	}
	if wantErr != nil {
		t.Fatalf("canonicalReceipt wrote what jcs refuses (%v): %s", wantErr, got)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("canonicalReceipt differs from jcs:\n%s\n%s", got, want)
	}
	return true
}

func TestCanonicalReceiptAsJCS(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	written := 0
	const n = 3000
	for range n {
		if compareCanonical(t, randomReceipt(r)) {
			written++
		}
	}
	// Only the receipts with an integer past 2^53 (about 4 in 10 of these) or a time
	// MarshalJSON refuses are declined.
	assert.Greater(t, written, n/2)
	// The common case: written directly.
	assert.True(t, compareCanonical(t, &Receipt{Record: Record{ID: "cr_x", Purposes: []Purpose{}, Recipients: []string{}}}))
}

// FuzzCanonicalReceipt writes receipts made of the fuzzer's strings and numbers both ways.
func FuzzCanonicalReceipt(f *testing.F) {
	f.Add("agency-b.example", "Decidir sua solicitação", "pr1:x", "<&>\u2028\x7f", int64(3), uint64(7), int64(0))
	f.Add("\"\\\b\f\n\r\t\x01\x1f", "\xff\xed\xa0\x80", "", "", int64(-1), uint64(1)<<53+1, int64(1)<<53)
	f.Fuzz(func(t *testing.T, a, b, c, d string, uses int64, seq uint64, unix int64) {
		at := time.Unix(unix%(1<<36), unix%1e9).UTC()
		rc := &Receipt{
			Record: Record{
				ID: a, Person: PersonRef(b), Controller: c, Recipients: []string{a, d}, Purposes: []Purpose{{Code: c, Text: d}},
				DataCategories: []string{b}, LegalBasis: d, Jurisdiction: a, Notice: Notice{URL: b, Version: c, SHA256: d},
				Language: a, Method: b, Withdrawal: c, Status: Status(d), Uses: int(uses), Created: at, Updated: at,
				Validity: Validity{Until: at, MaxUses: int(uses)},
			},
			Event: Event{RecordID: a, Status: Status(b), At: at, By: c, Reason: d, Log: evidence.Receipt{Origin: a, Seq: seq, Time: at, Salt: []byte(b)}},
		}
		compareCanonical(t, rc)
	})
}

// BenchmarkCanonicalReceipt compares the two ways of writing a realistic receipt's
// canonical JSON: directly, and through encoding/json and jcs.
func BenchmarkCanonicalReceipt(b *testing.B) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	rc := &Receipt{
		Version: ReceiptVersion,
		Record: Record{
			ID: "cr_aaaaaaaaaaaaaaaaaaaaaaaaaa", Person: "pr1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Controller: "agency-b.example",
			Recipients: []string{"agency-a.example"}, Purposes: []Purpose{{Code: "benefits", Text: "Decidir sua solicitação de auxílio-moradia"}},
			DataCategories: []string{"income", "address"}, LegalBasis: "BR-LGPD-7-I", Jurisdiction: "BR",
			Notice:   Notice{URL: "https://agency-b.example/notice", Version: "3", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
			Language: "pt-BR", Method: "web-form", Withdrawal: "https://agency-b.example/my-data", Status: Given,
			Created: at, Updated: at, Validity: Validity{Until: at.Add(time.Hour)},
		},
		Event: Event{RecordID: "cr_aaaaaaaaaaaaaaaaaaaaaaaaaa", Status: Given, At: at, By: "person",
			Log: evidence.Receipt{Origin: "agency-b.example/consent", Seq: 123456, Time: at, Salt: make([]byte, evidence.SaltSize)}},
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := canonicalReceipt(rc); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("jcs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jws.Canonical(rc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SignReceipt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SignReceipt(pinKey, rc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
