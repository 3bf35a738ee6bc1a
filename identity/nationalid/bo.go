package nationalid

// Bolivia: cédula de identidad (SEGIP) and NIT (SIN). Neither authority publishes a check
// digit rule, so both are checked for format only.

func init() {
	register(
		&Scheme{
			Country: "BO", Name: "ci",
			Title: "CI (Cédula de Identidad)",
			Description: "Bolivian identity number issued by SEGIP: 4 to 10 digits, optionally followed " +
				"by a 2-character complement (a digit and a letter, as 1A) that SEGIP adds to tell " +
				"apart duplicated numbers. No check digit rule is published; Validate checks the " +
				"format only. The department of issue (LP, CB, SC, ...) is not part of the number. " +
				"Presented as 1234567-1A.",
			URL:  "https://www.segip.gob.bo/",
			rule: rule{seps: " -.", check: checkBOCI, format: formatBOCI},
		},
		&Scheme{
			Country: "BO", Name: "nit",
			Title: "NIT (Número de Identificación Tributaria)",
			Description: "Bolivian taxpayer number issued by the Servicio de Impuestos Nacionales: 5 to " +
				"12 digits. No check digit rule is published; Validate checks the format only.",
			URL:  "https://www.impuestos.gob.bo/",
			rule: rule{seps: " -.", check: checkBONIT},
		},
	)
}

func checkBOCI(c cbuf) reason {
	d := c.b[:c.n]
	n := len(d)
	if n >= 2 && isUpper(d[n-1]) {
		if !isDigit(d[n-2]) {
			return rFormat
		}
		n -= 2
	}
	if n < 4 || n > 10 {
		return rLength
	}
	if !digits(d[:n]) {
		return rFormat
	}
	if d[0] == '0' {
		return rFormat
	}
	return ok
}

func formatBOCI(c string) string {
	if n := len(c); isUpper(c[n-1]) {
		return c[:n-2] + "-" + c[n-2:]
	}
	return c
}

func checkBONIT(c cbuf) reason {
	d := c.b[:c.n]
	if !digits(d) {
		return rFormat
	}
	if len(d) < 5 || len(d) > 12 {
		return rLength
	}
	if d[0] == '0' {
		return rFormat
	}
	return ok
}
