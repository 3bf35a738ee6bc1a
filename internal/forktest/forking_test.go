package forktest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"go/format"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

// The guide marks the code it wants in the module with the fenced block's info string:
//
//	```go file=PATH          a new file of the module
//	```json append=PATH      entries appended to the JSON array in PATH (test data)
//	```go add-to=PATH        map entries added to countryLanguage in PATH (a test file)
//	```go service=PKG/FILE   a file of the fork's own service, which imports dpi
//	```console               dpi commands ("$ go run ./cmd/dpi ...") and lines of their output
const guide = "../../docs/forking.md"

// serviceDir is where a service= file goes in the overlay: a directory that does not
// exist, so nothing but the overlay's own test can import it.
const serviceDir = "internal/forktest"

// countryLanguageAnchor is what the add-to= entry is inserted after in
// consent/legalbasis_test.go.
const countryLanguageAnchor = "var countryLanguage = map[string]string{"

// journeyTest is the test the overlay adds to examples/citizen-journey.
const journeyTest = "testdata/xaland_journey_test.go"

type block struct {
	line  int // of the opening fence, for messages
	lang  string
	attrs map[string]string
	body  string
}

func readGuide(t *testing.T) []block {
	t.Helper()
	f, err := os.Open(guide)
	require.NoError(t, err)
	defer f.Close()
	var (
		blocks []block
		cur    *block
		body   strings.Builder
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			fields := strings.Fields(strings.TrimPrefix(line, "```"))
			cur = &block{line: n, attrs: map[string]string{}}
			if len(fields) > 0 {
				cur.lang = fields[0]
				for _, f := range fields[1:] {
					k, v, ok := strings.Cut(f, "=")
					require.True(t, ok, "forking.md:%d: info string field %q is not key=value", n, f)
					cur.attrs[k] = v
				}
			}
			body.Reset()
		case cur != nil && line == "```":
			cur.body = body.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "forking.md: a code block is not closed")
	return blocks
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	return root
}

// overlay maps paths relative to the module root to the content the go command sees there.
type overlay map[string][]byte

