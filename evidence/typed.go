package evidence

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Typed is a block's face on a log: records of one kind whose metadata M and personal
// payload P are JSON. A block keeps its own log (its own origin) and wraps it in a few
// lines:
//
//	history, _ := evidence.NewTyped[ConsentEvent, ConsentSubject](log, "consent.event")
//	seq, err := history.Append(ctx, ev, subject)
type Typed[M, P any] struct {
	log  *Log
	kind string
}

// NewTyped returns the typed face of l for records of the given kind.
func NewTyped[M, P any](l *Log, kind string) (*Typed[M, P], error) {
	if l == nil || kind == "" || len(kind) > limits.MaxEvidenceKind {
		return nil, fmt.Errorf("%w: a typed log needs a log and a kind of 1-%d bytes", ErrConfig, limits.MaxEvidenceKind)
	}
	return &Typed[M, P]{log: l, kind: kind}, nil
}

// Log returns the underlying log, for checkpoints, proofs, erasure and Verify.
func (t *Typed[M, P]) Log() *Log { return t.log }

// Append adds one record and returns its sequence number.
func (t *Typed[M, P]) Append(ctx context.Context, meta M, payload P) (uint64, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return 0, fmt.Errorf("%w: encode metadata: %v", ErrInput, err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("%w: encode payload: %v", ErrInput, err)
	}
	return t.log.Append(ctx, Record{Kind: t.kind, Meta: m, Payload: p})
}

// Get returns the metadata and payload of the record at seq. The payload is nil when the
// entry was erased.
func (t *Typed[M, P]) Get(ctx context.Context, seq uint64) (meta M, payload *P, err error) {
	e, err := t.log.Get(ctx, seq)
	if err != nil {
		return meta, nil, err
	}
	if e.Kind != t.kind {
		return meta, nil, fmt.Errorf("%w: entry %d is of another kind", ErrNotFound, seq)
	}
	if err := json.Unmarshal(e.Meta, &meta); err != nil {
		return meta, nil, fmt.Errorf("evidence: decode metadata of entry %d: %w", seq, err)
	}
	if e.Erased {
		return meta, nil, nil
	}
	payload = new(P)
	if err := json.Unmarshal(e.Payload, payload); err != nil {
		// encoding/json's errors may quote the payload (a number it cannot fit), which is
		// personal data: name the entry only.
		return meta, nil, fmt.Errorf("evidence: decode payload of entry %d: not the JSON of this typed log's payload type", seq)
	}
	return meta, payload, nil
}
