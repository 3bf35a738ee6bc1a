package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// EventMediaType is the media type of an event in the CloudEvents JSON format (JSON Event
// Format §3), the Content-Type of every event message: structured content mode.
const EventMediaType = "application/cloudevents+json"

// eventSpecVersion is the CloudEvents version every event carries in specversion.
const eventSpecVersion = "1.0"

// CheckEvent names an event that is not a CloudEvent this package reads: malformed JSON, a
// missing or unknown attribute, a source that is not a member identifier.
const CheckEvent = "event"

// Event is one CloudEvents 1.0 event (CloudEvents §3, context attributes), sent and read in
// the JSON event format. Source names the member or subsystem that publishes it, as a
// ClientID's text form: it is the sender whose signature the event must carry, and the
// pair (Source, ID) identifies the event.
type Event struct {
	// ID identifies the event among those of its source; a publisher fills in a random UUID
	// when it is empty. It is the Nats-Msg-Id that de-duplicates it and the reference of
	// its message log records, so it holds no personal data.
	ID string
	// Source is the publisher, INSTANCE/CLASS/MEMBER[/SUBSYSTEM].
	Source string
	// Type says what happened, such as "record.shared": letters, digits, '-' and '_' in
	// dot-separated words. A publisher sends it on its subject prefix + "." + Type.
	Type string
	// Subject names what the event is about within its source, such as a record ID. It may
	// be personal data; it is signed, and never logged.
	Subject string
	// Time is when the occurrence happened; a publisher fills in the signing time when it is
	// zero.
	Time time.Time
	// DataContentType is the media type of Data; empty means application/json
	// (JSON Event Format §3.1).
	DataContentType string
	// DataSchema is a URI naming the schema Data adheres to, or empty.
	DataSchema string
	// Data is the event's payload: a JSON value when DataContentType is JSON (*/json or
	// */*+json), any bytes otherwise, sent as data_base64.
	Data []byte
}

// isJSON reports whether a datacontenttype declares JSON data (JSON Event Format §3.1.1):
// absent, */json or */*+json.
func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	_, sub, _ := strings.Cut(mt, "/")
	return sub == "json" || strings.HasSuffix(sub, "+json")
}

