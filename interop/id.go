package interop

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// ClientID names an X-Road member, or one of its subsystems: the service client of a
// request (PR-REST §4.1, the X-Road-Client header) or the provider of a service. Its text
// form is INSTANCE/CLASS/MEMBER[/SUBSYSTEM], each part percent-encoded UTF-8 (§4.2, §4.3).
// The zero value is not a valid identifier.
type ClientID struct {
	Instance  string // the X-Road instance, such as "EE" or "DEV"
	Class     string // the member class, such as "GOV" or "COM"
	Member    string // the member code, such as a business registry code
	Subsystem string // the subsystem code; empty for the member itself
}

// ServiceID names a service: the subsystem that provides it, the service code and an
// optional version. Its text form is INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/VERSION].
//
// The /r1 path of the REST protocol carries exactly five parts (PR-REST §4.1: what follows
// the service code is the service's own path), so a ServiceID with a Version can be
// formatted and parsed, but not called over REST.
type ServiceID struct {
	Provider ClientID // the providing subsystem; its Subsystem must be set
	Code     string   // the service code
	Version  string   // the service version; empty when none
}

// RepresentedParty is the third party a client acts for (PR-REST §4.3,
// X-Road-Represented-Party): [CLASS/]CODE, the class optional.
type RepresentedParty struct {
	Class string // the party's member class; may be empty
	Code  string // the party's code
}

// ParseClientID parses the text form of a member or subsystem identifier,
// INSTANCE/CLASS/MEMBER[/SUBSYSTEM] with each part percent-encoded, as the X-Road-Client
// header carries it. It fails with an *Error wrapping ErrIdentifier.
func ParseClientID(s string) (ClientID, error) {
	p, err := splitID(s, 3, 4, "client identifier")
	if err != nil {
		return ClientID{}, err
	}
	c := ClientID{Instance: p[0], Class: p[1], Member: p[2]}
	if len(p) == 4 {
		c.Subsystem = p[3]
	}
	return c, nil
}

// ParseServiceID parses the text form of a service identifier,
// INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/VERSION] with each part percent-encoded, as the
// X-Road-Service header carries it. It fails with an *Error wrapping ErrIdentifier.
func ParseServiceID(s string) (ServiceID, error) {
	p, err := splitID(s, 5, 6, "service identifier")
	if err != nil {
		return ServiceID{}, err
	}
	id := ServiceID{Provider: ClientID{Instance: p[0], Class: p[1], Member: p[2], Subsystem: p[3]}, Code: p[4]}
	if len(p) == 6 {
		id.Version = p[5]
	}
	return id, nil
}

// ParseRepresentedParty parses an X-Road-Represented-Party value, [CLASS/]CODE with each
// part percent-encoded. It fails with an *Error wrapping ErrIdentifier.
func ParseRepresentedParty(s string) (RepresentedParty, error) {
	p, err := splitID(s, 1, 2, "represented party")
	if err != nil {
		return RepresentedParty{}, err
	}
	if len(p) == 1 {
		return RepresentedParty{Code: p[0]}, nil
	}
	return RepresentedParty{Class: p[0], Code: p[1]}, nil
}

// String returns the percent-encoded text form, INSTANCE/CLASS/MEMBER[/SUBSYSTEM].
func (c ClientID) String() string {
	parts := []string{c.Instance, c.Class, c.Member}
	if c.Subsystem != "" {
		parts = append(parts, c.Subsystem)
	}
	return joinID(parts)
}

// MemberID returns the member c belongs to: c without its subsystem.
func (c ClientID) MemberID() ClientID {
	c.Subsystem = ""
	return c
}

// IsSubsystem reports whether c names a subsystem rather than a member.
func (c ClientID) IsSubsystem() bool { return c.Subsystem != "" }

// Validate checks every part against PR-REST §4.8: present (the subsystem may be empty),
// at most limits.MaxInteropIDPart bytes, and made only of A-Z, a-z, 0-9 and '()+,-.=?.
func (c ClientID) Validate() error {
	for _, f := range []struct{ name, v string }{
		{"instance", c.Instance}, {"member class", c.Class}, {"member code", c.Member},
	} {
		if err := checkPart(f.name, f.v); err != nil {
			return err
		}
	}
	if c.Subsystem != "" {
		return checkPart("subsystem code", c.Subsystem)
	}
	return nil
}

// MarshalText returns the text form, after checking it with Validate.
func (c ClientID) MarshalText() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return []byte(c.String()), nil
}

