package nationalid

// Peru: CUI, the number on the DNI (RENIEC), and RUC (SUNAT).

func init() {
	register(
		&Scheme{
			Country: "PE", Name: "cui", Aliases: []string{"dni"},
			Title: "CUI (Código Único de Identificación), the DNI number",
			Description: "Peruvian personal identity number issued by RENIEC and printed on the DNI: 8 " +
				"digits, optionally followed by the check character printed beside it on the card " +
				"(a digit or a letter A-K, mod 11); Validate checks it when present. Presented as " +
				"10117410-2.",
			URL:           "https://www.gob.pe/235-documento-nacional-de-identidad-dni",
			HasCheckDigit: true,
			rule:          rule{seps: " -", check: checkPECUI, format: formatPECUI},
		},
		&Scheme{
			Country: "PE", Name: "ruc",
			Title: "RUC (Registro Único de Contribuyentes)",
			Description: "Peruvian taxpayer number issued by SUNAT: 11 digits, a type prefix (10 persons " +
				"with a DNI, 15 and 17 other persons, 20 companies), 8 digits and a mod-11 check digit.",
			URL:           "https://www.sunat.gob.pe/legislacion/ruc/",
			HasCheckDigit: true,
			rule:          rule{seps: " ", check: checkPERUC},
		},
	)
}

var peCUIWeights = [8]int{3, 2, 7, 6, 5, 4, 3, 2}

func checkPECUI(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 8 && len(d) != 9 {
		return rLength
	}
	if !digits(d[:8]) {
		return rFormat
	}
	if len(d) == 9 {
		r := weighted(d, peCUIWeights[:]) % 11
		if d[8] != "65432110987"[r] && d[8] != "KJIHGFEDCBA"[r] {
			return rCheck
		}
	}
	return ok
}

func formatPECUI(c string) string {
	if len(c) == 9 {
		return c[:8] + "-" + c[8:]
	}
	return c
}

var peRUCWeights = [10]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}

func checkPERUC(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 11 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	switch string(d[:2]) {
	case "10", "15", "17", "20":
	default:
		return rType
	}
	if (11-weighted(d, peRUCWeights[:])%11)%10 != int(d[10]-'0') {
		return rCheck
	}
	return ok
}
