package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/pdftest"
)

// dpi sign --format pades at each level, then dpi verify SIGNED.pdf: TOTAL_PASSED, the
// original a prefix of the output, one report per signature.
func TestSignPAdESCommand(t *testing.T) {
	f := newSignFixture(t)
	in := filepath.Join(f.dir, "in.pdf")
	orig := pdftest.New(pdftest.Options{Pages: 2, Form: true})
	require.NoError(t, os.WriteFile(in, orig, 0o600))
	for _, tc := range []struct {
		name    string
		args    []string
		format  string
		reports int
	}{
		{"B-B", []string{"--level", "B-B"}, "PAdES-BASELINE-B", 1},
		{"B-T visible", []string{"--tsa", f.pki.TSAURL, "--visible", "1:72,72,200,50"}, "PAdES-BASELINE-T", 1},
		{"B-LT certify form", []string{"--level", "B-LT", "--tsa", f.pki.TSAURL, "--trust", f.roots, "--certify", "form"}, "PAdES-BASELINE-LT", 1},
		{"B-LTA", []string{"--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots}, "PAdES-BASELINE-LTA", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(f.dir, tc.name+".pdf")
			args := append([]string{"sign", "--format", "pades", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", out, in}, tc.args...)
			code, stdout, stderr := dpiRun(t, "", args...)
			require.Equal(t, exitOK, code, stderr)
			assert.Empty(t, stdout)
			signed, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(signed, orig))

			code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, out)
			assert.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stdout, tc.format)
			assert.Contains(t, stdout, "CN=Civil Registry")

			code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, "--json", out)
			require.Equal(t, exitOK, code, stderr)
			var reps []map[string]any
			require.NoError(t, json.Unmarshal([]byte(stdout), &reps))
			require.Len(t, reps, tc.reports)
			assert.Equal(t, "TOTAL_PASSED", reps[0]["indication"])
			assert.Equal(t, tc.format, reps[0]["format"])
			assert.Equal(t, "Signature1", reps[0]["field"])
			assert.EqualValues(t, 2, reps[0]["revision"])
			assert.Contains(t, reps[0], "coversWholeDocument")
			assert.Contains(t, reps[0], "changes")
		})
	}
}

// A tampered PDF exits 1; usage errors exit 2.
func TestSignPAdESErrors(t *testing.T) {
	f := newSignFixture(t)
	in := filepath.Join(f.dir, "in.pdf")
	require.NoError(t, os.WriteFile(in, pdftest.New(pdftest.Options{}), 0o600))
	out := filepath.Join(f.dir, "out.pdf")
	code, _, stderr := dpiRun(t, "", "sign", "--format", "pades", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", out, in)
	require.Equal(t, exitOK, code, stderr)
	signed, err := os.ReadFile(out)
	require.NoError(t, err)
	i := bytes.Index(signed, []byte("Test document"))
	signed[i] = 'B'
	bad := filepath.Join(f.dir, "bad.pdf")
	require.NoError(t, os.WriteFile(bad, signed, 0o600))
	code, stdout, _ := dpiRun(t, "", "verify", "--trust", f.roots, bad)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, stdout, "HASH_FAILURE")

	base := []string{"sign", "--key", f.key, "--cert", f.cert}
	for name, args := range map[string][]string{
		"no -o":           {"--format", "pades", in},
		"certify cades":   {"--certify", "none", "-o", out, in},
		"bad certify":     {"--format", "pades", "--certify", "all", "-o", out, in},
		"bad visible":     {"--format", "pades", "--visible", "1:2,3", "-o", out, in},
		"lta without tsa": {"--format", "pades", "--level", "B-LTA", "-o", out, in},
		"lta cades":       {"--level", "B-LTA", "--tsa", f.pki.TSAURL, "-o", out, in},
		"not a pdf":       {"--format", "pades", "-o", out, f.doc},
	} {
		code, _, stderr := dpiRun(t, "", append(base, args...)...)
		assert.Equal(t, exitUsage, code, "%s: %s", name, stderr)
	}
	code, _, _ = dpiRun(t, "", "verify", "--trust", f.roots, f.doc)
	assert.Equal(t, exitUsage, code, "one argument that is not a pdf")
}

// dpi extend IN.pdf: a B-T PDF to B-LT, then B-LTA, then renewed; each verifies at the
// level reached. A B-B PDF exits 1, B-T for a PDF and a missing --trust exit 2.
func TestExtendPAdESCommand(t *testing.T) {
	f := newSignFixture(t)
	in := filepath.Join(f.dir, "in.pdf")
	require.NoError(t, os.WriteFile(in, pdftest.New(pdftest.Options{Pages: 1}), 0o600))
	sign := func(out string, args ...string) {
		t.Helper()
		args = append([]string{"sign", "--format", "pades", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", out, in}, args...)
		code, _, stderr := dpiRun(t, "", args...)
		require.Equal(t, exitOK, code, stderr)
	}
	bt, bb := filepath.Join(f.dir, "bt.pdf"), filepath.Join(f.dir, "bb.pdf")
	sign(bt, "--tsa", f.pki.TSAURL)
	sign(bb)
	prev := bt
	for _, tc := range []struct{ name, level, format string }{
		{"lt", "B-LT", "PAdES-BASELINE-LT"},
		{"lta", "B-LTA", "PAdES-BASELINE-LTA"},
		{"renewed", "B-LTA", "PAdES-BASELINE-LTA"},
	} {
		out := filepath.Join(f.dir, tc.name+".pdf")
		code, stdout, stderr := dpiRun(t, "", "extend", "--level", tc.level, "--tsa", f.pki.TSAURL, "--trust", f.roots, "-o", out, "--json", prev)
		require.Equal(t, exitOK, code, stderr)
		var rep extendReport
		require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
		assert.Equal(t, tc.format, rep.Format)
		before, err := os.ReadFile(prev)
		require.NoError(t, err)
		after, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(after, before), "extending appends")

		code, stdout, stderr = dpiRun(t, "", "verify", "--trust", f.roots, "--json", out)
		require.Equal(t, exitOK, code, stderr)
		var reps []map[string]any
		require.NoError(t, json.Unmarshal([]byte(stdout), &reps))
		assert.Equal(t, tc.format, reps[0]["format"])
		prev = out
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"b-b", []string{"--level", "B-LTA", "--tsa", f.pki.TSAURL, "--trust", f.roots, bb}, exitRejected},
		{"b-t level", []string{"--level", "B-T", "--tsa", f.pki.TSAURL, bt}, exitUsage},
		{"no trust", []string{"--level", "B-LT", "--tsa", f.pki.TSAURL, bt}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(f.dir, "refused.pdf")
			code, _, stderr := dpiRun(t, "", append([]string{"extend", "-o", out}, tc.args...)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.NoFileExists(t, out)
		})
	}
}
