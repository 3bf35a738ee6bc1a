package limits

// Caps for the tamper-evident log in package evidence. Records come from the blocks' callers;
// checkpoints and proofs come from anyone, so their parsers read through these caps.
const (
	// MaxEvidenceOrigin caps a log's origin line, which is also its name in the database and the
	// note key name (C2SP tlog-checkpoint asks for a short schema-less URL).
	MaxEvidenceOrigin = 255

	// MaxEvidenceKind caps the kind label of a record.
	MaxEvidenceKind = 128

	// MaxEvidenceRef caps the non-personal reference of one record (a consent record ID, a
	// message ID, a notification ID): room for a URN or a UUID with a prefix.
	MaxEvidenceRef = 255

	// MaxEvidenceMeta caps the non-personal metadata of one record.
	MaxEvidenceMeta = 64 << 10

	// MaxEvidencePayload caps the erasable personal payload of one record.
	MaxEvidencePayload = 1 << 20

	// MaxEvidenceBatch caps the records appended in one transaction.
	MaxEvidenceBatch = 10000

	// MaxEvidenceCheckpoint caps a signed checkpoint note: three lines, a few extension lines and
	// a handful of signatures are well under 1 KiB.
	MaxEvidenceCheckpoint = 16 << 10

	// MaxEvidenceProofHashes caps the hashes in an inclusion or consistency proof. A tree of 2^63
	// entries needs at most 63 for inclusion and about twice that for consistency.
	MaxEvidenceProofHashes = 128

	// MaxEvidenceKeyFile caps a public key file the dpi command reads for a log: a PEM public
	// key or a note verifier key is a few hundred bytes.
	MaxEvidenceKeyFile = 16 << 10

	// MaxEvidenceProof caps a JSON proof document read by the dpi command or a verifier: the
	// hashes, two checkpoints and the entry's metadata.
	MaxEvidenceProof = MaxEvidenceMeta*2 + 64<<10
)
