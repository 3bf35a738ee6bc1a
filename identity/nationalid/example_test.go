package nationalid_test

import (
	"errors"
	"fmt"

	"github.com/dpiblocks/dpi/identity/nationalid"
)

func Example() {
	s, err := nationalid.Lookup("BR", "cpf")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Validate("390.533.447-05"))
	fmt.Println(s.Compact("390.533.447-05"))
	fmt.Println(s.Format("39053344705"))

	err = s.Validate("390.533.447-06")
	fmt.Println(err, errors.Is(err, nationalid.ErrCheckDigit))
	// Output:
	// <nil>
	// 39053344705
	// 390.533.447-05 <nil>
	// nationalid: BR cpf: check digit mismatch true
}

func ExampleLookup() {
	s, err := nationalid.Lookup("cl", "rut")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Title)
	fmt.Println(s.Format("125319092"))

	_, err = nationalid.Lookup("XX", "rut")
	fmt.Println(errors.Is(err, nationalid.ErrUnknownScheme))
	// Output:
	// RUT (Rol Único Tributario) / RUN (Rol Único Nacional)
	// 12.531.909-2 <nil>
	// true
}

func ExampleSchemes() {
	for _, s := range nationalid.Schemes() {
		if s.Country == "MX" {
			fmt.Println(s.Country, s.Name, s.HasCheckDigit)
		}
	}
	// Output:
	// MX curp true
	// MX rfc false
}

func ExampleInvalidError() {
	s, err := nationalid.Lookup("MX", "curp")
	if err != nil {
		panic(err)
	}
	var ie *nationalid.InvalidError
	if errors.As(s.Validate("BOXW310230HNERXN09"), &ie) {
		fmt.Println(ie.Country, ie.Scheme, ie.Detail, errors.Is(ie, nationalid.ErrComponent))
	}
	// Output:
	// MX curp impossible date true
}

func ExampleScheme_Validate_alphanumericCNPJ() {
	s, err := nationalid.Lookup("BR", "cnpj")
	if err != nil {
		panic(err)
	}
	// The example of the Receita Federal's alphanumeric CNPJ, issued from July 2026.
	fmt.Println(s.Validate("12.ABC.345/01DE-35"))
	fmt.Println(s.Format("12abc34501de35"))
	// Output:
	// <nil>
	// 12.ABC.345/01DE-35 <nil>
}
