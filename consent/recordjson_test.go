package consent

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomText returns a short string drawn from pieces that exercise encoding/json's
// escaping: plain ASCII, accented letters, HTML characters, quotes, backslashes, control
// characters, U+2028 and invalid UTF-8.
//
// TestReceiptPins draws its receipts from randomText, randomRecord and randomTime: a change
// to them changes the receipts it pins, so testdata/receipt-pins.txt must then be written
// again by the code of before the change (git stash, -update-receipt-pins, unstash).
func randomText(r *rand.Rand) string {
	pieces := []string{"a", "agency-b.example", "ção", "ñ", "Ελ", "日本", " ", "/", "0", "<", ">", "&", `"`, `\`, "\n", "\x01", "\u2028", "\xff", "\xed\xa0\x80"}
	const plain = 9 // the pieces json.Marshal writes as they are
	var b strings.Builder
	for range r.IntN(6) {
		if r.IntN(40) == 0 {
			b.WriteString(pieces[r.IntN(len(pieces))])
		} else {
			b.WriteString(pieces[r.IntN(plain)])
		}
	}
	return b.String()
}

func randomTexts(r *rand.Rand) []string {
	out := make([]string, r.IntN(4))
	for i := range out {
		out[i] = randomText(r)
	}
	return out
}

func randomTime(r *rand.Rand) time.Time {
	if r.IntN(5) == 0 {
		return time.Time{}
	}
	t := time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).UTC()
	if r.IntN(4) == 0 {
		t = t.In(time.FixedZone("", (r.IntN(48)-24)*1800))
	}
	return t
}

// randomRecord returns a record with random fields, plain (as the store writes them, most
// of the time) or not.
func randomRecord(r *rand.Rand) Record {
	rec := Record{
		ID: randomText(r), Person: PersonRef(randomText(r)), Controller: randomText(r),
		Recipients: randomTexts(r), DataCategories: randomTexts(r),
		LegalBasis: randomText(r), Jurisdiction: randomText(r),
		Notice:   Notice{URL: randomText(r), Version: randomText(r), SHA256: randomText(r)},
		Language: randomText(r), Method: randomText(r), Withdrawal: randomText(r),
		Status: Status(randomText(r)), Uses: r.IntN(1000) - 10,
		Created: randomTime(r), Updated: randomTime(r),
		Validity: Validity{Until: randomTime(r), MaxUses: r.IntN(3) * r.IntN(1<<40)},
	}
	for range r.IntN(3) {
		rec.Purposes = append(rec.Purposes, Purpose{Code: randomText(r), Text: randomText(r)})
	}
	if r.IntN(10) == 0 {
		rec.Recipients = nil
	}
	return rec
}

// decodeBoth decodes doc with encoding/json and with decodeRecord, and fails unless they
// give the same record or both an error. It reports whether the fast path took it.
func decodeBoth(t testing.TB, doc []byte) bool {
	var want Record
	wantErr := json.Unmarshal(doc, &want)
	var got Record
	err := decodeRecord(string(doc), &got)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decodeRecord error %v, encoding/json %v, on %q", err, wantErr, doc)
	}
	var fast Record
	took := fastRecord(string(doc), &fast)
	if took && wantErr != nil {
		t.Fatalf("fastRecord accepted what encoding/json refuses (%v): %q", wantErr, doc)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeRecord differs from encoding/json on %q:\n%#v\n%#v", doc, got, want)
	}
	if took && !reflect.DeepEqual(fast, want) {
		t.Fatalf("fastRecord differs from encoding/json on %q:\n%#v\n%#v", doc, fast, want)
	}
	return took
}

func TestDecodeRecordAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	const n = 5000
	for range n {
		rec := randomRecord(r)
		doc, err := json.Marshal(&rec)
		require.NoError(t, err)
		if decodeBoth(t, doc) {
			fast++
		}
	}
	// Most random records hold a character that json.Marshal escapes, and take the slow
	// path; enough take the fast one for the comparison to mean something.
	assert.Greater(t, fast, n/50)
}

func TestDecodeRecordStoredForm(t *testing.T) {
	now := time.Date(2026, 12, 1, 5, 30, 0, 123456789, time.UTC)
	rec := Record{
		ID: "cr_abcdefghijklmnopqrstuvwxyz", Person: "pr1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Controller: "agency-b.example",
		Recipients: []string{"agency-a.example"}, Purposes: []Purpose{{Code: "benefits", Text: "Decidir sua solicitação"}},
		DataCategories: []string{"income", "address"}, LegalBasis: "BR-LGPD-7-I", Jurisdiction: "BR",
		Notice:   Notice{URL: "https://agency-b.example/notice", Version: "3", SHA256: strings.Repeat("ab", 32)},
		Language: "pt-BR", Method: "web-form", Withdrawal: "https://agency-b.example/my-data",
		Status: Given, Uses: 3, Created: now, Updated: now.Add(time.Hour),
		Validity: Validity{Until: now.Add(24 * time.Hour), MaxUses: 10},
	}
	doc, err := json.Marshal(&rec)
	require.NoError(t, err)
	require.True(t, decodeBoth(t, doc), "the form the store writes takes the fast path")
	var got Record
	require.NoError(t, decodeRecord(string(doc), &got))
	assert.Equal(t, rec, got)

	for name, doc := range map[string]string{
		"spaces":          `{ "id":"x"}`,
		"repeated key":    `{"id":"x","id":"y"}`,
		"repeated object": `{"notice":{"url":"a"},"notice":{"version":"b"}}`,
		"other case":      `{"ID":"x"}`,
		"unknown key":     `{"idx":"x"}`,
		"null":            `{"recipients":null}`,
		"float":           `{"uses":1.0}`,
		"exponent":        `{"uses":1e2}`,
		"leading zero":    `{"uses":01}`,
		"minus zero":      `{"uses":-0}`,
		"huge":            `{"uses":99999999999999999999}`,
		"trailing":        `{"id":"x"} `,
		"bad time":        `{"created":"2026-13-01T00:00:00Z"}`,
		"escape":          `{"id":"\u0041"}`,
		"empty arrays":    `{"recipients":[],"purposes":[]}`,
		"bad utf-8":       "{\"id\":\"\xff\"}",
		"truncated":       `{"id":"x"`,
		"empty":           ``,
	} {
		t.Run(name, func(t *testing.T) { decodeBoth(t, []byte(doc)) })
	}
}

// FuzzDecodeRecord checks decodeRecord against encoding/json: whatever the fast path
// accepts, encoding/json must decode to the same Record, and decodeRecord must fail exactly
// when encoding/json does.
func FuzzDecodeRecord(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		rec := randomRecord(r)
		doc, _ := json.Marshal(&rec)
		f.Add(doc)
	}
	f.Add([]byte(`{"id":"x","validity":{"until":"2026-01-01T00:00:00Z","maxUses":3},"purposes":[{"code":"a","text":"b"}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) { decodeBoth(t, doc) })
}
