package nationalid

// Shared arithmetic for the country files. Every helper works on the compacted bytes and
// never allocates.

// digits reports whether d is non-empty and all ASCII digits.
func digits(d []byte) bool {
	if len(d) == 0 {
		return false
	}
	for _, ch := range d {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}

// upperAlnum reports whether d is non-empty and all ASCII digits or upper-case letters.
func upperAlnum(d []byte) bool {
	if len(d) == 0 {
		return false
	}
	for _, ch := range d {
		if !isDigit(ch) && !isUpper(ch) {
			return false
		}
	}
	return true
}

func isDigit(ch byte) bool { return '0' <= ch && ch <= '9' }
func isUpper(ch byte) bool { return 'A' <= ch && ch <= 'Z' }

// allZero reports whether d has only '0' characters.
func allZero(d []byte) bool {
	for _, ch := range d {
		if ch != '0' {
			return false
		}
	}
	return true
}

// weighted returns the sum of each digit of d times the weight at the same position;
// d must be at least as long as w.
func weighted(d []byte, w []int) int {
	s := 0
	for i, x := range w {
		s += int(d[i]-'0') * x
	}
	return s
}

// num2 returns the two-digit decimal value at d[0:2].
func num2(d []byte) int { return int(d[0]-'0')*10 + int(d[1]-'0') }

// validDate reports whether year-month-day is a date of the proleptic Gregorian calendar.
func validDate(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// luhnOK reports whether the digits of d pass the Luhn (ISO/IEC 7812-1 annex B) check.
func luhnOK(d []byte) bool {
	s := 0
	for i := 0; i < len(d); i++ {
		x := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		s += x
	}
	return s%10 == 0
}

// groupThousands writes digits in groups of three from the right, joined by sep.
func groupThousands(d string, sep byte) string {
	out := make([]byte, 0, len(d)+len(d)/3)
	for i := 0; i < len(d); i++ {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, sep)
		}
		out = append(out, d[i])
	}
	return string(out)
}

// splitAt joins the pieces of s cut at the given offsets with sep between them.
func splitAt(s string, sep byte, cuts ...int) string {
	out := make([]byte, 0, len(s)+len(cuts))
	prev := 0
	for _, c := range cuts {
		if c < prev || c > len(s) {
			return s
		}
		out = append(out, s[prev:c]...)
		out = append(out, sep)
		prev = c
	}
	out = append(out, s[prev:]...)
	return string(out)
}
