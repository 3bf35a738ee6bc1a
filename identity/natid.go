package identity

import (
	"errors"
	"strings"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

// NationalID is a national identity number asserted by the IdP.
type NationalID struct {
	Country string `json:"country"` // ISO 3166-1 alpha-2
	Scheme  string `json:"scheme"`  // identity/nationalid scheme name, such as "cpf"
	Value   string `json:"value"`   // compact form, such as "52998224725"
	// Validated is true when identity/nationalid knows the scheme and checked the number
	// (check digit included where the scheme has one). It is false only for cross-border
	// numbers of a country nationalid does not cover (TARA's eIDAS logins).
	Validated bool `json:"validated"`
}

// Formatted returns the number in its usual printed form ("529.982.247-25"), or the compact
// value when the scheme has no format.
func (n *NationalID) Formatted() string {
	if n == nil {
		return ""
	}
	if s, err := nationalid.Lookup(n.Country, n.Scheme); err == nil {
		if f, err := s.Format(n.Value); err == nil {
			return f
		}
	}
	return n.Value
}

func checkScheme(country, scheme string) error {
	_, err := nationalid.Lookup(country, scheme)
	return err
}

// nationalNumber extracts and validates the national number a profile names. A missing
// claim gives nil and no error (the number may come later, from userinfo); a number that
// is present but invalid is a rejection, since the IdP is asserting something false.
func nationalNumber(src *NationalIDSource, get func(path string) (string, bool)) (*NationalID, error) {
	if src == nil {
		return nil, nil
	}
	parts := make([]string, 0, len(src.Claims))
	for _, c := range src.Claims {
		v, ok := get(c)
		if !ok || v == "" {
			return nil, nil
		}
		parts = append(parts, v)
	}
	value := strings.Join(parts, src.Join)
	country := src.Country
	if src.CountryPrefix {
		if len(value) < 3 || !isUpperAlpha(value[:2]) {
			return nil, reject(ErrNationalID, "national_id", "no country prefix")
		}
		country, value = value[:2], value[2:]
		// eIDAS cross-border identifiers look like "CC/EE/..." in SAML; TARA strips
		// that to "CC" + number. Some countries put a separator after the code.
		value = strings.TrimPrefix(value, "-")
	}
	s, err := nationalid.Lookup(country, src.Scheme)
	if errors.Is(err, nationalid.ErrUnknownScheme) && src.CountryPrefix {
		n := &NationalID{Country: country, Value: value}
		if country == src.Country {
			n.Scheme = src.Scheme
		}
		return n, nil
	}
	if err != nil {
		return nil, reject(ErrNationalID, "national_id", "no validator for the scheme")
	}
	if err := s.Validate(value); err != nil {
		return nil, reject(ErrNationalID, "national_id", "%s number is invalid", s.Name)
	}
	return &NationalID{Country: s.Country, Scheme: s.Name, Value: s.Compact(value), Validated: true}, nil
}

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
