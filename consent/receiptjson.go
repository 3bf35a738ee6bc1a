package consent

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/evidence"
)

// canonicalReceipt writes the RFC 8785 canonical JSON of r, byte for byte what
// gowebpki/jcs makes of json.Marshal(r), without building and parsing the JSON twice
// (that was about 15% of a Give). It reports false for what it does not write the same
// way, and the caller then takes the encoding/json and jcs path, which gives the same
// bytes or the error: an integer beyond 2^53 (RFC 8785 writes numbers as IEEE doubles)
// and a time MarshalJSON refuses. TestCanonicalReceiptAsJCS and FuzzCanonicalReceipt
// compare it with jcs; TestReceiptPins pins what both write.
//
// The members of each object are in the order RFC 8785 §3.2.3 sorts them (their names are
// ASCII, so by bytes); a member json.Marshal leaves out (omitempty, omitzero) is left out.
func canonicalReceipt(r *Receipt) ([]byte, bool) {
	w := canonWriter{b: make([]byte, 0, 1536), ok: true}
	rec, ev := &r.Record, &r.Event
	w.raw(`{"event":{"at":`)
	w.time(ev.At)
	w.raw(`,"by":`)
	w.str(ev.By)
	w.raw(`,"log":`)
	w.logReceipt(&ev.Log)
	if ev.Reason != "" {
		w.raw(`,"reason":`)
		w.str(ev.Reason)
	}
	w.raw(`,"recordId":`)
	w.str(ev.RecordID)
	w.raw(`,"status":`)
	w.str(string(ev.Status))
	w.raw(`},"record":{"collectionMethod":`)
	w.str(rec.Method)
	w.raw(`,"controller":`)
	w.str(rec.Controller)
	w.raw(`,"created":`)
	w.time(rec.Created)
	w.raw(`,"dataCategories":`)
	w.strs(rec.DataCategories)
	w.raw(`,"id":`)
	w.str(rec.ID)
	w.raw(`,"jurisdiction":`)
	w.str(rec.Jurisdiction)
	w.raw(`,"language":`)
	w.str(rec.Language)
	w.raw(`,"legalBasis":`)
	w.str(rec.LegalBasis)
	w.raw(`,"notice":{"sha256":`)
	w.str(rec.Notice.SHA256)
	w.raw(`,"url":`)
	w.str(rec.Notice.URL)
	w.raw(`,"version":`)
	w.str(rec.Notice.Version)
	w.raw(`},"person":`)
	w.str(string(rec.Person))
	w.raw(`,"purposes":`)
	if rec.Purposes == nil {
		w.raw("null")
	} else {
		w.raw("[")
		for i, p := range rec.Purposes {
			if i > 0 {
				w.raw(",")
			}
			w.raw(`{"code":`)
			w.str(p.Code)
			w.raw(`,"text":`)
			w.str(p.Text)
			w.raw("}")
		}
		w.raw("]")
	}
	w.raw(`,"recipients":`)
	w.strs(rec.Recipients)
	w.raw(`,"status":`)
	w.str(string(rec.Status))
	w.raw(`,"updated":`)
	w.time(rec.Updated)
	w.raw(`,"uses":`)
	w.int(int64(rec.Uses))
	w.raw(`,"validity":{`)
	if rec.Validity.MaxUses != 0 {
		w.raw(`"maxUses":`)
		w.int(int64(rec.Validity.MaxUses))
	}
	if !rec.Validity.Until.IsZero() {
		if rec.Validity.MaxUses != 0 {
			w.raw(",")
		}
		w.raw(`"until":`)
		w.time(rec.Validity.Until)
	}
	w.raw(`},"withdrawal":`)
	w.str(rec.Withdrawal)
	w.raw(`},"version":`)
	w.str(r.Version)
	w.raw("}")
	return w.b, w.ok
}

// canonWriter appends canonical JSON to b; ok turns false at the first value it cannot
// write as jcs would.
type canonWriter struct {
	b  []byte
	ok bool
}

func (w *canonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *canonWriter) logReceipt(rc *evidence.Receipt) {
	w.raw(`{"leafHash":"`)
	w.b = base64.StdEncoding.AppendEncode(w.b, rc.LeafHash[:])
	w.raw(`","origin":`)
	w.str(rc.Origin)
	w.raw(`,"salt":`)
	if rc.Salt == nil {
		w.raw("null")
	} else {
		w.raw(`"`)
		w.b = base64.StdEncoding.AppendEncode(w.b, rc.Salt)
		w.raw(`"`)
	}
	w.raw(`,"seq":`)
	if rc.Seq > maxExactInt {
		w.ok = false
	}
	w.b = strconv.AppendUint(w.b, rc.Seq, 10)
	w.raw(`,"time":`)
	w.time(rc.Time)
	w.raw("}")
}

// maxExactInt is 2^53: every integer up to it in magnitude is a double, which RFC 8785
// writes with its digits.
const maxExactInt = 1 << 53

func (w *canonWriter) int(n int64) {
	if n > maxExactInt || n < -maxExactInt {
		w.ok = false
	}
	w.b = strconv.AppendInt(w.b, n, 10)
}

// time writes t as json.Marshal does (Time.MarshalJSON: strict RFC 3339 in quotes), which
// is ASCII that needs no escape.
func (w *canonWriter) time(t time.Time) {
	w.raw(`"`)
	b, err := t.AppendText(w.b)
	if err != nil {
		w.ok = false
		return
	}
	w.b = b
	w.raw(`"`)
}

func (w *canonWriter) strs(list []string) {
	if list == nil {
		w.raw("null")
		return
	}
	w.raw("[")
	for i, s := range list {
		if i > 0 {
			w.raw(",")
		}
		w.str(s)
	}
	w.raw("]")
}

// str writes s as jcs writes the string json.Marshal wrote for it: json.Marshal turns each
// byte that is not valid UTF-8 into U+FFFD, and jcs escapes only the quote, the backslash
// and the control characters (\b, \t, \n, \f, \r, otherwise \u00xx in lower-case hex);
// everything else is written as it is.
func (w *canonWriter) str(s string) {
	const hex = "0123456789abcdef"
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		w.b = append(w.b, s[start:i]...)
		switch c {
		case '"', '\\':
			w.b = append(w.b, '\\', c)
		case '\b':
			w.b = append(w.b, '\\', 'b')
		case '\t':
			w.b = append(w.b, '\\', 't')
		case '\n':
			w.b = append(w.b, '\\', 'n')
		case '\f':
			w.b = append(w.b, '\\', 'f')
		case '\r':
			w.b = append(w.b, '\\', 'r')
		default:
			if c < 0x20 {
				w.b = append(w.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				w.b = utf8.AppendRune(w.b, utf8.RuneError)
			}
		}
		i++
		start = i
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
}
