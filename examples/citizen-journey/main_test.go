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
}
