package consent_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/limits"
)

const testPerson = "pr1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func TestDecodeRequest(t *testing.T) {
	req, err := consent.DecodeRequest([]byte(`{"person":"` + testPerson + `","controller":"agency-b.example",
		"recipient":"agency-a.example","purpose":"benefits","dataCategories":["income","address"],
		"at":"2026-12-01T12:00:00+02:00"}`))
	require.NoError(t, err)
	assert.Equal(t, consent.Request{
		Person: testPerson, Controller: "agency-b.example", Recipient: "agency-a.example", Purpose: "benefits",
		DataCategories: []string{"income", "address"}, At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
	}, *req)

	req, err = consent.DecodeRequest([]byte(` {"purpose":"p","recipient":"r","controller":"c","person":"` + testPerson + `"}` + "\n"))
	require.NoError(t, err)
	assert.True(t, req.At.IsZero(), "no time means now")
	assert.Empty(t, req.DataCategories)
}

func TestDecodeRequestRefuses(t *testing.T) {
	good := `"person":"` + testPerson + `","controller":"c","recipient":"r","purpose":"p"`
	for _, c := range []struct{ name, json, check string }{
		{"empty", ``, "json"},
		{"null", `null`, "json"},
		{"array", `[{` + good + `}]`, "json"},
		{"string", `"` + testPerson + `"`, "json"},
		{"unknown name", `{` + good + `,"role":"admin"}`, "json"},
		{"name in other case", `{"Person":"` + testPerson + `","controller":"c","recipient":"r","purpose":"p"}`, "json"},
		{"name given twice", `{` + good + `,"recipient":"other"}`, "json"},
		{"data after", `{` + good + `}{}`, "json"},
		{"garbage after", `{` + good + `} x`, "json"},
		{"unterminated", `{` + good, "json"},
		{"wrong type", `{` + good + `,"dataCategories":"income"}`, "json"},
		{"number for a name", `{"person":"` + testPerson + `","controller":1,"recipient":"r","purpose":"p"}`, "json"},
		{"bad time", `{` + good + `,"at":"yesterday"}`, "json"},
		{"not UTF-8", "{" + good + `,"purpose":"\xff"}`, "json"},
		{"no person", `{"controller":"c","recipient":"r","purpose":"p"}`, "person"},
		{"a national number", `{"person":"39053344705","controller":"c","recipient":"r","purpose":"p"}`, "person"},
		{"no purpose", `{"person":"` + testPerson + `","controller":"c","recipient":"r"}`, "request"},
		{"control character", `{"person":"` + testPerson + `","controller":"c\u0007","recipient":"r","purpose":"p"}`, "request"},
		{"too many categories", `{` + good + `,"dataCategories":["` + strings.Repeat(`x","`, 64) + `x"]}`, "dataCategories"},
		{"oversize", `{` + good + `,"dataCategories":["` + strings.Repeat("x", limits.MaxConsentRequest) + `"]}`, "json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := consent.DecodeRequest([]byte(c.json))
			require.ErrorIs(t, err, consent.ErrInput)
			var ce *consent.Error
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, c.check, ce.Check)
			assert.NotContains(t, err.Error(), testPerson, "the message holds no person")
		})
	}
}
