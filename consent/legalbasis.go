package consent

import (
	"fmt"
	"maps"
	"sort"
	"strings"
)

// BasisKind is the kind of a legal basis for processing personal data, named as the W3C
// Data Privacy Vocabulary names them. Only BasisConsent makes a consent record; a record
// under any other kind is recorded as what it is (status BasisActive), never as consent,
// and its uses are shown to the person all the same.
type BasisKind string

// The kinds of legal basis.
const (
	BasisConsent            BasisKind = "Consent"
	BasisLegalObligation    BasisKind = "LegalObligation"
	BasisPublicTask         BasisKind = "OfficialAuthorityOfController" // a public body's legal mandate
	BasisVitalInterest      BasisKind = "VitalInterest"
	BasisContract           BasisKind = "Contract"
	BasisLegitimateInterest BasisKind = "LegitimateInterest"
)

// LegalBasis is one legal basis a country's data protection law gives for processing
// personal data. Each country's bases are data in a file of their own (bases_br.go, ...):
// a fork adds its country in one file.
type LegalBasis struct {
	// Code identifies the basis, the country code first: "BR-LGPD-7-I".
	Code string `json:"code"`
	// Country is the ISO 3166-1 alpha-2 code of the country whose law it is.
	Country string `json:"country"`
	// Kind is what kind of basis it is.
	Kind BasisKind `json:"kind"`
	// Law names the law, as its country cites it: "Lei nº 13.709/2018 (LGPD)".
	Law string `json:"law"`
	// Article cites the provision: "Art. 7, I".
	Article string `json:"article"`
	// Text describes the basis in a few words, by BCP 47 language tag ("es", "pt", "en").
	Text map[string]string `json:"text"`
	// Sharing reports whether the basis covers sharing the data with another party
	// (Authorize denies a use for a recipient under a basis that does not).
	Sharing bool `json:"sharing"`
}

// bases holds every registered legal basis by code. It is filled by the init functions of
// the country files and never changed after.
var bases = map[string]*LegalBasis{}

// registerBases adds a country's legal bases; a malformed or repeated basis is a bug in the
// country file, found when the program starts.
func registerBases(list ...LegalBasis) {
	for i := range list {
		b := list[i]
		if b.Code == "" || !strings.HasPrefix(b.Code, b.Country+"-") || len(b.Country) != 2 || b.Kind == "" || b.Law == "" || b.Text["en"] == "" {
			panic("consent: malformed legal basis " + b.Code)
		}
		if _, dup := bases[b.Code]; dup {
			panic("consent: legal basis registered twice: " + b.Code)
		}
		bases[b.Code] = &b
	}
}

// LookupBasis returns the legal basis with the given code.
func LookupBasis(code string) (*LegalBasis, error) {
	b, ok := bases[code]
	if !ok {
		return nil, fmt.Errorf("%w: unknown legal basis %q", ErrInput, code)
	}
	c := *b
	c.Text = maps.Clone(b.Text)
	return &c, nil
}

// Bases lists the legal bases of country (all countries when country is ""), by code.
func Bases(country string) []LegalBasis {
	var out []LegalBasis
	for _, b := range bases {
		if country == "" || b.Country == strings.ToUpper(country) {
			c := *b
			c.Text = maps.Clone(b.Text)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
