package nationalid_test

import (
	"bufio"
	"fmt"
	"maps"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/identity/nationalid"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// The differential test checks every scheme python-stdnum also implements against it
// (Debian's python3-stdnum, 1.18 in bookworm): the same verdict on valid numbers and on
// their mutations, and the same compact and formatted forms where both format.

// stdnumModules maps our schemes to python-stdnum modules.
var stdnumModules = map[string]string{
	"AR/cuit": "ar.cuit", "AR/dni": "ar.dni", "BR/cnpj": "br.cnpj", "BR/cpf": "br.cpf",
	"CL/rut": "cl.rut", "CO/nit": "co.nit", "CR/cpf": "cr.cpf", "CR/cpj": "cr.cpj", "CR/cr": "cr.cr",
	"CU/ni": "cu.ni", "DO/cedula": "do.cedula", "DO/rnc": "do.rnc", "EC/ci": "ec.ci", "EC/ruc": "ec.ruc",
	"GT/nit": "gt.nit", "MX/curp": "mx.curp", "MX/rfc": "mx.rfc", "PE/cui": "pe.cui", "PE/ruc": "pe.ruc",
	"PY/ruc": "py.ruc", "SV/nit": "sv.nit", "UY/rut": "uy.rut", "VE/rif": "ve.rif",
}

// sameFormat lists the schemes whose Format equals python-stdnum's format(); the others
// either have no format() there or present the number differently on purpose.
var sameFormat = map[string]bool{
	"AR/cuit": true, "AR/dni": true, "BR/cnpj": true, "BR/cpf": true, "CL/rut": true, "CO/nit": true,
	"CR/cpf": true, "CR/cpj": true, "CR/cr": true, "DO/cedula": true, "DO/rnc": true, "GT/nit": true,
	"MX/rfc": true, "PY/ruc": true, "SV/nit": true, "UY/rut": true,
}

// knownDisagreement names the deliberate differences from python-stdnum 1.18, given the
// verdicts and the number as python-stdnum compacts it; "" when there is none.
func knownDisagreement(key string, oursValid, theirsValid bool, compact string) string {
	switch {
	case key == "BR/cnpj" && oursValid && !theirsValid && strings.ContainsAny(strings.ToUpper(compact), upper):
		return "alphanumeric CNPJ (IN RFB 2.229/2024, from July 2026) postdates python-stdnum 1.18"
	case key == "CR/cpf" && !oursValid && theirsValid && len(compact) == 10 &&
		(compact[1] == '0' || strings.Trim(compact[2:6], "0") == "" || strings.Trim(compact[6:], "0") == ""):
		return "python-stdnum accepts province 0 and an all-zero volume or entry, which are never issued"
	case key == "MX/curp" && oursValid && !theirsValid && len(compact) == 18 && compact[10] == 'X':
		return "sex X (non-binary), on CURPs issued since 2023, postdates python-stdnum 1.18"
	case key == "PY/ruc" && !oursValid && theirsValid && strings.Trim(compact, "0") == "":
		return "python-stdnum accepts an all-zero RUC such as \"0\""
	}
	return ""
}

const stdnumDriver = `
import importlib, sys
mods = {}
out = sys.stdout
for line in sys.stdin:
    name, _, number = line.rstrip('\n').partition('\t')
    m = mods.get(name)
    if m is None:
        m = mods[name] = importlib.import_module('stdnum.' + name)
    try:
        c = m.compact(number)
    except Exception:
        c = ''
    try:
        m.validate(number)
        f = m.format(number) if hasattr(m, 'format') else c
        out.write('1\t%s\t%s\n' % (c, f))
    except Exception:
        out.write('0\t%s\t\n' % c)
`

type candidate struct {
	key, number string
}

func TestDifferentialStdnum(t *testing.T) {
	py := testenv.PythonModule(t, "stdnum")
	out, err := exec.Command(py, "-c", "import stdnum; print(stdnum.__version__)").Output()
	require.NoError(t, err)
	t.Logf("python-stdnum %s", strings.TrimSpace(string(out)))

	rng := rand.New(rand.NewPCG(4, 2026))
	var cands []candidate
	for _, key := range slices.Sorted(maps.Keys(stdnumModules)) {
		country, name, _ := strings.Cut(key, "/")
		s, err := nationalid.Lookup(country, name)
		require.NoError(t, err, key)
		valid := 0
		for _, n := range generate(rng, s, 400) {
			valid++
			cands = append(cands, candidate{key, n})
			for range 6 {
				cands = append(cands, candidate{key, mutate(rng, n, country)})
			}
		}
		require.Greater(t, valid, 50, "%s: too few valid numbers generated", key)
		for range 300 {
			cands = append(cands, candidate{key, randomString(rng)})
		}
	}

	// The test vectors too: python-stdnum must agree with every one of them.
	for _, v := range loadVectors(t) {
		if key := v.Country + "/" + v.Scheme; stdnumModules[key] != "" {
			cands = append(cands, candidate{key, v.Input})
		}
	}

	cmd := exec.Command(py, "-c", stdnumDriver)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		w := bufio.NewWriter(stdin)
		for _, c := range cands {
			fmt.Fprintf(w, "%s\t%s\n", stdnumModules[c.key], c.number)
		}
		w.Flush()
		stdin.Close()
	}()
	sc := bufio.NewScanner(stdout)
	disagreements := map[string]int{}
	agreedValid := map[string]int{}
	i := 0
	for sc.Scan() {
		require.Less(t, i, len(cands))
		c := cands[i]
		i++
		fields := strings.Split(sc.Text(), "\t")
		require.Len(t, fields, 3)
		theirsValid, theirCompact, theirFormat := fields[0] == "1", fields[1], fields[2]
		country, name, _ := strings.Cut(c.key, "/")
		s, _ := nationalid.Lookup(country, name)
		oursErr := s.Validate(c.number)
		oursValid := oursErr == nil
		if oursValid != theirsValid {
			why := knownDisagreement(c.key, oursValid, theirsValid, theirCompact)
			if assert.NotEmpty(t, why, "%s %q: ours valid=%v (%v), python-stdnum valid=%v",
				c.key, c.number, oursValid, oursErr, theirsValid) {
				disagreements[c.key+": "+why]++
			}
			continue
		}
		if !oursValid {
			continue
		}
		agreedValid[c.key]++
		assert.Equal(t, theirCompact, s.Compact(c.number), "%s %q: compact", c.key, c.number)
		if sameFormat[c.key] {
			f, err := s.Format(c.number)
			if assert.NoError(t, err) {
				assert.Equal(t, theirFormat, f, "%s %q: format", c.key, c.number)
			}
		}
	}
	require.NoError(t, sc.Err())
	require.NoError(t, cmd.Wait())
	require.Equal(t, len(cands), i, "python-stdnum answered fewer candidates than sent")
	t.Logf("%d candidates over %d schemes", len(cands), len(stdnumModules))
	for key, n := range agreedValid {
		t.Logf("%s: %d agreed valid", key, n)
	}
	for why, n := range disagreements {
		t.Logf("deliberate disagreement x%d: %s", n, why)
	}
}

