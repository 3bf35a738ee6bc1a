package evidence

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/internal/limits"
)

// HashSize is the size of every hash in the log: SHA-256.
const HashSize = sha256.Size

// Hash is a SHA-256 hash. Its text and JSON form is standard base64, as in checkpoints.
type Hash [HashSize]byte

// MarshalText encodes h in standard base64.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(h[:])), nil
}

// UnmarshalText decodes standard base64 of exactly HashSize bytes.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != base64.StdEncoding.EncodedLen(HashSize) {
		return errHashText
	}
	// Decode needs room for DecodedLen bytes (33 for 44 characters without padding).
	var out [HashSize + 1]byte
	n, err := base64.StdEncoding.Strict().Decode(out[:], b)
	if err != nil || n != HashSize {
		return errHashText
	}
	copy(h[:], out[:HashSize])
	return nil
}

var errHashText = errors.New("evidence: hash is not base64 of 32 bytes")

// Leaf is the part of an entry the tree commits to: everything but the payload itself,
// which is committed through a salted hash so that it can be erased.
type Leaf struct {
	Seq  uint64    `json:"seq"`  // the entry's position in the log, from 0
	Time time.Time `json:"time"` // when the entry was appended
	Kind string    `json:"kind"` // what the entry records, such as "consent.given"
	// Ref is the optional non-personal reference the entry was appended under (a consent
	// record ID, a message ID), by which [Log.Scan] finds it.
	Ref string `json:"ref,omitempty"`
	// Meta is the non-personal metadata, kept for as long as the log.
	Meta []byte `json:"meta,omitempty"`
	// PayloadHash is SHA-256(salt || payload). The random salt is erased with the payload,
	// so a short personal payload cannot be guessed from its hash after erasure.
	PayloadHash Hash `json:"payloadHash"`
}

// The leaf encodings. v1 is the encoding of a leaf without a reference, unchanged since
// the first logs; v2 adds the reference. Their distinct prefixes keep the two apart, so
// no v1 leaf encodes like a v2 one.
const (
	leafPrefix   = "dpi-tlog-leaf/v1\x00"
	leafPrefixV2 = "dpi-tlog-leaf/v2\x00"
)

// Bytes returns the canonical encoding of the leaf for the log named origin: a version
// prefix, then each field in order, variable-length fields prefixed by their length. A leaf
// without a reference is encoded as v1:
//
//	"dpi-tlog-leaf/v1" 0x00
//	u16 len(origin) || origin
//	u64 seq || i64 unix nanoseconds
//	u16 len(kind) || kind
//	u32 len(meta) || meta
//	32-byte payload hash
//
// and a leaf with one as v2, which adds "u16 len(ref) || ref" after the kind:
//
//	"dpi-tlog-leaf/v2" 0x00
//	u16 len(origin) || origin
//	u64 seq || i64 unix nanoseconds
//	u16 len(kind) || kind
//	u16 len(ref) || ref
//	u32 len(meta) || meta
//	32-byte payload hash
func (l *Leaf) Bytes(origin string) []byte {
	b := make([]byte, 0, len(leafPrefixV2)+2+len(origin)+16+2+len(l.Kind)+2+len(l.Ref)+4+len(l.Meta)+HashSize)
	if l.Ref == "" {
		b = append(b, leafPrefix...)
	} else {
		b = append(b, leafPrefixV2...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(origin)))
	b = append(b, origin...)
	b = binary.BigEndian.AppendUint64(b, l.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(l.Time.UnixNano()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(l.Kind)))
	b = append(b, l.Kind...)
	if l.Ref != "" {
		b = binary.BigEndian.AppendUint16(b, uint16(len(l.Ref)))
		b = append(b, l.Ref...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Meta)))
	b = append(b, l.Meta...)
	b = append(b, l.PayloadHash[:]...)
	return b
}

// Hash returns the RFC 6962 leaf hash, SHA-256(0x00 || Bytes(origin)) (RFC 6962 §2.1).
func (l *Leaf) Hash(origin string) Hash {
	return Hash(xtlog.RecordHash(l.Bytes(origin)))
}

// valid checks what the encoding relies on: the caps that keep the length prefixes from
// wrapping, and a time that int64 Unix nanoseconds represent (years 1678 to 2262), since
// times 2^64 ns apart would otherwise encode alike.
func (l *Leaf) valid() bool {
	return len(l.Kind) <= limits.MaxEvidenceKind && len(l.Ref) <= limits.MaxEvidenceRef && len(l.Meta) <= limits.MaxEvidenceMeta &&
		l.Time.Equal(time.Unix(0, l.Time.UnixNano()))
}

const payloadPrefix = "dpi-tlog-payload/v1\x00"

// SaltSize is the length of the random salt under which a payload is committed. It is fixed
// because the commitment does not encode where the salt ends and the payload begins.
const SaltSize = 32

// PayloadHash returns the commitment to a payload under salt, which should be SaltSize bytes
// (CheckPayload refuses any other length).
func PayloadHash(salt, payload []byte) Hash {
	h := sha256.New()
	h.Write([]byte(payloadPrefix))
	h.Write(salt)
	h.Write(payload)
	var out Hash
	h.Sum(out[:0])
	return out
}

// CheckPayload reports whether payload and salt are what the leaf committed to. A person
// who kept their payload and salt checks it against a leaf proved by [Verifier.VerifyInclusion].
// A salt of any length but SaltSize is refused: otherwise bytes moved between the end of the
// salt and the start of the payload would keep the commitment.
func (l *Leaf) CheckPayload(salt, payload []byte) bool {
	if len(salt) != SaltSize {
		return false
	}
	h := PayloadHash(salt, payload)
	return subtle.ConstantTimeCompare(h[:], l.PayloadHash[:]) == 1
}
