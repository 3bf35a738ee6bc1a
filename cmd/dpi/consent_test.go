package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// The national numbers of the tests' people, in the forms a caller may type them. None may
// ever appear in what dpi prints.
const (
	anaCPF, anaCPFCompact = "529.982.247-25", "52998224725"
	biaCPF, biaCPFCompact = "111.444.777-35", "11144477735"
)

var recordIDPattern = regexp.MustCompile(`^cr_[a-z2-7]{26}$`)

// consentFixture is a controller key, a notice and a person key, for one database.
type consentFixture struct {
	dsn    string
	key    string
	pub    crypto.PublicKey
	notice string
	// outputs collects everything dpi printed, to check that no national number is in it.
	outputs []string
}

func newConsentFixture(t *testing.T, dsn string) *consentFixture {
	t.Helper()
	k := newEd25519Key(t)
	dir := t.TempDir()
	notice := filepath.Join(dir, "notice.txt")
	require.NoError(t, os.WriteFile(notice, []byte("Agency B shares your income with agency A to decide your housing benefit.\n"), 0o600))
	setPersonKey(t)
	return &consentFixture{dsn: dsn, key: writePrivateKey(t, k), pub: k.Public(), notice: notice}
}

// setPersonKey sets a random DPI_PERSON_KEY for the test.
func setPersonKey(t *testing.T) {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t.Setenv(personKeyEnv, base64.StdEncoding.EncodeToString(b))
}

// run runs "dpi consent CMD --db --key ARGS..." and records what it printed.
func (f *consentFixture) run(t *testing.T, cmd string, args ...string) (int, string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"consent", cmd, "--db", f.dsn, "--key", f.key}, args...)...)
	f.outputs = append(f.outputs, out, errOut)
	return code, out, errOut
}

// giveArgs are the flags of a consent by person to agency B sharing income and address
// with agency A, for benefits.
func (f *consentFixture) giveArgs(person string, extra ...string) []string {
	return append([]string{
		"--person", person, "--controller", "agency-b.example", "--recipient", "agency-a.example",
		"--purpose", "benefits", "--purpose-text", "Decide your application for housing benefit",
		"--data", "income", "--data", "address",
		"--notice-url", "https://agency-b.example/notice", "--notice-version", "3", "--notice-file", f.notice,
		"--language", "pt-BR", "--method", "web-form", "--withdrawal", "https://agency-b.example/my-data",
	}, extra...)
}

// give records a consent and returns its ID, the last line of stdout.
func (f *consentFixture) give(t *testing.T, person string, extra ...string) string {
	t.Helper()
	code, out, errOut := f.run(t, "give", f.giveArgs(person, extra...)...)
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := lines[len(lines)-1]
	require.Regexp(t, recordIDPattern, id, "the record ID is the last line:\n%s", out)
	return id
}

func checkArgs(person, recipient string) []string {
	return []string{"--person", person, "--controller", "agency-b.example", "--recipient", recipient, "--purpose", "benefits", "--data", "income"}
}

// assertNoNationalNumber checks that no output of the fixture holds a national number.
func (f *consentFixture) assertNoNationalNumber(t *testing.T) {
	t.Helper()
	for _, out := range f.outputs {
		for _, n := range []string{anaCPF, anaCPFCompact, biaCPF, biaCPFCompact} {
			assert.NotContains(t, out, n, "a national number was printed")
		}
	}
}

