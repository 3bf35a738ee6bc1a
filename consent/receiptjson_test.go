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
