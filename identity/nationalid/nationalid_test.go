package nationalid_test

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

// valid holds, for every scheme, numbers that must validate, with their compact and
// formatted forms. Where a number comes from is said beside it: the issuing authority's
// own example where one is published, otherwise the python-stdnum 1.18 documentation
// (doctests of stdnum/<cc>/<name>.py), which collected them from public sources.
var valid = []struct {
	country, scheme, in, compact, formatted string
}{
	// python-stdnum br/cpf.py.
	{"BR", "cpf", "390.533.447-05", "39053344705", "390.533.447-05"},
	{"BR", "cpf", "111 444 777 35", "11144477735", "111.444.777-35"},
	// python-stdnum br/cnpj.py.
	{"BR", "cnpj", "16.727.230/0001-97", "16727230000197", "16.727.230/0001-97"},
	// Receita Federal / SERPRO, "Cálculo do DV do CNPJ alfanumérico" (2024): the example
	// 12.ABC.345/01DE-35 of the alphanumeric CNPJ.
	{"BR", "cnpj", "12.ABC.345/01DE-35", "12ABC34501DE35", "12.ABC.345/01DE-35"},
	{"BR", "cnpj", "12.abc.345/01de-35", "12ABC34501DE35", "12.ABC.345/01DE-35"},
	// python-stdnum cl/rut.py.
	{"CL", "rut", "76086428-5", "760864285", "76.086.428-5"},
	{"CL", "rut", "CL 12531909-2", "125319092", "12.531.909-2"},
	// DNIC sample cédula 1.234.567-2 (the number used on the sample card and in the
	// check digit explanation).
	{"UY", "ci", "1.234.567-2", "12345672", "1.234.567-2"},
	// python-stdnum uy/rut.py.
	{"UY", "rut", "21-100342-001-7", "211003420017", "21-100342-001-7"},
	{"UY", "rut", "UY 21 140634 001 1", "211406340011", "21-140634-001-1"},
	// python-stdnum ar/dni.py and ar/cuit.py.
	{"AR", "dni", "20.123.456", "20123456", "20.123.456"},
	{"AR", "cuit", "20-05536168-2", "20055361682", "20-05536168-2"},
	// python-stdnum mx/curp.py.
	{"MX", "curp", "BOXW310820HNERXN09", "BOXW310820HNERXN09", "BOXW310820HNERXN09"},
	// SAT instructivo example and python-stdnum mx/rfc.py.
	{"MX", "rfc", "GODE 561231 GR8", "GODE561231GR8", "GODE 561231 GR8"},
	{"MX", "rfc", "MAB-930714-8T4", "MAB9307148T4", "MAB 930714 8T4"},
	{"MX", "rfc", "COMG600703", "COMG600703", "COMG 600703"},
	{"MX", "rfc", "peña 600703 ab1", "PEÑA600703AB1", "PEÑA 600703 AB1"},
	// python-stdnum co/nit.py.
	{"CO", "nit", "213.123.432-1", "2131234321", "213.123.432-1"},
	{"CO", "cedula", "1.020.304.050", "1020304050", "1.020.304.050"},
	// python-stdnum pe/cui.py and pe/ruc.py.
	{"PE", "cui", "10117410", "10117410", "10117410"},
	{"PE", "cui", "10117410-2", "101174102", "10117410-2"},
	{"PE", "cui", "10117410 g", "10117410G", "10117410-G"},
	{"PE", "ruc", "20512333797", "20512333797", "20512333797"},
	// python-stdnum ec/ci.py and ec/ruc.py.
	{"EC", "ci", "171430710-3", "1714307103", "1714307103"},
	{"EC", "ruc", "1792060346-001", "1792060346001", "1792060346001"},
	// python-stdnum cr/cpf.py, cr/cpj.py and cr/cr.py.
	{"CR", "cpf", "1-613-584", "0106130584", "01-0613-0584"},
	{"CR", "cpf", "701610395", "0701610395", "07-0161-0395"},
	{"CR", "cpj", "4 000 042138", "4000042138", "4-000-042138"},
	{"CR", "cr", "155812994816", "155812994816", "155812994816"},
	// python-stdnum do/cedula.py and do/rnc.py; 00000021249 is on the list of cédulas
	// issued with a wrong check digit.
	{"DO", "cedula", "00113918205", "00113918205", "001-1391820-5"},
	{"DO", "cedula", "000-0002124-9", "00000021249", "000-0002124-9"},
	{"DO", "rnc", "1-01-85004-3", "101850043", "1-01-85004-3"},
	// python-stdnum py/ruc.py.
	{"PY", "ruc", "80028061-0", "800280610", "80028061-0"},
	{"PY", "ruc", "2660-3", "26603", "2660-3"},
	// SAT Guatemala, FEL reglas y validaciones, via python-stdnum gt/nit.py.
	{"GT", "nit", "576937-K", "576937K", "576937-K"},
	{"GT", "nit", "0007108-0", "71080", "7108-0"},
	// python-stdnum sv/nit.py.
	{"SV", "nit", "SV 0614-050707-104-8", "06140507071048", "0614-050707-104-8"},
	{"SV", "dui", "04567890-3", "045678903", "04567890-3"},
	// python-stdnum ve/rif.py.
	{"VE", "rif", "V-11470283-4", "V114702834", "V-11470283-4"},
	// python-stdnum cu/ni.py.
	{"CU", "ni", "91021027775", "91021027775", "91021027775"},
	{"CU", "ni", "85020291531", "85020291531", "85020291531"},
	{"BO", "ci", "1234567", "1234567", "1234567"},
	{"BO", "ci", "1234567-1A", "12345671A", "1234567-1A"},
	{"BO", "nit", "1020703023", "1020703023", "1020703023"},
	{"PA", "cedula", "8-123-4567", "8-123-4567", "8-123-4567"},
	{"PA", "cedula", "pe-12-345", "PE-12-345", "PE-12-345"},
	{"PA", "cedula", "4PI-12-345", "4PI-12-345", "4PI-12-345"},
	{"PA", "cedula", "E-8-123456", "E-8-123456", "E-8-123456"},
}

