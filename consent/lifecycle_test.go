package consent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

func memoryFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return newFixture(t, db)
}

func TestStatusTransitions(t *testing.T) {
	all := []consent.Status{consent.Requested, consent.Given, consent.Refused, consent.Renewed, consent.Withdrawn,
		consent.Revoked, consent.Expired, consent.Invalidated, consent.BasisActive, consent.BasisEnded}
	allowed := map[[2]consent.Status]bool{
		{consent.Requested, consent.Given}: true, {consent.Requested, consent.Refused}: true, {consent.Requested, consent.Expired}: true,
		{consent.Given, consent.Renewed}: true, {consent.Given, consent.Withdrawn}: true, {consent.Given, consent.Revoked}: true,
		{consent.Given, consent.Expired}: true, {consent.Given, consent.Invalidated}: true,
		{consent.Renewed, consent.Renewed}: true, {consent.Renewed, consent.Withdrawn}: true, {consent.Renewed, consent.Revoked}: true,
		{consent.Renewed, consent.Expired}: true, {consent.Renewed, consent.Invalidated}: true,
		{consent.Expired, consent.Renewed}:        true,
		{consent.BasisActive, consent.BasisEnded}: true,
	}
	for _, from := range all {
		assert.True(t, from.Known())
		for _, to := range all {
			assert.Equal(t, allowed[[2]consent.Status{from, to}], from.CanBecome(to), "%s -> %s", from, to)
		}
	}
	assert.False(t, consent.Status("ConsentMaybe").Known())
}

func TestRequestAnswerRenewRevoke(t *testing.T) {
	ctx := context.Background()
	f := memoryFixture(t)
	ana := f.pseudo.Person("BR", "cpf", "39053344705")

	asked, err := f.store.Request(ctx, grant(ana))
	require.NoError(t, err)
	assert.Equal(t, consent.Requested, asked.Record.Status)
	d, err := f.store.Check(ctx, request(ana))
	require.NoError(t, err)
	assert.Equal(t, consent.ReasonInactive, d.Reason, "a request is not consent")

	refusedReq, err := f.store.Request(ctx, grant(ana))
	require.NoError(t, err)
	no, err := f.store.Answer(ctx, ana, refusedReq.Record.ID, false)
	require.NoError(t, err)
	assert.Equal(t, consent.Refused, no.Record.Status)
	_, err = f.store.Answer(ctx, ana, refusedReq.Record.ID, true)
	assert.ErrorIs(t, err, consent.ErrTransition, "a refusal is final")

	yes, err := f.store.Answer(ctx, ana, asked.Record.ID, true)
	require.NoError(t, err)
	assert.Equal(t, consent.Given, yes.Record.Status)
	d, err = f.store.Check(ctx, request(ana))
	require.NoError(t, err)
	assert.True(t, d.Allow)

	f.now = f.now.Add(100 * 24 * time.Hour) // past the 90 days
	d, err = f.store.Authorize(ctx, request(ana))
	require.NoError(t, err)
	assert.False(t, d.Allow)
	assert.Equal(t, consent.ReasonExpired, d.Reason)
	r, err := f.store.Get(ctx, asked.Record.ID)
	require.NoError(t, err)
	assert.Equal(t, consent.Expired, r.Status, "Authorize marks a record past its time as expired")

	renewed, err := f.store.Renew(ctx, ana, asked.Record.ID, 30*24*time.Hour, 0)
	require.NoError(t, err)
	assert.Equal(t, consent.Renewed, renewed.Record.Status)
	d, err = f.store.Authorize(ctx, request(ana))
	require.NoError(t, err)
	assert.True(t, d.Allow)

	rev, err := f.store.Revoke(ctx, asked.Record.ID, "court.example", "order 123/2026")
	require.NoError(t, err)
	assert.Equal(t, "court.example", rev.Event.By)
	d, err = f.store.Authorize(ctx, request(ana))
	require.NoError(t, err)
	assert.Equal(t, consent.ReasonRevoked, d.Reason)

	h, err := f.store.History(ctx, ana)
	require.NoError(t, err)
	var statuses []consent.Status
	for _, e := range h.Events {
		if e.RecordID == asked.Record.ID {
			statuses = append(statuses, e.Status)
		}
	}
	assert.Equal(t, []consent.Status{consent.Requested, consent.Given, consent.Expired, consent.Renewed, consent.Revoked}, statuses)
	_, err = f.store.Verify(ctx, f.log.Verifier())
	require.NoError(t, err)
}

