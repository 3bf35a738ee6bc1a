package evidence

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, one per class of failure. The typed errors below wrap them.
var (
	// ErrConfig reports a Config that is missing something or contradicts itself.
	ErrConfig = errors.New("evidence: invalid configuration")
	// ErrInput reports a record, sequence number or size the log refuses.
	ErrInput = errors.New("evidence: input rejected")
	// ErrNotFound reports an entry or a checkpoint the log does not hold.
	ErrNotFound = errors.New("evidence: not found")
	// ErrReadOnly reports a write to a log opened with Config.ReadOnly.
	ErrReadOnly = errors.New("evidence: log opened read-only")
	// ErrOtherKey reports a log opened with a signer other than the one it is kept under.
	ErrOtherKey = errors.New("evidence: the log is kept under another key")
	// ErrNoSigner reports a Checkpoint call on a log opened without a signer.
	ErrNoSigner = errors.New("evidence: no checkpoint signer configured")
	// ErrCheckpoint reports a signed checkpoint that is malformed, signed by another key, or
	// whose signature does not verify.
	ErrCheckpoint = errors.New("evidence: checkpoint rejected")
	// ErrProof reports an inclusion or consistency proof that is malformed or does not lead
	// to the signed root.
	ErrProof = errors.New("evidence: proof rejected")
	// ErrTampered reports a log whose stored entries, hashes or checkpoints disagree.
	ErrTampered = errors.New("evidence: log does not verify")
)

// CheckError says which check rejected a checkpoint or a proof. It matches ErrCheckpoint or
// ErrProof with errors.Is.
type CheckError struct {
	// Err is ErrCheckpoint or ErrProof.
	Err error
	// Check names the failed check, for example "signature", "origin", "leaf hash".
	Check string
}

// Error names the sentinel and the failed check.
func (e *CheckError) Error() string { return e.Err.Error() + ": " + e.Check }

// Unwrap returns the sentinel.
func (e *CheckError) Unwrap() error { return e.Err }

// CheckOtherKey is the check a [CheckError] (and a checkpoint [Fault]'s Detail) names for a
// signed checkpoint that carries no signature by the verifier's key: signed by another key,
// or for another log. A verifier that rejects every stored checkpoint this way holds the
// wrong public key, rather than a log that was tampered with.
const CheckOtherKey = "signature: not signed by the log's key"

func checkpointError(check string) error { return &CheckError{Err: ErrCheckpoint, Check: check} }
func proofError(check string) error      { return &CheckError{Err: ErrProof, Check: check} }

// FaultKind classifies what Verify found wrong with one entry or range of entries.
type FaultKind int

// The faults Verify reports.
const (
	// FaultEdited: the entry's committed fields (time, kind, metadata, payload commitment)
	// or its stored leaf hash no longer hash to the leaf the tree holds.
	FaultEdited FaultKind = iota + 1
	// FaultRemoved: the entry's row is missing.
	FaultRemoved
	// FaultReordered: the row at Seq holds the entry that was appended at Other.
	FaultReordered
	// FaultInserted: a row at Seq lies beyond the log's size, or a row lies at a sequence
	// number no append writes (StoredSeq).
	FaultInserted
	// FaultPayload: the payload no longer matches its commitment, or it was removed without
	// the log's erasure, which leaves the entry marked as erased.
	FaultPayload
	// FaultHash: a stored tree hash over entries [Seq, End) does not match the entries; a
	// proof served from it would not verify.
	FaultHash
	// FaultCheckpoint: a stored checkpoint does not verify, or the tree of its size does not
	// have its signed root; the change lies in entries [Seq, End).
	FaultCheckpoint
	// FaultSize: the log's stored size is negative, beyond 2^62 or not a whole number,
	// which no append wrote; Verify checks the entries stored instead.
	FaultSize
)

// String returns the fault's name as reports print it.
func (k FaultKind) String() string {
	switch k {
	case FaultEdited:
		return "edited"
	case FaultRemoved:
		return "removed"
	case FaultReordered:
		return "reordered"
	case FaultInserted:
		return "inserted"
	case FaultPayload:
		return "payload-edited"
	case FaultHash:
		return "tree-hash-edited"
	case FaultCheckpoint:
		return "checkpoint-mismatch"
	case FaultSize:
		return "size-out-of-range"
	}
	return "unknown"
}

// MarshalText encodes the fault kind by name.
func (k FaultKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a fault kind's name.
func (k *FaultKind) UnmarshalText(b []byte) error {
	for c := FaultEdited; c <= FaultSize; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("%w: unknown fault kind", ErrInput)
}

// Fault is one thing Verify found wrong.
type Fault struct {
	// Kind says what is wrong: edited, removed, reordered, inserted, ...
	Kind FaultKind `json:"kind"`
	// Seq is the entry's sequence number, or the first of a range.
	Seq uint64 `json:"seq"`
	// End, when non-zero, ends the range [Seq, End) the fault covers.
	End uint64 `json:"end,omitempty"`
	// Other is, for FaultReordered, the sequence number the row's entry was appended at.
	Other uint64 `json:"other,omitempty"`
	// CheckpointSize is, for FaultCheckpoint, the tree size of the checkpoint at fault.
	CheckpointSize uint64 `json:"checkpointSize,omitempty"`
	// StoredSeq is, for a row stored at a sequence number no append writes (negative, or
	// not a whole number), that number as the database holds it; Seq is then 0. For a
	// FaultCheckpoint it is set when the checkpoint's size column is not a whole number.
	StoredSeq string `json:"storedSeq,omitempty"`
	// Detail says which check failed, in a few words.
	Detail string `json:"detail,omitempty"`
}

// String describes the fault in one line, as "dpi log verify" prints it.
func (f Fault) String() string {
	var b strings.Builder
	switch {
	case f.Kind == FaultCheckpoint && f.StoredSeq != "":
		return "a stored checkpoint: " + f.Detail
	case f.Kind == FaultCheckpoint:
		fmt.Fprintf(&b, "checkpoint of size %d: %s", f.CheckpointSize, f.Detail)
		if f.End > f.Seq {
			fmt.Fprintf(&b, " (the change lies in entries %d-%d)", f.Seq, f.End-1)
		}
		return b.String()
	case f.Kind == FaultSize:
		return "log size: " + f.Detail
	case f.StoredSeq != "":
		fmt.Fprintf(&b, "row at sequence number %s: %s", f.StoredSeq, f.Kind)
	case f.End > f.Seq+1:
		fmt.Fprintf(&b, "entries %d-%d: %s", f.Seq, f.End-1, f.Kind)
	default:
		fmt.Fprintf(&b, "entry %d: %s", f.Seq, f.Kind)
	}
	if f.Kind == FaultReordered {
		fmt.Fprintf(&b, " (holds entry %d)", f.Other)
	}
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	return b.String()
}

// TamperError lists what Verify found. It matches ErrTampered with errors.Is.
type TamperError struct {
	// Faults lists each fault found, in the order of the entries.
	Faults []Fault
	// Truncated reports that Verify stopped listing faults at the cap.
	Truncated bool
}

// Error lists the first few faults.
func (e *TamperError) Error() string {
	var b strings.Builder
	b.WriteString(ErrTampered.Error())
	for i, f := range e.Faults {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Faults)-3)
			break
		}
		b.WriteString("; ")
		b.WriteString(f.String())
	}
	return b.String()
}

// Unwrap returns ErrTampered, the sentinel every TamperError is an instance of.
func (e *TamperError) Unwrap() error { return ErrTampered }
