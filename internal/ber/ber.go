// Package ber turns a BER encoding (ITU-T X.690 §8) into DER (§10), so that a CMS
// signature another tool wrote with indefinite lengths (NSS, which pdfsig and Firefox use,
// does) can be read by encoding/asn1, which accepts DER only.
//
// ToDER rewrites lengths: every indefinite length becomes a definite one, every long-form
// length its shortest form; a constructed OCTET STRING or BIT STRING (BER splits long
// strings into pieces) becomes one primitive string. It does not sort the members of a SET
// OF, nor re-encode what is inside a primitive value: a signature over a value is over its
// content bytes, which ToDER never changes. It is bounded in depth and in size and never
// panics; an input it cannot read is an error.
package ber

import (
	"errors"
	"fmt"
)

// MaxDepth is how deeply constructed values may nest: far beyond any CMS structure.
const MaxDepth = 64

// ErrMalformed is the error of an input that is not a single BER value.
var ErrMalformed = errors.New("ber: malformed encoding")

const (
	tagBitString   = 3
	tagOctetString = 4
	constructed    = 0x20
)

// ToDER returns the DER form of the single BER value b, with nothing after it. The result
// never exceeds len(b) bytes plus a few bytes of length per value.
func ToDER(b []byte) ([]byte, error) {
	v, rest, err := parse(b, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the value", ErrMalformed, len(rest))
	}
	out := make([]byte, 0, len(b))
	return v.encode(out), nil
}

// value is a parsed BER value: its identifier octets, and either its primitive content or
// its children.
type value struct {
	ident       []byte
	primitive   bool
	content     []byte
	children    []value
	flattenTag  bool // a constructed string whose pieces become one primitive string
	contentSize int  // the DER length of the content
}

func parse(b []byte, depth int) (value, []byte, error) {
	var v value
	if depth > MaxDepth {
		return v, nil, fmt.Errorf("%w: nested more than %d deep", ErrMalformed, MaxDepth)
	}
	if len(b) < 2 {
		return v, nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	// Identifier octets (§8.1.2): one, or a high tag number in base 128.
	i := 1
	if b[0]&0x1f == 0x1f {
		for {
			if i >= len(b) || i > 5 {
				return v, nil, fmt.Errorf("%w: tag number", ErrMalformed)
			}
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	v.ident = b[:i]
	isConstructed := b[0]&constructed != 0
	if i >= len(b) {
		return v, nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	// Length octets (§8.1.3).
	l := b[i]
	i++
	indefinite := false
	n := 0
	switch {
	case l == 0x80:
		if !isConstructed {
			return v, nil, fmt.Errorf("%w: indefinite length on a primitive value", ErrMalformed)
		}
		indefinite = true
	case l < 0x80:
		n = int(l)
	case l == 0xff:
		return v, nil, fmt.Errorf("%w: length", ErrMalformed)
	default:
		k := int(l & 0x7f)
		if k > 4 || i+k > len(b) {
			return v, nil, fmt.Errorf("%w: length", ErrMalformed)
		}
		for _, c := range b[i : i+k] {
			n = n<<8 | int(c)
		}
		i += k
		if n < 0 {
			return v, nil, fmt.Errorf("%w: length", ErrMalformed)
		}
	}
	body := b[i:]
	if !indefinite && n > len(body) {
		return v, nil, fmt.Errorf("%w: length beyond the input", ErrMalformed)
	}
	if !isConstructed {
		v.primitive, v.content = true, body[:n]
		v.contentSize = n
		return v, body[n:], nil
	}
	universal := b[0]&0xc0 == 0
	tag := b[0] & 0x1f
	v.flattenTag = universal && (tag == tagOctetString || tag == tagBitString)
	var rest []byte
	if indefinite {
		rest = body
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				rest = rest[2:]
				break
			}
			if len(rest) == 0 {
				return v, nil, fmt.Errorf("%w: no end-of-contents", ErrMalformed)
			}
			c, r, err := parse(rest, depth+1)
			if err != nil {
				return v, nil, err
			}
			v.children, rest = append(v.children, c), r
		}
	} else {
		inner := body[:n]
		for len(inner) > 0 {
			c, r, err := parse(inner, depth+1)
			if err != nil {
				return v, nil, err
			}
			v.children, inner = append(v.children, c), r
		}
		rest = body[n:]
	}
	if v.flattenTag {
		if err := v.flatten(tag); err != nil {
			return v, nil, err
		}
		return v, rest, nil
	}
	for _, c := range v.children {
		v.contentSize += c.size()
	}
	return v, rest, nil
}

// flatten joins the pieces of a constructed string into one primitive value (§8.6.4,
// §8.7.3): a BIT STRING keeps the unused-bits octet of its last piece only.
func (v *value) flatten(tag byte) error {
	var content []byte
	if tag == tagBitString {
		content = []byte{0} // the unused-bits octet, the last piece's
	}
	for k, c := range v.children {
		if !c.primitive || len(c.ident) != 1 || c.ident[0]&0x1f != tag {
			return fmt.Errorf("%w: a piece of a constructed string is not a string of its type", ErrMalformed)
		}
		p := c.content
		if tag == tagBitString {
			if len(p) == 0 || p[0] > 7 || (k < len(v.children)-1 && p[0] != 0) {
				return fmt.Errorf("%w: bit string piece", ErrMalformed)
			}
			content[0] = p[0]
			p = p[1:]
		}
		content = append(content, p...)
	}
	v.ident = []byte{v.ident[0] &^ constructed}
	v.primitive, v.content, v.children = true, content, nil
	v.contentSize = len(content)
	return nil
}

func lengthSize(n int) int {
	if n < 0x80 {
		return 1
	}
	k := 1
	for m := n; m > 0; m >>= 8 {
		k++
	}
	return k
}

func (v *value) size() int {
	return len(v.ident) + lengthSize(v.contentSize) + v.contentSize
}

func (v *value) encode(out []byte) []byte {
	out = append(out, v.ident...)
	n := v.contentSize
	if n < 0x80 {
		out = append(out, byte(n))
	} else {
		k := lengthSize(n) - 1
		out = append(out, 0x80|byte(k))
		for s := (k - 1) * 8; s >= 0; s -= 8 {
			out = append(out, byte(n>>s))
		}
	}
	if v.primitive {
		return append(out, v.content...)
	}
	for i := range v.children {
		out = v.children[i].encode(out)
	}
	return out
}
