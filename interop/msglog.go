package interop

import (
	"context"
	"fmt"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
)

// The kinds of the message log's records, one per envelope sent or received.
const (
	KindRequestSent      = "interop.request.sent"
	KindRequestReceived  = "interop.request.received"
	KindResponseSent     = "interop.response.sent"
	KindResponseReceived = "interop.response.received"
)

// LogMeta is the metadata of a message log record (evidence.Record.Meta, as JSON): what
// was exchanged, between whom, and how it was checked. It holds no body and no personal
// data; X-Road-UserId is left out for that reason.
type LogMeta struct {
	// Direction is "sent" or "received".
	Direction string `json:"direction"`
	// Message is "request" or "response".
	Message string `json:"message"`
	// Client and Service are the X-Road-Client and the service, as sent.
	Client  string `json:"client"`
	Service string `json:"service"`
	// Method and Path are the request's method and its service path with the query.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Status is a response's HTTP status.
	Status int `json:"status,omitempty"`
	// Time is the envelope's signing time, or when an unsigned message was logged.
	Time time.Time `json:"time"`
	// BodyDigest is the RFC 9530 Content-Digest of the body as it flowed, when it was read
	// or written to its end.
	BodyDigest string `json:"bodyDigest,omitempty"`
	// BodySize is the body's length in bytes, when it was read or written to its end.
	BodySize int64 `json:"bodySize,omitempty"`
	// RequestHash binds a response to its request (X-Road-Request-Hash); on a request it
	// is the hash its response must carry.
	RequestHash string `json:"requestHash,omitempty"`
	// Signed says the message carried an envelope that was made (sent) or verified
	// (received); a message sent to or received from a security server is not.
	Signed bool `json:"signed"`
	// Complete says the body was read or written to its end, and, for a signed message
	// received, matched its digest.
	Complete bool `json:"complete"`
	// Fault is the X-Road-Error of an error response.
	Fault string `json:"fault,omitempty"`
	// BodyLogged says the record's payload is the body. Bodies are logged only when asked
	// for, and only up to the evidence log's payload cap.
	BodyLogged bool `json:"bodyLogged,omitempty"`
}

// messageLog appends envelopes to an evidence log, if one is configured.
type messageLog struct {
	log    *evidence.Log
	bodies bool
}

// capture returns a body capture for the log, or nil when bodies are not logged.
func (l *messageLog) capture() *capture {
	if l.log == nil {
		return nil
	}
	return newCapture(l.bodies, limits.MaxEvidencePayload)
}

type logEntry struct {
	kind string
	id   string
	meta LogMeta
	body *capture
}

func (e *logEntry) record() (evidence.Record, error) {
	payload := e.body.bytes()
	e.meta.BodyLogged = payload != nil
	meta, err := e.meta.marshal()
	if err != nil {
		return evidence.Record{}, err
	}
	return evidence.Record{Kind: e.kind, Ref: e.id, Meta: meta, Payload: payload}, nil
}

// append adds the entries as one batch: a request and its response land together or not
// at all.
func (l *messageLog) append(ctx context.Context, entries ...*logEntry) error {
	if l.log == nil {
		return nil
	}
	recs := make([]evidence.Record, 0, len(entries))
	for _, e := range entries {
		r, err := e.record()
		if err != nil {
			return fmt.Errorf("%w: %v", errLog, err)
		}
		recs = append(recs, r)
	}
	if _, err := l.log.AppendBatch(ctx, recs); err != nil {
		return fmt.Errorf("%w: %w", errLog, err)
	}
	return nil
}
