package nationalid_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

// vector is one entry of testdata/vectors.json: a number, whether it is valid, its
// compact and formatted forms or the reason it is not, and where it comes from (the
// issuing authority's own example where one is published, otherwise python-stdnum's
// documentation or a number built for the test). The file is plain JSON so that other
// implementations can run it.
type vector struct {
	Country   string `json:"country"`
	Scheme    string `json:"scheme"`
	Input     string `json:"input"`
	Valid     bool   `json:"valid"`
	Compact   string `json:"compact"`
	Formatted string `json:"formatted"`
	Reason    string `json:"reason"` // length, format, check-digit or component
	Source    string `json:"source"`
}

var reasons = map[string]error{
	"length": nationalid.ErrLength, "format": nationalid.ErrFormat,
	"check-digit": nationalid.ErrCheckDigit, "component": nationalid.ErrComponent,
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(b, &vs))
	require.NotEmpty(t, vs)
	for _, v := range vs {
		require.NotEmpty(t, v.Source, "%+v", v)
		if !v.Valid {
			require.Contains(t, reasons, v.Reason, "%+v", v)
		}
	}
	return vs
}

// Inputs that JSON cannot carry (invalid UTF-8) or that are too big for a vector file.
var invalidBytes = []struct {
	country, scheme, in string
	want                error
}{
	{"BR", "cpf", strings.Repeat("1", 1<<16), nationalid.ErrLength},
	{"MX", "rfc", "GODE\xc3-\x91561231GR8", nationalid.ErrLength}, // a separator inside a character
	{"BR", "cpf", "390.533.447-0\xff5", nationalid.ErrFormat},
}

func TestValid(t *testing.T) {
	for _, tc := range loadVectors(t) {
		if !tc.Valid {
			continue
		}
		t.Run(tc.Country+"/"+tc.Scheme+"/"+tc.Input, func(t *testing.T) {
			s, err := nationalid.Lookup(tc.Country, tc.Scheme)
			require.NoError(t, err)
			assert.NoError(t, s.Validate(tc.Input))
			assert.Equal(t, tc.Compact, s.Compact(tc.Input))
			f, err := s.Format(tc.Input)
			require.NoError(t, err)
			assert.Equal(t, tc.Formatted, f)
			// The formatted and compact forms validate to the same number.
			assert.NoError(t, s.Validate(f))
			assert.Equal(t, tc.Compact, s.Compact(f))
		})
	}
}

func TestEverySchemeHasAValidExample(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range loadVectors(t) {
		if tc.Valid {
			seen[tc.Country+"/"+tc.Scheme] = true
		}
	}
	for _, s := range nationalid.Schemes() {
		assert.True(t, seen[s.Country+"/"+s.Name], "no valid example for %s %s", s.Country, s.Name)
	}
}

func TestInvalid(t *testing.T) {
	type tcase struct {
		country, scheme, in string
		want                error
	}
	var cases []tcase
	for _, v := range loadVectors(t) {
		if !v.Valid {
			cases = append(cases, tcase{v.Country, v.Scheme, v.Input, reasons[v.Reason]})
		}
	}
	for _, v := range invalidBytes {
		cases = append(cases, tcase(v))
	}
	for _, tc := range cases {
		name := tc.in
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run(tc.country+"/"+tc.scheme+"/"+name, func(t *testing.T) {
			s, err := nationalid.Lookup(tc.country, tc.scheme)
			require.NoError(t, err)
			err = s.Validate(tc.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var ie *nationalid.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, s.Country, ie.Country)
			assert.Equal(t, s.Name, ie.Scheme)
			assert.Equal(t, tc.want, ie.Reason)
			assert.NotEmpty(t, ie.Detail)
			assert.True(t, strings.HasPrefix(err.Error(), "nationalid: "+s.Country+" "+s.Name+": "), err.Error())
			_, ferr := s.Format(tc.in)
			assert.Equal(t, err, ferr)
		})
	}
}

// TestErrorsNeverContainTheNumber: a number is personal data and must not reach logs
// through an error message.
func TestErrorsNeverContainTheNumber(t *testing.T) {
	for _, s := range nationalid.Schemes() {
		for _, in := range []string{"12345678", "123456789012", "ABCD123456XYZ", "9999999999999999"} {
			err := s.Validate(in)
			if err == nil {
				continue
			}
			assert.NotContains(t, err.Error(), in)
			assert.NotContains(t, err.Error(), s.Compact(in))
		}
	}
}

