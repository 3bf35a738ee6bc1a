package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// startCLITestbed runs "dpi testbed --dir DIR ARGS..." in-process until the test ends, and
// returns once it printed its ready line (its stdout lines up to it, too).
func startCLITestbed(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut strings.Builder
	start := time.Now()
	go func() {
		done <- run(ctx, append([]string{"testbed", "--dir", dir}, args...), strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	var lines []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "ready") || strings.HasPrefix(sc.Text(), "}") {
			break
		}
	}
	require.NotEmpty(t, lines, "dpi testbed printed nothing: %s", errOut.String())
	// Not an assertion (no timings in CI): the issue asks for under 2 s, and the log shows it.
	t.Logf("dpi testbed ready after %s", time.Since(start))
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, exitOK, <-done, "an interrupted testbed exits 0")
		assert.NoFileExists(t, filepath.Join(dir, dpitest.TestbedInfoFile))
	})
	return lines
}

func TestTestbedCommand(t *testing.T) {
	dir := t.TempDir()
	lines := startCLITestbed(t, dir)
	require.Len(t, lines, 6, "one line per service, the files and ready: %q", lines)
	for i, prefix := range []string{"idp ", "tsa ", "ocsp ", "crl ", "files ", "ready in "} {
		assert.True(t, strings.HasPrefix(lines[i], prefix), lines[i])
	}
	info, err := dpitest.ReadTestbedInfo(dir)
	require.NoError(t, err)
	f := func(name string) string { return filepath.Join(dir, name) }

	doc := filepath.Join(t.TempDir(), "doc.txt")
	require.NoError(t, os.WriteFile(doc, []byte("a residence certificate\n"), 0o600))
	sig := doc + ".p7s"
	code, _, stderr := contractRun(t, "", "sign", "--key", f("signer.key"), "--cert", f("signer.pem"), "--chain", f("chain.pem"), "--tsa", info.TSA, "-o", sig, doc)
	require.Equal(t, exitOK, code, stderr)
	code, stdout, stderr := contractRun(t, "", "verify", "--trust", f("root.pem"), doc, sig)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "TOTAL_PASSED")
	code, _, stderr = contractRun(t, "", "sign", "--key", f("agency-b.key"), "--cert", f("agency-b.pem"), "--chain", f("chain.pem"), "-o", sig+".b", doc)
	require.Equal(t, exitOK, code, stderr)

	code, token, stderr := contractRun(t, "", "testbed", "token", "--dir", dir, "--aud", "my-service", "--nonce", "n-1", "--loa", "high", "--profile", "tara")
	require.Equal(t, exitOK, code, stderr)
	code, stdout, stderr = contractRun(t, "", "eid", "verify", "--issuer", info.Issuer, "--audience", "my-service", "--nonce", "n-1", "--profile", "tara", "--min-loa", "high", strings.TrimSpace(token))
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "EE ik")

	code, stdout, stderr = contractRun(t, "", "testbed", "env", "--dir", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "export DPI_TESTBED_ISSUER='"+info.Issuer+"'\n")

	code, stdout, stderr = contractRun(t, "", "testbed", "revoke", "--dir", dir, "signer")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "revoked signer\n", stdout)
	code, _, stderr = contractRun(t, "", "sign", "--key", f("signer.key"), "--cert", f("signer.pem"), "--chain", f("chain.pem"), "-o", sig+".2", doc)
	assert.Equal(t, exitUsage, code, "a revoked certificate cannot sign")
	assert.Contains(t, stderr, "revoked")
	code, _, stderr = contractRun(t, "", "testbed", "revoke", "--dir", dir, "nobody")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "signer, agency-b")
}
