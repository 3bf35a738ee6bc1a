package nationalid

// Uruguay: cédula de identidad (DNIC) and RUT (DGI).

func init() {
	register(
		&Scheme{
			Country: "UY", Name: "ci", Aliases: []string{"cedula"},
			Title: "CI (Cédula de Identidad)",
			Description: "Uruguayan identity number issued by the Dirección Nacional de Identificación " +
				"Civil: up to 7 digits and a check digit (weights 2,9,8,7,6,3,4, mod 10). Presented " +
				"as 1.234.567-2.",
			URL:           "https://www.gub.uy/ministerio-interior/direccion-nacional-identificacion-civil",
			HasCheckDigit: true,
			rule:          rule{seps: " -.", check: checkUYCI, format: formatUYCI},
		},
		&Scheme{
			Country: "UY", Name: "rut",
			Title: "RUT (Registro Único Tributario)",
			Description: "Uruguayan taxpayer number issued by the Dirección General Impositiva: 12 digits, " +
				"a registration office 01-21, a 6-digit sequence, 001 and a mod-11 check digit. " +
				"Presented as 21-100342-001-7.",
			URL:           "https://www.gub.uy/direccion-general-impositiva/",
			HasCheckDigit: true,
			rule:          rule{seps: " -", prefix: "UY", check: checkUYRUT, format: formatUYRUT},
		},
	)
}

var uyCIWeights = [7]int{2, 9, 8, 7, 6, 3, 4}

// checkUYCI accepts 6 to 8 digits: cédulas below 1.000.000 are still in use.
func checkUYCI(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) < 6 || len(d) > 8 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	body := d[:len(d)-1]
	if allZero(body) {
		return rReserved
	}
	s, off := 0, 7-len(body)
	for i, ch := range body {
		s += int(ch-'0') * uyCIWeights[off+i]
	}
	if int(d[len(d)-1]-'0') != (10-s%10)%10 {
		return rCheck
	}
	return ok
}

func formatUYCI(c string) string {
	return groupThousands(c[:len(c)-1], '.') + "-" + c[len(c)-1:]
}

var uyRUTWeights = [11]int{4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}

func checkUYRUT(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 12 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	if office := num2(d); office < 1 || office > 21 {
		return rRegion
	}
	if allZero(d[2:8]) {
		return rReserved
	}
	if string(d[8:11]) != "001" {
		return rComponent
	}
	if (11-weighted(d, uyRUTWeights[:])%11)%11 != int(d[11]-'0') {
		return rCheck
	}
	return ok
}

func formatUYRUT(c string) string { return splitAt(c, '-', 2, 8, 11) }