func TestLookup(t *testing.T) {
	s, err := nationalid.Lookup("br", "CPF")
	require.NoError(t, err)
	assert.Equal(t, "BR", s.Country)
	assert.Equal(t, "cpf", s.Name)
	assert.True(t, s.HasCheckDigit)

	for _, q := range [][2]string{{"XX", "cpf"}, {"BR", "dni"}, {"", ""}, {"BRA", "cpf"}} {
		_, err := nationalid.Lookup(q[0], q[1])
		assert.ErrorIs(t, err, nationalid.ErrUnknownScheme, "%v", q)
	}
}

func TestLookupAliases(t *testing.T) {
	tests := []struct{ country, alias, name string }{
		{"AR", "cuil", "cuit"},
		{"cl", "RUN", "rut"},
		{"PE", "dni", "cui"},
		{"UY", "cedula", "ci"},
		{"CR", "dimex", "cr"},
	}
	for _, tc := range tests {
		s, err := nationalid.Lookup(tc.country, tc.alias)
		require.NoError(t, err, tc.alias)
		assert.Equal(t, tc.name, s.Name, "an alias resolves to the canonical scheme")
	}
	_, err := nationalid.Lookup("BR", "cuil")
	assert.ErrorIs(t, err, nationalid.ErrUnknownScheme, "aliases belong to their country")
}

func TestSchemes(t *testing.T) {
	all := nationalid.Schemes()
	require.GreaterOrEqual(t, len(all), 29)
	assert.True(t, sort.SliceIsSorted(all, func(i, j int) bool {
		if all[i].Country != all[j].Country {
			return all[i].Country < all[j].Country
		}
		return all[i].Name < all[j].Name
	}))
	want := []string{"AR/cuit", "AR/dni", "BO/ci", "BO/nit", "BR/cnpj", "BR/cpf", "CL/rut", "CO/cedula",
		"CO/nit", "CR/cpf", "CR/cpj", "CR/cr", "CU/ni", "DO/cedula", "DO/rnc", "EC/ci", "EC/ruc", "GT/nit",
		"MX/curp", "MX/rfc", "PA/cedula", "PE/cui", "PE/ruc", "PY/ruc", "SV/dui", "SV/nit", "UY/ci",
		"UY/rut", "VE/rif"}
	var got []string
	for _, s := range all {
		got = append(got, s.Country+"/"+s.Name)
		assert.NotEmpty(t, s.Title)
		assert.NotEmpty(t, s.Description)
		assert.True(t, strings.HasPrefix(s.URL, "https://") || strings.HasPrefix(s.URL, "http://"), s.URL)
		if !s.HasCheckDigit {
			assert.Regexp(t, `(?i)no check digit|not the last check digit|format only`, s.Description,
				"%s %s must say it has no check digit", s.Country, s.Name)
		}
	}
	assert.Subset(t, got, want)

	// The slice is the caller's: changing it does not change the registry.
	all[0] = nil
	assert.NotNil(t, nationalid.Schemes()[0])
}

// TestValidateDoesNotAllocate holds Validate to zero heap allocations for every scheme,
// on valid and invalid input of every kind.
func TestValidateDoesNotAllocate(t *testing.T) {
	inputs := map[string][]string{}
	for _, tc := range loadVectors(t) {
		k := tc.Country + "/" + tc.Scheme
		inputs[k] = append(inputs[k], tc.Input)
	}
	for _, s := range nationalid.Schemes() {
		k := s.Country + "/" + s.Name
		cases := append(inputs[k], "", "0", "1234567890", "12345678901", "123456789012345678901234567890123",
			"abc-def.ghi", "\xff\xfe", "ñÑ-é", strings.Repeat("9", 200))
		for _, in := range inputs[k] {
			cases = append(cases, in+"1", strings.ToLower(in))
			if in != "" {
				cases = append(cases, in[1:])
			}
		}
		for _, in := range cases {
			assert.Zero(t, testing.AllocsPerRun(20, func() { _ = s.Validate(in) }),
				"%s: Validate(%q) allocates", k, in)
		}
	}
}

func TestInvalidErrorIsShared(t *testing.T) {
	s, err := nationalid.Lookup("BR", "cpf")
	require.NoError(t, err)
	e1, e2 := s.Validate("390.533.447-06"), s.Validate("111.444.777-00")
	require.Error(t, e1)
	assert.True(t, errors.Is(e1, nationalid.ErrCheckDigit))
	assert.Same(t, e1, e2, "one preallocated error per scheme and reason")
	assert.Equal(t, "nationalid: BR cpf: check digit mismatch", e1.Error())
}