func TestConsentCLI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		f := newConsentFixture(t, dsn)
		ana := "BR:cpf:" + anaCPF
		id := f.give(t, ana, "--valid-for", "90d")

		code, out, errOut := f.run(t, "check", checkArgs("br:CPF:"+anaCPFCompact, "agency-a.example")...)
		require.Equal(t, exitOK, code, "the same person in another form: %s", errOut)
		assert.Contains(t, out, "allowed: record "+id)
		assert.Empty(t, errOut)

		code, out, errOut = f.run(t, "check", checkArgs(ana, "agency-c.example")...)
		assert.Equal(t, exitRejected, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "denied: recipient-not-named")

		code, _, errOut = f.run(t, "check", checkArgs("BR:cpf:"+biaCPF, "agency-a.example")...)
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, errOut, "denied: no-record")

		code, out, errOut = f.run(t, "list", "--person", ana)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, id)
		assert.Contains(t, out, "ConsentGiven")
		code, out, _ = f.run(t, "list", "--person", "BR:cpf:"+biaCPF)
		require.Equal(t, exitOK, code)
		assert.Equal(t, "no records\n", out)

		code, out, errOut = f.run(t, "receipt", id)
		require.Equal(t, exitOK, code, errOut)
		r, err := consent.VerifyReceipt(strings.TrimSpace(out), f.pub)
		require.NoError(t, err, "the receipt verifies with the controller's public key")
		assert.Equal(t, id, r.Record.ID)
		assert.Equal(t, consent.Given, r.Event.Status)

		code, out, errOut = f.run(t, "withdraw", "--person", "BR:cpf:"+biaCPF, id)
		assert.Equal(t, exitRejected, code, "another person's record")
		assert.Empty(t, out)
		assert.Contains(t, errOut, "another person's")

		code, out, errOut = f.run(t, "withdraw", "--person", ana, id)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "ConsentWithdrawn")

		code, out, errOut = f.run(t, "check", checkArgs(ana, "agency-a.example")...)
		assert.Equal(t, exitRejected, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "denied: withdrawn")

		code, _, errOut = f.run(t, "withdraw", "--person", ana, id)
		assert.Equal(t, exitRejected, code, "withdrawn twice")
		assert.Contains(t, errOut, "status change not allowed")
		code, _, errOut = f.run(t, "withdraw", "--person", ana, "cr_aaaaaaaaaaaaaaaaaaaaaaaaaa")
		assert.Equal(t, exitRejected, code, "no such record")
		assert.Contains(t, errOut, "not found")

		code, out, errOut = f.run(t, "receipt", id)
		require.Equal(t, exitOK, code, errOut)
		r, err = consent.VerifyReceipt(strings.TrimSpace(out), f.pub)
		require.NoError(t, err)
		assert.Equal(t, consent.Withdrawn, r.Event.Status, "the receipt of the latest event")

		code, out, errOut = f.run(t, "verify")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "INTACT: 1 record matches")
		assert.NotContains(t, out, "under no signed checkpoint", "give and withdraw sign a checkpoint")

		// An operator puts the consent back in force behind the store's back.
		_, err = db.ExecContext(context.Background(), db.Rebind("UPDATE consent_records SET status = ? WHERE id = ?"), string(consent.Given), id)
		require.NoError(t, err)
		code, out, _ = f.run(t, "verify")
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, out, "TAMPERED: 1 record differs")
		assert.Contains(t, out, "record "+id+": row edited: status")

		f.assertNoNationalNumber(t)
	})
}

func TestConsentCLIDeletedRow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		f := newConsentFixture(t, dsn)
		kept := f.give(t, "BR:cpf:"+anaCPF)
		gone := f.give(t, "BR:cpf:"+biaCPF)
		_, err := db.ExecContext(context.Background(), db.Rebind("DELETE FROM consent_records WHERE id = ?"), gone)
		require.NoError(t, err)
		code, out, _ := f.run(t, "verify")
		assert.Equal(t, exitRejected, code)
		assert.Contains(t, out, "record "+gone+": row deleted")
		assert.NotContains(t, out, kept)
	})
}

