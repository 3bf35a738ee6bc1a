package nationalid

// Argentina: DNI (RENAPER) and CUIT/CUIL (ARCA, formerly AFIP).

func init() {
	register(
		&Scheme{
			Country: "AR", Name: "dni",
			Title: "DNI (Documento Nacional de Identidad)",
			Description: "Argentinian identity number issued by the Registro Nacional de las Personas: " +
				"7 or 8 digits. It has no check digit; Validate checks the format only. Presented " +
				"as 20.123.456.",
			URL:  "https://www.argentina.gob.ar/interior/renaper",
			rule: rule{seps: " .", check: checkARDNI, format: formatARDNI},
		},
		&Scheme{
			Country: "AR", Name: "cuit", Aliases: []string{"cuil"},
			Title: "CUIT/CUIL (Clave Única de Identificación Tributaria / Laboral)",
			Description: "Argentinian tax (CUIT) and labour (CUIL) number issued by ARCA (formerly AFIP): " +
				"11 digits, a type prefix (20, 23, 24, 27 persons; 30, 33, 34 companies; 50, 51, 55 " +
				"international), the DNI or a company number, and a mod-11 check digit. Presented as " +
				"20-12345678-6.",
			URL:           "https://www.afip.gob.ar/",
			HasCheckDigit: true,
			rule:          rule{seps: " -", check: checkARCUIT, format: formatARCUIT},
		},
	)
}

func checkARDNI(c cbuf) reason {
	d := c.b[:c.n]
	if !digits(d) {
		return rFormat
	}
	if len(d) != 7 && len(d) != 8 {
		return rLength
	}
	return ok
}

func formatARDNI(c string) string {
	n := len(c)
	return c[:n-6] + "." + c[n-6:n-3] + "." + c[n-3:]
}

var arCUITWeights = [10]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}

func checkARCUIT(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 11 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	switch string(d[:2]) {
	case "20", "23", "24", "27", "30", "33", "34", "50", "51", "55":
	default:
		return rType
	}
	// A remainder of 1 would need a check "digit" of 10; ARCA then issues 9 (and, for
	// persons, usually changes the prefix to 23 instead).
	if "012345678990"[11-weighted(d, arCUITWeights[:])%11] != d[10] {
		return rCheck
	}
	return ok
}

func formatARCUIT(c string) string { return splitAt(c, '-', 2, 10) }
