package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNotifyReadmeExample runs the sh block of the README's notify section, in order, in an
// empty directory, as a reader of a fresh clone would. Each line must exit 0, or the code its
// comment begins with ("# exit 3: ..."). The lines are of five forms: export
// DPI_WEBHOOK_SECRET=..., which the test replaces with a fixed secret; echo 'TEXT' > FILE;
// NAME=$(dpi ... | tail -n 1), which keeps the last line of stdout for $NAME; dpi ARGS >
// FILE; and dpi ARGS.
func TestNotifyReadmeExample(t *testing.T) {
	lines := readmeSectionSh(t, "notify")
	require.GreaterOrEqual(t, len(lines), 6, "the README shows the whole sequence")
	t.Chdir(t.TempDir())
	vars := map[string]string{}
	assign := regexp.MustCompile(`^([A-Z]+)=\$\((.*) \| tail -n 1\)$`)
	for _, line := range lines {
		cmd, want, _ := readmeLine(t, line)
		if strings.HasPrefix(cmd, "export "+webhookSecretEnv+"=") {
			t.Setenv(webhookSecretEnv, testWebhookSecret)
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
		var redirect string
		if n := len(words); n > 2 && words[n-2] == ">" {
			redirect, words = words[n-1], words[:n-2]
		}
		if words[0] == "echo" {
			require.True(t, len(words) == 2 && redirect != "", "echo 'TEXT' > FILE: %s", line)
			require.NoError(t, os.WriteFile(redirect, []byte(words[1]+"\n"), 0o600))
			continue
		}
		require.Equal(t, "dpi", words[0], line)
		var out, errOut bytes.Buffer
		code := run(context.Background(), words[1:], strings.NewReader(""), &out, &errOut)
		require.Equal(t, want, code, "%s\n%s%s", line, out.String(), errOut.String())
		assert.NotContains(t, out.String()+errOut.String(), strings.TrimPrefix(testWebhookSecret, "whsec_"), line)
		if redirect != "" {
			require.NoError(t, os.WriteFile(redirect, out.Bytes(), 0o600))
		}
		if name != "" {
			outLines := strings.Split(strings.TrimSpace(out.String()), "\n")
			vars[name] = outLines[len(outLines)-1]
		}
		if strings.Contains(line, "nothing new is stored") {
			assert.Equal(t, vars["ID"], lastLine(out.String()), "the same notification")
			assert.Contains(t, out.String(), "nothing new was sent")
		}
		if len(words) > 2 && words[1] == "log" && words[2] == "verify" {
			assert.Contains(t, out.String(), "INTACT", line)
		}
	}
	assert.Regexp(t, `^ntf_[a-z2-7]{26}$`, vars["ID"])
}
