package nationalid

// Ecuador: cédula de identidad (Registro Civil) and RUC (SRI).

func init() {
	register(
		&Scheme{
			Country: "EC", Name: "ci", Aliases: []string{"cedula"},
			Title: "CI (Cédula de Identidad)",
			Description: "Ecuadorian identity number issued by the Registro Civil: 10 digits, a province " +
				"code (01-24, 30 abroad, 50), a third digit below 7, and a mod-10 check digit " +
				"(weights 2,1 with digit folding).",
			URL:           "https://www.registrocivil.gob.ec/",
			HasCheckDigit: true,
			rule:          rule{seps: " -", check: checkECCI},
		},
		&Scheme{
			Country: "EC", Name: "ruc",
			Title: "RUC (Registro Único de Contribuyentes)",
			Description: "Ecuadorian taxpayer number issued by the SRI: 13 digits. For a person it is the " +
				"cédula and an establishment number; for a public entity (third digit 6) 9 digits with " +
				"a mod-11 check and a 4-digit establishment; for a company (third digit 9) 10 digits " +
				"with a mod-11 check and a 3-digit establishment.",
			URL:           "https://www.sri.gob.ec/",
			HasCheckDigit: true,
			rule:          rule{seps: " -", check: checkECRUC},
		},
	)
}

func checkECCI(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 10 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	return ecCI(d)
}

// ecCI checks the province, the third digit and the check digit of 10 digits.
func ecCI(d []byte) reason {
	if r := ecProvince(d); r != ok {
		return r
	}
	if d[2] > '6' {
		return rType
	}
	s := 0
	for i := 0; i < 10; i++ {
		x := int(d[i] - '0')
		if i%2 == 0 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		s += x
	}
	if s%10 != 0 {
		return rCheck
	}
	return ok
}

func ecProvince(d []byte) reason {
	p := num2(d)
	if (p < 1 || p > 24) && p != 30 && p != 50 {
		return rRegion
	}
	return ok
}

var (
	ecPublicWeights   = [9]int{3, 2, 7, 6, 5, 4, 3, 2, 1}
	ecJuridicalWeight = [10]int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1}
)

func checkECRUC(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 13 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	if r := ecProvince(d); r != ok {
		return r
	}
	natural := func() reason {
		if string(d[10:]) == "000" {
			return rReserved
		}
		return ecCI(d[:10])
	}
	switch {
	case d[2] < '6':
		return natural()
	case d[2] == '6':
		// Public entity, or else a person whose cédula has third digit 6.
		if string(d[9:]) != "0000" && weighted(d, ecPublicWeights[:])%11 == 0 {
			return ok
		}
		return natural()
	case d[2] == '9':
		if string(d[10:]) == "000" {
			return rReserved
		}
		if weighted(d, ecJuridicalWeight[:])%11 != 0 {
			return rCheck
		}
		return ok
	}
	return rType
}
