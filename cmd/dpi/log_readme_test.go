package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLogReadmeExample runs the dpi log lines of the README's "Tamper-evident logs" section,
// in order, in an empty directory, as a reader of a fresh clone would: every line must
// succeed. The key comes from dpi log keygen, and from the openssl command the README offers
// instead when openssl is installed.
func TestLogReadmeExample(t *testing.T) {
	lines := readmeLogLines(t)
	require.GreaterOrEqual(t, len(lines), 8, "the README shows the whole sequence")
	require.True(t, strings.HasPrefix(lines[0], "dpi log keygen "), "the sequence starts by making a key: %s", lines[0])
	_, alternative, ok := strings.Cut(lines[0], "# or: ")
	require.True(t, ok, "the keygen line names the openssl alternative: %s", lines[0])

	t.Run("dpi log keygen", func(t *testing.T) {
		t.Chdir(t.TempDir())
		for _, line := range lines {
			runReadmeLine(t, line)
		}
	})
	t.Run("openssl", func(t *testing.T) {
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("openssl is not installed")
		}
		t.Chdir(t.TempDir())
		args := strings.Fields(alternative)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, line := range lines[1:] {
			runReadmeLine(t, line)
		}
	})
}

// readmeLogLines returns the command lines of the README section's sh block.
func readmeLogLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n## Tamper-evident logs\n")
	require.True(t, ok, "the README has a Tamper-evident logs section")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```sh\n")
	require.True(t, ok, "the section has an sh block")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	return strings.Split(strings.TrimSpace(block), "\n")
}

// runReadmeLine runs one line of the README in-process: "[echo 'TEXT' |] dpi ARGS [> FILE]
// [# comment]", with single-quoted words, and checks that it succeeds.
func runReadmeLine(t *testing.T, line string) {
	t.Helper()
	words := shellWords(t, line)
	var stdin, outFile string
	if len(words) > 2 && words[0] == "echo" && words[2] == "|" {
		stdin, words = words[1]+"\n", words[3:]
	}
	if n := len(words); n > 2 && words[n-2] == ">" {
		outFile, words = words[n-1], words[:n-2]
	}
	require.True(t, len(words) > 2 && words[0] == "dpi", "a dpi command: %s", line)
	var out, errOut bytes.Buffer
	code := run(context.Background(), words[1:], strings.NewReader(stdin), &out, &errOut)
	require.Equal(t, exitOK, code, "%s\n%s%s", line, out.String(), errOut.String())
	if outFile != "" {
		require.NoError(t, os.WriteFile(outFile, out.Bytes(), 0o600))
	}
	switch words[2] {
	case "verify":
		assert.Contains(t, out.String(), "INTACT", line)
	case "check-proof":
		assert.Contains(t, out.String(), "VALID: entry 0", line)
	case "append":
		assert.Contains(t, out.String(), "appended entry 0", line)
	}
}

// shellWords splits a line as sh would for the README's lines: words separated by spaces,
// single quotes kept literally, and a comment from an unquoted " #" on.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			w.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			i = len(line)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	require.False(t, quoted, "unterminated quote in %s", line)
	if inWord {
		words = append(words, w.String())
	}
	return words
}
