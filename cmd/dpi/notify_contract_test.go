package main

// The contract of the dpi notify commands (issue 13): subcommand and flag names, the exit
// codes each usage documents, the secrets' environment variables, and the JSON field names
// scripts read. Like contract_test.go, a change that breaks a script fails here, by name.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

func TestContractNotifyCommands(t *testing.T) {
	code, out, _ := contractRun(t, "", "help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "\n  notify ", "dpi help lists notify")

	code, out, _ = contractRun(t, "", "notify", "help")
	require.Equal(t, exitOK, code)
	for _, c := range []string{"send", "run", "status", "evidence"} {
		assert.Contains(t, out, "\n  "+c+" ", "dpi notify help lists %s", c)
	}
	assert.Contains(t, out, "0 valid or done, 1 rejected, 2 usage or unreadable input, 3 indeterminate")

	code, out, errOut := contractRun(t, "", "notify")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "usage: dpi notify")

	code, _, errOut = contractRun(t, "", "notify", "nope")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "nope"`)
}

// TestContractNotifyFlags pins each notify subcommand's flags and the exit codes its usage
// documents.
func TestContractNotifyFlags(t *testing.T) {
	channel := []string{"webhook-secret", "smtp-host", "smtp-port", "smtp-user", "from", "smtp-ca", "smtp-implicit-tls",
		"insecure-smtp-plaintext", "sms-url", "sms-token", "sms-user", "sms-format", "sms-from", "insecure-allow-http"}
	channelUsage := []string{"DPI_WEBHOOK_SECRET", "DPI_SMTP_PASSWORD", "DPI_SMS_TOKEN", "DPI_SMS_PASSWORD", "STARTTLS is required"}
	tests := []struct {
		cmd   string
		flags []string
		usage []string
	}{
		{cmd: "send", flags: append([]string{"db", "key", "log", "template", "to", "var", "idempotency-key", "reference", "callback-url", "queue"}, channel...),
			usage: append([]string{"its ID is the last line", "Subject: ...", "stores and sends nothing new", "a status callback signed with the webhook secret",
				"Exit 0 delivered (or stored, with --queue), 1 delivery failed for good", "2 usage error", "3 stored but not delivered yet"}, channelUsage...)},
		{cmd: "run", flags: append([]string{"db", "key", "log", "until-empty", "workers", "nats", "nats-stream"}, channel...),
			usage: append([]string{"The database is never created", "[--nats URL [--nats-stream NAME]]", "share the work through a NATS JetStream stream",
				"--until-empty does not go with --nats", "Exit 0 done", "2 usage error", "the NATS server unreachable or without JetStream"}, channelUsage...)},
		{cmd: "evidence", flags: []string{"db", "key", "log", "sender", "rule", "tz", "holiday", "verify", "pubkey", "log-pubkey"},
			usage: []string{"prints the proof of delivery", "verifies without the database", "Exit 0 exported, or valid; 1 the proof is rejected", "2 usage error"}},
		{cmd: "status", flags: []string{"db", "log"},
			usage: []string{"needs no key", "Exit 0 delivered, 1 failed for good", "or no such notification", "2 usage error", "3 not delivered yet"}},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			code, out, help := contractRun(t, "", "notify", tc.cmd, "--help")
			require.Equal(t, exitOK, code, "--help is not an error")
			assert.Empty(t, out)
			assert.Contains(t, help, "usage: dpi notify "+tc.cmd)
			for _, f := range append(tc.flags, "json") {
				assert.True(t, strings.Contains(help, "\n  -"+f+" ") || strings.Contains(help, "\n  -"+f+"\n"),
					"flag --%s in:\n%s", f, help)
			}
			assert.Contains(t, help, `(default "`+defaultNotifyLog+`")`, "--log has a documented default")
			for _, u := range tc.usage {
				assert.Contains(t, oneLine(help), u)
			}
			code, out, errOut := contractRun(t, "", "notify", tc.cmd, "--no-such-flag")
			assert.Equal(t, exitUsage, code, "an unknown flag is a usage error")
			assert.Empty(t, out)
			assert.Contains(t, errOut, "flag provided but not defined: -no-such-flag")
		})
	}
}

// TestContractNotifyJSON pins the JSON field names of the notify commands, on SQLite and
// PostgreSQL, and that errors under --json print nothing on stdout.
func TestContractNotifyJSON(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, _ *store.DB) {
		f := newNotifyFixture(t, dsn)
		notificationFields := []string{"attempts", "channel", "content", "created", "id", "reference", "status", "to", "updated"}

		code, out, errOut := f.sendWebhook(t, "--json", "--idempotency-key", "k1")
		require.Equal(t, exitOK, code, errOut)
		var v map[string]json.RawMessage
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"notification"}, keysOf(v))
		var n map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v["notification"], &n))
		assert.Equal(t, notificationFields, keysOf(n))
		assert.Equal(t, `"delivered"`, string(n["status"]))
		var content map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(n["content"], &content))
		assert.Equal(t, []string{"text"}, keysOf(content))
		var id string
		require.NoError(t, json.Unmarshal(n["id"], &id))

		code, out, _ = f.sendWebhook(t, "--json", "--idempotency-key", "k1")
		require.Equal(t, exitOK, code)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"duplicate", "notification"}, keysOf(v))

		code, out, _ = f.run(t, "status", id, "--json")
		require.Equal(t, exitOK, code)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"history", "notification"}, keysOf(v))
		var hist []map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v["history"], &hist))
		require.Len(t, hist, 3)
		assert.Equal(t, []string{"at", "attempt", "channel", "reference", "status"}, keysOf(hist[0]))
		assert.Equal(t, []string{"at", "attempt", "status"}, keysOf(hist[2]))

		f.hook.setStatus(503)
		code, out, _ = f.sendWebhook(t, "--json")
		require.Equal(t, exitIndeterminate, code)
		v, n = nil, nil
		onlyJSON(t, out, &v)
		require.NoError(t, json.Unmarshal(v["notification"], &n))
		assert.Equal(t, []string{"attempts", "channel", "content", "created", "id", "nextAttempt", "reason", "reference", "status", "to", "updated"}, keysOf(n))

		code, out, _ = f.run(t, "run", "--until-empty", "--json", "--webhook-secret", testWebhookSecret, "--insecure-allow-http")
		require.Equal(t, exitOK, code)
		v = nil
		onlyJSON(t, out, &v)
		assert.Equal(t, []string{"attempts", "delivered", "failed", "retrying"}, keysOf(v))

		// Refusals and usage errors print nothing on stdout under --json.
		for name, args := range map[string][]string{
			"status of no notification": {"status", "ntf_nosuch"},
			"send without --to":         {"send", "--template", f.file(t, "x.txt", "x")},
			"run without a channel":     {"run"},
		} {
			code, out, errOut := f.run(t, args[0], append(args[1:], "--json")...)
			assert.NotEqual(t, exitOK, code, name)
			assert.Empty(t, out, name)
			assert.NotEmpty(t, errOut, name)
		}
		f.assertNoSecret(t)
	})
}
