package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dpiRun runs the command in-process and returns its exit code, stdout and stderr.
func dpiRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"no command is a usage error", nil, exitUsage, "", "usage: dpi"},
		{"help is not an error", []string{"help"}, exitOK, "usage: dpi", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, exitOK, "dpi ", ""},
		{"version takes no arguments", []string{"version", "x"}, exitUsage, "", "takes no arguments"},
		{"bad flag", []string{"version", "--nope"}, exitUsage, "", "flag provided but not defined"},
		{"flag help", []string{"version", "--help"}, exitOK, "", "usage: dpi version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := dpiRun(t, "", tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, out, tc.out)
			assert.Contains(t, errOut, tc.err)
		})
	}
}

func TestJSONFlagBeforeOrAfter(t *testing.T) {
	for _, args := range [][]string{{"--json", "version"}, {"version", "--json"}} {
		code, out, _ := dpiRun(t, "", args...)
		require.Equal(t, exitOK, code)
		var v versionInfo
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		assert.Equal(t, "github.com/dpiblocks/dpi", v.Module)
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		x    string
	}{
		{[]string{"a", "--x", "1", "b"}, []string{"a", "b"}, "1"},
		{[]string{"--x", "1", "a"}, []string{"a"}, "1"},
		{[]string{"a", "--", "--x", "b"}, []string{"a", "--x", "b"}, ""},
		{nil, nil, ""},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		x := fs.String("x", "", "")
		pos, err := parseFlags(fs, tc.args)
		require.NoError(t, err)
		assert.Equal(t, tc.pos, pos, tc.args)
		assert.Equal(t, tc.x, *x)
	}
}