// UnmarshalText parses the text form, as ParseClientID does.
func (c *ClientID) UnmarshalText(b []byte) error {
	v, err := ParseClientID(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// String returns the percent-encoded text form,
// INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE[/VERSION].
func (s ServiceID) String() string {
	parts := []string{s.Provider.Instance, s.Provider.Class, s.Provider.Member, s.Provider.Subsystem, s.Code}
	if s.Version != "" {
		parts = append(parts, s.Version)
	}
	return joinID(parts)
}

// Validate checks the provider (which must be a subsystem), the service code and the
// version, if any, against PR-REST §4.8.
func (s ServiceID) Validate() error {
	if err := s.Provider.Validate(); err != nil {
		return err
	}
	if s.Provider.Subsystem == "" {
		return fail(ErrIdentifier, CheckIdentifier, "a service identifier needs the provider's subsystem code")
	}
	if err := checkPart("service code", s.Code); err != nil {
		return err
	}
	if s.Version != "" {
		return checkPart("service version", s.Version)
	}
	return nil
}

// MarshalText returns the text form, after checking it with Validate.
func (s ServiceID) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses the text form, as ParseServiceID does.
func (s *ServiceID) UnmarshalText(b []byte) error {
	v, err := ParseServiceID(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String returns the percent-encoded text form, [CLASS/]CODE.
func (r RepresentedParty) String() string {
	if r.Class == "" {
		return joinID([]string{r.Code})
	}
	return joinID([]string{r.Class, r.Code})
}

// Validate checks the class, if any, and the code against PR-REST §4.8.
func (r RepresentedParty) Validate() error {
	if r.Class != "" {
		if err := checkPart("party class", r.Class); err != nil {
			return err
		}
	}
	return checkPart("party code", r.Code)
}

// splitID splits s on "/" into between min and max parts, percent-decodes each and checks
// it against PR-REST §4.8.
func splitID(s string, min, max int, what string) ([]string, error) {
	if len(s) > limits.MaxInteropIDText {
		return nil, fail(ErrIdentifier, CheckIdentifier, "%s longer than %d bytes", what, limits.MaxInteropIDText)
	}
	raw := strings.Split(s, "/")
	if len(raw) < min || len(raw) > max {
		if min == max-1 {
			return nil, fail(ErrIdentifier, CheckIdentifier, "%s has %d parts, want %d or %d", what, len(raw), min, max)
		}
		return nil, fail(ErrIdentifier, CheckIdentifier, "%s has %d parts, want %d to %d", what, len(raw), min, max)
	}
	names := partNames[what]
	out := make([]string, len(raw))
	for i, r := range raw {
		name := names[i]
		if min == 1 && len(raw) == 1 {
			name = names[1]
		}
		v, err := decodeSegment(r)
		if err != nil {
			return nil, fail(ErrIdentifier, CheckIdentifier, "%s: %s", name, err.Error())
		}
		if err := checkPart(name, v); err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

var partNames = map[string][]string{
	"client identifier":  {"instance", "member class", "member code", "subsystem code"},
	"service identifier": {"instance", "member class", "member code", "subsystem code", "service code", "service version"},
	"represented party":  {"party class", "party code"},
}

// checkPart applies PR-REST §4.8 to one decoded part. The reason names the part and the
// position of the first character refused, never the value: a member code may be a
// person's number.
func checkPart(name, v string) error {
	if v == "" {
		return fail(ErrIdentifier, CheckIdentifier, "%s is empty", name)
	}
	if len(v) > limits.MaxInteropIDPart {
		return fail(ErrIdentifier, CheckIdentifier, "%s longer than %d bytes", name, limits.MaxInteropIDPart)
	}
	for i := 0; i < len(v); i++ {
		if !idChar(v[i]) {
			return fail(ErrIdentifier, CheckIdentifier, "%s: character at byte %d is not allowed (PR-REST §4.8)", name, i)
		}
	}
	return nil
}

// idChar reports whether b may appear in an identifier part (PR-REST §4.8, version 1.0.3):
// letters A-Z and a-z, digits, and the symbols ' ( ) + , - . = ?
func idChar(b byte) bool {
	switch {
	case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("'()+,-.=?", b) >= 0
}

// segmentChar reports whether b may appear unencoded in an identifier part on the wire: an
// RFC 3986 pchar other than "%" (unreserved, sub-delims, ":" and "@"), as X-Road's own
// decoder accepts.
func segmentChar(b byte) bool {
	switch {
	case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", b) >= 0
}

// escapePart percent-encodes one identifier part for the text form (PR-REST §4.2): every
// byte of its UTF-8 that is not an RFC 3986 pchar is written as %XX, so "/" becomes "%2F"
// and "?" becomes "%3F".
func escapePart(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !segmentChar(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if segmentChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func joinID(parts []string) string {
	for i, p := range parts {
		parts[i] = escapePart(p)
	}
	return strings.Join(parts, "/")
}

// decodeSegment percent-decodes one part strictly: only pchar characters and %XX escapes,
// and the result must be UTF-8.
func decodeSegment(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		for i := 0; i < len(s); i++ {
			if !segmentChar(s[i]) {
				return "", fmt.Errorf("character at byte %d must be percent-encoded", i)
			}
		}
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("incomplete percent-encoding at byte %d", i)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("invalid percent-encoding at byte %d", i)
			}
			out = append(out, hi<<4|lo)
			i += 2
		case segmentChar(c):
			out = append(out, c)
		default:
			return "", fmt.Errorf("character at byte %d must be percent-encoded", i)
		}
	}
	if !utf8.Valid(out) {
		return "", fmt.Errorf("not UTF-8 once decoded")
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
