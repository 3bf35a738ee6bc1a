package consent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// fixture is a consent store on a database, with a clock the test moves.
type fixture struct {
	db     *store.DB
	log    *evidence.Log
	store  *consent.Store
	pseudo *consent.Pseudonymizer
	key    ed25519.PrivateKey
	now    time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	_, logKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	f.log, err = evidence.Open(ctx, db, evidence.Config{Origin: "agency-b.example/consent", Signer: logKey})
	require.NoError(t, err)
	_, f.key, err = ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	f.store, err = consent.Open(ctx, db, consent.Config{Log: f.log, Signer: f.key, Now: func() time.Time { return f.now }})
	require.NoError(t, err)
	personKey := make([]byte, 32)
	_, _ = rand.Read(personKey)
	f.pseudo, err = consent.NewPseudonymizer(personKey)
	require.NoError(t, err)
	return f
}

func grant(person consent.PersonRef) consent.Grant {
	return consent.Grant{
		Person:         person,
		Controller:     "agency-b.example",
		Recipients:     []string{"agency-a.example"},
		Purposes:       []consent.Purpose{{Code: "benefits", Text: "Decide your application for housing benefit"}},
		DataCategories: []string{"income", "address"},
		LegalBasis:     "BR-LGPD-7-I",
		Notice:         consent.Notice{URL: "https://agency-b.example/notice", Version: "3", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Language:       "pt-BR",
		Method:         "web-form",
		ValidFor:       90 * 24 * time.Hour,
		Withdrawal:     "https://agency-b.example/my-data",
	}
}

func request(person consent.PersonRef) consent.Request {
	return consent.Request{Person: person, Controller: "agency-b.example", Recipient: "agency-a.example", Purpose: "benefits", DataCategories: []string{"income"}}
}

func TestGiveAuthorizeWithdraw(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ana := f.pseudo.Person("BR", "cpf", "39053344705")

		ch, err := f.store.Give(ctx, grant(ana))
		require.NoError(t, err)
		assert.Equal(t, consent.Given, ch.Record.Status)
		r, err := consent.VerifyReceipt(ch.Receipt, f.key.Public())
		require.NoError(t, err)
		assert.Equal(t, ch.Record.ID, r.Record.ID)
		assert.Equal(t, ch.Event.Log.LeafHash, r.Event.Log.LeafHash)

		d, err := f.store.Authorize(ctx, request(ana))
		require.NoError(t, err)
		require.True(t, d.Allow, d.Reason)
		assert.Equal(t, 1, d.Record.Uses)

		other := request(ana)
		other.Recipient = "agency-c.example"
		d, err = f.store.Authorize(ctx, other)
		require.NoError(t, err)
		assert.False(t, d.Allow)
		assert.Equal(t, consent.ReasonRecipient, d.Reason)

		bia := f.pseudo.Person("BR", "cpf", "11144477735")
		_, err = f.store.Withdraw(ctx, bia, ch.Record.ID)
		assert.ErrorIs(t, err, consent.ErrNotYours)
		w, err := f.store.Withdraw(ctx, ana, ch.Record.ID)
		require.NoError(t, err)
		assert.Equal(t, consent.Withdrawn, w.Record.Status)
		_, err = f.store.Withdraw(ctx, ana, ch.Record.ID)
		assert.ErrorIs(t, err, consent.ErrTransition)

		d, err = f.store.Authorize(ctx, request(ana))
		require.NoError(t, err)
		assert.False(t, d.Allow)
		assert.Equal(t, consent.ReasonWithdrawn, d.Reason)

		h, err := f.store.History(ctx, ana)
		require.NoError(t, err)
		assert.Len(t, h.Records, 1)
		assert.Len(t, h.Events, 2)
		assert.Len(t, h.Uses, 1)

		rep, err := f.store.Verify(ctx, f.log.Verifier())
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Records)
		assert.Equal(t, 2, rep.Events)
		assert.Equal(t, 1, rep.Uses)
	})
}

func TestVerifyNamesEditedRows(t *testing.T) {
	for _, c := range []struct{ name, sql, detail string }{
		{"status", "UPDATE consent_records SET status = 'ConsentGiven'", "status"},
		{"uses", "UPDATE consent_records SET uses = 0", "uses"},
		{"doc", "UPDATE consent_records SET doc = replace(doc, 'agency-a.example', 'agency-x.example')", "doc"},
		{"person", "UPDATE consent_records SET person = 'pr1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'", "person"},
		{"deleted", "DELETE FROM consent_records", "row deleted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, "sqlite://:memory:")
			require.NoError(t, err)
			defer db.Close()
			f := newFixture(t, db)
			ana := f.pseudo.Person("BR", "cpf", "39053344705")
			ch, err := f.store.Give(ctx, grant(ana))
			require.NoError(t, err)
			_, err = f.store.Authorize(ctx, request(ana))
			require.NoError(t, err)
			_, err = f.store.Withdraw(ctx, ana, ch.Record.ID)
			require.NoError(t, err)
			_, err = f.store.Verify(ctx, f.log.Verifier())
			require.NoError(t, err)

			_, err = db.ExecContext(ctx, c.sql)
			require.NoError(t, err)
			_, err = f.store.Verify(ctx, f.log.Verifier())
			require.ErrorIs(t, err, consent.ErrTampered)
			var te *consent.TamperError
			require.True(t, errors.As(err, &te))
			require.Len(t, te.Records, 1)
			assert.Equal(t, ch.Record.ID, te.Records[0].ID)
			assert.Contains(t, te.Records[0].Detail, c.detail)
		})
	}
}
