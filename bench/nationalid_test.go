package bench

import (
	"testing"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

// nationalIDInputs is one valid number per scheme, in its usual presentation (so the
// separators are compacted too). bench/nationalid_stdnum.py times python-stdnum on the
// same numbers.
var nationalIDInputs = map[string]string{
	"AR/cuit": "20-05536168-2", "AR/dni": "20.123.456", "BO/ci": "1234567-1A", "BO/nit": "1020703023",
	"BR/cnpj": "16.727.230/0001-97", "BR/cpf": "390.533.447-05", "CL/rut": "12.531.909-2",
	"CO/cedula": "1.020.304.050", "CO/nit": "213.123.432-1", "CR/cpf": "1-613-584", "CR/cpj": "3-101-999999",
	"CR/cr": "155812994816", "CU/ni": "91021027775", "DO/cedula": "001-1391820-5", "DO/rnc": "1-01-85004-3",
	"EC/ci": "1714307103", "EC/ruc": "1792060346001", "GT/nit": "576937-K", "MX/curp": "BOXW310820HNERXN09",
	"MX/rfc": "GODE 561231 GR8", "PA/cedula": "8-123-4567", "PE/cui": "10117410-2", "PE/ruc": "20512333797",
	"PY/ruc": "80028061-0", "SV/dui": "04567890-3", "SV/nit": "0614-050707-104-8", "UY/ci": "1.234.567-2",
	"UY/rut": "21-100342-001-7", "VE/rif": "V-11470283-4",
}

// BenchmarkValidate times Validate on a valid number of every scheme
// (BenchmarkValidate/BR/cpf), and on the same number with its last character changed
// (BenchmarkValidate/BR/cpf/invalid). Both must report 0 allocs/op.
func BenchmarkValidate(b *testing.B) {
	for _, s := range nationalid.Schemes() {
		key := s.Country + "/" + s.Name
		in, ok := nationalIDInputs[key]
		if !ok {
			b.Fatalf("no benchmark input for %s", key)
		}
		if err := s.Validate(in); err != nil {
			b.Fatalf("%s: %v", key, err)
		}
		b.Run(key, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s.Validate(in) != nil {
					b.Fatal("rejected")
				}
			}
		})
		bad := in[:len(in)-1] + "#"
		b.Run(key+"/invalid", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s.Validate(bad) == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
