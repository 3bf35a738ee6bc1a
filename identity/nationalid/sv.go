package nationalid

// El Salvador: NIT (Ministerio de Hacienda) and DUI (RNPN).

func init() {
	register(
		&Scheme{
			Country: "SV", Name: "nit",
			Title: "NIT (Número de Identificación Tributaria)",
			Description: "Salvadoran taxpayer number issued by the Ministerio de Hacienda: 14 digits, a " +
				"municipality code (starting with 0 or 1, or 9 for foreigners), a date DDMMYY, a " +
				"3-digit sequence and a mod-11 check digit (two weightings, by sequence). Since 2021 " +
				"a person's DUI is also their NIT. Presented as 0614-050707-104-8.",
			URL:           "https://www.mh.gob.sv/",
			HasCheckDigit: true,
			rule:          rule{seps: " -", prefix: "SV", check: checkSVNIT, format: formatSVNIT},
		},
		&Scheme{
			Country: "SV", Name: "dui",
			Title: "DUI (Documento Único de Identidad)",
			Description: "Salvadoran identity number issued by the Registro Nacional de las Personas " +
				"Naturales: 8 digits and a check digit (weights 9 to 2, mod 10). Presented as " +
				"04567890-3.",
			URL:           "https://www.rnpn.gob.sv/",
			HasCheckDigit: true,
			rule:          rule{seps: " -", check: checkSVDUI, format: formatCheckSuffix},
		},
	)
}

var (
	svNITOldWeights = [13]int{14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2}
	svNITNewWeights = [13]int{2, 7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	svDUIWeights    = [8]int{9, 8, 7, 6, 5, 4, 3, 2}
)

func checkSVNIT(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 14 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	if d[0] != '0' && d[0] != '1' && d[0] != '9' {
		return rRegion
	}
	var want int
	if string(d[10:13]) <= "100" {
		want = weighted(d, svNITOldWeights[:]) % 11 % 10
	} else {
		want = (11 - weighted(d, svNITNewWeights[:])%11) % 11 % 10
	}
	if want != int(d[13]-'0') {
		return rCheck
	}
	return ok
}

func formatSVNIT(c string) string { return splitAt(c, '-', 4, 10, 13) }

func checkSVDUI(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 9 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	if allZero(d) {
		return rReserved
	}
	if (10-weighted(d, svDUIWeights[:])%10)%10 != int(d[8]-'0') {
		return rCheck
	}
	return ok
}