// write puts the files under dir and returns the overlay's JSON file, for -overlay.
func (o overlay) write(t *testing.T, root, dir string) string {
	t.Helper()
	replace := map[string]string{}
	i := 0
	for rel, content := range o {
		i++
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(rel)))
		require.NoError(t, os.WriteFile(p, content, 0o644))
		replace[filepath.Join(root, filepath.FromSlash(rel))] = p
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	require.NoError(t, err)
	p := filepath.Join(dir, "overlay.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// forkOverlay turns the guide's blocks into an overlay. With testEdits false it leaves out
// the entries the guide adds to existing test files and test data (append=, add-to=).
func forkOverlay(t *testing.T, root string, blocks []block, testEdits bool) overlay {
	t.Helper()
	o := overlay{}
	for _, b := range blocks {
		switch {
		case b.attrs["file"] != "":
			p := b.attrs["file"]
			_, err := os.Stat(filepath.Join(root, p))
			require.ErrorIs(t, err, os.ErrNotExist, "forking.md:%d: %s must be a new file: adding a country edits no file", b.line, p)
			o[p] = []byte(b.body)
		case b.attrs["service"] != "":
			o[serviceDir+"/"+b.attrs["service"]] = []byte(b.body)
		case b.attrs["append"] != "" && testEdits:
			p := b.attrs["append"]
			require.Contains(t, p, "/testdata/", "forking.md:%d: only test data is appended to", b.line)
			o[p] = appendJSON(t, root, p, b)
		case b.attrs["add-to"] != "" && testEdits:
			p := b.attrs["add-to"]
			require.True(t, strings.HasSuffix(p, "_test.go"), "forking.md:%d: only test files are added to", b.line)
			orig, err := os.ReadFile(filepath.Join(root, p))
			require.NoError(t, err)
			require.Equal(t, 1, bytes.Count(orig, []byte(countryLanguageAnchor)),
				"forking.md:%d: %s no longer has %q: update the guide", b.line, p, countryLanguageAnchor)
			entry := strings.TrimSpace(b.body) + " "
			o[p] = bytes.Replace(orig, []byte(countryLanguageAnchor), []byte(countryLanguageAnchor+entry), 1)
		}
	}
	return o
}

// appendJSON returns the JSON array in path with the block's entries appended.
func appendJSON(t *testing.T, root, path string, b block) []byte {
	t.Helper()
	orig, err := os.ReadFile(filepath.Join(root, path))
	require.NoError(t, err)
	trimmed := bytes.TrimRight(orig, " \t\n")
	require.True(t, bytes.HasSuffix(trimmed, []byte("]")), "%s is a JSON array", path)
	out := append(bytes.TrimRight(trimmed[:len(trimmed)-1], " \t\n"), ",\n"...)
	out = append(out, strings.TrimRight(b.body, " \t\n,")...)
	out = append(out, "\n]\n"...)
	var entries []json.RawMessage
	require.NoError(t, json.Unmarshal(out, &entries), "forking.md:%d: the entries appended to %s", b.line, path)
	return out
}

// goCmd runs the go command in the module root and returns its combined output.
func goCmd(t *testing.T, root string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestGuideCodeIsFormatted: the Go a fork copies from the guide is gofmt-ed.
func TestGuideCodeIsFormatted(t *testing.T) {
	var n int
	for _, b := range readGuide(t) {
		if b.lang != "go" || b.attrs["add-to"] != "" {
			continue
		}
		n++
		got, err := format.Source([]byte(b.body))
		require.NoError(t, err, "forking.md:%d", b.line)
		assert.Equal(t, string(got), b.body, "forking.md:%d is not gofmt-ed", b.line)
	}
	assert.GreaterOrEqual(t, n, 5, "the guide's Go files")
}

// TestForkedCountry adds every file of the guide to the module through an overlay and
// checks that Xaland is picked up everywhere the guide says, with no other file edited.
func TestForkedCountry(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds dpi and runs package tests with the guide's files added")
	}
	root := moduleRoot(t)
	blocks := readGuide(t)
	dir := t.TempDir()

	// The national CA of the guide's section 5: its root is the service's xa-root.pem, and
	// a civil registry's document signed under it is what the journey's signature step and
	// dpi verify validate. Its OCSP responder runs for as long as this test.
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	registry, err := pki.Issue(dpitest.CertOptions{CommonName: "Xaland Civil Registry", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	signer, err := signature.NewSigner(registry.Key, registry.Chain, signature.SignerOptions{})
	require.NoError(t, err)
	doc := []byte("CERTIFICATE OF RESIDENCE\nRepublic of Xaland\n")
	sig, err := signer.Sign(t.Context(), bytes.NewReader(doc))
	require.NoError(t, err)
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.Root.Raw})
	files := map[string][]byte{"doc.txt": doc, "doc.p7s": sig, "xa-root.pem": rootPEM}
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}

	o := forkOverlay(t, root, blocks, true)
	var service string
	for p := range o {
		if strings.HasPrefix(p, serviceDir+"/") {
			service = filepath.Dir(p)
		}
	}
	require.NotEmpty(t, service, "the guide's service= package")
	o[service+"/xa-root.pem"] = rootPEM
	jt, err := os.ReadFile(journeyTest)
	require.NoError(t, err)
	o["examples/citizen-journey/xaland_journey_test.go"] = jt
	ovDir := filepath.Join(dir, "overlay")
	require.NoError(t, os.Mkdir(ovDir, 0o755))
	ov := "-overlay=" + o.write(t, root, ovDir)

	dpi := filepath.Join(dir, "dpi")
	out, err := goCmd(t, root, nil, "build", ov, "-o", dpi, "./cmd/dpi")
	require.NoError(t, err, out)

	t.Run("vet", func(t *testing.T) {
		t.Parallel()
		out, err := goCmd(t, root, nil, "vet", ov, "./identity/...", "./consent/", "./notify/", "./examples/citizen-journey/", "./cmd/dpi/", "./"+service)
		assert.NoError(t, err, out)
	})

	t.Run("package tests", func(t *testing.T) {
		t.Parallel()
		env := []string{"DPI_FORKTEST_DOC=" + filepath.Join(dir, "doc.txt"), "DPI_FORKTEST_SIG=" + filepath.Join(dir, "doc.p7s")}
		// Everything but what does not depend on the country and takes long: the consent
		// page in a browser, the identity tests of key-set endpoints and refresh timing,
		// and notify's outbox, mailbox and delivery tests (its rules and calendars run).
		out, err := goCmd(t, root, env, "test", ov, "-v",
			"-skip", "^(TestPageInBrowser|TestBadKeySetEndpoints|TestCacheControlDrivesBackgroundRefresh)$",
			"./identity/", "./consent/", "./examples/citizen-journey/")
		require.NoError(t, err, tail(out))
		out2, err := goCmd(t, root, env, "test", ov, "-v", "-run", "^(TestRule|TestCalendar)", "./notify/")
		require.NoError(t, err, tail(out2))
		// The fork's own tests ran: the guide's, and the journey's steps for Xaland.
		for _, name := range []string{"TestXaIDNationalNumberAndLevel", "TestProfilesAreValid/xaid", "TestEveryBasisIsWellFormed/XA-PDPA-5-A",
			"TestEveryCountryHasConsentAndAPublicBasis/XA", "TestXalandIsRegistered", "TestXalandJourney", "TestRuleXADue"} {
			assert.Contains(t, out+out2, "--- PASS: "+name+" ", "%s ran and passed", name)
		}
	})

	t.Run("national ID tests", func(t *testing.T) {
		t.Parallel()
		// The package reads testdata/vectors.json when it runs, which an overlay cannot
		// change: its test binary, built with the guide's files, runs in a copy of
		// testdata/ that holds the appended vectors.
		bin := filepath.Join(dir, "nationalid.test")
		out, err := goCmd(t, root, nil, "test", ov, "-c", "-o", bin, "./identity/nationalid/")
		require.NoError(t, err, out)
		run := t.TempDir()
		require.NoError(t, os.CopyFS(filepath.Join(run, "testdata"), os.DirFS(filepath.Join(root, "identity/nationalid/testdata"))))
		vectors := "identity/nationalid/testdata/vectors.json"
		require.Contains(t, o, vectors, "the guide appends to %s", vectors)
		require.NoError(t, os.Chmod(filepath.Join(run, "testdata", "vectors.json"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(run, "testdata", "vectors.json"), o[vectors], 0o644))
		// The python-stdnum comparison covers the schemes it maps, which XA is not.
		cmd := exec.CommandContext(t.Context(), bin, "-test.v", "-test.skip", "^TestDifferentialStdnum$")
		cmd.Dir = run
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, tail(string(b)))
		for _, name := range []string{"TestEverySchemeHasAValidExample", "TestValid/XA/nin/1234-5678-2", "TestInvalid/XA/nin/1234-5678-3", "TestValidateDoesNotAllocate"} {
			assert.Contains(t, string(b), "--- PASS: "+name+" ", "%s ran and passed", name)
		}
	})

	t.Run("the guide's commands", func(t *testing.T) {
		var n int
		for _, b := range blocks {
			if b.lang != "console" {
				continue
			}
			for _, c := range consoleCommands(t, b) {
				n++
				_, out := runDPI(t, dpi, nil, c.args...)
				assertLines(t, c.want, out, "forking.md:%d: dpi %s", b.line, strings.Join(c.args, " "))
			}
		}
		assert.GreaterOrEqual(t, n, 4)
	})

	t.Run("dpi id", func(t *testing.T) {
		code, out := runDPI(t, dpi, nil, "id", "validate", "--country", "XA", "--scheme", "nin", "1234-5678-2")
		assert.Equal(t, 0, code, out)
		code, out = runDPI(t, dpi, nil, "id", "validate", "--country", "XA", "--scheme", "nin", "1234-5678-3")
		assert.Equal(t, 1, code, out)
		code, out = runDPI(t, dpi, nil, "id", "schemes", "--json")
		require.Equal(t, 0, code, out)
		var schemes []struct{ Country, Name string }
		require.NoError(t, json.Unmarshal([]byte(out), &schemes))
		assert.Contains(t, schemes, struct{ Country, Name string }{"XA", "nin"})
	})

	t.Run("dpi eid", func(t *testing.T) {
		idp, err := dpitest.StartIdP(dpitest.IdPOptions{
			ACR:   "urn:xa:loa:2",
			Users: map[string]map[string]any{"xa-0001": {"name": "Ana Example", "nin": "1234-5678-2"}},
		})
		require.NoError(t, err)
		t.Cleanup(idp.Close)
		// StartIdP sets the issuer its handlers read after its server has started. A
		// request from this process first orders that write before the handlers run, for
		// the race detector, which cannot see the ordering through dpi's process.
		res, err := http.Get(idp.Issuer() + "/.well-known/openid-configuration")
		require.NoError(t, err)
		res.Body.Close()
		token, err := idp.MintIDToken(nil)
		require.NoError(t, err)
		code, out := runDPI(t, dpi, nil, "eid", "verify", "--profile", "xaid", "--issuer", idp.Issuer(),
			"--audience", "test-client", "--min-loa", "substantial", "--json", token)
		require.Equal(t, 0, code, out)
		var v struct {
			Accepted bool
			Identity struct {
				NationalID struct {
					Country, Scheme, Value string
					Validated              bool
				} `json:"national_id"`
				Assurance struct{ LoA string }
			}
		}
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		assert.True(t, v.Accepted)
		assert.Equal(t, "XA", v.Identity.NationalID.Country)
		assert.Equal(t, "nin", v.Identity.NationalID.Scheme)
		assert.True(t, v.Identity.NationalID.Validated)
		assert.Equal(t, "substantial", v.Identity.Assurance.LoA)
	})

	t.Run("dpi consent", func(t *testing.T) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		der, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		keyFile := filepath.Join(t.TempDir(), "controller.pem")
		require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
		personKey := make([]byte, 32)
		_, err = rand.Read(personKey)
		require.NoError(t, err)
		env := []string{"DPI_PERSON_KEY=" + base64.StdEncoding.EncodeToString(personKey)}
		give := func(person string, extra ...string) (int, string) {
			args := append([]string{"consent", "give", "--db", "sqlite://" + filepath.Join(dir, "consent.db"), "--key", keyFile,
				"--person", person, "--controller", "agency-b.xaland.example", "--recipient", "agency-a.xaland.example",
				"--purpose", "housing-benefit", "--purpose-text", "Decide your application for housing benefit",
				"--data", "income", "--notice-url", "https://agency-b.xaland.example/notice",
				"--notice-sha256", strings.Repeat("ab", 32), "--language", "es",
				"--withdrawal", "https://agency-b.xaland.example/my-data"}, extra...)
			return runDPI(t, dpi, env, args...)
		}
		code, out := give("XA:nin:1234-5678-2")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "XA-PDPA-5-A (XA)", "the consent basis of the person's country, without --basis")
		code, out = give("XA:nid:XA 1234 5678 2", "--basis", "XA-PDPA-5-E")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "XA-PDPA-5-E (XA)")
		code, out = give("XA:nin:1234-5678-2", "--basis", "XA-PDPA-9")
		assert.Equal(t, 2, code, "an unknown basis is a usage error: %s", out)
		code, out = give("XA:nin:1234-5678-3")
		assert.Equal(t, 2, code, "an invalid national number: %s", out)
		assert.NotContains(t, out, "1234-5678-3")
	})

	t.Run("dpi verify", func(t *testing.T) {
		code, out := runDPI(t, dpi, nil, "verify", "--trust", filepath.Join(dir, "xa-root.pem"),
			filepath.Join(dir, "doc.txt"), filepath.Join(dir, "doc.p7s"))
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, "TOTAL_PASSED")
	})
}

