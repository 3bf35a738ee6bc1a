package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJourneyInterop: agency A asks agency B for the person's income over signed envelopes;
// B shares it under the person's consent and refuses another purpose, and both agencies'
// evidence logs hold both exchanges.
func TestJourneyInterop(t *testing.T) {
	var out bytes.Buffer
	j := &journey{ctx: context.Background(), out: &out}
	defer func() {
		for i := len(j.cleanup) - 1; i >= 0; i-- {
			j.cleanup[i]()
		}
	}()
	assert.Error(t, exchangeData(j), "no one signed in")
	require.NoError(t, signIn(j))
	assert.Error(t, exchangeData(j), "no consent store")
	require.NoError(t, giveConsent(j))
	out.Reset()
	if err := exchangeData(j); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"the person consents again on agency B's portal (ConsentGiven)",
		"agency A asks for the income to decide housing benefit: 200, R$ 4200 a month in 2025",
		`agency A asks for another purpose: 403, {"denied":"purpose-not-covered"}`,
		"agency A's log: interop.request.sent, interop.response.received for message",
		"agency B's log: interop.request.received, interop.response.sent for message",
		"the person's history shows 2 uses of their income by agency-a.example",
	} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), j.person.NationalID.Value, "the interop step never prints the national number")
}
