package evidence

import (
	"encoding/json"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Proof formats, named in each JSON document so a reader never guesses.
const (
	InclusionFormat   = "dpi-tlog-inclusion/v1"
	ConsistencyFormat = "dpi-tlog-consistency/v1"
)

// InclusionProof proves that an entry is in the tree a signed checkpoint commits to
// (RFC 6962 §2.1.1 audit path). It holds no personal data: the payload enters only through
// its salted hash. Its JSON form is what "dpi log proof" prints.
type InclusionProof struct {
	// Format names the JSON form and its version, so a verifier refuses what it cannot read.
	Format string `json:"format"`
	// Leaf is the entry as the tree commits to it.
	Leaf Leaf `json:"leaf"`
	// Hashes is the audit path, from the leaf's sibling up to the root's child.
	Hashes []Hash `json:"hashes"`
	// Checkpoint is the signed checkpoint note of the tree the proof leads to.
	Checkpoint string `json:"checkpoint"`
}

// ConsistencyProof proves that the tree of one signed checkpoint is a prefix of the tree of
// a later one (RFC 6962 §2.1.2): nothing the first committed to was rewritten or removed.
type ConsistencyProof struct {
	// Format names the JSON form and its version, so a verifier refuses what it cannot read.
	Format string `json:"format"`
	// Old and New are the signed checkpoint notes of the smaller and the larger tree.
	Old string `json:"old"`
	New string `json:"new"`
	// Hashes is the consistency proof between the two trees.
	Hashes []Hash `json:"hashes"`
}

// ParseInclusionProof decodes the JSON form of an inclusion proof, within the caps of
// package limits. It checks the form only; [Verifier.VerifyInclusion] checks the proof.
func ParseInclusionProof(b []byte) (*InclusionProof, error) {
	if len(b) > limits.MaxEvidenceProof {
		return nil, proofError("format: too large")
	}
	var p InclusionProof
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, proofError("format: malformed json")
	}
	if p.Format != InclusionFormat {
		return nil, proofError("format: not " + InclusionFormat)
	}
	return &p, nil
}

// ParseConsistencyProof decodes the JSON form of a consistency proof.
func ParseConsistencyProof(b []byte) (*ConsistencyProof, error) {
	if len(b) > limits.MaxEvidenceProof {
		return nil, proofError("format: too large")
	}
	var p ConsistencyProof
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, proofError("format: malformed json")
	}
	if p.Format != ConsistencyFormat {
		return nil, proofError("format: not " + ConsistencyFormat)
	}
	return &p, nil
}

func toHashes(in []Hash) ([]xtlog.Hash, error) {
	if len(in) > limits.MaxEvidenceProofHashes {
		return nil, proofError("format: too many hashes")
	}
	out := make([]xtlog.Hash, len(in))
	for i, h := range in {
		out[i] = xtlog.Hash(h)
	}
	return out, nil
}

func fromHashes(in []xtlog.Hash) []Hash {
	out := make([]Hash, len(in))
	for i, h := range in {
		out[i] = Hash(h)
	}
	return out
}

// VerifyInclusion checks an inclusion proof with nothing but the log's key: the checkpoint's
// signature and origin, the leaf's place in the tree, and the audit path up to the signed
// root. It returns the verified checkpoint. A failure is a [*CheckError] matching ErrProof,
// or ErrCheckpoint for the checkpoint.
func (v *Verifier) VerifyInclusion(p *InclusionProof) (Checkpoint, error) {
	if p == nil || p.Format != InclusionFormat {
		return Checkpoint{}, proofError("format: not " + InclusionFormat)
	}
	cp, err := v.OpenCheckpoint([]byte(p.Checkpoint))
	if err != nil {
		return Checkpoint{}, err
	}
	if !p.Leaf.valid() {
		return Checkpoint{}, proofError("format: leaf fields out of range")
	}
	if p.Leaf.Seq >= cp.Size {
		return Checkpoint{}, proofError("tree size: entry is beyond the checkpoint's tree")
	}
	hashes, err := toHashes(p.Hashes)
	if err != nil {
		return Checkpoint{}, err
	}
	leaf := p.Leaf.Hash(cp.Origin)
	if err := xtlog.CheckRecord(hashes, int64(cp.Size), xtlog.Hash(cp.Root), int64(p.Leaf.Seq), xtlog.Hash(leaf)); err != nil {
		return Checkpoint{}, proofError("audit path: does not lead to the checkpoint's root")
	}
	return cp, nil
}

// VerifyConsistency checks a consistency proof with nothing but the log's key: both
// checkpoints' signatures and origins, and that the older tree is a prefix of the newer.
// It returns the two verified checkpoints.
func (v *Verifier) VerifyConsistency(p *ConsistencyProof) (old, new Checkpoint, err error) {
	if p == nil || p.Format != ConsistencyFormat {
		return Checkpoint{}, Checkpoint{}, proofError("format: not " + ConsistencyFormat)
	}
	if old, err = v.OpenCheckpoint([]byte(p.Old)); err != nil {
		return Checkpoint{}, Checkpoint{}, err
	}
	if new, err = v.OpenCheckpoint([]byte(p.New)); err != nil {
		return Checkpoint{}, Checkpoint{}, err
	}
	if old.Size > new.Size {
		return Checkpoint{}, Checkpoint{}, proofError("tree size: old tree is larger than new tree")
	}
	hashes, err := toHashes(p.Hashes)
	if err != nil {
		return Checkpoint{}, Checkpoint{}, err
	}
	switch {
	case old.Size == 0:
		// The empty tree is a prefix of every tree.
		if len(hashes) != 0 {
			return Checkpoint{}, Checkpoint{}, proofError("consistency path: unexpected hashes")
		}
	case old.Size == new.Size:
		if len(hashes) != 0 || old.Root != new.Root {
			return Checkpoint{}, Checkpoint{}, proofError("consistency path: same size, different roots")
		}
	default:
		if err := xtlog.CheckTree(hashes, int64(new.Size), xtlog.Hash(new.Root), int64(old.Size), xtlog.Hash(old.Root)); err != nil {
			return Checkpoint{}, Checkpoint{}, proofError("consistency path: old tree is not a prefix of new tree")
		}
	}
	return old, new, nil
}