// TestGuideTestEditsAreNeeded checks what the guide says about the two edits to test files
// and test data: with only the new files, the national ID and consent tests fail and say
// what to add. If one passes, a test no longer needs its edit: update the guide.
func TestGuideTestEditsAreNeeded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs package tests with the guide's files added")
	}
	root := moduleRoot(t)
	o := forkOverlay(t, root, readGuide(t), false)
	for p := range o {
		if strings.HasPrefix(p, serviceDir+"/") {
			delete(o, p) // a service's package: nothing imports it here
		}
	}
	dir := t.TempDir()
	ov := "-overlay=" + o.write(t, root, dir)
	out, err := goCmd(t, root, nil, "test", ov, "-count=1", "-run", "^(TestEverySchemeHasAValidExample|TestEveryBasisIsWellFormed)$",
		"./identity/nationalid/", "./consent/")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the tests must fail without the guide's test edits:\n%s", out)
	assert.Contains(t, out, "no valid example for XA nin")
	assert.Contains(t, out, "a country this test knows: add its language")
	assert.NotContains(t, out, "[build failed]")
}

type consoleCommand struct {
	args []string
	want []string
}

// consoleCommands reads "$ go run ./cmd/dpi ARGS" lines and the output lines after each.
func consoleCommands(t *testing.T, b block) []consoleCommand {
	t.Helper()
	var cmds []consoleCommand
	for _, line := range strings.Split(strings.TrimRight(b.body, "\n"), "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			args, ok := strings.CutPrefix(cmd, "go run ./cmd/dpi ")
			require.True(t, ok, "forking.md:%d: a console block runs dpi as go run ./cmd/dpi: %s", b.line, line)
			require.NotContains(t, args, `"`, "forking.md:%d: no quoting in console commands", b.line)
			cmds = append(cmds, consoleCommand{args: strings.Fields(args)})
			continue
		}
		require.NotEmpty(t, cmds, "forking.md:%d: output before a command", b.line)
		cmds[len(cmds)-1].want = append(cmds[len(cmds)-1].want, line)
	}
	return cmds
}

