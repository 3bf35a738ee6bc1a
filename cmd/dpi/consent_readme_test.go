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

// TestConsentReadmeExample runs the sh block of the README's consent section, in order, in an
// empty directory, as a reader of a fresh clone would. Each line must exit 0, or the code its
// comment begins with ("# exit 1: ..."). The lines are of four forms: export
// DPI_PERSON_KEY=$(...), which the test replaces with a random key; echo 'TEXT' > FILE;
// NAME=$(dpi ... | tail -n 1), which keeps the last line of stdout for $NAME; and dpi ARGS.
func TestConsentReadmeExample(t *testing.T) {
	lines := readmeSectionSh(t, "consent")
	require.GreaterOrEqual(t, len(lines), 8, "the README shows the whole sequence")
	t.Chdir(t.TempDir())
	t.Setenv(personKeyEnv, "")
	vars := map[string]string{}
	assign := regexp.MustCompile(`^([A-Z]+)=\$\((.*) \| tail -n 1\)$`)
	for _, line := range lines {
		cmd, want, comment := readmeLine(t, line)
		if strings.HasPrefix(cmd, "export "+personKeyEnv+"=") {
			setPersonKey(t)
			continue
		}
		var name string
		if m := assign.FindStringSubmatch(cmd); m != nil {
			name, cmd = m[1], m[2]
		}
		words := shellWords(t, cmd)
		for i, w := range words {
			if v, ok := strings.CutPrefix(w, "$"); ok {
				require.Contains(t, vars, v, "$%s is set by an earlier line", v)
				words[i] = vars[v]
			}
		}
		if words[0] == "echo" {
			require.True(t, len(words) == 4 && words[2] == ">", "echo 'TEXT' > FILE: %s", line)
			require.NoError(t, os.WriteFile(words[3], []byte(words[1]+"\n"), 0o600))
			continue
		}
		require.Equal(t, "dpi", words[0], line)
		var out, errOut bytes.Buffer
		code := run(context.Background(), words[1:], strings.NewReader(""), &out, &errOut)
		require.Equal(t, want, code, "%s\n%s%s", line, out.String(), errOut.String())
		assert.NotContains(t, out.String()+errOut.String(), "390.533.447-05", line)
		assert.NotContains(t, out.String()+errOut.String(), "39053344705", line)
		if name != "" {
			outLines := strings.Split(strings.TrimSpace(out.String()), "\n")
			vars[name] = outLines[len(outLines)-1]
		}
		if len(words) > 2 && words[1] == "consent" && words[2] == "verify" {
			assert.Contains(t, out.String(), "INTACT", line)
		}
		if want == exitRejected {
			assert.Contains(t, errOut.String(), strings.TrimSpace(strings.SplitN(comment, ":", 2)[1]), "the comment says what stderr says")
		}
	}
	assert.Regexp(t, recordIDPattern, vars["ID"])
}

// readmeLine splits a README sh line into its command, the exit code its comment expects
// ("# exit 1: ..."; exitOK when the comment names none) and the comment.
func readmeLine(t *testing.T, line string) (cmd string, want int, comment string) {
	t.Helper()
	cmd, comment, _ = strings.Cut(line, " # ")
	rest, ok := strings.CutPrefix(strings.TrimSpace(comment), "exit ")
	if !ok {
		return strings.TrimSpace(cmd), exitOK, comment
	}
	n, err := strconv.Atoi(rest[:1])
	require.NoError(t, err, line)
	return strings.TrimSpace(cmd), n, comment
}

// readmeSectionSh returns the command lines of the sh block of the README's section "##
// name".
func readmeSectionSh(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n## "+name+"\n")
	require.True(t, ok, "the README has a %s section", name)
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```sh\n")
	require.True(t, ok, "the section has an sh block")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	return strings.Split(strings.TrimSpace(block), "\n")
}
