package evidence

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Typed is a block's face on a log: records of one kind whose metadata M and personal
// payload P are JSON. A block keeps its own log (its own origin) and wraps it in a few
// lines:
//
//	history, _ := evidence.NewTyped[ConsentEvent, ConsentSubject](log, "consent.event")
//	receipt, err := history.Append(ctx, recordID, ev, subject)
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

// Append adds one record under the non-personal reference ref ("" for none) and returns
// its receipt.
func (t *Typed[M, P]) Append(ctx context.Context, ref string, meta M, payload P) (Receipt, error) {
	r, err := t.record(ref, meta, payload)
	if err != nil {
		return Receipt{}, err
	}
	return t.log.Append(ctx, r)
}

// AppendTx adds one record inside the caller's transaction tx, as [Log.AppendTx] does.
func (t *Typed[M, P]) AppendTx(ctx context.Context, tx *sql.Tx, ref string, meta M, payload P) (Receipt, error) {
	r, err := t.record(ref, meta, payload)
	if err != nil {
		return Receipt{}, err
	}
	return t.log.AppendTx(ctx, tx, r)
}

func (t *Typed[M, P]) record(ref string, meta M, payload P) (Record, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return Record{}, fmt.Errorf("%w: encode metadata: %v", ErrInput, err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return Record{}, fmt.Errorf("%w: encode payload: %v", ErrInput, err)
	}
	return Record{Kind: t.kind, Ref: ref, Meta: m, Payload: p}, nil
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
