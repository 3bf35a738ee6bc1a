package evidence

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/mod/sumdb/note"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Checkpoint is a tree head: the log's origin, its size and the root hash of the tree of
// that many entries (C2SP tlog-checkpoint).
type Checkpoint struct {
	Origin string `json:"origin"` // the log's name, the first line of the note
	Size   uint64 `json:"size"`   // how many entries the tree holds
	Root   Hash   `json:"root"`   // the RFC 6962 root hash of the tree of Size entries
}

// text returns the checkpoint body: origin, size in decimal, base64 root, each on a line.
func (c Checkpoint) text() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// parseCheckpointText parses a checkpoint body. Extension lines after the root are allowed
// and ignored, as the format says.
func parseCheckpointText(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, checkpointError("format: fewer than three lines")
	}
	var c Checkpoint
	if !validOrigin(lines[0]) {
		return Checkpoint{}, checkpointError("format: origin line")
	}
	c.Origin = lines[0]
	n, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || lines[1] != strconv.FormatUint(n, 10) || n > maxSize {
		return Checkpoint{}, checkpointError("format: tree size")
	}
	c.Size = n
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return Checkpoint{}, checkpointError("format: root hash")
	}
	copy(c.Root[:], root)
	return c, nil
}

// validOrigin accepts what both the checkpoint format and the note key name allow: printable
// characters without spaces or '+', at most limits.MaxEvidenceOrigin bytes.
func validOrigin(s string) bool {
	if s == "" || len(s) > limits.MaxEvidenceOrigin || strings.Contains(s, "+") {
		return false
	}
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Verifier checks signed checkpoints and the proofs that carry them, with nothing but the
// log's public key: no database, no network. It is immutable and safe for concurrent use.
type Verifier struct {
	origin string
	nv     note.Verifier
	vkey   string

	// mu guards the last note that verified. A verifier checking many proofs against one
	// checkpoint checks its signature once; a note is reused only when byte-for-byte equal.
	mu       sync.Mutex
	lastNote string
	lastCP   Checkpoint
}

// NewVerifier returns a verifier for the log named origin whose checkpoints are signed by
// the private half of pub: an ed25519.PublicKey (C2SP signed-note type 0x01) or a P-256
// *ecdsa.PublicKey (type 0x02, ECDSA with SHA-256 as transparency-dev and Sigstore sign
// notes). Other keys are refused.
func NewVerifier(origin string, pub crypto.PublicKey) (*Verifier, error) {
	if !validOrigin(origin) {
		return nil, fmt.Errorf("%w: origin must be 1-%d printable characters without spaces or '+'", ErrConfig, limits.MaxEvidenceOrigin)
	}
	var vkey string
	var err error
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: malformed Ed25519 key", ErrConfig)
		}
		vkey, err = note.NewEd25519VerifierKey(origin, k)
	case *ecdsa.PublicKey:
		vkey, err = ecdsaVerifierKey(origin, k)
	default:
		return nil, fmt.Errorf("%w: checkpoints are signed with Ed25519 or ECDSA P-256 keys only", ErrConfig)
	}
	if err != nil {
		return nil, err
	}
	return ParseVerifierKey(vkey)
}

// ParseVerifierKey returns a verifier from a note verifier key, "origin+hash+base64key"
// (the form the Go checksum database and transparency-dev witnesses publish), of type 0x01
// (Ed25519) or 0x02 (ECDSA P-256). The key's name is the log's origin.
func ParseVerifierKey(vkey string) (*Verifier, error) {
	vkey = strings.TrimSpace(vkey)
	if len(vkey) > 4*limits.MaxEvidenceOrigin {
		return nil, fmt.Errorf("%w: verifier key too long", ErrConfig)
	}
	nv, isECDSA, err := parseECDSAVerifierKey(vkey)
	if err != nil {
		return nil, err
	}
	if !isECDSA {
		if nv, err = note.NewVerifier(vkey); err != nil {
			return nil, fmt.Errorf("%w: malformed verifier key", ErrConfig)
		}
	}
	if !validOrigin(nv.Name()) {
		return nil, fmt.Errorf("%w: verifier key name is not a valid origin", ErrConfig)
	}
	return &Verifier{origin: nv.Name(), nv: nv, vkey: vkey}, nil
}

// Origin returns the origin of the log whose checkpoints v verifies.
func (v *Verifier) Origin() string { return v.origin }

// Key returns v's note verifier key, "origin+hash+base64key", to publish to auditors.
func (v *Verifier) Key() string { return v.vkey }

// OpenCheckpoint verifies a signed checkpoint note and returns the checkpoint. It fails with
// a [*CheckError] matching ErrCheckpoint that names the failed check.
func (v *Verifier) OpenCheckpoint(signed []byte) (Checkpoint, error) {
	if len(signed) > limits.MaxEvidenceCheckpoint {
		return Checkpoint{}, checkpointError("format: too large")
	}
	v.mu.Lock()
	if v.lastNote != "" && v.lastNote == string(signed) {
		c := v.lastCP
		v.mu.Unlock()
		return c, nil
	}
	v.mu.Unlock()
	n, err := note.Open(signed, note.VerifierList(v.nv))
	if err != nil {
		var inv *note.InvalidSignatureError
		var unv *note.UnverifiedNoteError
		switch {
		case errors.As(err, &inv):
			return Checkpoint{}, checkpointError("signature: does not verify")
		case errors.As(err, &unv):
			return Checkpoint{}, checkpointError(CheckOtherKey)
		}
		return Checkpoint{}, checkpointError("format: malformed signed note")
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.origin {
		return Checkpoint{}, checkpointError("origin: checkpoint is for another log")
	}
	v.mu.Lock()
	v.lastNote, v.lastCP = string(signed), c
	v.mu.Unlock()
	return c, nil
}

// noteSigner signs notes with a crypto.Signer holding an Ed25519 or ECDSA P-256 key, which
// may live in a file, an HSM or a KMS.
type noteSigner struct {
	name  string
	hash  uint32
	s     crypto.Signer
	ecdsa bool
}

var _ note.Signer = (*noteSigner)(nil)

func newNoteSigner(origin string, s crypto.Signer) (*noteSigner, *Verifier, error) {
	v, err := NewVerifier(origin, s.Public())
	if err != nil {
		return nil, nil, err
	}
	_, isECDSA := s.Public().(*ecdsa.PublicKey)
	return &noteSigner{name: origin, hash: v.nv.KeyHash(), s: s, ecdsa: isECDSA}, v, nil
}

func (s *noteSigner) Name() string    { return s.name }
func (s *noteSigner) KeyHash() uint32 { return s.hash }
func (s *noteSigner) Sign(msg []byte) ([]byte, error) {
	if s.ecdsa {
		// A crypto.Signer with an ECDSA key returns an ASN.1 DER signature of the digest.
		d := sha256.Sum256(msg)
		return s.s.Sign(rand.Reader, d[:], crypto.SHA256)
	}
	// Ed25519 signs the message itself: crypto.Hash(0).
	return s.s.Sign(rand.Reader, msg, crypto.Hash(0))
}

// sign returns the signed note for c.
func (s *noteSigner) sign(c Checkpoint) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.text()}, s)
}
