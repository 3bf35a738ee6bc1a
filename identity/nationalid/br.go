package nationalid

// Brazil: CPF (individuals) and CNPJ (legal entities), both issued by the Receita Federal.

func init() {
	register(
		&Scheme{
			Country: "BR", Name: "cpf",
			Title: "CPF (Cadastro de Pessoas Físicas)",
			Description: "Brazilian taxpayer number of an individual, issued by the Receita Federal: " +
				"11 digits, the last two are mod-11 check digits. Presented as 000.000.000-00.",
			URL:           "https://www.gov.br/receitafederal/pt-br/assuntos/meu-cpf",
			HasCheckDigit: true,
			rule:          rule{seps: " -.", check: checkCPF, format: formatCPF},
		},
		&Scheme{
			Country: "BR", Name: "cnpj",
			Title: "CNPJ (Cadastro Nacional da Pessoa Jurídica)",
			Description: "Brazilian number of a legal entity, issued by the Receita Federal: 14 characters, " +
				"8 for the entity, 4 for the establishment and 2 mod-11 check digits. From July 2026 " +
				"(IN RFB 2.229/2024) the first 12 may be letters A-Z as well as digits; each counts as " +
				"its ASCII code minus 48 in the check digits. Presented as 00.000.000/0000-00.",
			URL:           "https://www.gov.br/receitafederal/pt-br/acesso-a-informacao/acoes-e-programas/programas-e-atividades/cnpj-alfanumerico",
			HasCheckDigit: true,
			rule:          rule{seps: " -./", check: checkCNPJ, format: formatCNPJ},
		},
	)
}

func checkCPF(c cbuf) reason {
	d := c.b[:c.n]
	if !digits(d) || allZero(d) {
		return rFormat
	}
	if len(d) != 11 {
		return rLength
	}
	s1, s2 := 0, 0
	for i := 0; i < 9; i++ {
		x := int(d[i] - '0')
		s1 += (10 - i) * x
		s2 += (11 - i) * x
	}
	d1 := (11 - s1%11) % 11 % 10
	d2 := (11 - (s2+2*d1)%11) % 11 % 10
	if int(d[9]-'0') != d1 || int(d[10]-'0') != d2 {
		return rCheck
	}
	return ok
}

func formatCPF(c string) string { return c[:3] + "." + c[3:6] + "." + c[6:9] + "-" + c[9:] }

// checkCNPJ accepts the numeric CNPJ and the alphanumeric one (12 characters in 0-9A-Z,
// then two digits), whose check digits weigh each character as its ASCII code minus 48.
func checkCNPJ(c cbuf) reason {
	d := c.b[:c.n]
	if !upperAlnum(d) || allZero(d) {
		return rFormat
	}
	if len(d) != 14 {
		return rLength
	}
	if !isDigit(d[12]) || !isDigit(d[13]) {
		return rFormat
	}
	s1, s2 := 0, 0
	for i := 0; i < 12; i++ {
		x := int(d[i]) - '0'
		s1 += ((3-i+8)%8 + 2) * x
		s2 += ((4-i+8)%8 + 2) * x
	}
	d1 := (11 - s1%11) % 11 % 10
	d2 := (11 - (s2+2*d1)%11) % 11 % 10
	if int(d[12]-'0') != d1 || int(d[13]-'0') != d2 {
		return rCheck
	}
	return ok
}

func formatCNPJ(c string) string {
	return c[0:2] + "." + c[2:5] + "." + c[5:8] + "/" + c[8:12] + "-" + c[12:]
}