func TestDecisions(t *testing.T) {
	ctx := context.Background()
	f := memoryFixture(t)
	ana := f.pseudo.Person("BR", "cpf", "39053344705")
	bia := f.pseudo.Person("BR", "cpf", "11144477735")
	_, err := f.store.Give(ctx, grant(ana))
	require.NoError(t, err)
	start := f.now
	f.now = f.now.Add(time.Hour)

	cases := []struct {
		name   string
		change func(*consent.Request)
		allow  bool
		reason consent.Reason
	}{
		{"covered", func(*consent.Request) {}, true, consent.ReasonAllowed},
		{"all categories", func(r *consent.Request) { r.DataCategories = []string{"income", "address"} }, true, consent.ReasonAllowed},
		{"another person", func(r *consent.Request) { r.Person = bia }, false, consent.ReasonNoRecord},
		{"another controller", func(r *consent.Request) { r.Controller = "agency-z.example" }, false, consent.ReasonNoRecord},
		{"another recipient", func(r *consent.Request) { r.Recipient = "agency-c.example" }, false, consent.ReasonRecipient},
		{"another purpose", func(r *consent.Request) { r.Purpose = "marketing" }, false, consent.ReasonPurpose},
		{"a category not covered", func(r *consent.Request) { r.DataCategories = []string{"income", "health"} }, false, consent.ReasonData},
		{"before the record", func(r *consent.Request) { r.At = start.Add(-time.Minute) }, false, consent.ReasonNotYet},
		{"after its end", func(r *consent.Request) { r.At = start.Add(91 * 24 * time.Hour) }, false, consent.ReasonExpired},
	}
	for _, c := range cases {
		req := request(ana)
		c.change(&req)
		d, err := f.store.Check(ctx, req)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.allow, d.Allow, c.name)
		assert.Equal(t, c.reason, d.Reason, c.name)
	}
	for _, bad := range []func(*consent.Request){
		func(r *consent.Request) { r.Person = "39053344705" },
		func(r *consent.Request) { r.Recipient = "" },
		func(r *consent.Request) { r.Purpose = "a\nb" },
	} {
		req := request(ana)
		bad(&req)
		_, err := f.store.Check(ctx, req)
		assert.ErrorIs(t, err, consent.ErrInput)
	}
}

// A record with a number of uses allows exactly that many, however many callers ask at
// once, and is then expired.
func TestUsesAreCountedUnderConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ana := f.pseudo.Person("BR", "cpf", "39053344705")
		g := grant(ana)
		g.ValidFor, g.MaxUses = 0, 5
		ch, err := f.store.Give(ctx, g)
		require.NoError(t, err)
		assert.True(t, ch.Record.Validity.Until.IsZero(), "a number of uses alone bounds the record")

		var mu sync.Mutex
		allowed, usedUp := 0, 0
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := f.store.Authorize(ctx, request(ana))
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if d.Allow {
					allowed++
				} else if assert.Equal(t, consent.ReasonUsedUp, d.Reason) {
					usedUp++
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 5, allowed)
		assert.Equal(t, 11, usedUp)
		r, err := f.store.Get(ctx, ch.Record.ID)
		require.NoError(t, err)
		assert.Equal(t, 5, r.Uses)
		assert.Equal(t, consent.Expired, r.Status)
		_, err = f.store.Verify(ctx, f.log.Verifier())
		require.NoError(t, err)
	})
}

// A basis that is not consent is recorded as what it is: never ConsentGiven, cannot be
// withdrawn as consent, and its uses are in the person's history all the same.
func TestNonConsentBasis(t *testing.T) {
	ctx := context.Background()
	f := memoryFixture(t)
	ana := f.pseudo.Person("BR", "cpf", "39053344705")
	g := grant(ana)
	g.LegalBasis = "BR-LGPD-7-III"
	ch, err := f.store.Give(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, consent.BasisActive, ch.Record.Status)
	assert.Equal(t, "agency-b.example", ch.Event.By)
	_, err = f.store.Request(ctx, g)
	assert.ErrorIs(t, err, consent.ErrInput)
	_, err = f.store.Withdraw(ctx, ana, ch.Record.ID)
	assert.ErrorIs(t, err, consent.ErrTransition)

	d, err := f.store.Authorize(ctx, request(ana))
	require.NoError(t, err)
	assert.True(t, d.Allow)
	h, err := f.store.History(ctx, ana)
	require.NoError(t, err)
	require.Len(t, h.Uses, 1)
	assert.Equal(t, "agency-a.example", h.Uses[0].Recipient)

	g.LegalBasis = "BR-LGPD-7-IX" // legitimate interest does not cover sharing
	ch2, err := f.store.Give(ctx, g)
	require.NoError(t, err)
	_, err = f.store.End(ctx, ch.Record.ID, "agency-b.example", "programme closed")
	require.NoError(t, err)
	d, err = f.store.Check(ctx, request(ana))
	require.NoError(t, err)
	assert.False(t, d.Allow)
	assert.Equal(t, consent.ReasonBasis, d.Reason)
	assert.Equal(t, ch2.Record.ID, d.Record.ID)
}

