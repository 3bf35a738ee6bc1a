package nationalid

// Costa Rica: cédula de persona física, cédula jurídica and DIMEX.

const crURL = "https://www.hacienda.go.cr/consultapagos/ayuda_cedulas.htm"

func init() {
	register(
		&Scheme{
			Country: "CR", Name: "cpf", Aliases: []string{"cedula"},
			Title: "Cédula de Persona Física (cédula de identidad)",
			Description: "Costa Rican identity number issued by the Tribunal Supremo de Elecciones: 10 " +
				"digits 0P-TTTT-AAAA (province 1-9, volume, entry); the leading zeros of each group are " +
				"often left out and are restored when the groups are separated by hyphens. It has " +
				"no check digit; Validate checks the format only. Presented as 01-0613-0584.",
			URL:  crURL,
			rule: rule{seps: " ", post: crCPFCompact, check: checkCRCPF, format: formatCRCPF},
		},
		&Scheme{
			Country: "CR", Name: "cpj",
			Title: "Cédula de Persona Jurídica",
			Description: "Costa Rican number of a legal entity from the Registro Nacional: 10 digits, a " +
				"class (2-5), a 3-digit type of that class and a 6-digit sequence. It has no check " +
				"digit; Validate checks the format and the class and type. Presented as 3-101-999999.",
			URL:  crURL,
			rule: rule{seps: " -", check: checkCRCPJ, format: formatCRCPJ},
		},
		&Scheme{
			Country: "CR", Name: "cr", Aliases: []string{"dimex"},
			Title: "DIMEX (Documento de Identidad Migratorio para Extranjeros), cédula de residencia",
			Description: "Costa Rican number of a resident foreigner issued by the Dirección General de " +
				"Migración y Extranjería: 11 or 12 digits starting with 1. It has no check digit; " +
				"Validate checks the format only.",
			URL:  crURL,
			rule: rule{seps: " -", check: checkCRCR},
		},
	)
}

// crCPFCompact pads the groups of 0P-TTTT-AAAA with zeros when exactly three groups are
// separated by hyphens, then drops the hyphens, and restores a missing leading zero.
func crCPFCompact(c cbuf) cbuf {
	d := c.b[:c.n]
	var out cbuf
	hyphens := 0
	for _, ch := range d {
		if ch == '-' {
			hyphens++
		}
	}
	if hyphens == 2 {
		widths := [3]int{2, 4, 4}
		part, start := 0, 0
		for i := 0; i <= len(d); i++ {
			if i < len(d) && d[i] != '-' {
				continue
			}
			seg := d[start:i]
			for pad := widths[part] - len(seg); pad > 0; pad-- {
				if out.n == maxCompact {
					return c
				}
				out.b[out.n] = '0'
				out.n++
			}
			for _, ch := range seg {
				if out.n == maxCompact {
					return c
				}
				out.b[out.n] = ch
				out.n++
			}
			part++
			start = i + 1
		}
	} else {
		for _, ch := range d {
			if ch != '-' {
				out.b[out.n] = ch
				out.n++
			}
		}
	}
	if out.n == 9 {
		copy(out.b[1:], out.b[:9])
		out.b[0] = '0'
		out.n = 10
	}
	return out
}

func checkCRCPF(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 10 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	// python-stdnum accepts any 0P; a province 0 or a zero volume or entry is never issued.
	if d[0] != '0' || d[1] == '0' {
		return rRegion
	}
	if allZero(d[2:6]) || allZero(d[6:]) {
		return rReserved
	}
	return ok
}

func formatCRCPF(c string) string { return splitAt(c, '-', 2, 6) }

func checkCRCPJ(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 10 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	typ := string(d[1:4])
	switch d[0] {
	case '2':
		switch typ {
		case "100", "200", "300", "400":
			return ok
		}
	case '3':
		switch typ {
		case "002", "003", "004", "005", "006", "007", "008", "009", "010", "011", "012", "013",
			"014", "101", "102", "103", "104", "105", "106", "107", "108", "109", "110":
			return ok
		}
	case '4':
		if typ == "000" {
			return ok
		}
	case '5':
		if typ == "001" {
			return ok
		}
	}
	return rType
}

func formatCRCPJ(c string) string { return splitAt(c, '-', 1, 4) }

func checkCRCR(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 11 && len(d) != 12 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	if d[0] != '1' {
		return rComponent
	}
	return ok
}
