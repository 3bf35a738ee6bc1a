package nationalid

import (
	"errors"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Reasons a number is invalid. Every error that [Scheme.Validate] returns is an
// [*InvalidError] whose Reason is one of these, so errors.Is(err, ErrCheckDigit) works.
var (
	// ErrLength reports a number with too few or too many characters once compacted.
	ErrLength = errors.New("nationalid: wrong length")
	// ErrFormat reports a character that the scheme does not allow where it stands.
	ErrFormat = errors.New("nationalid: invalid format")
	// ErrCheckDigit reports a check digit that does not match the rest of the number.
	ErrCheckDigit = errors.New("nationalid: check digit mismatch")
	// ErrComponent reports a part of the number that cannot exist: an impossible date, an
	// unknown state, province or type code, a reserved value.
	ErrComponent = errors.New("nationalid: invalid component")
	// ErrUnknownScheme reports a country or scheme name that is not registered.
	ErrUnknownScheme = errors.New("nationalid: unknown scheme")
)

// InvalidError says why a number was rejected. It names the scheme and the failed check,
// never the number itself, which is personal data.
//
// Validate returns values that are shared by every call for the same scheme and reason,
// so that a rejection costs no allocation: treat an InvalidError as read-only.
type InvalidError struct {
	Country string // ISO 3166-1 alpha-2 code of the scheme, upper case
	Scheme  string // scheme name, such as "cpf"
	Reason  error  // ErrLength, ErrFormat, ErrCheckDigit or ErrComponent
	Detail  string // the failed check in a few words, such as "impossible date"

	msg string
}

func (e *InvalidError) Error() string { return e.msg }

// Unwrap returns the Reason, so errors.Is(err, ErrCheckDigit) works.
func (e *InvalidError) Unwrap() error { return e.Reason }

// reason is the internal, allocation-free form of a rejection; each maps to a sentinel
// and a short detail.
type reason uint8

const (
	ok reason = iota
	rLength
	rFormat
	rCheck
	rComponent
	rDate
	rRegion
	rType
	rReserved
	numReasons
)

var reasonInfo = [numReasons]struct {
	err    error
	detail string
}{
	rLength:    {ErrLength, "wrong length"},
	rFormat:    {ErrFormat, "invalid character"},
	rCheck:     {ErrCheckDigit, "check digit mismatch"},
	rComponent: {ErrComponent, "invalid component"},
	rDate:      {ErrComponent, "impossible date"},
	rRegion:    {ErrComponent, "unknown region code"},
	rType:      {ErrComponent, "unknown type code"},
	rReserved:  {ErrComponent, "reserved or unassigned value"},
}

// maxCompact is the longest compacted number any scheme accepts, with room to spare; a
// longer input is rejected for its length before any other check.
const maxCompact = limits.MaxNationalIDCompact

// cbuf holds a compacted number. It is passed by value to the check functions so that it
// stays on the caller's stack: Validate allocates nothing.
type cbuf struct {
	b [maxCompact]byte
	n int
}

// rule is how one scheme compacts, checks and formats a number.
type rule struct {
	// seps are the separators Compact removes. ASCII white space is always removed.
	seps string
	// prefix is a country prefix Compact removes after upper-casing, such as "CL".
	prefix string
	// trimZeros removes leading zeros after compaction.
	trimZeros bool
	// post rewrites a compacted number, for schemes whose separators carry structure.
	post func(c cbuf) cbuf
	// check returns ok or why the compacted number is invalid.
	check func(c cbuf) reason
	// format presents a valid compacted number; nil presents it as compacted.
	format func(c string) string
}

// Scheme is one national identification or tax number scheme. Get one with [Lookup] or
// [Schemes]; the exported fields describe it and are for reading only.
type Scheme struct {
	Country       string // ISO 3166-1 alpha-2 code, upper case, such as "BR"
	Name          string // short name, python-stdnum's module name where it has one, such as "cpf"
	Title         string // full name, such as "CPF (Cadastro de Pessoas Físicas)"
	Description   string // what the number identifies and what Validate checks
	URL           string // where the issuing authority defines or describes it
	HasCheckDigit bool   // whether Validate verifies a check digit (else it checks the format only)
	// Aliases are other names Lookup accepts for the scheme, the names people use where
	// python-stdnum's differs: "cuil" for AR cuit, "dni" for PE cui, "run" for CL rut.
	Aliases []string

	rule rule
	errs [numReasons]error
	skip [256]bool // bytes Compact removes: ASCII white space and rule.seps
}

// Validate reports whether number is a valid number of the scheme, after [Scheme.Compact].
// It returns nil or an [*InvalidError], and never allocates.
func (s *Scheme) Validate(number string) error {
	c, r := s.compactBuf(number)
	if r == ok {
		r = s.rule.check(c)
	}
	if r == ok {
		return nil
	}
	return s.errs[r]
}

// Compact returns number without separators and white space, upper-cased, in the form
// Validate checks. It does not validate.
func (s *Scheme) Compact(number string) string {
	if c, r := s.compactBuf(number); r == ok {
		return string(c.b[:c.n])
	}
	// Too long to be valid: compact the same way without the size cap (a scheme's post
	// rewrite only applies to numbers that can be valid).
	b, _ := s.compactAppend(make([]byte, 0, len(number)), number, -1)
	if s.rule.prefix != "" && len(b) >= len(s.rule.prefix) && string(b[:len(s.rule.prefix)]) == s.rule.prefix {
		b = b[len(s.rule.prefix):]
	}
	if s.rule.trimZeros {
		for len(b) > 0 && b[0] == '0' {
			b = b[1:]
		}
	}
	return string(b)
}

// Format validates number and returns it in the presentation usual in its country, such
// as "390.533.447-05" for a Brazilian CPF.
func (s *Scheme) Format(number string) (string, error) {
	if err := s.Validate(number); err != nil {
		return "", err
	}
	c := s.Compact(number)
	if s.rule.format == nil {
		return c, nil
	}
	return s.rule.format(c), nil
}

// compactAppend appends number to dst without separators and white space, upper-cased
// (ASCII letters and ñ). Other non-ASCII characters are kept as they are and invalid UTF-8
// becomes U+FFFD, so a separator can never join two halves of a character. With limit
// >= 0, it stops and reports false once dst would grow past limit bytes.
func (s *Scheme) compactAppend(dst []byte, number string, limit int) ([]byte, bool) {
	for i := 0; i < len(number); i++ {
		ch := number[i]
		if ch >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(number[i:])
			i += size - 1
			switch r {
			case 'ñ', 'Ñ':
				if limit >= 0 && len(dst)+2 > limit {
					return dst, false
				}
				dst = append(dst, "Ñ"...)
			case utf8.RuneError:
				if limit >= 0 && len(dst)+3 > limit {
					return dst, false
				}
				dst = append(dst, "\uFFFD"...)
			default:
				if limit >= 0 && len(dst)+size > limit {
					return dst, false
				}
				dst = append(dst, number[i+1-size:i+1]...)
			}
			continue
		}
		if s.skip[ch] {
			continue
		}
		if 'a' <= ch && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		if limit >= 0 && len(dst)+1 > limit {
			return dst, false
		}
		dst = append(dst, ch)
	}
	return dst, true
}

