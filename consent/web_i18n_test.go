package consent

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTranslationsComplete checks that every language says everything: no empty string, a
// name for every status, reason and kind of legal basis, a sentence for every status, and
// formats that take their arguments as the others do.
func TestTranslationsComplete(t *testing.T) {
	statuses := []Status{Requested, Given, Refused, Renewed, Withdrawn, Revoked, Expired, Invalidated, BasisActive, BasisEnded}
	reasons := []Reason{ReasonAllowed, ReasonNoRecord, ReasonRecipient, ReasonPurpose, ReasonData, ReasonExpired, ReasonUsedUp, ReasonWithdrawn, ReasonRevoked, ReasonInactive, ReasonNotYet, ReasonBasis}
	kinds := []BasisKind{BasisConsent, BasisLegalObligation, BasisPublicTask, BasisVitalInterest, BasisContract, BasisLegitimateInterest}
	for _, lang := range defaultLanguages {
		m := languages[lang]
		t.Run(lang, func(t *testing.T) {
			assert.Equal(t, lang, m.Lang)
			v := reflect.ValueOf(*m)
			for i := range v.NumField() {
				f := v.Field(i)
				if f.Kind() == reflect.String {
					assert.NotEmpty(t, f.String(), v.Type().Field(i).Name)
				}
			}
			for _, month := range m.Months {
				assert.NotEmpty(t, month)
			}
			for _, s := range statuses {
				assert.NotEmpty(t, m.Status[s], s)
				assert.NotEmpty(t, m.EventSentence[s], s)
			}
			assert.Len(t, m.Status, len(statuses))
			for _, r := range reasons {
				assert.NotEmpty(t, m.Reasons[r], r)
			}
			assert.Len(t, m.Reasons, len(reasons))
			for _, k := range kinds {
				assert.NotEmpty(t, m.Kinds[k], k)
			}
			// Formats say what the English says: the same verbs, by index.
			en := reflect.ValueOf(english)
			for i := range v.NumField() {
				if f := v.Field(i); f.Kind() == reflect.String {
					assert.Equal(t, verbs(en.Field(i).String()), verbs(f.String()), v.Type().Field(i).Name)
				}
			}
			for _, s := range statuses {
				assert.NotContains(t, fmt.Sprintf(m.EventSentence[s], "d", "c", "x", "r", "p", "b", "l"), "%!", s)
			}
		})
	}
}

// verbs lists the indexed verbs of a format, in order of index.
func verbs(format string) string {
	var found []string
	for i := 1; i <= 9; i++ {
		for _, v := range []string{"s", "d", "02d"} {
			if strings.Contains(format, fmt.Sprintf("%%[%d]%s", i, v)) || (v == "02d" && strings.Contains(format, fmt.Sprintf("%%02[%d]d", i))) {
				found = append(found, fmt.Sprintf("%d%s", i, v))
			}
		}
	}
	return strings.Join(found, " ")
}

func TestAcceptLanguages(t *testing.T) {
	for header, want := range map[string][]string{
		"":                                {},
		"pt-BR":                           {"pt-BR"},
		"pt-BR,pt;q=0.9,en;q=0.8,*;q=1":   {"pt-BR", "pt", "en"},
		"en;q=0.1, es;q=0.9, fr":          {"fr", "es", "en"},
		"es;q=0, en;q=2, pt;q=x, de":      {"de"},
		strings.Repeat("fr,", 100) + "es": {"fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr", "fr"},
	} {
		assert.Equal(t, want, acceptLanguages(header), header)
	}
}
