package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// requestJSON is a Request as a command line or an HTTP caller sends it.
type requestJSON struct {
	Person         PersonRef `json:"person"`
	Controller     string    `json:"controller"`
	Recipient      string    `json:"recipient"`
	Purpose        string    `json:"purpose"`
	DataCategories []string  `json:"dataCategories"`
	At             time.Time `json:"at"`
}

// requestNames are the names a JSON request may have, each once.
var requestNames = map[string]bool{"person": true, "controller": true, "recipient": true, "purpose": true, "dataCategories": true, "at": true}

// DecodeRequest decodes a Request from JSON, strictly: one object of UTF-8, at most
// limits.MaxConsentRequest bytes, with the names person, controller, recipient, purpose,
// dataCategories and at (RFC 3339; absent means now), each at most once and spelt exactly
// so, and nothing after it. The request must pass the checks Authorize makes. Anything else
// is ErrInput in an *Error naming the check.
func DecodeRequest(b []byte) (*Request, error) {
	if len(b) > limits.MaxConsentRequest {
		return nil, fail(ErrInput, "json", "larger than %d bytes", limits.MaxConsentRequest)
	}
	if !utf8.Valid(b) {
		return nil, fail(ErrInput, "json", "not UTF-8")
	}
	if err := checkRequestNames(b); err != nil {
		return nil, err
	}
	var in requestJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fail(ErrInput, "json", "not a consent request: a value of the wrong type")
	}
	req := &Request{
		Person: in.Person, Controller: in.Controller, Recipient: in.Recipient, Purpose: in.Purpose,
		DataCategories: in.DataCategories, At: in.At.UTC(),
	}
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	return req, nil
}

// checkRequestNames reads b as one JSON object and refuses a name the request does not
// have, a name given twice, or anything after the object: encoding/json matches names
// without regard to case and keeps the last of two, so a request could otherwise say one
// thing to this decoder and another to the next.
func checkRequestNames(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fail(ErrInput, "json", "not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(ErrInput, "json", "not a JSON object")
		}
		name, _ := tok.(string)
		if !requestNames[name] {
			return fail(ErrInput, "json", "unknown name %q", printable(name))
		}
		if seen[name] {
			return fail(ErrInput, "json", "%s given twice", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fail(ErrInput, "json", "not a JSON object")
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return fail(ErrInput, "json", "not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(ErrInput, "json", "data after the object")
	}
	return nil
}
