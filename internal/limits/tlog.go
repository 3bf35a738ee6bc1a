package limits

// Caps for the tamper-evident log in internal/tlog. Records come from the blocks' callers;
// checkpoints and proofs come from anyone, so their parsers read through these caps.
const (
	// MaxTlogOrigin caps a log's origin line, which is also its name in the database and the
	// note key name (C2SP tlog-checkpoint asks for a short schema-less URL).
	MaxTlogOrigin = 255

	// MaxTlogKind caps the kind label of a record.
	MaxTlogKind = 128

	// MaxTlogMeta caps the non-personal metadata of one record.
	MaxTlogMeta = 64 << 10

	// MaxTlogPayload caps the erasable personal payload of one record.
	MaxTlogPayload = 1 << 20

	// MaxTlogBatch caps the records appended in one transaction.
	MaxTlogBatch = 10000

	// MaxTlogCheckpoint caps a signed checkpoint note: three lines, a few extension lines and
	// a handful of signatures are well under 1 KiB.
	MaxTlogCheckpoint = 16 << 10

	// MaxTlogProofHashes caps the hashes in an inclusion or consistency proof. A tree of 2^63
	// entries needs at most 63 for inclusion and about twice that for consistency.
	MaxTlogProofHashes = 128

	// MaxTlogKeyFile caps a public key file the dpi command reads for a log: a PEM public
	// key or a note verifier key is a few hundred bytes.
	MaxTlogKeyFile = 16 << 10

	// MaxTlogProof caps a JSON proof document read by the dpi command or a verifier: the
	// hashes, two checkpoints and the entry's metadata.
	MaxTlogProof = MaxTlogMeta*2 + 64<<10
)
