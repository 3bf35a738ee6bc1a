package main

// The contract of the dpi consent commands (issue 11): subcommand and flag names, the exit
// codes each usage documents, and the JSON field names scripts read. Like contract_test.go,
// a change that breaks a script fails here, by name.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

func TestContractConsentCommands(t *testing.T) {
	code, out, _ := contractRun(t, "", "help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "\n  consent ", "dpi help lists consent")

	code, out, _ = contractRun(t, "", "consent", "help")
	require.Equal(t, exitOK, code)
	for _, c := range []string{"give", "check", "withdraw", "list", "receipt", "verify"} {
		assert.Contains(t, out, "\n  "+c+" ", "dpi consent help lists %s", c)
	}
	assert.Contains(t, out, "0 valid or done, 1 rejected, 2 usage or unreadable input, 3 indeterminate")

	code, out, errOut := contractRun(t, "", "consent")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "usage: dpi consent")
}

// TestContractConsentFlags pins each consent subcommand's flags and the exit codes its usage
// documents.
func TestContractConsentFlags(t *testing.T) {
	common := []string{"db", "key", "log", "json"}
	tests := []struct {
		cmd   string
		flags []string
		usage []string
	}{
		{cmd: "give", flags: []string{"person", "controller", "recipient", "purpose", "purpose-text", "data", "basis",
			"notice-url", "notice-version", "notice-file", "notice-sha256", "language", "method", "withdrawal", "valid-for", "until", "max-uses"},
			usage: []string{"the new record's ID is the last line", "Exit 0 recorded, 1 the consent log does not extend its latest checkpoint", "2 usage error", "DPI_PERSON_KEY"}},
		{cmd: "check", flags: []string{"person", "controller", "recipient", "purpose", "data", "at"},
			usage: []string{"It records nothing", "Exit 0 allowed, 1 denied, 2 usage error", "3 indeterminate", "DPI_PERSON_KEY", "the reason on stderr"}},
		{cmd: "withdraw", flags: []string{"person"},
			usage: []string{"RECORD_ID", "Exit 0 withdrawn, 1 refused: no such record, another person's record", "2 usage error", "DPI_PERSON_KEY"}},
		{cmd: "list", flags: []string{"person"},
			usage: []string{"Exit 0 listed", "2 usage error", "DPI_PERSON_KEY"}},
		{cmd: "receipt", usage: []string{"RECORD_ID", "compact JWS", "Exit 0 printed, 1 no such record", "2 usage error"}},
		{cmd: "verify", usage: []string{"Exit 0 intact, 1 tampered: each record at fault is named", "2 usage error"}},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			code, out, help := contractRun(t, "", "consent", tc.cmd, "--help")
			require.Equal(t, exitOK, code, "--help is not an error")
			assert.Empty(t, out)
			assert.Contains(t, help, "usage: dpi consent "+tc.cmd)
			for _, f := range append(tc.flags, common...) {
				assert.True(t, strings.Contains(help, "\n  -"+f+" ") || strings.Contains(help, "\n  -"+f+"\n"),
					"flag --%s in:\n%s", f, help)
			}
			assert.Contains(t, help, `(default "`+defaultConsentLog+`")`, "--log has a documented default")
			for _, u := range tc.usage {
				assert.Contains(t, oneLine(help), u)
			}
			code, out, errOut := contractRun(t, "", "consent", tc.cmd, "--no-such-flag")
			assert.Equal(t, exitUsage, code, "an unknown flag is a usage error")
			assert.Empty(t, out)
			assert.Contains(t, errOut, "flag provided but not defined: -no-such-flag")
		})
	}
}