func TestValid(t *testing.T) {
	for _, tc := range valid {
		t.Run(tc.country+"/"+tc.scheme+"/"+tc.in, func(t *testing.T) {
			s, err := nationalid.Lookup(tc.country, tc.scheme)
			require.NoError(t, err)
			assert.NoError(t, s.Validate(tc.in))
			assert.Equal(t, tc.compact, s.Compact(tc.in))
			f, err := s.Format(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.formatted, f)
			// The formatted and compact forms validate to the same number.
			assert.NoError(t, s.Validate(f))
			assert.Equal(t, tc.compact, s.Compact(f))
		})
	}
}

func TestEverySchemeHasAValidExample(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range valid {
		seen[tc.country+"/"+tc.scheme] = true
	}
	for _, s := range nationalid.Schemes() {
		assert.True(t, seen[s.Country+"/"+s.Name], "no valid example for %s %s", s.Country, s.Name)
	}
}

var invalid = []struct {
	country, scheme, in string
	want                error
}{
	{"BR", "cpf", "111.444.777-35", nil}, // valid, as a control
	{"BR", "cpf", "231.002.999-00", nationalid.ErrCheckDigit},
	{"BR", "cpf", "390.533.447-06", nationalid.ErrCheckDigit},
	{"BR", "cpf", "390.533.447=05", nationalid.ErrFormat},
	{"BR", "cpf", "000.000.000-00", nationalid.ErrFormat},
	{"BR", "cpf", "3905334470", nationalid.ErrLength},
	{"BR", "cnpj", "16.727.230.0001-98", nationalid.ErrCheckDigit},
	{"BR", "cnpj", "12.ABC.345/01DE-3A", nationalid.ErrFormat},
	{"BR", "cnpj", "12.ABC.345/01DE-36", nationalid.ErrCheckDigit},
	{"BR", "cnpj", "1672723000019", nationalid.ErrLength},
	{"CL", "rut", "12531909-3", nationalid.ErrCheckDigit},
	{"CL", "rut", "76086A28-5", nationalid.ErrFormat},
	{"UY", "ci", "1.234.567-3", nationalid.ErrCheckDigit},
	{"UY", "rut", "210303670014", nationalid.ErrCheckDigit},
	{"UY", "rut", "12345678", nationalid.ErrLength},
	{"UY", "rut", "221003420017", nationalid.ErrComponent},
	{"AR", "dni", "2012345699", nationalid.ErrLength},
	{"AR", "cuit", "20267565392", nationalid.ErrCheckDigit},
	{"AR", "cuit", "21267565393", nationalid.ErrComponent},
	{"MX", "curp", "BOXW310820HNERXN08", nationalid.ErrCheckDigit},
	{"MX", "curp", "BOXW310230HNERXN09", nationalid.ErrComponent}, // 30 February
	{"MX", "curp", "BOXW310820HXXRXN09", nationalid.ErrComponent}, // no state XX
	{"MX", "curp", "BOXW310820HNERXN0", nationalid.ErrLength},
	{"MX", "rfc", "GODE561331GR8", nationalid.ErrComponent}, // month 13
	{"MX", "rfc", "GOD1561231GR8", nationalid.ErrFormat},
	{"CO", "nit", "213.123.432-2", nationalid.ErrCheckDigit},
	{"CO", "cedula", "0123456", nationalid.ErrFormat},
	{"PE", "cui", "101174103", nationalid.ErrCheckDigit},
	{"PE", "ruc", "20512333798", nationalid.ErrCheckDigit},
	{"PE", "ruc", "30512333797", nationalid.ErrComponent},
	{"EC", "ci", "1714307104", nationalid.ErrCheckDigit},
	{"EC", "ci", "2714307103", nationalid.ErrComponent},
	{"EC", "ruc", "1792060346000", nationalid.ErrComponent},
	{"CR", "cpf", "30-1234-1234", nationalid.ErrComponent},
	{"CR", "cpf", "1-0-584", nationalid.ErrComponent},
	{"CR", "cpj", "3-534-123559", nationalid.ErrComponent},
	{"CR", "cr", "30123456789", nationalid.ErrComponent},
	{"DO", "cedula", "00113918204", nationalid.ErrCheckDigit},
	{"DO", "cedula", "0011391820A", nationalid.ErrFormat},
	{"DO", "rnc", "101850042", nationalid.ErrCheckDigit},
	{"PY", "ruc", "800532492", nationalid.ErrCheckDigit},
	{"PY", "ruc", "80123456789", nationalid.ErrLength},
	{"PY", "ruc", "0", nationalid.ErrComponent},
	{"GT", "nit", "8977112-0", nationalid.ErrCheckDigit},
	{"GT", "nit", "1234567890123", nationalid.ErrLength},
	{"SV", "nit", "0614-050707-104-0", nationalid.ErrCheckDigit},
	{"SV", "dui", "04567890-0", nationalid.ErrCheckDigit},
	{"VE", "rif", "V-11470283-3", nationalid.ErrCheckDigit},
	{"VE", "rif", "X-11470283-4", nationalid.ErrComponent},
	{"CU", "ni", "9102102777A", nationalid.ErrFormat},
	{"CU", "ni", "02023061531", nationalid.ErrComponent}, // 30 February 1902
	{"BO", "ci", "123", nationalid.ErrLength},
	{"PA", "cedula", "14-123-4567", nationalid.ErrComponent},
	{"PA", "cedula", "8-12345-1", nationalid.ErrFormat},
	{"PA", "cedula", "8 123 4567", nationalid.ErrFormat},
	{"BR", "cpf", "", nationalid.ErrFormat},
	{"BR", "cpf", strings.Repeat("1", 1<<16), nationalid.ErrLength},
	{"MX", "rfc", "GODE\xc3-\x91561231GR8", nationalid.ErrLength}, // a separator inside a character
}

func TestInvalid(t *testing.T) {
	for _, tc := range invalid {
		name := tc.in
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run(tc.country+"/"+tc.scheme+"/"+name, func(t *testing.T) {
			s, err := nationalid.Lookup(tc.country, tc.scheme)
			require.NoError(t, err)
			err = s.Validate(tc.in)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
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
	for _, tc := range valid {
		k := tc.country + "/" + tc.scheme
		inputs[k] = append(inputs[k], tc.in)
	}
	for _, s := range nationalid.Schemes() {
		k := s.Country + "/" + s.Name
		cases := append(inputs[k], "", "0", "1234567890", "12345678901", "123456789012345678901234567890123",
			"abc-def.ghi", "\xff\xfe", "ñÑ-é", strings.Repeat("9", 200))
		for _, in := range inputs[k] {
			cases = append(cases, in+"1", in[1:], strings.ToLower(in))
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