func TestConsentCLIValidity(t *testing.T) {
	f := newConsentFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "consent.db"))
	ana := "BR:cpf:" + anaCPF
	id := f.give(t, ana, "--valid-for", "1d")
	code, _, errOut := f.run(t, "check", checkArgs(ana, "agency-a.example")...)
	require.Equal(t, exitOK, code, errOut)
	later := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	code, _, errOut = f.run(t, "check", append(checkArgs(ana, "agency-a.example"), "--at", later)...)
	assert.Equal(t, exitRejected, code)
	assert.Contains(t, errOut, "denied: expired (record "+id)
	code, _, errOut = f.run(t, "check", checkArgs(ana, "agency-a.example")...)
	assert.Equal(t, exitOK, code, "check records nothing, not even an expiry: %s", errOut)

	// A pseudonymous reference works as the person, without the person key.
	code, out, errOut := f.run(t, "give", f.giveArgs(ana, "--json")...)
	require.Equal(t, exitOK, code, errOut)
	var ch consent.Change
	require.NoError(t, json.Unmarshal([]byte(out), &ch))
	t.Setenv(personKeyEnv, "")
	code, out, errOut = f.run(t, "list", "--person", string(ch.Record.Person))
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, id)
	assert.Contains(t, out, ch.Record.ID)
	code, _, errOut = f.run(t, "give", f.giveArgs(string(ch.Record.Person))...)
	assert.Equal(t, exitUsage, code, "a reference has no country to take the basis from")
	assert.Contains(t, errOut, "--basis is required")
	code, out, errOut = f.run(t, "give", f.giveArgs(string(ch.Record.Person), "--basis", "BR-LGPD-7-I", "--max-uses", "3")...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "0 of 3 uses")
	f.assertNoNationalNumber(t)
}

// TestConsentCLIPersonKey: a national number needs DPI_PERSON_KEY, and neither the number
// nor the key is ever printed.
func TestConsentCLIPersonKey(t *testing.T) {
	f := newConsentFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "consent.db"))
	id := f.give(t, "BR:cpf:"+anaCPF)
	ana := "BR:cpf:" + anaCPF
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	for _, tc := range []struct {
		name, key, want string
	}{
		{"unset", "", personKeyEnv + " is not set"},
		{"not base64", "not base64!", personKeyEnv + " is not base64"},
		{"short", short, "at least 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(personKeyEnv, tc.key)
			for _, args := range [][]string{
				append([]string{"give"}, f.giveArgs(ana)...),
				append([]string{"check"}, checkArgs(ana, "agency-a.example")...),
				{"withdraw", "--person", ana, id},
				{"list", "--person", ana},
			} {
				code, out, errOut := f.run(t, args[0], args[1:]...)
				assert.Equal(t, exitUsage, code, "%s", args[0])
				assert.Empty(t, out)
				assert.Contains(t, errOut, tc.want)
				if tc.key != "" {
					assert.NotContains(t, errOut, tc.key)
				}
			}
		})
	}
	f.assertNoNationalNumber(t)
}

