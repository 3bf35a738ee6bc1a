package nationalid

import "bytes"

// Panama: cédula de identidad personal (Tribunal Electoral).

func init() {
	register(&Scheme{
		Country: "PA", Name: "cedula",
		Title: "Cédula de Identidad Personal",
		Description: "Panamanian identity number issued by the Tribunal Electoral: a prefix, a volume " +
			"(tomo, up to 4 digits) and an entry (asiento, up to 6 digits) separated by hyphens. The " +
			"prefix is a province 1-13, optionally followed by AV (registered before 1914) or PI " +
			"(indigenous population), or E (foreigner), N (naturalised) or PE (born abroad). It has " +
			"no check digit; Validate checks the format only, and the hyphens are part of the " +
			"compact form. Presented as 8-123-4567.",
		URL:  "https://www.tribunal-electoral.gob.pa/",
		rule: rule{seps: " ", check: checkPACedula},
	})
}

func checkPACedula(c cbuf) reason {
	d := c.b[:c.n]
	if len(d) < 5 || len(d) > 16 {
		return rLength
	}
	if bytes.IndexByte(d, '-') < 0 {
		return rFormat
	}
	// Prefix.
	i := 0
	switch {
	case len(d) > 2 && string(d[:2]) == "PE":
		i = 2
	case d[0] == 'E' || d[0] == 'N':
		i = 1
	case isDigit(d[0]):
		p := int(d[0] - '0')
		i = 1
		if isDigit(d[1]) {
			p = p*10 + int(d[1]-'0')
			i = 2
		}
		if p < 1 || p > 13 || d[0] == '0' {
			return rRegion
		}
		if i+2 <= len(d) && (string(d[i:i+2]) == "AV" || string(d[i:i+2]) == "PI") {
			i += 2
		}
	default:
		return rFormat
	}
	// -tomo-asiento
	for _, maxDigits := range [2]int{4, 6} {
		if i >= len(d) || d[i] != '-' {
			return rFormat
		}
		i++
		start := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if n := i - start; n == 0 || n > maxDigits {
			return rFormat
		}
		if allZero(d[start:i]) {
			return rReserved
		}
	}
	if i != len(d) {
		return rFormat
	}
	return ok
}
