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
	assert.NotContains(t, out.String(), "(notify)", "the notify step is built")
	assert.Contains(t, out.String(), " not built yet, 0 failed")
}

// TestJourneyNotify: agency A's decision and its notification commit together or not at all;
// the dispatcher delivers it once to the citizen app, which verifies its signature, and the
// outbox's evidence log holds its statuses.
func TestJourneyNotify(t *testing.T) {
	var out bytes.Buffer
	j := &journey{ctx: context.Background(), out: &out}
	defer func() {
		for i := len(j.cleanup) - 1; i >= 0; i-- {
			j.cleanup[i]()
		}
	}()
	assert.Error(t, notifyPerson(j), "no one signed in")
	if err := signIn(j); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := notifyPerson(j); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"a transaction that fails after enqueuing leaves neither the decision nor the notification",
		"agency A decides application HB-2026-0042 (approved) and enqueues the notification in the same transaction: ntf_",
		"which verifies its Standard Webhooks signature",
		"Dear " + j.person.Name + ", your application HB-2026-0042 for housing benefit was approved. You may appeal within 30 days",
		"the same notification, nothing new delivered",
		"status delivered after 1 attempt; the evidence log holds created → sending → delivered",
	} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), j.person.NationalID.Value, "the notify step never prints the national number")
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
