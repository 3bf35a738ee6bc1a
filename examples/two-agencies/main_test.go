package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary be agency B too: run starts os.Executable() with "serve".
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "serve" {
		if err := serve(os.Args[2], os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTwoAgencies: agency B runs in another process, and agency A gets its answer, verified.
func TestTwoAgencies(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out), out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3, out.String())
	_, pid, ok := strings.Cut(lines[0], "runs in process ")
	require.True(t, ok, lines[0])
	pid, _, _ = strings.Cut(pid, " ")
	n, err := strconv.Atoi(pid)
	require.NoError(t, err)
	assert.NotEqual(t, os.Getpid(), n, "agency B runs in another process")
	assert.Contains(t, lines[0], "at http://127.0.0.1:")
	assert.Contains(t, lines[1], "agency A (EE/GOV/70000001/benefits) asked for person 38001085718, message ")
	assert.Contains(t, lines[2], `verified answer, 200 from EE/GOV/70000002/registry/person`)
	assert.Contains(t, lines[2], `"askedBy":"EE/GOV/70000001/benefits"`)
}