// generate returns up to n numbers that s accepts, built from the scheme's structure
// with the check characters found by trying every completion.
func generate(rng *rand.Rand, s *nationalid.Scheme, n int) []string {
	var out []string
	for tries := 0; len(out) < n && tries < n*20; tries++ {
		tmpl, alphabet := template(rng, s.Country+"/"+s.Name)
		for _, v := range complete(tmpl, alphabet) {
			if s.Validate(v) == nil {
				out = append(out, v)
				break
			}
		}
	}
	return out
}

// complete fills every '?' in tmpl with each character of alphabet.
func complete(tmpl, alphabet string) []string {
	i := strings.IndexByte(tmpl, '?')
	if i < 0 {
		return []string{tmpl}
	}
	var out []string
	for _, ch := range alphabet {
		out = append(out, complete(tmpl[:i]+string(ch)+tmpl[i+1:], alphabet)...)
	}
	return out
}

func digitsN(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func pick(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

func lettersN(rng *rand.Rand, n int, set string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[rng.IntN(len(set))]
	}
	return string(b)
}

const (
	upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	alnum = "0123456789" + upper
	dig   = "0123456789"
)

func date6(rng *rand.Rand) string {
	return fmt.Sprintf("%02d%02d%02d", rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(31))
}

// template returns a plausible number of the scheme with '?' where check characters go,
// and the alphabet to try there.
func template(rng *rand.Rand, key string) (string, string) {
	switch key {
	case "AR/cuit":
		return pick(rng, "20", "23", "24", "27", "30", "33", "34", "50", "51", "55") + digitsN(rng, 8) + "?", dig
	case "AR/dni":
		return digitsN(rng, 7+rng.IntN(2)), dig
	case "BR/cnpj":
		if rng.IntN(3) == 0 {
			return lettersN(rng, 12, alnum) + "??", dig
		}
		return digitsN(rng, 12) + "??", dig
	case "BR/cpf":
		return digitsN(rng, 9) + "??", dig
	case "CL/rut":
		return digitsN(rng, 7+rng.IntN(2)) + "?", dig + "K"
	case "CO/nit":
		return digitsN(rng, 7+rng.IntN(9)) + "?", dig
	case "CR/cpf":
		switch rng.IntN(3) {
		case 0:
			return "0" + digitsN(rng, 9), dig
		case 1:
			return digitsN(rng, 1) + "-" + digitsN(rng, 1+rng.IntN(4)) + "-" + digitsN(rng, 1+rng.IntN(4)), dig
		default:
			return digitsN(rng, 9), dig
		}
	case "CR/cpj":
		return pick(rng, "2100", "2400", "3101", "3002", "3110", "4000", "5001", "3999", "6101") + digitsN(rng, 6), dig
	case "CR/cr":
		return "1" + digitsN(rng, 10+rng.IntN(2)), dig
	case "CU/ni":
		return date6(rng) + digitsN(rng, 5), dig
	case "DO/cedula":
		return digitsN(rng, 10) + "?", dig
	case "DO/rnc":
		return digitsN(rng, 8) + "?", dig
	case "EC/ci":
		return fmt.Sprintf("%02d", 1+rng.IntN(24)) + digitsN(rng, 1) + digitsN(rng, 6) + "?", dig
	case "EC/ruc":
		prov := pick(rng, fmt.Sprintf("%02d", 1+rng.IntN(24)), "30", "50")
		switch rng.IntN(3) {
		case 0: // person: cédula and establishment
			return prov + digitsN(rng, 1) + digitsN(rng, 6) + "?" + pick(rng, "001", "002", "000"), dig
		case 1: // public entity
			return prov + "6" + digitsN(rng, 5) + "?" + pick(rng, "0001", "0002", "0000"), dig
		default: // company
			return prov + "9" + digitsN(rng, 6) + "?" + pick(rng, "001", "010", "000"), dig
		}
	case "GT/nit":
		return digitsN(rng, 1+rng.IntN(11)) + "?", dig + "K"
	case "MX/curp":
		return lettersN(rng, 4, upper) + date6(rng) + pick(rng, "H", "M", "X", "F") +
			pick(rng, "AS", "BC", "DF", "NE", "ZS", "XX", "JC") + lettersN(rng, 3, upper) +
			lettersN(rng, 1, alnum) + "?", dig
	case "MX/rfc":
		switch rng.IntN(4) {
		case 0:
			return lettersN(rng, 3, upper+"&") + date6(rng) + lettersN(rng, 3, alnum), dig
		case 1:
			return lettersN(rng, 4, upper) + date6(rng), dig
		case 2:
			return lettersN(rng, 3, upper) + "Ñ" + date6(rng) + lettersN(rng, 3, alnum), dig
		default:
			return lettersN(rng, 4, upper+"&") + date6(rng) + lettersN(rng, 3, alnum), dig
		}
	case "PE/cui":
		if rng.IntN(2) == 0 {
			return digitsN(rng, 8), dig
		}
		return digitsN(rng, 8) + "?", dig + "ABCDEFGHIJK"
	case "PE/ruc":
		return pick(rng, "10", "15", "17", "20") + digitsN(rng, 8) + "?", dig
	case "PY/ruc":
		return digitsN(rng, 1+rng.IntN(8)) + "?", dig
	case "SV/nit":
		return pick(rng, "0", "1", "9") + digitsN(rng, 3) + date6(rng) + digitsN(rng, 3) + "?", dig
	case "UY/rut":
		return fmt.Sprintf("%02d", 1+rng.IntN(21)) + digitsN(rng, 6) + "001?", dig
	case "VE/rif":
		return pick(rng, "V", "E", "J", "P", "G") + digitsN(rng, 8) + "?", dig
	}
	panic("no template for " + key)
}

// mutate changes a valid number the way people and systems do: a wrong or swapped
// character, one too few or too many, separators, lower case, a country prefix.
func mutate(rng *rand.Rand, n, country string) string {
	b := []byte(n)
	const chars = "0123456789AKXZ&-. /"
	switch rng.IntN(10) {
	case 0:
		if len(b) > 0 {
			b[rng.IntN(len(b))] = chars[rng.IntN(len(chars))]
		}
	case 1:
		if len(b) > 1 {
			i := rng.IntN(len(b) - 1)
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 2:
		if len(b) > 0 {
			i := rng.IntN(len(b))
			b = append(b[:i], b[i+1:]...)
		}
	case 3:
		i := rng.IntN(len(b) + 1)
		b = append(b[:i], append([]byte{chars[rng.IntN(10)]}, b[i:]...)...)
	case 4, 5:
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b) + 1)
			b = append(b[:i], append([]byte{" -./,_"[rng.IntN(6)]}, b[i:]...)...)
		}
	case 6:
		b = []byte(strings.ToLower(n))
	case 7:
		b = []byte(pick(rng, country, strings.ToLower(country)+" ", country+"-") + n)
	case 8:
		b = append(b, chars[rng.IntN(len(chars))])
	case 9:
		if len(b) > 0 {
			b = b[:rng.IntN(len(b))]
		}
	}
	return string(b)
}

func randomString(rng *rand.Rand) string {
	const chars = "0123456789012345678901234567890123456789ABCKVJ -./"
	return lettersN(rng, rng.IntN(20), chars)
}
