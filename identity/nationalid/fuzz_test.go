package nationalid_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

// FuzzValidate runs every scheme on arbitrary input: no panic, no allocation, and
// Compact and Format consistent with Validate.
func FuzzValidate(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Input)
	}
	f.Add("1-\xc3-\x91-2")
	f.Add("PE-0-0")
	f.Fuzz(func(t *testing.T, in string) {
		for _, s := range nationalid.Schemes() {
			if a := testing.AllocsPerRun(1, func() { _ = s.Validate(in) }); a != 0 {
				t.Fatalf("%s %s: Validate allocates", s.Country, s.Name)
			}
			err := s.Validate(in)
			c := s.Compact(in)
			formatted, ferr := s.Format(in)
			if err != nil {
				if ferr == nil {
					t.Fatalf("%s %s: Format accepted what Validate rejected", s.Country, s.Name)
				}
				if strings.Contains(err.Error(), in) && len(in) > 3 {
					t.Fatalf("%s %s: error message contains the input", s.Country, s.Name)
				}
				continue
			}
			if ferr != nil {
				t.Fatalf("%s %s: Format rejected what Validate accepted: %v", s.Country, s.Name, ferr)
			}
			// The compact and the formatted forms are valid and compact to the same number.
			for _, v := range []string{c, formatted} {
				if e := s.Validate(v); e != nil {
					t.Fatalf("%s %s: %q from a valid number is invalid: %v", s.Country, s.Name, v, e)
				}
				if s.Compact(v) != c {
					t.Fatalf("%s %s: Compact is not idempotent", s.Country, s.Name)
				}
			}
			if !utf8.ValidString(c) || !utf8.ValidString(formatted) {
				t.Fatalf("%s %s: invalid UTF-8 out of a valid number", s.Country, s.Name)
			}
		}
	})
}
