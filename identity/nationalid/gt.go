package nationalid

// Guatemala: NIT (SAT).

func init() {
	register(&Scheme{
		Country: "GT", Name: "nit",
		Title: "NIT (Número de Identificación Tributaria)",
		Description: "Guatemalan taxpayer number issued by the Superintendencia de Administración " +
			"Tributaria: 2 to 12 characters, digits then a mod-11 check character 0-9 or K; " +
			"leading zeros are dropped. Presented as 576937-K.",
		URL:           "https://portal.sat.gob.gt/portal/descarga/6524/factura-electronica-fel/25542/fel-reglas-y-validaciones.pdf",
		HasCheckDigit: true,
		rule:          rule{seps: " -", trimZeros: true, check: checkGTNIT, format: formatCheckSuffix},
	})
}

func checkGTNIT(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) < 2 || len(d) > 12 {
		return rLength
	}
	body, last := d[:len(d)-1], d[len(d)-1]
	if !digits(body) || (last != 'K' && !isDigit(last)) {
		return rFormat
	}
	s := 0
	for i := 0; i < len(body); i++ {
		s += (i + 2) * int(body[len(body)-1-i]-'0')
	}
	if "0123456789K"[(11-s%11)%11] != last {
		return rCheck
	}
	return ok
}
