// Package testenv finds the outside tools and servers that dpi's tests check their output
// against (openssl, Python jwcrypto and stdnum, node, PostgreSQL, SoftHSM2), and decides what
// a test does when one is missing: skip with a message that names it, or, when
// DPI_TEST_STRICT=1 (as in CI), fail.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether a missing tool must fail the test instead of skipping it.
func Strict() bool { return os.Getenv("DPI_TEST_STRICT") == "1" }

// Missing skips the test, or fails it under DPI_TEST_STRICT=1, because what names is not
// available on this machine.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s is required (DPI_TEST_STRICT=1) but is missing", what)
	}
	t.Skipf("skipping: %s is missing (set DPI_TEST_STRICT=1 to make this a failure)", what)
}

// Tool returns the path of an executable on PATH, or calls Missing.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the "+name+" command")
	}
	return p
}

// SystemPython is the interpreter that Debian's python3-* packages install into. A
// python3 first on PATH (pyenv, a virtualenv) may not see those packages.
const SystemPython = "/usr/bin/python3"

// PythonModule returns a Python interpreter that can import module, or calls Missing. It
// tries the system interpreter first, then python3 on PATH.
func PythonModule(t testing.TB, module string) string {
	t.Helper()
	candidates := []string{SystemPython}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import "+module).Run() == nil {
			return py
		}
	}
	Missing(t, "the Python module "+module+" (Debian package python3-"+module+")")
	return ""
}

// PostgresURL returns the URL of the throwaway PostgreSQL server that tests may use, from
// DPI_TEST_POSTGRES_URL, or "" when none is configured. Under DPI_TEST_STRICT=1 an unset URL
// fails the test, so CI cannot silently test SQLite alone.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DPI_TEST_POSTGRES_URL")
	if u == "" && Strict() {
		t.Fatalf("DPI_TEST_POSTGRES_URL is required (DPI_TEST_STRICT=1) but is unset")
	}
	return u
}
