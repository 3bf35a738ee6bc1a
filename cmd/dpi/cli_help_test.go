package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHelpCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "sign"}, "usage: dpi sign --key KEY --cert CERT"},
		{[]string{"help", "id", "validate"}, "usage: dpi id validate --country CC"},
		{[]string{"help", "id"}, "usage: dpi id <command>"},
		{[]string{"help", "testbed"}, "usage: dpi testbed --dir DIR"},
	} {
		code, stdout, stderr := contractRun(t, "", tc.args...)
		assert.Equal(t, exitOK, code, tc.args)
		assert.True(t, strings.HasPrefix(stdout, tc.want), "%v: %q", tc.args, stdout)
		assert.Empty(t, stderr, "help goes to standard output")
	}
	code, _, stderr := contractRun(t, "", "help", "nope")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `no command "nope" to help with`)
	code, _, _ = contractRun(t, "", "help", "sign", "extra")
	assert.Equal(t, exitUsage, code)
}

func TestVersionFlag(t *testing.T) {
	_, want, _ := contractRun(t, "", "version")
	for _, flag := range []string{"--version", "-version"} {
		code, stdout, _ := contractRun(t, "", flag)
		assert.Equal(t, exitOK, code)
		assert.Equal(t, want, stdout)
	}
	code, stdout, _ := contractRun(t, "", "--version", "--json")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, `"goVersion"`)
}

// TestIDValidateEcho: a long input is not printed back whole, and an empty one is "empty".
func TestIDValidateEcho(t *testing.T) {
	long := strings.Repeat("1", 100_000)
	code, stdout, _ := contractRun(t, "", "id", "validate", "--country", "BR", "--scheme", "cpf", long)
	assert.Equal(t, exitRejected, code)
	assert.Less(t, len(stdout), 200, "the 100 KB input is not echoed")
	assert.Contains(t, stdout, "... (100000 bytes)")
	code, stdout, _ = contractRun(t, "", "id", "validate", "--country", "BR", "--scheme", "cpf", long, "--json")
	assert.Equal(t, exitRejected, code)
	assert.Less(t, len(stdout), 600)

	code, stdout, _ = contractRun(t, "", "id", "validate", "--country", "BR", "--scheme", "cpf", "")
	assert.Equal(t, exitRejected, code)
	assert.Equal(t, "invalid  BR cpf \"\": empty\n", stdout)
}

// TestPlurals: one of a thing is not "things".
func TestPlurals(t *testing.T) {
	assert.Equal(t, "1 signed checkpoint", plural(1, "signed checkpoint", "signed checkpoints"))
	assert.Equal(t, "0 entries", plural(0, "entry", "entries"))
}
