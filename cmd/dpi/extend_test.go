package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/testenv"
)

// dpi sign --level B-LTA, and dpi extend from B-B through each level: each validates at
// the level reached, with the responders down from B-LT on.
func TestExtendCommand(t *testing.T) {
	f := newSignFixture(t)
	lta := filepath.Join(f.dir, "lta.p7s")
	code, _, stderr := dpiRun(t, "", "sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", lta, f.doc)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "CAdES-BASELINE-B-LTA")

	bb := filepath.Join(f.dir, "bb.p7s")
	code, _, stderr = dpiRun(t, "", "sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", bb, f.doc)
	require.Equal(t, exitOK, code, stderr)
	sigs := map[string]string{"B-LTA signed": lta}
	for _, level := range []string{"B-T", "B-LT", "B-LTA"} {
		out := filepath.Join(f.dir, level+".p7s")
		args := []string{"extend", "--level", level, "--tsa", f.pki.TSAURL, "-o", out, f.doc, bb}
		if level != "B-T" {
			args = append(args, "--trust", f.roots)
		}
		code, stdout, stderr := dpiRun(t, "", append(args, "--json")...)
		require.Equal(t, exitOK, code, stderr)
		var rep extendReport
		require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
		assert.Equal(t, "CAdES-BASELINE-"+level[2:], rep.Format)
		sigs[level] = out
	}
	code, stdout, stderr := dpiRun(t, "", "verify", "--trust", f.roots, f.doc, sigs["B-T"])
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "CAdES-BASELINE-T")

	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	for name, want := range map[string]string{"B-LT": "CAdES-BASELINE-LT", "B-LTA": "CAdES-BASELINE-LTA", "B-LTA signed": "CAdES-BASELINE-LTA"} {
		code, stdout, stderr := dpiRun(t, "", "verify", "--json", "--trust", f.roots, f.doc, sigs[name])
		assert.Equal(t, exitOK, code, stderr)
		var r struct {
			Format string `json:"format"`
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &r))
		assert.Equal(t, want, r.Format, name)
	}

	// Renewal needs the archive authority's status: with the responders down it is
	// indeterminate, and nothing is written.
	renewed := filepath.Join(f.dir, "renewed.p7s")
	code, _, stderr = dpiRun(t, "", "extend", "--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", renewed, f.doc, lta)
	assert.Equal(t, exitIndeterminate, code, stderr)
	assert.NoFileExists(t, renewed)
	f.pki.SetOCSPAvailable(true)
	code, _, stderr = dpiRun(t, "", "extend", "--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", renewed, f.doc, lta)
	require.Equal(t, exitOK, code, stderr)
	code, stdout, _ = dpiRun(t, "", "verify", "--json", "--trust", f.roots, f.doc, renewed)
	assert.Equal(t, exitOK, code)
	var r struct {
		Format            string            `json:"format"`
		ArchiveTimestamps []json.RawMessage `json:"archiveTimestamps"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &r))
	assert.Equal(t, "CAdES-BASELINE-LTA", r.Format)
	assert.Len(t, r.ArchiveTimestamps, 2)

	// openssl still verifies what we extended.
	openssl := testenv.Tool(t, "openssl")
	for _, name := range []string{"B-LT", "B-LTA", "B-LTA signed"} {
		out, err := exec.Command(openssl, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", sigs[name],
			"-content", f.doc, "-CAfile", f.roots, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
		assert.NoError(t, err, "%s: %s", name, out)
	}
}

func TestExtendCommandRefuses(t *testing.T) {
	f := newSignFixture(t)
	bb := filepath.Join(f.dir, "bb.p7s")
	code, _, stderr := dpiRun(t, "", "sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", bb, f.doc)
	require.Equal(t, exitOK, code, stderr)
	other := filepath.Join(f.dir, "other.txt")
	require.NoError(t, os.WriteFile(other, []byte("another document"), 0o600))
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no level", []string{"--tsa", f.pki.TSAURL, "-o", "OUT", f.doc, bb}, exitUsage},
		{"level B-B", []string{"--level", "B-B", "--tsa", f.pki.TSAURL, "-o", "OUT", f.doc, bb}, exitUsage},
		{"no tsa", []string{"--level", "B-T", "-o", "OUT", f.doc, bb}, exitUsage},
		{"B-LT without trust", []string{"--level", "B-LT", "--tsa", f.pki.TSAURL, "-o", "OUT", f.doc, bb}, exitUsage},
		{"B-T with trust", []string{"--level", "B-T", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", "OUT", f.doc, bb}, exitUsage},
		{"no output", []string{"--level", "B-T", "--tsa", f.pki.TSAURL, f.doc, bb}, exitUsage},
		{"one file", []string{"--level", "B-T", "--tsa", f.pki.TSAURL, "-o", "OUT", f.doc}, exitUsage},
		{"not a signature", []string{"--level", "B-T", "--tsa", f.pki.TSAURL, "-o", "OUT", f.doc, f.doc}, exitUsage},
		{"another document", []string{"--level", "B-T", "--tsa", f.pki.TSAURL, "-o", "OUT", other, bb}, exitRejected},
		{"roots that do not anchor", []string{"--level", "B-LT", "--tsa", f.pki.TSAURL, "--trust", f.cert, "-o", "OUT", f.doc, bb}, exitRejected},
		{"tsa down", []string{"--level", "B-T", "--tsa", "http://127.0.0.1:1/tsa", "-o", "OUT", f.doc, bb}, exitIndeterminate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sig")
			args := append([]string{"extend"}, tc.args...)
			for i, a := range args {
				if a == "OUT" {
					args[i] = out
				}
			}
			code, stdout, stderr := contractRun(t, "", args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "dpi: extend: ")
			assert.NoFileExists(t, out)
		})
	}
}

// A compact JAdES signature extended to B-LTA is written in JSON serialization, and
// dpi verify reads it.
func TestExtendCommandJAdES(t *testing.T) {
	f := newSignFixture(t)
	bb := filepath.Join(f.dir, "bb.jws")
	code, _, stderr := dpiRun(t, "", "sign", "--format", "jades", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", bb, f.doc)
	require.Equal(t, exitOK, code, stderr)
	lta := filepath.Join(f.dir, "lta.json")
	code, _, stderr = dpiRun(t, "", "extend", "--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", lta, f.doc, bb)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "extended: JAdES-BASELINE-LTA")
	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	code, stdout, stderr := dpiRun(t, "", "verify", "--trust", f.roots, f.doc, lta)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "JAdES-BASELINE-LTA")
	assert.Contains(t, stdout, "archive time-stamp:")

	signed := filepath.Join(f.dir, "signed.json")
	f.pki.SetOCSPAvailable(true)
	code, _, stderr = dpiRun(t, "", "sign", "--format", "jades", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--level", "B-LT", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", signed, f.doc)
	require.Equal(t, exitOK, code, stderr)
	f.pki.SetOCSPAvailable(false)
	code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, signed)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "JAdES-BASELINE-LT")
}

// A JAdES signature in the general JSON serialization (RFC 7515 §7.2.1, as EU DSS writes
// it, one element in "signatures") is verified, and extended in that form; one with two
// signatures is refused as unreadable.
func TestVerifyAndExtendJAdESGeneral(t *testing.T) {
	f := newSignFixture(t)
	flat := filepath.Join(f.dir, "signed.json")
	code, _, stderr := dpiRun(t, "", "sign", "--format", "jades", "--key", f.key, "--cert", f.cert, "--chain", f.chain,
		"--level", "B-T", "--tsa", f.pki.TSAURL, "-o", flat, f.doc)
	require.Equal(t, exitOK, code, stderr)
	b, err := os.ReadFile(flat)
	require.NoError(t, err)
	wrap := func(n int) string {
		var el map[string]any
		require.NoError(t, json.Unmarshal(b, &el))
		els := make([]any, n)
		for i := range els {
			els[i] = el
		}
		g, err := json.Marshal(map[string]any{"signatures": els})
		require.NoError(t, err)
		name := filepath.Join(f.dir, fmt.Sprintf("general-%d.json", n))
		require.NoError(t, os.WriteFile(name, g, 0o600))
		return name
	}
	general := wrap(1)
	code, stdout, stderr := dpiRun(t, "", "verify", "--trust", f.roots, f.doc, general)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "JAdES-BASELINE-T")

	code, _, stderr = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, wrap(2))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "2 signatures: only one is supported")

	lta := filepath.Join(f.dir, "lta.json")
	code, _, stderr = dpiRun(t, "", "extend", "--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", lta, f.doc, general)
	require.Equal(t, exitOK, code, stderr)
	out, err := os.ReadFile(lta)
	require.NoError(t, err)
	assert.Contains(t, string(out), `{"signatures":[{"protected":`)
	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)
	code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, lta)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "JAdES-BASELINE-LTA")
}
