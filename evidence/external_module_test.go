package evidence_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/store"
)

// TestExternalModule builds examples/agency-register, a module of its own that imports
// evidence and store as an agency's program would, and runs it on SQLite and PostgreSQL: it
// writes its own row and the evidence of it in one transaction of its own, and a transaction
// that fails leaves neither. The test then reads the database itself, as an auditor would.
func TestExternalModule(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "agency-register")
	build := exec.Command(testenv.Tool(t, "go"), "build", "-buildvcs=false", "-o", bin, ".")
	build.Dir = filepath.Join("..", "examples", "agency-register")
	build.Env = append(os.Environ(), "GOWORK=off") // the example's own go.mod, as outside this repository
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build in %s:\n%s", build.Dir, out)

	t.Run("sqlite", func(t *testing.T) {
		checkAgencyRegister(t, bin, "sqlite://"+filepath.Join(t.TempDir(), "register.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		base := testenv.PostgresURL(t)
		if base == "" {
			t.Skip("skipping: DPI_TEST_POSTGRES_URL is unset")
		}
		checkAgencyRegister(t, bin, storetest.FreshSchema(t, base))
	})
}

var (
	committedLine  = regexp.MustCompile(`(?m)^committed: access (acc-[0-9a-f]{16}), row and evidence entry 0$`)
	rolledBackLine = regexp.MustCompile(`(?m)^rolled back: access (acc-[0-9a-f]{16}): `)
	verifierLine   = regexp.MustCompile(`(?m)^verifier key: (\S+)$`)
)

// checkAgencyRegister runs the program on the database dsn names, checks what it printed, and
// then what the database holds.
func checkAgencyRegister(t *testing.T, bin, dsn string) {
	ctx := context.Background()
	stdout, stderr, err := runProgram(bin, "-db", dsn)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	kept := committedLine.FindStringSubmatch(stdout)
	dropped := rolledBackLine.FindStringSubmatch(stdout)
	vkey := verifierLine.FindStringSubmatch(stdout)
	require.NotNil(t, kept, "%s", stdout)
	require.NotNil(t, dropped, "%s", stdout)
	require.NotNil(t, vkey, "%s", stdout)
	assert.Contains(t, stdout, "verify: INTACT, 1 entry, signed by checkpoint of size 1\n")
	assert.Contains(t, stdout, "rolled-back access "+dropped[1]+": no row, no evidence entry\n")

	db, err := store.OpenReadOnly(ctx, dsn)
	require.NoError(t, err)
	defer db.Close()
	v, err := evidence.ParseVerifierKey(vkey[1])
	require.NoError(t, err)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: v.Origin(), ReadOnly: true})
	require.NoError(t, err)

	var ids []string
	rows, err := db.QueryContext(ctx, "SELECT id FROM access_register")
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	assert.Equal(t, []string{kept[1]}, ids, "only the committed row is in the register")

	entries := scanRef(t, l, kept[1])
	if assert.Len(t, entries, 1, "the committed row's evidence") {
		assert.Equal(t, uint64(0), entries[0].Seq)
		assert.Equal(t, "file.opened", entries[0].Kind)
		assert.Contains(t, string(entries[0].Payload), kept[1])
	}
	assert.Empty(t, scanRef(t, l, dropped[1]), "the rolled-back row's evidence")
	size, err := l.Size(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), size)
	report, err := l.Verify(ctx, v)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), report.Size)
	assert.Zero(t, report.Unanchored)

	// A second run makes another key, which the log refuses: the program says so and exits 1.
	_, stderr, err = runProgram(bin, "-db", dsn)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, stderr, "the log is kept under another key")
}

func runProgram(bin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func scanRef(t *testing.T, l *evidence.Log, ref string) []*evidence.Entry {
	t.Helper()
	var found []*evidence.Entry
	for e, err := range l.Scan(context.Background(), evidence.Filter{Ref: ref}) {
		require.NoError(t, err)
		found = append(found, e)
	}
	return found
}
