package nationalid

// Venezuela: RIF (SENIAT).

func init() {
	register(&Scheme{
		Country: "VE", Name: "rif",
		Title: "RIF (Registro de Información Fiscal)",
		Description: "Venezuelan taxpayer number issued by the SENIAT: a type letter (V Venezuelan, E " +
			"foreigner, J company, P passport, G government), 8 digits and a mod-11 check digit. " +
			"Presented as V-11470283-4.",
		URL:           "http://www.seniat.gob.ve/",
		HasCheckDigit: true,
		rule:          rule{seps: " -", check: checkVERIF, format: formatVERIF},
	})
}

var veRIFWeights = [8]int{3, 2, 7, 6, 5, 4, 3, 2}

func checkVERIF(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 10 {
		return rLength
	}
	var s int
	switch d[0] {
	case 'V':
		s = 4
	case 'E':
		s = 8
	case 'J':
		s = 12
	case 'P':
		s = 16
	case 'G':
		s = 20
	default:
		return rType
	}
	if !digits(d[1:]) {
		return rFormat
	}
	s += weighted(d[1:], veRIFWeights[:])
	if "00987654321"[s%11] != d[9] {
		return rCheck
	}
	return ok
}

func formatVERIF(c string) string { return splitAt(c, '-', 1, 9) }
