package interop

import (
	"encoding/json"
	"strconv"
	"time"
)

// The envelope's signing input and the message log's metadata are written on every message
// sent and received. Their fields are fixed, so they are written by hand, byte for byte as
// encoding/json writes them (a test holds the two to the same bytes), without reflection.

// appendJSONString appends s as encoding/json writes a string: visible ASCII other than ",
// \, <, > and & goes as it is; anything else takes encoding/json's own path, so the escapes
// (HTML-safe, U+2028 and U+2029, invalid UTF-8 replaced) are always its.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonObject writes the members of one JSON object in order.
type jsonObject struct {
	b     []byte
	count int
}

func (o *jsonObject) key(k string) {
	if o.count == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.count++
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *jsonObject) int(k string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *jsonObject) bool(k string, v, omitEmpty bool) {
	if omitEmpty && !v {
		return
	}
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

// time writes t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds, for the years
// it accepts (0 to 9999); it reports false for a time it refuses.
func (o *jsonObject) time(k string, t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	o.key(k)
	o.b = append(o.b, '"')
	o.b = t.AppendFormat(o.b, time.RFC3339Nano)
	o.b = append(o.b, '"')
	return true
}

func (o *jsonObject) end() []byte {
	if o.count == 0 {
		return append(o.b, '{', '}')
	}
	return append(o.b, '}')
}

// bytes returns the signing input in its JSON form, fields in their declared order.
func (in *signingInput) bytes() []byte {
	o := jsonObject{b: make([]byte, 0, 512)}
	o.str("format", in.Format, false)
	o.str("kind", in.Kind, false)
	o.str("method", in.Method, true)
	o.str("target", in.Target, true)
	o.int("status", int64(in.Status), true)
	o.str("client", in.Client, true)
	o.str("service", in.Service, true)
	o.str("id", in.ID, true)
	o.str("userId", in.UserID, true)
	o.str("representedParty", in.RepresentedParty, true)
	o.str("issue", in.Issue, true)
	o.str("contentType", in.ContentType, true)
	o.str("requestHash", in.RequestHash, true)
	o.str("envelope", in.Envelope, true)
	o.str("bodyDigest", in.BodyDigest, false)
	return o.end()
}

// marshal returns the metadata in its JSON form, as json.Marshal writes LogMeta.
func (m *LogMeta) marshal() ([]byte, error) {
	o := jsonObject{b: make([]byte, 0, 384)}
	o.str("direction", m.Direction, false)
	o.str("message", m.Message, false)
	o.str("client", m.Client, false)
	o.str("service", m.Service, false)
	o.str("method", m.Method, true)
	o.str("path", m.Path, true)
	o.int("status", int64(m.Status), true)
	if !o.time("time", m.Time) {
		return json.Marshal(m)
	}
	o.str("bodyDigest", m.BodyDigest, true)
	o.int("bodySize", m.BodySize, true)
	o.str("requestHash", m.RequestHash, true)
	o.bool("signed", m.Signed, false)
	o.bool("complete", m.Complete, false)
	o.str("fault", m.Fault, true)
	o.bool("bodyLogged", m.BodyLogged, true)
	return o.end(), nil
}
