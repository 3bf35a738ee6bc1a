package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJourneyRuns(t *testing.T) {
	var out bytes.Buffer
	code := runJourney(context.Background(), &out)
	assert.Equal(t, 0, code, out.String())
	assert.NotContains(t, out.String(), "FAILED")
	assert.NotContains(t, out.String(), "(consent)", "the consent step is built")
	assert.Contains(t, out.String(), "4 steps done, 2 not built yet, 0 failed")
}

// TestJourneyConsent: the person consents, agency A's request is allowed and its use shown
// in the person's history, and after the withdrawal the next request is denied.
func TestJourneyConsent(t *testing.T) {
	var out bytes.Buffer
	j := &journey{ctx: context.Background(), out: &out}
	defer func() {
		for i := len(j.cleanup) - 1; i >= 0; i-- {
			j.cleanup[i]()
		}
	}()
	assert.Error(t, giveConsent(j), "no one signed in")
	if err := signIn(j); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := giveConsent(j); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"ConsentGiven",
		"agency A asks agency B for the income: allowed",
		"a request for another purpose is denied: purpose-not-covered",
		"the person's history: agency-a.example received their income for housing-benefit",
		"the person withdraws, in one call: ConsentWithdrawn",
		"agency A asks again: denied (withdrawn)",
		"1 record, 2 events and 1 use",
	} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), j.person.NationalID.Value, "the consent step never prints the national number")
	assert.NotContains(t, out.String(), j.person.NationalID.Formatted())
}
