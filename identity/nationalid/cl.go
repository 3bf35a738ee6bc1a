package nationalid

// Chile: RUT/RUN, one number for a person's identity (RUN) and for tax (RUT).

func init() {
	register(&Scheme{
		Country: "CL", Name: "rut", Aliases: []string{"run"},
		Title: "RUT (Rol Único Tributario) / RUN (Rol Único Nacional)",
		Description: "Chilean number of a person (RUN, issued by the Registro Civil) and taxpayer (RUT, " +
			"Servicio de Impuestos Internos): up to 8 digits and a mod-11 check character 0-9 or K. " +
			"Presented as 12.345.678-5.",
		URL:           "https://www.sii.cl/",
		HasCheckDigit: true,
		rule:          rule{seps: " -.", prefix: "CL", check: checkCLRUT, format: formatCLRUT},
	})
}

func checkCLRUT(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) != 8 && len(d) != 9 {
		return rLength
	}
	body := d[:len(d)-1]
	if !digits(body) {
		return rFormat
	}
	s := 0
	for i := 0; i < len(body); i++ {
		s += int(body[len(body)-1-i]-'0') * (4 + (5-i%6+6)%6)
	}
	if d[len(d)-1] != "0123456789K"[s%11] {
		return rCheck
	}
	return ok
}

func formatCLRUT(c string) string {
	n := len(c)
	return c[:n-7] + "." + c[n-7:n-4] + "." + c[n-4:n-1] + "-" + c[n-1:]
}
