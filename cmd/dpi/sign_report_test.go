package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// testbedSignFixture is a testbed and a document, for the sign report and verify input tests.
type testbedSignFixture struct {
	tb       *dpitest.Testbed
	dir, doc string
}

func newTestbedSignFixture(t *testing.T) testbedSignFixture {
	t.Helper()
	dir := t.TempDir()
	tb, err := dpitest.StartTestbed(dpitest.TestbedOptions{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(tb.Close)
	doc := filepath.Join(t.TempDir(), "resolution.txt")
	require.NoError(t, os.WriteFile(doc, []byte("Resolution 42\n"), 0o600))
	return testbedSignFixture{tb: tb, dir: dir, doc: doc}
}

func (f testbedSignFixture) file(name string) string { return filepath.Join(f.dir, name) }

func (f testbedSignFixture) signArgs(more ...string) []string {
	return append([]string{"sign", "--key", f.file("signer.key"), "--cert", f.file("signer.pem"), "--chain", f.file("chain.pem")}, more...)
}

func TestSignReport(t *testing.T) {
	f := newTestbedSignFixture(t)
	out := filepath.Join(t.TempDir(), "r.p7s")

	code, stdout, stderr := contractRun(t, "", f.signArgs("--tsa", f.tb.Info.TSA, "-o", out, f.doc)...)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stdout)
	assert.Regexp(t, `^signed: CAdES-BASELINE-B-T by CN=dpitest signer,O=dpitest at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(claimed\), \d+ bytes written to `+regexp.QuoteMeta(out)+"\n$", stderr)

	code, stdout, stderr = contractRun(t, "", f.signArgs("--format", "jades", f.doc)...)
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "eyJ"), "the signature is standard output")
	assert.Contains(t, stderr, "signed: JAdES-BASELINE-B-B by ")
	assert.Contains(t, stderr, "written to standard output")

	code, stdout, stderr = contractRun(t, "", f.signArgs("--json", "-o", out, f.doc)...)
	require.Equal(t, exitOK, code, stderr)
	var rep map[string]json.RawMessage
	onlyJSON(t, stdout, &rep)
	assert.Equal(t, []string{"bytes", "format", "level", "output", "signer", "signingTime"}, keysOf(rep))
	assert.JSONEq(t, `"B-B"`, string(rep["level"]))
	assert.Empty(t, stderr, "with --json the report is the JSON")

	code, stdout, stderr = contractRun(t, "", f.signArgs("--json", f.doc)...)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "--json needs -o")
}

// TestSignRefusesBinaryToATerminal: a CAdES signature on a character device (a terminal)
// would garble it; /dev/null and files are fine, and so is JAdES, which is text.
func TestSignRefusesBinaryToATerminal(t *testing.T) {
	f := newTestbedSignFixture(t)
	tty, err := os.OpenFile("/dev/zero", os.O_WRONLY, 0) // a character device that is not the null device
	if err != nil {
		t.Skip("no /dev/zero:", err)
	}
	defer tty.Close()
	var errOut bytes.Buffer
	code := run(context.Background(), f.signArgs(f.doc), strings.NewReader(""), tty, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut.String(), "binary: write it with -o FILE")

	errOut.Reset()
	code = run(context.Background(), f.signArgs("--format", "jades", f.doc), strings.NewReader(""), tty, &errOut)
	assert.Equal(t, exitOK, code, errOut.String())

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	errOut.Reset()
	code = run(context.Background(), f.signArgs(f.doc), strings.NewReader(""), null, &errOut)
	assert.Equal(t, exitOK, code, errOut.String())
}

// TestVerifySaysWhatTheInputIs: a signature that is not one is named for what it looks
// like, swapped arguments are pointed out, and a PEM-wrapped CMS signature is accepted.
func TestVerifySaysWhatTheInputIs(t *testing.T) {
	f := newTestbedSignFixture(t)
	sig := filepath.Join(t.TempDir(), "r.p7s")
	code, _, stderr := contractRun(t, "", f.signArgs("-o", sig, f.doc)...)
	require.Equal(t, exitOK, code, stderr)
	root := f.file("root.pem")

	code, stdout, stderr := contractRun(t, "", "verify", "--trust", root, sig, f.doc)
	assert.Equal(t, exitUsage, code, stdout)
	assert.Contains(t, stderr, f.doc+" is not a signature: it looks like text; expected a CAdES signature (DER, or PEM CMS) or a JAdES compact JWS")
	assert.Contains(t, stderr, "are DOC and SIG swapped?")
	assert.NotContains(t, stderr, "tags don't match")

	code, _, stderr = contractRun(t, "", "verify", "--trust", root, f.doc, root)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `it looks like a PEM "CERTIFICATE" block`)
	assert.NotContains(t, stderr, "swapped")

	pdf := filepath.Join(t.TempDir(), "x.pdf")
	require.NoError(t, os.WriteFile(pdf, []byte("%PDF-1.7\n..."), 0o600))
	code, _, stderr = contractRun(t, "", "verify", "--trust", root, f.doc, pdf)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "it looks like a PDF document")

	der, err := os.ReadFile(sig)
	require.NoError(t, err)
	for _, label := range []string{"CMS", "PKCS7"} {
		p := filepath.Join(t.TempDir(), "r.pem")
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: label, Bytes: der}), 0o600))
		code, stdout, stderr = contractRun(t, "", "verify", "--trust", root, f.doc, p)
		assert.Equal(t, exitOK, code, stdout+stderr)
		assert.Contains(t, stdout, "TOTAL_PASSED", label)
	}
}
