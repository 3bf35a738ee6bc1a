package identity

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkStatusCheckCached is the cost a status list check adds to a credential when
// the list is cached (issue 17 asks for under 5 µs).
func BenchmarkStatusCheckCached(b *testing.B) {
	cv, err := NewCredentialVerifier(CredentialConfig{Issuers: []CredentialIssuer{{URL: "https://issuer.example", Types: []string{"t"}}}})
	if err != nil {
		b.Fatal(err)
	}
	defer cv.Close()
	uri := "https://issuer.example/statuslists/1"
	cv.statuses.lists[uri] = &statusList{bits: 2, lst: make([]byte, 1<<16), expires: time.Now().Add(time.Hour)}
	st := cv.v.issuers["https://issuer.example"]
	raw := json.RawMessage(`{"status_list":{"idx":12345,"uri":"` + uri + `"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := cv.checkStatus(b.Context(), st, "https://issuer.example", raw); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStatusListBitOrder(t *testing.T) {
	// One-bit list 0b10110010: index 0 is the least significant bit.
	l := &statusList{bits: 1, lst: []byte{0xb2}}
	for idx, want := range []byte{0, 1, 0, 0, 1, 1, 0, 1} {
		got, ok := l.status(int64(idx))
		if !ok || got != want {
			t.Errorf("index %d: got %d, want %d", idx, got, want)
		}
	}
	if _, ok := l.status(8); ok {
		t.Error("index 8 is beyond a one-byte list")
	}
	// Two-bit list 0xc9 = 11 00 10 01: statuses 1, 2, 0, 3.
	l = &statusList{bits: 2, lst: []byte{0xc9}}
	for idx, want := range []byte{1, 2, 0, 3} {
		if got, _ := l.status(int64(idx)); got != want {
			t.Errorf("2-bit index %d: got %d, want %d", idx, got, want)
		}
	}
}
