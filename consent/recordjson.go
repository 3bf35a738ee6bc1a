package consent

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeRecord decodes a stored record's document into r, which must be the zero Record:
// the same Record json.Unmarshal gives, or its error. Every decision decodes the documents
// of the person's records, and encoding/json was about a quarter of a decision's CPU, so
// the form the store writes (json.Marshal of a Record: no spaces, no escapes in most
// strings) is read by fastRecord without reflection; anything else, a document edited
// behind the store's back included, goes through json.Unmarshal. FuzzDecodeRecord checks
// that both agree on every input fastRecord accepts.
//
// The strings of r share the memory of doc.
func decodeRecord(doc string, r *Record) error {
	if fastRecord(doc, r) {
		return nil
	}
	*r = Record{}
	return json.Unmarshal([]byte(doc), r)
}

// fastRecord decodes doc into r when doc is in the plain form json.Marshal writes, and
// reports false, leaving r in any state, at the first byte it does not expect.
func fastRecord(doc string, r *Record) bool {
	p := jsonReader{s: doc}
	ok := p.object(func(key string) bool {
		switch key {
		case "id":
			return p.str(&r.ID)
		case "person":
			return p.str((*string)(&r.Person))
		case "controller":
			return p.str(&r.Controller)
		case "recipients":
			return p.strs(&r.Recipients)
		case "purposes":
			return p.purposes(&r.Purposes)
		case "dataCategories":
			return p.strs(&r.DataCategories)
		case "legalBasis":
			return p.str(&r.LegalBasis)
		case "jurisdiction":
			return p.str(&r.Jurisdiction)
		case "notice":
			return p.object(func(key string) bool {
				switch key {
				case "url":
					return p.str(&r.Notice.URL)
				case "version":
					return p.str(&r.Notice.Version)
				case "sha256":
					return p.str(&r.Notice.SHA256)
				}
				return false
			})
		case "language":
			return p.str(&r.Language)
		case "collectionMethod":
			return p.str(&r.Method)
		case "validity":
			return p.object(func(key string) bool {
				switch key {
				case "until":
					return p.time(&r.Validity.Until)
				case "maxUses":
					return p.int(&r.Validity.MaxUses)
				}
				return false
			})
		case "withdrawal":
			return p.str(&r.Withdrawal)
		case "status":
			return p.str((*string)(&r.Status))
		case "uses":
			return p.int(&r.Uses)
		case "created":
			return p.time(&r.Created)
		case "updated":
			return p.time(&r.Updated)
		}
		return false
	})
	return ok && p.i == len(p.s)
}

// jsonReader reads the subset of JSON fastRecord accepts: objects whose keys are the exact
// field names, each once; strings without escapes or control characters, in valid UTF-8;
// arrays of those; integers; no whitespace and no null.
type jsonReader struct {
	s string
	i int
}

func (p *jsonReader) next(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// raw reads a string and returns its content, quotes excluded.
func (p *jsonReader) raw() (string, bool) {
	if !p.next('"') {
		return "", false
	}
	start, ascii := p.i, true
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			// encoding/json keeps valid UTF-8 as it is and replaces the rest.
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

func (p *jsonReader) str(v *string) bool {
	s, ok := p.raw()
	*v = s
	return ok
}

// strs reads an array of strings; an empty array is an empty slice, not nil, as in
// encoding/json.
func (p *jsonReader) strs(v *[]string) bool {
	out := make([]string, 0, 2)
	ok := p.array(func() bool {
		s, ok := p.raw()
		out = append(out, s)
		return ok
	})
	*v = out
	return ok
}

func (p *jsonReader) purposes(v *[]Purpose) bool {
	out := make([]Purpose, 0, 1)
	ok := p.array(func() bool {
		var pp Purpose
		ok := p.object(func(key string) bool {
			switch key {
			case "code":
				return p.str(&pp.Code)
			case "text":
				return p.str(&pp.Text)
			}
			return false
		})
		out = append(out, pp)
		return ok
	})
	*v = out
	return ok
}

func (p *jsonReader) array(elem func() bool) bool {
	if !p.next('[') {
		return false
	}
	if p.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.next(']') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// object reads an object, calling field for each key with the reader at its value. A key
// seen twice is refused: encoding/json merges a repeated object into the first.
func (p *jsonReader) object(field func(key string) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	// A Record has 17 fields and an unknown key is refused, so 17 keys is the most an
	// object without repeats has.
	var seen [17]string
	n := 0
	for {
		key, ok := p.raw()
		if !ok || !p.next(':') || n == len(seen) {
			return false
		}
		for _, k := range seen[:n] {
			if k == key {
				return false
			}
		}
		seen[n] = key
		n++
		if !field(key) {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// int reads an integer: an optional minus and digits without a leading zero, which
// strconv parses as encoding/json does for an int field.
func (p *jsonReader) int(v *int) bool {
	start := p.i
	p.next('-')
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || (p.s[digits] == '0' && p.i-digits > 1) {
		return false
	}
	if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		return false
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 0)
	*v = int(n)
	return err == nil
}

// time reads a string with time.Time's own UnmarshalJSON, which encoding/json calls with
// the string's quotes.
func (p *jsonReader) time(v *time.Time) bool {
	start := p.i
	if _, ok := p.raw(); !ok {
		return false
	}
	return v.UnmarshalJSON([]byte(p.s[start:p.i])) == nil
}
