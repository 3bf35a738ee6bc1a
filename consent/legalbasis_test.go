package consent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// countryLanguage is the language each country's bases must be described in, besides
// English.
var countryLanguage = map[string]string{"BR": "pt", "CO": "es", "AR": "es", "UY": "es", "MX": "es", "CL": "es", "PE": "es"}

var knownKinds = map[consent.BasisKind]bool{
	consent.BasisConsent: true, consent.BasisLegalObligation: true, consent.BasisPublicTask: true,
	consent.BasisVitalInterest: true, consent.BasisContract: true, consent.BasisLegitimateInterest: true,
}

// sharesByKind is whether a basis of each kind covers sharing: the law of each country
// lets a legal obligation, a public body's mandate, life and consent that names the
// recipient reach another party; a contract or a legitimate interest is left to consent.
var sharesByKind = map[consent.BasisKind]bool{
	consent.BasisConsent: true, consent.BasisLegalObligation: true, consent.BasisPublicTask: true,
	consent.BasisVitalInterest: true, consent.BasisContract: false, consent.BasisLegitimateInterest: false,
}

func TestEveryBasisIsWellFormed(t *testing.T) {
	all := consent.Bases("")
	require.NotEmpty(t, all)
	for _, b := range all {
		t.Run(b.Code, func(t *testing.T) {
			assert.True(t, strings.HasPrefix(b.Code, b.Country+"-"), "the code begins with the country")
			assert.Equal(t, strings.ToUpper(b.Code), b.Code, "codes are upper case")
			assert.True(t, knownKinds[b.Kind], "kind %q", b.Kind)
			assert.NotEmpty(t, b.Law)
			assert.NotEmpty(t, b.Text["en"], "English text")
			lang, ok := countryLanguage[b.Country]
			if assert.True(t, ok, "a country this test knows: add its language") {
				assert.NotEmpty(t, b.Text[lang], "text in %s", lang)
			}
			for l, text := range b.Text {
				assert.Equal(t, strings.TrimSpace(text), text, "text in %s", l)
			}
			assert.Equal(t, sharesByKind[b.Kind], b.Sharing, "sharing of a %s basis", b.Kind)
		})
	}
}

func TestEveryCountryHasConsentAndAPublicBasis(t *testing.T) {
	for country := range countryLanguage {
		t.Run(country, func(t *testing.T) {
			kinds := map[consent.BasisKind]int{}
			for _, b := range consent.Bases(strings.ToLower(country)) {
				assert.Equal(t, country, b.Country)
				kinds[b.Kind]++
			}
			assert.Positive(t, kinds[consent.BasisConsent], "a consent basis")
			assert.Positive(t, kinds[consent.BasisPublicTask]+kinds[consent.BasisLegalObligation], "a public-task or legal-obligation basis")
		})
	}
}

func TestLookupBasis(t *testing.T) {
	b, err := consent.LookupBasis("CO-L1581-10-A")
	require.NoError(t, err)
	assert.Equal(t, "CO", b.Country)
	assert.Equal(t, consent.BasisPublicTask, b.Kind)

	// The copy is the caller's: changing it changes no one else's.
	b.Kind = consent.BasisConsent
	again, err := consent.LookupBasis("CO-L1581-10-A")
	require.NoError(t, err)
	assert.Equal(t, consent.BasisPublicTask, again.Kind)

	for _, code := range []string{"", "co-l1581-10-a", "XX-NONE", "CO-L1581-10-A "} {
		_, err := consent.LookupBasis(code)
		assert.ErrorIs(t, err, consent.ErrInput, "%q", code)
	}

	all := consent.Bases("")
	for i := 1; i < len(all); i++ {
		assert.Less(t, all[i-1].Code, all[i].Code, "Bases lists by code")
	}
	for _, b := range all {
		got, err := consent.LookupBasis(b.Code)
		require.NoError(t, err)
		assert.Equal(t, b.Code, got.Code)
	}
	assert.Empty(t, consent.Bases("XX"))
}

// A record under a public body's mandate is recorded as what it is, never as consent, and
// its uses are allowed and shown to the person all the same; a record under a contract
// does not cover sharing.
func TestPublicBasisIsNotConsent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for country := range countryLanguage {
			var public, contract *consent.LegalBasis
			for _, b := range consent.Bases(country) {
				switch {
				case b.Kind == consent.BasisPublicTask && public == nil:
					public = &b
				case b.Kind == consent.BasisContract && contract == nil:
					contract = &b
				}
			}
			if public == nil {
				continue // TestEveryCountryHasConsentAndAPublicBasis names it
			}
			person := f.pseudo.Person(country, "national-id", "1000"+country)
			g := grant(person)
			g.LegalBasis = public.Code
			ch, err := f.store.Give(ctx, g)
			require.NoError(t, err, public.Code)
			assert.Equal(t, consent.BasisActive, ch.Record.Status, public.Code)
			assert.Equal(t, consent.BasisActive, ch.Event.Status, public.Code)
			assert.Equal(t, country, ch.Record.Jurisdiction)
			assert.Equal(t, "agency-b.example", ch.Event.By, "the controller acted, not the person")
			r, err := consent.VerifyReceipt(ch.Receipt, f.key.Public())
			require.NoError(t, err)
			assert.Equal(t, consent.BasisActive, r.Record.Status)

			d, err := f.store.Authorize(ctx, request(person))
			require.NoError(t, err)
			assert.True(t, d.Allow, "%s: %s", public.Code, d.Reason)
			h, err := f.store.History(ctx, person)
			require.NoError(t, err)
			assert.Len(t, h.Uses, 1, "the person sees the use")
			for _, ev := range h.Events {
				assert.NotEqual(t, consent.Given, ev.Status)
			}

			_, err = f.store.Withdraw(ctx, person, ch.Record.ID)
			assert.ErrorIs(t, err, consent.ErrTransition, "nothing to withdraw under a public mandate")
			_, err = f.store.Request(ctx, g)
			assert.ErrorIs(t, err, consent.ErrInput, "nobody is asked under a public mandate")

			if contract != nil {
				other := f.pseudo.Person(country, "national-id", "2000"+country)
				g := grant(other)
				g.LegalBasis = contract.Code
				ch, err := f.store.Give(ctx, g)
				require.NoError(t, err, contract.Code)
				assert.Equal(t, consent.BasisActive, ch.Record.Status)
				d, err := f.store.Authorize(ctx, request(other))
				require.NoError(t, err)
				assert.False(t, d.Allow)
				assert.Equal(t, consent.ReasonBasis, d.Reason, contract.Code)
			}
		}
	})
}

// The registry hands out copies: a caller editing one changes nothing for the next.
func TestBasesAreCopies(t *testing.T) {
	b, err := consent.LookupBasis("BR-LGPD-7-I")
	require.NoError(t, err)
	b.Text["en"] = "changed"
	list := consent.Bases("BR")
	list[0].Text["en"] = "changed too"
	again, err := consent.LookupBasis("BR-LGPD-7-I")
	require.NoError(t, err)
	assert.Equal(t, "Consent of the data subject", again.Text["en"])
}
