package notify

import "unicode/utf16"

// SMSEncoding is the alphabet a text message is sent in.
type SMSEncoding string

// The two alphabets of 3GPP TS 23.038: GSM-7 when every character is in the GSM 7-bit
// default alphabet or its extension table, UCS-2 otherwise.
const (
	GSM7 SMSEncoding = "GSM-7"
	UCS2 SMSEncoding = "UCS-2"
)

// SMSLength is the length of a text message as a network counts it.
type SMSLength struct {
	// Encoding is GSM7 or UCS2.
	Encoding SMSEncoding `json:"encoding"`
	// Characters counts GSM-7 septets (a character of the extension table, such as € or
	// {, takes two) or UCS-2 code units (a character beyond the Basic Multilingual Plane,
	// such as an emoji, takes two).
	Characters int `json:"characters"`
	// Fragments is how many messages it is sent as: one of up to 160 septets or 70 code
	// units, or else parts of up to 153 septets or 67 code units each, the rest of each
	// part holding the concatenation header (3GPP TS 23.040 §9.2.3.24.1). A two-septet
	// character or a surrogate pair is never split between parts.
	Fragments int `json:"fragments"`
}

// CountSMS returns the encoding, length and fragment count of a text message. It follows
// GOV.UK Notify's get_sms_fragment_count (160/153 for GSM-7, 70/67 for UCS-2), counting
// extension characters twice as Notify's count_extended_gsm_chars does.
func CountSMS(text string) SMSLength {
	gsm := true
	for _, r := range text {
		if gsmWidth(r) == 0 {
			gsm = false
			break
		}
	}
	var units []int // the width of each character, in septets or code units
	for _, r := range text {
		if gsm {
			units = append(units, gsmWidth(r))
		} else {
			units = append(units, utf16.RuneLen(r))
		}
	}
	single, part := 160, 153
	enc := GSM7
	if !gsm {
		single, part, enc = 70, 67, UCS2
	}
	n := 0
	for _, w := range units {
		n += w
	}
	l := SMSLength{Encoding: enc, Characters: n}
	switch {
	case n == 0:
	case n <= single:
		l.Fragments = 1
	default:
		used := 0
		l.Fragments = 1
		for _, w := range units {
			if used+w > part {
				l.Fragments++
				used = 0
			}
			used += w
		}
	}
	return l
}

// gsmWidth returns how many septets r takes in GSM-7: 1 in the default alphabet, 2 in the
// extension table (escape and character), 0 when GSM-7 cannot carry it.
func gsmWidth(r rune) int {
	if r < 0x80 {
		if gsmASCII[r] {
			return 1
		}
		switch r {
		case '\f', '^', '{', '}', '\\', '[', '~', ']', '|':
			return 2
		}
		return 0
	}
	switch r {
	case '€':
		return 2
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 'Æ', 'æ', 'ß', 'É',
		'¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿', 'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	}
	return 0
}

// gsmASCII marks the ASCII characters of the GSM 7-bit default alphabet (3GPP TS 23.038
// §6.2.1): letters, digits, space, line feed, carriage return and most punctuation, but not
// the characters of the extension table nor backquote, and not escape, which introduces
// them.
var gsmASCII = func() (t [128]bool) {
	for _, r := range "@$\n\r_ !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" {
		t[r] = true
	}
	return t
}()