// TestContractConsentJSON pins the JSON field names of the consent commands, on SQLite and
// PostgreSQL, and that errors under --json print nothing on stdout.
func TestContractConsentJSON(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		f := newConsentFixture(t, dsn)
		ana := "BR:cpf:" + anaCPF
		jsonRun := func(t *testing.T, wantCode int, cmd string, args ...string) map[string]json.RawMessage {
			t.Helper()
			code, out, errOut := f.run(t, cmd, append(args, "--json")...)
			require.Equal(t, wantCode, code, errOut)
			var v map[string]json.RawMessage
			onlyJSON(t, out, &v)
			return v
		}
		recordFields := []string{"collectionMethod", "controller", "created", "dataCategories", "id", "jurisdiction", "language",
			"legalBasis", "notice", "person", "purposes", "recipients", "status", "updated", "uses", "validity", "withdrawal"}

		v := jsonRun(t, exitOK, "give", f.giveArgs(ana)...)
		assert.Equal(t, []string{"event", "receipt", "record"}, keysOf(v))
		var rec map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v["record"], &rec))
		assert.Equal(t, recordFields, keysOf(rec))
		var ev map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v["event"], &ev))
		assert.Equal(t, []string{"at", "by", "log", "recordId", "status"}, keysOf(ev))
		var ch consent.Change
		require.NoError(t, json.Unmarshal(mustJSON(t, v), &ch))
		_, err := consent.VerifyReceipt(ch.Receipt, f.pub)
		require.NoError(t, err)
		id := ch.Record.ID

		v = jsonRun(t, exitOK, "check", checkArgs(ana, "agency-a.example")...)
		assert.Equal(t, []string{"allow", "reason", "record"}, keysOf(v))
		assert.Equal(t, `true`, string(v["allow"]))
		assert.Equal(t, `"allowed"`, string(v["reason"]))
		v = jsonRun(t, exitRejected, "check", checkArgs(ana, "agency-c.example")...)
		assert.Equal(t, []string{"allow", "reason", "record"}, keysOf(v))
		assert.Equal(t, `false`, string(v["allow"]))
		assert.Equal(t, `"recipient-not-named"`, string(v["reason"]))
		v = jsonRun(t, exitRejected, "check", checkArgs("BR:cpf:"+biaCPF, "agency-a.example")...)
		assert.Equal(t, []string{"allow", "reason"}, keysOf(v))
		assert.Equal(t, `"no-record"`, string(v["reason"]))

		code, out, errOut := f.run(t, "list", "--person", ana, "--json")
		require.Equal(t, exitOK, code, errOut)
		var list []map[string]json.RawMessage
		onlyJSON(t, out, &list)
		require.Len(t, list, 1)
		assert.Equal(t, recordFields, keysOf(list[0]))
		code, out, _ = f.run(t, "list", "--person", "BR:cpf:"+biaCPF, "--json")
		require.Equal(t, exitOK, code)
		assert.Equal(t, "[]\n", out, "no records is an empty array, not null")

		v = jsonRun(t, exitOK, "receipt", id)
		assert.Equal(t, []string{"receipt", "recordId"}, keysOf(v))

		v = jsonRun(t, exitOK, "withdraw", "--person", ana, id)
		assert.Equal(t, []string{"event", "receipt", "record"}, keysOf(v))
		require.NoError(t, json.Unmarshal(v["record"], &rec))
		assert.Equal(t, `"ConsentWithdrawn"`, string(rec["status"]))

		v = jsonRun(t, exitOK, "verify")
		assert.Equal(t, []string{"intact", "report"}, keysOf(v))
		var rep map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v["report"], &rep))
		assert.Equal(t, []string{"erased", "events", "log", "records", "uses"}, keysOf(rep))

		_, err = db.ExecContext(context.Background(), db.Rebind("UPDATE consent_records SET uses = 7 WHERE id = ?"), id)
		require.NoError(t, err)
		v = jsonRun(t, exitRejected, "verify")
		assert.Equal(t, []string{"error", "faults", "intact", "report"}, keysOf(v))
		var faults []consent.RecordFault
		require.NoError(t, json.Unmarshal(v["faults"], &faults))
		require.Len(t, faults, 1)
		assert.Equal(t, id, faults[0].ID)
		assert.Contains(t, faults[0].Detail, "uses")

		// Refusals and usage errors print nothing on stdout under --json.
		for name, args := range map[string][]string{
			"withdraw twice":       {"withdraw", "--person", ana, id},
			"withdraw not yours":   {"withdraw", "--person", "BR:cpf:" + biaCPF, id},
			"receipt of no record": {"receipt", "cr_aaaaaaaaaaaaaaaaaaaaaaaaaa"},
			"give without --data":  {"give", "--person", ana, "--controller", "c", "--recipient", "r", "--purpose", "p", "--purpose-text", "t"},
		} {
			code, out, errOut := f.run(t, args[0], append(args[1:], "--json")...)
			assert.NotEqual(t, exitOK, code, name)
			assert.Empty(t, out, name)
			assert.NotEmpty(t, errOut, name)
		}
		f.assertNoNationalNumber(t)
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
