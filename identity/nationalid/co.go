package nationalid

// Colombia: NIT (DIAN) and cédula de ciudadanía (Registraduría Nacional).

func init() {
	register(
		&Scheme{
			Country: "CO", Name: "nit",
			Title: "NIT (Número de Identificación Tributaria)",
			Description: "Colombian taxpayer number issued by the DIAN (also called RUT): up to 15 digits " +
				"and a check digit (DV) computed with the DIAN's prime weights 3, 7, 13, ..., 71 mod 11. " +
				"Presented as 213.123.432-1.",
			URL:           "https://www.dian.gov.co/",
			HasCheckDigit: true,
			rule:          rule{seps: ".,- ", check: checkCONIT, format: formatCONIT},
		},
		&Scheme{
			Country: "CO", Name: "cedula", Aliases: []string{"cc"},
			Title: "CC (Cédula de Ciudadanía)",
			Description: "Colombian citizen identity number issued by the Registraduría Nacional del " +
				"Estado Civil: 3 to 10 digits, not starting with 0. It has no check digit; Validate " +
				"checks the format only. Presented with thousands separators, as 1.020.304.050.",
			URL:  "https://www.registraduria.gov.co/",
			rule: rule{seps: ".,- ", check: checkCOCedula, format: formatCOCedula},
		},
	)
}

var coNITWeights = [15]int{3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71}

func checkCONIT(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) < 8 || len(d) > 16 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	body := d[:len(d)-1]
	s := 0
	for i := 0; i < len(body); i++ {
		s += int(body[len(body)-1-i]-'0') * coNITWeights[i]
	}
	if "01987654321"[s%11] != d[len(d)-1] {
		return rCheck
	}
	return ok
}

func formatCONIT(c string) string {
	return groupThousands(c[:len(c)-1], '.') + "-" + c[len(c)-1:]
}

func checkCOCedula(c cbuf) reason {
	d := c.b[:c.n]
	if !digits(d) {
		return rFormat
	}
	if len(d) < 3 || len(d) > 10 {
		return rLength
	}
	if d[0] == '0' {
		return rFormat
	}
	return ok
}

func formatCOCedula(c string) string { return groupThousands(c, '.') }
