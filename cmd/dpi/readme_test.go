package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeCoveredElsewhere are the README sections whose sh blocks have their own test
// (consent_readme_test.go, notify_readme_test.go, log_readme_test.go): they run in their own
// empty directory, without the testbed.
var readmeCoveredElsewhere = map[string]bool{"consent": true, "notify": true, "Tamper-evident logs": true}

// readmeShBlocks returns the lines of every sh block of the README, in order, outside the
// sections covered elsewhere; a line ending in a backslash is joined with the next.
func readmeShBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var lines []string
	section := ""
	for _, part := range strings.Split(string(b), "\n## ") {
		heading, body, _ := strings.Cut(part, "\n")
		if strings.HasPrefix(part, "# ") {
			heading = "" // the title and the introduction
		} else {
			section = heading
		}
		if readmeCoveredElsewhere[section] {
			continue
		}
		for {
			_, rest, ok := strings.Cut(body, "```sh\n")
			if !ok {
				break
			}
			block, after, ok := strings.Cut(rest, "```")
			require.True(t, ok, "an sh block in %q is closed", section)
			body = after
			block = strings.ReplaceAll(block, "\\\n", "")
			for l := range strings.SplitSeq(strings.TrimSpace(block), "\n") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return lines
}

// TestReadmeExamples runs every sh line of the README that no other test runs, in order, in
// an empty directory, as a reader of a fresh clone would after building dpi: "dpi" is the
// in-process command line, and "dpi testbed --dir tb &" starts the testbed in-process. Each
// line must exit 0, or the code its comment names ("# exit 1: ..."); a comment that starts
// with a word in capitals (TOTAL_PASSED, ACCEPTED) names a word of the output. Lines are of
// these forms: go ... (building dpi, skipped: the test is the build); eval "$(dpi ...)",
// whose export lines set variables; NAME=$(dpi ...), which keeps stdout; echo 'TEXT' > FILE;
// and dpi ARGS [> FILE] [&], with $NAME replaced.
func TestReadmeExamples(t *testing.T) {
	lines := readmeShBlocks(t)
	require.GreaterOrEqual(t, len(lines), 20, "the README shows the command line")
	t.Chdir(t.TempDir())
	vars := map[string]string{}
	assign := regexp.MustCompile(`^([A-Z_]+)=\$\((dpi .*)\)$`)
	evalLine := regexp.MustCompile(`^eval "\$\((dpi .*)\)"$`)
	exportLine := regexp.MustCompile(`^export ([A-Z_]+)='([^']*)'$`)
	exitIn := regexp.MustCompile(`\bexit (\d)\b`)
	ran := 0
	for _, line := range lines {
		cmd, comment, _ := strings.Cut(line, " # ")
		cmd = strings.TrimSpace(cmd)
		if strings.HasPrefix(cmd, "go ") {
			continue
		}
		want := exitOK
		if m := exitIn.FindStringSubmatch(comment); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		var assignTo string
		isEval := false
		if m := assign.FindStringSubmatch(cmd); m != nil {
			assignTo, cmd = m[1], m[2]
		} else if m := evalLine.FindStringSubmatch(cmd); m != nil {
			isEval, cmd = true, m[1]
		}
		words := shellWords(t, cmd)
		for i, w := range words {
			if v, ok := strings.CutPrefix(w, "$"); ok {
				require.Contains(t, vars, v, "$%s is set by an earlier line: %s", v, line)
				words[i] = vars[v]
			}
		}
		if words[0] == "echo" {
			require.True(t, len(words) == 4 && words[2] == ">", "echo 'TEXT' > FILE: %s", line)
			require.NoError(t, os.WriteFile(words[3], []byte(words[1]+"\n"), 0o600))
			continue
		}
		require.Equal(t, "dpi", words[0], line)
		if words[len(words)-1] == "&" {
			require.True(t, len(words) == 5 && words[1] == "testbed" && words[2] == "--dir", "only the testbed runs in the background: %s", line)
			startCLITestbed(t, words[3])
			continue
		}
		var outFile string
		if n := len(words); n > 2 && words[n-2] == ">" {
			outFile, words = words[n-1], words[:n-2]
		}
		var out, errOut bytes.Buffer
		code := run(context.Background(), words[1:], strings.NewReader(""), &out, &errOut)
		ran++
		require.Equal(t, want, code, "%s\n%s%s", line, out.String(), errOut.String())
		if first := strings.Fields(strings.TrimSpace(comment)); len(first) > 0 && regexp.MustCompile(`^[A-Z_]{4,}\b`).MatchString(first[0]) {
			assert.Contains(t, out.String(), strings.Trim(first[0], ",:"), line)
		}
		switch {
		case outFile != "":
			require.NoError(t, os.WriteFile(outFile, out.Bytes(), 0o600))
		case assignTo != "":
			vars[assignTo] = strings.TrimSpace(out.String())
		case isEval:
			for l := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
				m := exportLine.FindStringSubmatch(l)
				require.NotNil(t, m, "eval runs export lines only: %q", l)
				vars[m[1]] = m[2]
			}
		}
	}
	t.Logf("%d README commands ran", ran)
}
