package consent_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/dpiblocks/dpi/consent"
)

// fuzzKey is a fixed controller key, so that the seeds stay valid receipts across runs.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// FuzzVerifyReceipt feeds VerifyReceipt compact strings, and payloads it signs with the
// right key so that the fuzzer gets past the signature to the payload checks. It must never
// panic, refuse only with an *Error wrapping ErrReceipt, and whatever it accepts must verify
// again to the same receipt, be the canonical form of that receipt, and sign again into a
// receipt that verifies to it.
func FuzzVerifyReceipt(f *testing.F) {
	rc := kantaraReceipt()
	good, err := consent.SignReceipt(fuzzKey, rc)
	if err != nil {
		f.Fatal(err)
	}
	gh, gp, _ := parts(good)
	f.Add(good, gp)
	f.Add(good[:len(good)-3], bytes.Replace(gp, []byte(`Z"`), []byte(`+00:00"`), 1))
	f.Add(strings.Replace(good, ".", "\n.", 1), bytes.Replace(gp, []byte(`"status":"ConsentGiven"`), []byte(`"status":"ConsentWithdrawn"`), 1))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpi-consent-receipt+jws"}`))+"."+base64.RawURLEncoding.EncodeToString(gp)+".", []byte(`{"version":"dpi-consent-receipt/v1"}`))
	f.Add(base64.RawURLEncoding.EncodeToString(gh)+"..", []byte(`{"version":"dpi-consent-receipt/v1","record":{},"event":{}}`))
	f.Add(`{"protected":"","payload":"","signature":""}`, bytes.Replace(gp, []byte(`"seq":7`), []byte(`"seq":7.0`), 1))
	f.Add("", []byte(nil))

	pub := fuzzKey.Public()
	check := func(t *testing.T, compact string) {
		r, err := consent.VerifyReceipt(compact, pub)
		if err != nil {
			var ce *consent.Error
			if !errors.Is(err, consent.ErrReceipt) || !errors.As(err, &ce) || ce.Check == "" {
				t.Fatalf("refused without a named check: %v", err)
			}
			return
		}
		again, err := consent.VerifyReceipt(compact, pub)
		if err != nil {
			t.Fatalf("accepted once, refused again: %v", err)
		}
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("verified to two receipts:\n%s\n%s", a, b)
		}
		canon, err := jcs.Transform(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, payload, _ := parts(compact); !bytes.Equal(canon, payload) {
			t.Fatalf("accepted a payload that is not the receipt's canonical form:\n%s\n%s", payload, canon)
		}
		resigned, err := consent.SignReceipt(fuzzKey, r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := consent.VerifyReceipt(resigned, pub)
		if err != nil {
			t.Fatalf("a receipt signed again does not verify: %v", err)
		}
		if c, _ := json.Marshal(r2); !bytes.Equal(a, c) {
			t.Fatalf("signed again to another receipt:\n%s\n%s", a, c)
		}
	}
	f.Fuzz(func(t *testing.T, compact string, payload []byte) {
		check(t, compact)
		check(t, signRaw(t, fuzzKey, gh, payload))
	})
}

// requestOut encodes a Request with the names DecodeRequest reads.
type requestOut struct {
	Person         consent.PersonRef `json:"person"`
	Controller     string            `json:"controller"`
	Recipient      string            `json:"recipient"`
	Purpose        string            `json:"purpose"`
	DataCategories []string          `json:"dataCategories"`
	At             any               `json:"at,omitempty"`
}

// FuzzRequestJSON feeds DecodeRequest what a command line or an HTTP caller could send. It
// must never panic, refuse only with an *Error wrapping ErrInput, and a request it accepts
// must encode and decode again to the same request.
func FuzzRequestJSON(f *testing.F) {
	f.Add([]byte(`{"person":"` + testPerson + `","controller":"agency-b.example","recipient":"agency-a.example","purpose":"benefits","dataCategories":["income"],"at":"2026-12-01T10:00:00Z"}`))
	f.Add([]byte(`{"person":"` + testPerson + `","controller":"c","recipient":"r","purpose":"p"}`))
	f.Add([]byte(`{"person":"` + testPerson + `","controller":"c","recipient":"r","purpose":"p","purpose":"q"}`))
	f.Add([]byte(`{"Person":"` + testPerson + `","controller":"c","recipient":"r","purpose":"p"}`))
	f.Add([]byte(`{"person":"` + testPerson + `","controller":"c\u00e9","recipient":"r","purpose":"p","at":"2026-12-01T12:00:00.5+02:00","dataCategories":null}`))
	f.Add([]byte(`{"person":"` + testPerson + `","controller":"c","recipient":"r","purpose":"p"} {}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"at":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := consent.DecodeRequest(b)
		if err != nil {
			var ce *consent.Error
			if !errors.Is(err, consent.ErrInput) || !errors.As(err, &ce) || ce.Check == "" {
				t.Fatalf("refused without a named check: %v", err)
			}
			return
		}
		out := requestOut{Person: req.Person, Controller: req.Controller, Recipient: req.Recipient, Purpose: req.Purpose, DataCategories: req.DataCategories}
		if !req.At.IsZero() {
			out.At = req.At
		}
		enc, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		again, err := consent.DecodeRequest(enc)
		if err != nil {
			t.Fatalf("an accepted request, encoded again, is refused: %v\n%s", err, enc)
		}
		x, _ := json.Marshal(req)
		y, _ := json.Marshal(again)
		if !bytes.Equal(x, y) || !req.At.Equal(again.At) {
			t.Fatalf("decoded again to another request:\n%s\n%s", x, y)
		}
	})
}