// assertLines checks that the wanted lines appear in out in order: consecutively, except
// where the guide has a "..." line for lines left out. Trailing spaces do not count.
func assertLines(t *testing.T, want []string, out string, msgAndArgs ...any) {
	t.Helper()
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := range got {
		got[i] = strings.TrimRight(got[i], " ")
	}
	i, gap := 0, true // the first wanted line may come anywhere
	for _, w := range want {
		if w == "..." {
			gap = true
			continue
		}
		w = strings.TrimRight(w, " ")
		j := i
		for j < len(got) && got[j] != w && gap {
			j++
		}
		if j >= len(got) || got[j] != w {
			assert.Fail(t, fmt.Sprintf("line %q not found where the guide shows it in:\n%s", w, out), msgAndArgs...)
			return
		}
		i, gap = j+1, false
	}
}

// tail returns the end of a long test output, for a failure message.
func tail(out string) string {
	lines := strings.Split(out, "\n")
	if len(lines) > 150 {
		lines = append([]string{"..."}, lines[len(lines)-150:]...)
	}
	return strings.Join(lines, "\n")
}

// runDPI runs the dpi binary built with the guide's files, and returns its exit code and
// its standard output followed by its standard error.
func runDPI(t *testing.T, dpi string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), dpi, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String() + stderr.String()
	}
	require.NoError(t, err)
	return 0, stdout.String() + stderr.String()
}
