package nationalid

// Cuba: número de identidad permanente.

func init() {
	register(&Scheme{
		Country: "CU", Name: "ni",
		Title: "NI (Número de Identidad)",
		Description: "Cuban permanent identity number on the carné de identidad: 11 digits, the birth " +
			"date YYMMDD, a century digit (9: 1800s, 0-5: 1900s, 6-8: 2000s), a sequence whose last " +
			"digit gives the sex, and a final digit. No check digit rule is published: " +
			"Validate checks the format and the birth date only.",
		URL:  "https://www.gacetaoficial.gob.cu/",
		rule: rule{seps: " ", check: checkCUNI},
	})
}

func checkCUNI(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 11 {
		return rLength
	}
	if !digits(d) {
		return rFormat
	}
	year := num2(d)
	switch {
	case d[6] == '9':
		year += 1800
	case d[6] <= '5':
		year += 1900
	default:
		year += 2000
	}
	if !validDate(year, num2(d[2:]), num2(d[4:])) {
		return rDate
	}
	return ok
}
