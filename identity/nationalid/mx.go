package nationalid

// Mexico: CURP (RENAPO) and RFC (SAT).

func init() {
	register(
		&Scheme{
			Country: "MX", Name: "curp",
			Title: "CURP (Clave Única de Registro de Población)",
			Description: "Mexican population registry key issued by RENAPO: 18 characters, 4 letters " +
				"from the name, the birth date YYMMDD, sex H, M or X (non-binary, since 2023), the state of birth (or NE born " +
				"abroad), 3 consonants from the name, a disambiguation character (a digit for births " +
				"before 2000, a letter after) and a mod-10 check digit.",
			URL:           "https://www.gob.mx/curp/",
			HasCheckDigit: true,
			rule:          rule{seps: "-_ ", check: checkCURP},
		},
		&Scheme{
			Country: "MX", Name: "rfc",
			Title: "RFC (Registro Federal de Contribuyentes)",
			Description: "Mexican taxpayer number issued by the SAT: 13 characters for a person (4 letters " +
				"from the name, birth date YYMMDD, a 3-character homoclave), 12 for a company (3 " +
				"letters, incorporation date, homoclave), or 10 without the homoclave. Validate " +
				"checks the format and the date but not the last check digit, because numbers in " +
				"use with a wrong one are common (as python-stdnum). Presented as GODE 561231 GR8.",
			URL:  "https://www.sat.gob.mx/",
			rule: rule{seps: "-_ ", check: checkRFC, format: formatRFC},
		},
	)
}

// curpStates are the entity codes of RENAPO's instructivo (NE: born abroad).
func curpState(s string) bool {
	switch s {
	case "AS", "BC", "BS", "CC", "CH", "CL", "CM", "CS", "DF", "DG", "GR", "GT", "HG", "JC",
		"MC", "MN", "MS", "NE", "NL", "NT", "OC", "PL", "QR", "QT", "SL", "SP", "SR", "TC",
		"TL", "TS", "VZ", "YN", "ZS":
		return true
	}
	return false
}

// curpInconvenient are the words RENAPO replaces in the first four letters, so a CURP
// never starts with one of them.
func curpInconvenient(s string) bool {
	switch s {
	case "BACA", "BAKA", "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE",
		"COGI", "COJA", "COJE", "COJI", "COJO", "COLA", "CULO", "FALO", "FETO", "GETA", "GUEI",
		"GUEY", "JETA", "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KAKA", "KAKO", "KOGE", "KOGI",
		"KOJA", "KOJE", "KOJI", "KOJO", "KOLA", "KULO", "LILO", "LOCA", "LOCO", "LOKA", "LOKO",
		"MAME", "MAMO", "MEAR", "MEAS", "MEON", "MIAR", "MION", "MOCO", "MOKO", "MULA", "MULO",
		"NACA", "NACO", "PEDA", "PEDO", "PENE", "PIPI", "PITO", "POPO", "PUTA", "PUTO", "QULO",
		"RATA", "ROBA", "ROBE", "ROBO", "RUIN", "SENO", "TETA", "VACA", "VAGA", "VAGO", "VAKA",
		"VUEI", "VUEY", "WUEI", "WUEY":
		return true
	}
	return false
}

// curpValue is a character's value in the check digit: 0-9, A-N = 10-23, & = 24, O-Z = 25-36.
func curpValue(ch byte) int {
	switch {
	case isDigit(ch):
		return int(ch - '0')
	case ch <= 'N':
		return int(ch-'A') + 10
	default:
		return int(ch-'O') + 25
	}
}

func checkCURP(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 18 {
		return rLength
	}
	for i, ch := range d {
		var good bool
		switch {
		case i < 4 || (i >= 10 && i < 16):
			good = isUpper(ch)
		case i < 10 || i == 17:
			good = isDigit(ch)
		default: // 16
			good = isDigit(ch) || isUpper(ch)
		}
		if !good {
			return rFormat
		}
	}
	if curpInconvenient(string(d[:4])) {
		return rReserved
	}
	year := 2000 + num2(d[4:])
	if isDigit(d[16]) {
		year -= 100
	}
	if !validDate(year, num2(d[6:]), num2(d[8:])) {
		return rDate
	}
	// X is the non-binary sex marker, on CURPs issued since 2023 (python-stdnum 1.18
	// accepts H and M only).
	if d[10] != 'H' && d[10] != 'M' && d[10] != 'X' {
		return rComponent
	}
	if !curpState(string(d[11:13])) {
		return rRegion
	}
	s := 0
	for i := 0; i < 17; i++ {
		s += curpValue(d[i]) * (18 - i)
	}
	if int(d[17]-'0') != (10-s%10)%10 {
		return rCheck
	}
	return ok
}

// rfcInconvenient are the words SAT replaces in the first four letters of a person's RFC.
func rfcInconvenient(s string) bool {
	switch s {
	case "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE", "COJA", "COJE",
		"COJI", "COJO", "CULO", "FETO", "GUEY", "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KAKA",
		"KOGE", "KOJO", "KULO", "MAME", "MAMO", "MEAR", "MEAS", "MEON", "MION", "MOCO", "MULA",
		"PEDA", "PEDO", "PENE", "PUTA", "PUTO", "QULO", "RATA", "RUIN":
		return true
	}
	return false
}

// checkRFC works on runes: the name letters may include Ñ (two bytes in UTF-8).
func checkRFC(c cbuf) reason {
	d := c.b[:c.n]
	// Split into characters; Ñ is the only multi-byte one accepted.
	var chars [14]byte // 0xD1 stands for Ñ
	n := 0
	for i := 0; i < len(d); i++ {
		if n == len(chars) {
			return rLength
		}
		ch := d[i]
		if ch == 0xC3 && i+1 < len(d) && d[i+1] == 0x91 {
			ch = 0xD1
			i++
		}
		chars[n] = ch
		n++
	}
	name := 4
	switch n {
	case 10, 13:
	case 12:
		name = 3
	default:
		return rLength
	}
	x := chars[:n]
	for i, ch := range x {
		var good bool
		switch {
		case i < name:
			good = isUpper(ch) || ch == '&' || ch == 0xD1
		case i < name+6:
			good = isDigit(ch)
		default:
			good = isDigit(ch) || isUpper(ch)
		}
		if !good {
			return rFormat
		}
	}
	if name == 4 && rfcInconvenient(string(x[:4])) {
		return rReserved
	}
	if !validDate(2000+num2(x[name:]), num2(x[name+2:]), num2(x[name+4:])) {
		return rDate
	}
	return ok
}

func formatRFC(c string) string {
	// Count characters, not bytes: the name may hold Ñ.
	name, i := 4, 0
	if n := len([]rune(c)); n == 12 {
		name = 3
	}
	for k := 0; k < name; k++ {
		if c[i] == 0xC3 {
			i++
		}
		i++
	}
	out := c[:i] + " " + c[i:i+6]
	if rest := c[i+6:]; rest != "" {
		out += " " + rest
	}
	return out
}