// eventJSON is an event in the JSON event format, its members in this order.
type eventJSON struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	DataSchema      string          `json:"dataschema,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	DataBase64      string          `json:"data_base64,omitempty"`
}

// check validates what every event must hold, before it is sent and after it is read.
func (e *Event) check() error {
	if e.ID == "" || len(e.ID) > limits.MaxInteropMessageID || !utf8.ValidString(e.ID) {
		return fail(ErrMalformed, CheckEvent, "id must be 1 to %d bytes of UTF-8", limits.MaxInteropMessageID)
	}
	if _, err := ParseClientID(e.Source); err != nil {
		return fail(ErrMalformed, CheckEvent, "source is not a member or subsystem identifier")
	}
	if err := checkEventType(e.Type); err != nil {
		return err
	}
	if len(e.Subject) > limits.MaxInteropHeaderValue || !utf8.ValidString(e.Subject) {
		return fail(ErrMalformed, CheckEvent, "subject must be at most %d bytes of UTF-8", limits.MaxInteropHeaderValue)
	}
	if len(e.DataContentType) > limits.MaxInteropHeaderValue || len(e.DataSchema) > limits.MaxInteropHeaderValue {
		return fail(ErrMalformed, CheckEvent, "datacontenttype and dataschema must be at most %d bytes", limits.MaxInteropHeaderValue)
	}
	if e.DataContentType != "" {
		if _, _, err := mime.ParseMediaType(e.DataContentType); err != nil {
			return fail(ErrMalformed, CheckEvent, "datacontenttype is not a media type")
		}
	}
	if isJSON(e.DataContentType) && len(e.Data) > 0 && !json.Valid(e.Data) {
		return fail(ErrMalformed, CheckEvent, "data is not JSON, as its datacontenttype says")
	}
	return nil
}

// checkEventType accepts types that are also NATS subject tokens: dot-separated words of
// letters, digits, '-' and '_'.
func checkEventType(t string) error {
	if t == "" || len(t) > limits.MaxInteropIDPart {
		return fail(ErrMalformed, CheckEvent, "type must be 1 to %d bytes", limits.MaxInteropIDPart)
	}
	for w := range strings.SplitSeq(t, ".") {
		if w == "" {
			return fail(ErrMalformed, CheckEvent, "type has an empty word")
		}
		for _, c := range []byte(w) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fail(ErrMalformed, CheckEvent, "type has a character other than letters, digits, '-', '_' and '.'")
			}
		}
	}
	return nil
}

// marshal writes e in the JSON event format: the bytes a publisher signs and sends.
func (e *Event) marshal() ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	j := eventJSON{
		SpecVersion: eventSpecVersion, ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject,
		DataContentType: e.DataContentType, DataSchema: e.DataSchema,
	}
	if !e.Time.IsZero() {
		j.Time = e.Time.UTC().Format(time.RFC3339Nano)
	}
	switch {
	case e.Data == nil:
	case isJSON(e.DataContentType):
		var buf bytes.Buffer
		if err := json.Compact(&buf, e.Data); err != nil {
			return nil, fail(ErrMalformed, CheckEvent, "data is not JSON, as its datacontenttype says")
		}
		j.Data = buf.Bytes()
	default:
		j.DataBase64 = base64.StdEncoding.EncodeToString(e.Data)
	}
	b, err := json.Marshal(&j)
	if err != nil {
		return nil, fail(ErrMalformed, CheckEvent, "%v", err)
	}
	return b, nil
}

// maxEvent caps an event's JSON: an event is a held body.
const maxEvent = limits.MaxInteropInlineBody

// parseEvent reads an event in the JSON event format, strictly: one JSON object, each member
// a CloudEvents 1.0 attribute named exactly and present once, nothing after it. Extension
// attributes are refused: the handler would not see them.
func parseEvent(b []byte) (*Event, error) {
	if len(b) > maxEvent {
		return nil, fail(ErrMalformed, CheckEvent, "event longer than %d bytes", maxEvent)
	}
	if !utf8.Valid(b) {
		return nil, fail(ErrMalformed, CheckEvent, "event is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	malformed := func(format string, a ...any) error { return fail(ErrMalformed, CheckEvent, format, a...) }
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, malformed("not a JSON object")
	}
	e := &Event{}
	var spec, tm, data64 *string
	var data json.RawMessage
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("not a JSON object")
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, malformed("attribute %q appears twice", truncate(name))
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed("not a JSON object")
		}
		if name == "data" {
			data = raw
			continue
		}
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, malformed("attribute %q is not a string", truncate(name))
		}
		str := func() string {
			if s == nil {
				return ""
			}
			return *s
		}
		switch name {
		case "specversion":
			spec = s
		case "id":
			e.ID = str()
		case "source":
			e.Source = str()
		case "type":
			e.Type = str()
		case "subject":
			e.Subject = str()
		case "time":
			tm = s
		case "datacontenttype":
			e.DataContentType = str()
		case "dataschema":
			e.DataSchema = str()
		case "data_base64":
			data64 = s
		default:
			return nil, malformed("attribute %q is not one this package reads", truncate(name))
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, malformed("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("something follows the event")
	}
	if spec == nil || *spec != eventSpecVersion {
		return nil, malformed("specversion is not %s", eventSpecVersion)
	}
	if tm != nil {
		t, err := time.Parse(time.RFC3339Nano, *tm)
		if err != nil {
			return nil, malformed("time is not an RFC 3339 timestamp")
		}
		e.Time = t
	}
	switch {
	case data != nil && data64 != nil:
		return nil, malformed("both data and data_base64")
	case data64 != nil:
		d, err := base64.StdEncoding.Strict().DecodeString(*data64)
		if err != nil {
			return nil, malformed("data_base64 is not base64")
		}
		e.Data = d
	case data != nil && isJSON(e.DataContentType):
		e.Data = data
	case data != nil:
		var s string
		if json.Unmarshal(data, &s) != nil {
			return nil, malformed("data of a datacontenttype that is not JSON must be a string")
		}
		e.Data = []byte(s)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	return e, nil
}

// eventInput is the signing input of an event: the envelope of a request, with kind "event",
// the source as the client, the event's ID, the media type and the digest of the event's
// JSON exactly as it was sent. The signature covers every attribute and the data, through
// the digest; the NATS subject is routing, and not signed.
func eventInput(source, id string, body []byte) *signingInput {
	return &signingInput{
		Format: EnvelopeFormat, Kind: "event", Client: source, ID: id,
		ContentType: EventMediaType, BodyDigest: contentDigest(sha256Sum(body)),
	}
}

// sealEvent fills in what e lacks (an ID, the time) and returns its JSON and its envelope,
// signed at now.
func (s *Signer) sealEvent(e *Event, now time.Time) (body []byte, envelope string, err error) {
	if e.ID == "" {
		e.ID = newMessageID()
	}
	at := signingTime(now)
	if e.Time.IsZero() {
		e.Time = at
	}
	body, err = e.marshal()
	if err != nil {
		return nil, "", err
	}
	if len(body) > maxEvent {
		return nil, "", fail(ErrMalformed, CheckEvent, "event longer than %d bytes", maxEvent)
	}
	envelope, err = s.sign(eventInput(e.Source, e.ID, body), at, true)
	if err != nil {
		return nil, "", err
	}
	return body, envelope, nil
}

// openEvent verifies an event's envelope over its JSON and returns the event. received is
// when the event was received or stored: the signing time must lie within the verifier's
// window of it, and the signer's certificate must have been valid then. Every refusal is an
// *Error wrapping ErrRejected; any other error means it could not be decided (the
// directory or the revocation checker failed).
func (v *Verifier) openEvent(ctx context.Context, body []byte, envelope string, received time.Time) (*Event, error) {
	e, err := parseEvent(body)
	if err != nil {
		return nil, err
	}
	sender, _ := ParseClientID(e.Source) // checked by parseEvent
	// The same checks as a request's envelope, with the clock set to when the event arrived.
	if _, err := v.verifyEnvelopeAt(ctx, envelope, sender, eventInput(e.Source, e.ID, body), received); err != nil {
		return nil, err
	}
	return e, nil
}

// rejection returns the *Error of a refusal, or nil when err is not one.
func rejection(err error) *Error {
	var e *Error
	if errors.As(err, &e) && errors.Is(err, ErrRejected) {
		return e
	}
	return nil
}