func TestConsentCLIUsage(t *testing.T) {
	dir := t.TempDir()
	f := newConsentFixture(t, "sqlite://"+filepath.Join(dir, "consent.db"))
	ana := "BR:cpf:" + anaCPF
	f.give(t, ana)
	empty := "sqlite://" + filepath.Join(dir, "empty.db")
	db, err := store.Open(context.Background(), empty)
	require.NoError(t, err)
	db.Close()
	other := writePrivateKey(t, newEd25519Key(t))
	rsaKey := filepath.Join(dir, "rsa.key")
	require.NoError(t, os.WriteFile(rsaKey, []byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"), 0o600))
	without := func(args []string, flag string) []string {
		for i, a := range args {
			if a == flag {
				return append(append([]string(nil), args[:i]...), args[i+2:]...)
			}
		}
		t.Fatalf("no %s in %v", flag, args)
		return nil
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"give without --person", append([]string{"give", "--db", f.dsn, "--key", f.key}, without(f.giveArgs(ana), "--person")...), "--person is required"},
		{"give without --recipient", append([]string{"give", "--db", f.dsn, "--key", f.key}, without(f.giveArgs(ana), "--recipient")...), "--recipient"},
		{"give without --notice-url", append([]string{"give", "--db", f.dsn, "--key", f.key}, without(f.giveArgs(ana), "--notice-url")...), "--notice-url, --language and --withdrawal"},
		{"give without the notice's hash", append([]string{"give", "--db", f.dsn, "--key", f.key}, without(f.giveArgs(ana), "--notice-file")...), "--notice-file or --notice-sha256 is required"},
		{"give with both hashes", append([]string{"give", "--db", f.dsn, "--key", f.key}, f.giveArgs(ana, "--notice-sha256", strings.Repeat("ab", 32))...), "not both"},
		{"give a purpose without its text", append([]string{"give", "--db", f.dsn, "--key", f.key}, f.giveArgs(ana, "--purpose", "statistics")...), "each --purpose needs its --purpose-text"},
		{"give a bad --valid-for", append([]string{"give", "--db", f.dsn, "--key", f.key}, f.giveArgs(ana, "--valid-for", "forever")...), "--valid-for"},
		{"give an unknown basis", append([]string{"give", "--db", f.dsn, "--key", f.key}, f.giveArgs(ana, "--basis", "XX-NONE")...), "unknown legal basis"},
		{"give in memory", append([]string{"give", "--db", "sqlite://:memory:", "--key", f.key}, f.giveArgs(ana)...), "sqlite://:memory:"},
		{"give without --key", append([]string{"give", "--db", f.dsn}, f.giveArgs(ana)...), "--db and --key are required"},
		{"give with an unusable key", append([]string{"give", "--db", f.dsn, "--key", rsaKey}, f.giveArgs(ana)...), "key:"},
		{"give with another key", append([]string{"give", "--db", f.dsn, "--key", other}, f.giveArgs(ana)...), "kept under another key"},
		{"check with another key", append([]string{"check", "--db", f.dsn, "--key", other}, checkArgs(ana, "agency-a.example")...), "kept under another key"},
		{"check two recipients", append([]string{"check", "--db", f.dsn, "--key", f.key, "--recipient", "x"}, checkArgs(ana, "agency-a.example")...), "given twice: check decides for one recipient"},
		{"check without --data", []string{"check", "--db", f.dsn, "--key", f.key, "--person", ana, "--controller", "c", "--recipient", "r", "--purpose", "p"}, "--data are required"},
		{"check a missing file", append([]string{"check", "--db", "sqlite://" + filepath.Join(dir, "none.db"), "--key", f.key}, checkArgs(ana, "agency-a.example")...), "no database file at"},
		{"check a database without consent", append([]string{"check", "--db", empty, "--key", f.key}, checkArgs(ana, "agency-a.example")...), "holds no consent log"},
		{"check another log", append([]string{"check", "--db", f.dsn, "--key", f.key, "--log", "agency.example/consent"}, checkArgs(ana, "agency-a.example")...), `no consent log "agency.example/consent"`},
		{"check a bad --at", append([]string{"check", "--db", f.dsn, "--key", f.key, "--at", "tomorrow"}, checkArgs(ana, "agency-a.example")...), "--at"},
		{"verify in memory", []string{"verify", "--db", "sqlite://:memory:", "--key", f.key}, "sqlite://:memory:"},
		{"verify with an argument", []string{"verify", "--db", f.dsn, "--key", f.key, "extra"}, "usage: dpi consent verify"},
		{"withdraw without a record", []string{"withdraw", "--db", f.dsn, "--key", f.key, "--person", ana}, "usage: dpi consent withdraw"},
		{"receipt without a record", []string{"receipt", "--db", f.dsn, "--key", f.key}, "usage: dpi consent receipt"},
		{"list without --person", []string{"list", "--db", f.dsn, "--key", f.key}, "--person is required"},
		{"a malformed person", []string{"list", "--db", f.dsn, "--key", f.key, "--person", anaCPF}, "COUNTRY:SCHEME:NUMBER"},
		{"an unknown scheme", []string{"list", "--db", f.dsn, "--key", f.key, "--person", "BR:nope:" + anaCPF}, `unknown scheme "nope" for country "BR"`},
		{"an invalid number", []string{"list", "--db", f.dsn, "--key", f.key, "--person", "BR:cpf:529.982.247-26"}, "check digit"},
		{"a malformed reference", []string{"list", "--db", f.dsn, "--key", f.key, "--person", "pr1:abc"}, "not a valid pr1: reference"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"consent"}, tc.args...)...)
			f.outputs = append(f.outputs, out, errOut)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
			assert.NotContains(t, errOut, "529.982.247-26")
		})
	}
	f.assertNoNationalNumber(t)
}
