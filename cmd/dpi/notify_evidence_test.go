package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// nullPrinter accepts every letter.
type nullPrinter struct{}

func (nullPrinter) Print(context.Context, *notify.LetterDocument) error { return nil }

// TestNotifyEvidence exports the proof of delivery of a legal notice an agency's service
// sent with the library, and checks it offline from the file alone.
func TestNotifyEvidence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite://" + filepath.Join(dir, "notify.db")
	key := newEd25519Key(t)
	keyPath := writePrivateKey(t, key)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	require.NoError(t, err)
	pubPath := filepath.Join(dir, "notify.pub")
	require.NoError(t, os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))

	// The service's side: a legal notice made available in the mailbox and opened.
	db, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: defaultNotifyLog, Signer: key})
	require.NoError(t, err)
	mb, err := notify.OpenMailbox(ctx, db, notify.MailboxConfig{Log: l})
	require.NoError(t, err)
	letter, err := notify.NewLetterChannel(notify.LetterConfig{Printer: nullPrinter{}})
	require.NoError(t, err)
	o, err := notify.Open(ctx, db, notify.Config{Log: l, Channels: []notify.Channel{mb, letter}})
	require.NoError(t, err)
	cal, err := notify.NewCalendar(notify.CalendarConfig{Location: time.UTC})
	require.NoError(t, err)
	legal, err := notify.NewLegal(notify.LegalConfig{Outbox: o, Mailbox: mb, Rule: &notify.RuleES, Calendar: cal,
		Sender: "Agencia Ejemplo", Letter: "letter", Signer: key})
	require.NoError(t, err)
	tmpl, err := notify.ParseTemplate(notify.TextTemplate, "Resolución ((ref)): concedida.")
	require.NoError(t, err)
	id, err := legal.Send(ctx, notify.LegalNotice{To: "pr1:ana", PostalAddress: "Ana\nCalle 1", Template: tmpl,
		Personalisation: map[string]any{"ref": "EXP-9"}, Reference: "EXP-9"})
	require.NoError(t, err)
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: 1})
	require.NoError(t, err)
	require.NoError(t, d.RunUntilEmpty(ctx))
	_, err = mb.Open(ctx, "pr1:ana", id)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	code, out, errOut := runCLI(t, "notify", "evidence", "--db", dsn, "--key", keyPath, "--sender", "Agencia Ejemplo", "--rule", "es", id)
	require.Equal(t, exitOK, code, errOut)
	var p notify.Proof
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	proofPath := filepath.Join(dir, "proof.json")
	require.NoError(t, os.WriteFile(proofPath, []byte(out), 0o600))

	code, out, errOut = runCLI(t, "notify", "evidence", "--verify", proofPath, "--pubkey", pubPath)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "proof of delivery: valid")
	assert.Contains(t, out, "notification: "+id)
	assert.Contains(t, out, "sender: Agencia Ejemplo")
	assert.Contains(t, out, "status: opened")

	code, out, errOut = runCLI(t, "notify", "evidence", "--verify", proofPath, "--pubkey", pubPath, "--json")
	require.Equal(t, exitOK, code, errOut)
	var st notify.ProofStatement
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, id, st.ID)
	assert.Equal(t, notify.RuleES.ID, st.Rule)
	assert.False(t, st.Opened.IsZero())

	// Tampered, or checked with another key: rejected.
	tampered := filepath.Join(dir, "tampered.json")
	require.NoError(t, os.WriteFile(tampered, []byte(strings.Replace(string(mustRead(t, proofPath)), `"seq": `, `"seq": 1`, 1)), 0o600))
	code, _, _ = runCLI(t, "notify", "evidence", "--verify", tampered, "--pubkey", pubPath)
	assert.Equal(t, exitRejected, code)
	other := newEd25519Key(t)
	der, err = x509.MarshalPKIXPublicKey(other.Public())
	require.NoError(t, err)
	otherPub := filepath.Join(dir, "other.pub")
	require.NoError(t, os.WriteFile(otherPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	code, _, errOut = runCLI(t, "notify", "evidence", "--verify", proofPath, "--pubkey", otherPub, "--log-pubkey", pubPath)
	assert.Equal(t, exitRejected, code, errOut)

	// No such notice, unknown rule, usage.
	code, _, _ = runCLI(t, "notify", "evidence", "--db", dsn, "--key", keyPath, "--sender", "A", "--rule", "ES", "ntf_nope")
	assert.Equal(t, exitRejected, code)
	code, _, _ = runCLI(t, "notify", "evidence", "--db", dsn, "--key", keyPath, "--sender", "A", "--rule", "XX", id)
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, "notify", "evidence", "--db", dsn, "--key", keyPath, id)
	assert.Equal(t, exitUsage, code, "--sender and --rule are required")
	code, _, _ = runCLI(t, "notify", "evidence", "--verify", proofPath)
	assert.Equal(t, exitUsage, code, "--pubkey is required")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
