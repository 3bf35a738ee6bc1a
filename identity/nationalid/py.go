package nationalid

// Paraguay: RUC (DNIT, formerly SET).

func init() {
	register(&Scheme{
		Country: "PY", Name: "ruc",
		Title: "RUC (Registro Único del Contribuyente)",
		Description: "Paraguayan taxpayer number issued by the Dirección Nacional de Ingresos " +
			"Tributarios: up to 8 digits (the cédula for a person, from 80000000 for a company) " +
			"and a mod-11 check digit. Presented as 80028061-0.",
		URL:           "https://www.dnit.gov.py/",
		HasCheckDigit: true,
		rule:          rule{seps: " -", check: checkPYRUC, format: formatCheckSuffix},
	})
}

func checkPYRUC(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) > 9 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	// python-stdnum accepts "0" and other all-zero numbers; no RUC is zero.
	if allZero(d) {
		return rReserved
	}
	body := d[:len(d)-1]
	s := 0
	for i := 0; i < len(body); i++ {
		s += (i + 2) * int(body[len(body)-1-i]-'0')
	}
	if (11-s%11)%11%10 != int(d[len(d)-1]-'0') {
		return rCheck
	}
	return ok
}

// formatCheckSuffix separates the last character, the check digit, with a hyphen.
func formatCheckSuffix(c string) string { return c[:len(c)-1] + "-" + c[len(c)-1:] }