func TestGiveRefusesIncompleteRecords(t *testing.T) {
	ctx := context.Background()
	f := memoryFixture(t)
	ana := f.pseudo.Person("BR", "cpf", "39053344705")
	for name, change := range map[string]func(*consent.Grant){
		"a number as the person": func(g *consent.Grant) { g.Person = "39053344705" },
		"no recipient":           func(g *consent.Grant) { g.Recipients = nil },
		"no purpose":             func(g *consent.Grant) { g.Purposes = nil },
		"a purpose without text": func(g *consent.Grant) { g.Purposes = []consent.Purpose{{Code: "x"}} },
		"no data":                func(g *consent.Grant) { g.DataCategories = nil },
		"unknown basis":          func(g *consent.Grant) { g.LegalBasis = "ZZ-1" },
		"notice hash":            func(g *consent.Grant) { g.Notice.SHA256 = "abc" },
		"no notice URL":          func(g *consent.Grant) { g.Notice.URL = "" },
		"no way to withdraw":     func(g *consent.Grant) { g.Withdrawal = "" },
		"negative validity":      func(g *consent.Grant) { g.ValidFor = -time.Hour },
		"ends before it begins":  func(g *consent.Grant) { g.ValidFor, g.Until = 0, f.now.Add(-time.Hour) },
		"control characters":     func(g *consent.Grant) { g.Controller = "agency\x1b[31m" },
	} {
		g := grant(ana)
		change(&g)
		_, err := f.store.Give(ctx, g)
		assert.ErrorIs(t, err, consent.ErrInput, name)
	}
	g := grant(ana)
	g.ValidFor = 0
	ch, err := f.store.Give(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, f.now.Add(consent.DefaultValidity), ch.Record.Validity.Until, "never endless by default")
}

func TestPseudonymizer(t *testing.T) {
	_, err := consent.NewPseudonymizer(make([]byte, 16))
	assert.ErrorIs(t, err, consent.ErrConfig)
	p1, err := consent.NewPseudonymizer(make([]byte, 32))
	require.NoError(t, err)
	key := make([]byte, 32)
	key[0] = 1
	p2, err := consent.NewPseudonymizer(key)
	require.NoError(t, err)
	a := p1.Person("BR", "cpf", "39053344705")
	assert.True(t, a.Valid())
	assert.NotContains(t, string(a), "39053344705")
	assert.Equal(t, a, p1.Person("br", "CPF", "39053344705"))
	assert.NotEqual(t, a, p2.Person("BR", "cpf", "39053344705"), "another key, another reference")
	assert.NotEqual(t, a, p1.Person("BR", "cnpj", "39053344705"), "another scheme, another person")
	assert.False(t, consent.PersonRef("pr1:short").Valid())
}

func TestVerifyNamesInsertedRowAndReceiptAgain(t *testing.T) {
	ctx := context.Background()
	f := memoryFixture(t)
	ana := f.pseudo.Person("BR", "cpf", "39053344705")
	ch, err := f.store.Give(ctx, grant(ana))
	require.NoError(t, err)
	again, err := f.store.Receipt(ctx, ch.Record.ID)
	require.NoError(t, err)
	r, err := consent.VerifyReceipt(again, f.key.Public())
	require.NoError(t, err)
	assert.Equal(t, ch.Event.Log.Seq, r.Event.Log.Seq)
	assert.Equal(t, ana, r.Record.Person)

	_, err = f.db.ExecContext(ctx, "INSERT INTO consent_records (id, person, controller, status, uses, doc) SELECT 'cr_forged', person, controller, status, uses, replace(doc, id, 'cr_forged') FROM consent_records")
	require.NoError(t, err)
	_, err = f.store.Verify(ctx, f.log.Verifier())
	var te *consent.TamperError
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Records, 1)
	assert.Equal(t, consent.RecordFault{ID: "cr_forged", Detail: "row not in the log"}, te.Records[0])
}

// Erasing a person deletes their rows and their reference from the log; what remains shows
// what happened, points to no one, and still verifies.
func TestErasePerson(t *testing.T) {
	ctx := context.Background()
	f := memoryFixture(t)
	ana := f.pseudo.Person("BR", "cpf", "39053344705")
	bia := f.pseudo.Person("BR", "cpf", "11144477735")
	ch, err := f.store.Give(ctx, grant(ana))
	require.NoError(t, err)
	_, err = f.store.Authorize(ctx, request(ana))
	require.NoError(t, err)
	_, err = f.store.Give(ctx, grant(bia))
	require.NoError(t, err)

	ids, err := f.store.Erase(ctx, ana)
	require.NoError(t, err)
	assert.Equal(t, []string{ch.Record.ID}, ids)
	recs, err := f.store.List(ctx, ana)
	require.NoError(t, err)
	assert.Empty(t, recs)
	d, err := f.store.Check(ctx, request(ana))
	require.NoError(t, err)
	assert.Equal(t, consent.ReasonNoRecord, d.Reason)
	for e, err := range f.log.Scan(ctx, evidence.Filter{Ref: ch.Record.ID}) {
		require.NoError(t, err)
		assert.NotContains(t, string(e.Meta)+string(e.Payload), string(ana))
	}
	rep, err := f.store.Verify(ctx, f.log.Verifier())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Erased)
	assert.Equal(t, 1, rep.Records, "the other person's record is untouched")
}