// compactBuf compacts number into a fixed buffer; rLength when it does not fit.
func (s *Scheme) compactBuf(number string) (c cbuf, r reason) {
	// ASCII fast path; the first non-ASCII byte hands the rest to compactAppend.
	n := 0
	for i := 0; i < len(number); i++ {
		ch := number[i]
		if ch >= utf8.RuneSelf {
			d, fits := s.compactAppend(c.b[:n], number[i:], maxCompact)
			if !fits {
				return c, rLength
			}
			n = len(d)
			break
		}
		if s.skip[ch] {
			continue
		}
		if n == maxCompact {
			return c, rLength
		}
		if 'a' <= ch && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		c.b[n] = ch
		n++
	}
	c.n = n
	if p := s.rule.prefix; p != "" && c.n >= len(p) && string(c.b[:len(p)]) == p {
		c.n = copy(c.b[:], c.b[len(p):c.n])
	}
	if s.rule.trimZeros {
		i := 0
		for i < c.n && c.b[i] == '0' {
			i++
		}
		c.n = copy(c.b[:], c.b[i:c.n])
	}
	if s.rule.post != nil {
		c = s.rule.post(c)
	}
	return c, ok
}

// registry holds every scheme. It is filled by init functions, one file per country, and
// only read afterwards.
var registry []*Scheme

// register adds schemes from a country file's init function. It panics on a programmer
// error: a duplicate, a missing field, a non-canonical country code.
func register(schemes ...*Scheme) {
	for _, s := range schemes {
		if len(s.Country) != 2 || strings.ToUpper(s.Country) != s.Country || s.Name == "" ||
			s.Title == "" || s.Description == "" || s.URL == "" || s.rule.check == nil {
			panic("nationalid: incomplete scheme " + s.Country + " " + s.Name)
		}
		for _, t := range registry {
			for _, n := range append([]string{s.Name}, s.Aliases...) {
				if t.Country == s.Country && t.named(n) {
					panic("nationalid: duplicate scheme " + s.Country + " " + n)
				}
			}
		}
		for _, ch := range []byte(" \t\n\r\v\f" + s.rule.seps) {
			s.skip[ch] = true
		}
		for r := rLength; r < numReasons; r++ {
			info := reasonInfo[r]
			s.errs[r] = &InvalidError{
				Country: s.Country, Scheme: s.Name, Reason: info.err, Detail: info.detail,
				msg: "nationalid: " + s.Country + " " + s.Name + ": " + info.detail,
			}
		}
		registry = append(registry, s)
	}
	sort.Slice(registry, func(i, j int) bool {
		if registry[i].Country != registry[j].Country {
			return registry[i].Country < registry[j].Country
		}
		return registry[i].Name < registry[j].Name
	})
}

// Lookup returns the scheme named name, or one of its Aliases, in the country with ISO
// 3166-1 alpha-2 code country. Both are matched case-insensitively. It returns an error
// wrapping [ErrUnknownScheme] when there is no such scheme.
func Lookup(country, name string) (*Scheme, error) {
	for _, s := range registry {
		if strings.EqualFold(s.Country, country) && s.named(name) {
			return s, nil
		}
	}
	return nil, ErrUnknownScheme
}

// named reports whether name is the scheme's name or one of its aliases.
func (s *Scheme) named(name string) bool {
	if strings.EqualFold(s.Name, name) {
		return true
	}
	for _, a := range s.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// Schemes returns every registered scheme, sorted by country then name. The slice is the
// caller's to keep; the schemes are shared and read-only.
func Schemes() []*Scheme {
	return append([]*Scheme(nil), registry...)
}
