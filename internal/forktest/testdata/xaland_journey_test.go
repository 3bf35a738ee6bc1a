package main

// This file is not part of the module: internal/forktest adds it to examples/citizen-journey
// through an overlay, together with the files docs/forking.md tells a fork to write for
// Xaland (XA), and runs it. It checks that each registry finds the new country, and walks
// the journey's sign-in, consent and signature steps for an XA person with nothing else
// changed. The document and its signature come from the test national CA that
// internal/forktest runs, named by DPI_FORKTEST_DOC and DPI_FORKTEST_SIG.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/identity"
	"github.com/dpiblocks/dpi/identity/nationalid"
	"github.com/dpiblocks/dpi/internal/forktest/xatrust"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/signature"
	"github.com/dpiblocks/dpi/store"
)

func TestXalandIsRegistered(t *testing.T) {
	s, err := nationalid.Lookup("xa", "NID")
	require.NoError(t, err, "the scheme, by its alias, in any case")
	assert.Equal(t, "XA", s.Country)
	assert.Equal(t, "nin", s.Name)
	var listed bool
	for _, s := range nationalid.Schemes() {
		listed = listed || s.Country == "XA" && s.Name == "nin"
	}
	assert.True(t, listed, "nationalid.Schemes lists XA nin")

	p, err := identity.LookupProfile("XAID")
	require.NoError(t, err)
	assert.Equal(t, "XA", p.Country)
	assert.Contains(t, identity.Profiles(), "xaid")

	b, err := consent.LookupBasis("XA-PDPA-5-A")
	require.NoError(t, err)
	assert.Equal(t, consent.BasisConsent, b.Kind)
	kinds := map[consent.BasisKind]bool{}
	for _, b := range consent.Bases("xa") {
		kinds[b.Kind] = true
	}
	assert.Equal(t, map[consent.BasisKind]bool{
		consent.BasisConsent: true, consent.BasisContract: true, consent.BasisLegalObligation: true, consent.BasisPublicTask: true,
	}, kinds)

	// notify's rules register from init, as the other registries do.
	assert.Contains(t, notify.Rules(), "XA", "notify.Rules lists the guide's rule")
}

func TestXalandJourney(t *testing.T) {
	ctx := t.Context()

	// Sign-in: the national eID, through the registered profile.
	idp, err := dpitest.StartIdP(dpitest.IdPOptions{
		ACR:   "urn:xa:loa:2",
		Users: map[string]map[string]any{"xa-0001": {"name": "Ana Example", "nin": "XA 1234 5678 2"}},
	})
	require.NoError(t, err)
	t.Cleanup(idp.Close)
	profile, err := identity.LookupProfile("xaid")
	require.NoError(t, err)
	v, err := identity.NewVerifier(identity.Config{
		Issuers: []identity.Issuer{{URL: idp.Issuer(), ClientID: "test-client", Profile: profile}},
		MinLoA:  identity.LoASubstantial,
	})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	token, err := idp.MintIDToken(map[string]any{"nonce": "n-journey"})
	require.NoError(t, err)
	person, err := v.Verify(ctx, token, identity.Expect{Nonce: "n-journey"})
	require.NoError(t, err)
	require.NotNil(t, person.NationalID)
	nid := person.NationalID
	assert.Equal(t, identity.NationalID{Country: "XA", Scheme: "nin", Value: "123456782", Validated: true}, *nid)

	// Consent: under the consent basis of the person's country, found as dpi consent give
	// finds it.
	var basis string
	for _, b := range consent.Bases(nid.Country) {
		if b.Kind == consent.BasisConsent {
			require.Empty(t, basis, "one consent basis")
			basis = b.Code
		}
	}
	require.Equal(t, "XA-PDPA-5-A", basis)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "consent.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	log, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency-b.xaland.example/consent", Signer: key})
	require.NoError(t, err)
	st, err := consent.Open(ctx, db, consent.Config{Log: log, Signer: key})
	require.NoError(t, err)
	personKey := make([]byte, 32)
	_, err = rand.Read(personKey)
	require.NoError(t, err)
	pseudo, err := consent.NewPseudonymizer(personKey)
	require.NoError(t, err)
	ref := pseudo.Person(nid.Country, nid.Scheme, nid.Value)
	sum := sha256.Sum256([]byte("Agency B will share your declared income with Agency A."))
	given, err := st.Give(ctx, consent.Grant{
		Person: ref, Controller: "agency-b.xaland.example", Recipients: []string{"agency-a.xaland.example"},
		Purposes:       []consent.Purpose{{Code: "housing-benefit", Text: "Decide your application for housing benefit"}},
		DataCategories: []string{"income"}, LegalBasis: basis,
		Notice:   consent.Notice{URL: "https://agency-b.xaland.example/notice", Version: "1", SHA256: hex.EncodeToString(sum[:])},
		Language: "es", Method: "web-form", Withdrawal: "https://agency-b.xaland.example/my-data",
	})
	require.NoError(t, err)
	assert.Equal(t, "XA", given.Record.Jurisdiction)
	assert.Equal(t, consent.Given, given.Record.Status)
	d, err := st.Authorize(ctx, consent.Request{Person: ref, Controller: "agency-b.xaland.example",
		Recipient: "agency-a.xaland.example", Purpose: "housing-benefit", DataCategories: []string{"income"}})
	require.NoError(t, err)
	assert.True(t, d.Allow, "%s", d.Reason)

	// Signature: the civil registry's document validates against the national root the
	// service carries (docs/forking.md, section 5), and nothing else is trusted.
	doc, err := os.ReadFile(os.Getenv("DPI_FORKTEST_DOC"))
	require.NoError(t, err, "DPI_FORKTEST_DOC names the signed document")
	sig, err := os.ReadFile(os.Getenv("DPI_FORKTEST_SIG"))
	require.NoError(t, err, "DPI_FORKTEST_SIG names its signature")
	policy, err := xatrust.Policy()
	require.NoError(t, err)
	report, err := signature.Validate(ctx, bytes.NewReader(doc), sig, policy)
	require.NoError(t, err)
	assert.True(t, report.Passed(), "%s %s %v", report.Indication, report.SubIndication, report.Errors)
	altered := append(bytes.Clone(doc), '!')
	report, err = signature.Validate(ctx, bytes.NewReader(altered), sig, policy)
	require.NoError(t, err)
	assert.Equal(t, signature.TotalFailed, report.Indication)

	other, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	report, err = signature.Validate(ctx, bytes.NewReader(doc), sig, &signature.Policy{Roots: other.Pool()})
	require.NoError(t, err)
	assert.False(t, report.Passed(), "another country's root does not validate Xaland's document")
}
