// Package evidence is dpi's tamper-evident log: an append-only log in the block's database
// whose entries are the leaves of an RFC 6962 SHA-256 Merkle tree, with signed checkpoints,
// inclusion and consistency proofs anyone can check with the log's public key alone, a
// Verify that names every entry that was edited, removed, reordered or inserted, and erasure
// of personal data that keeps every proof valid. It is built for consent history, the
// interop message log and notification evidence, each a log of its own, one per origin, in
// the block's database (SQLite or PostgreSQL, opened with package store); an agency keeps its
// own records in it the same way (a register of automated decisions, of every access to a
// person's data).
//
// # Model
//
// An entry is a [Leaf] — sequence number, time, kind, an optional non-personal reference,
// non-personal metadata, and a salted SHA-256 commitment to the personal payload — plus the
// payload and its salt. The tree's
// leaf is the RFC 6962 leaf hash (§2.1, SHA-256(0x00 || data)) of the leaf's canonical
// encoding ([Leaf.Bytes]), which names the log's origin and the sequence number, so a leaf
// cannot be moved to another place or another log. Interior nodes are SHA-256(0x01 || l || r).
// The tree math is golang.org/x/mod/sumdb/tlog, the Go checksum database's: the log stores
// every leaf hash and the hash of every complete subtree (tlog's StoredHashes), so an
// inclusion proof (RFC 6962 §2.1.1) or a consistency proof (§2.1.2) reads O(log n) rows at
// any size.
//
// A [Checkpoint] is the origin, the tree size and the root hash, as three lines (C2SP
// tlog-checkpoint), signed in the signed-note format (C2SP signed-note,
// golang.org/x/mod/sumdb/note) with a [crypto.Signer] whose key name is the origin: Ed25519
// (signed-note type 0x01) or ECDSA P-256 over SHA-256 (type 0x02, as transparency-dev
// witnesses and Sigstore's Rekor sign notes). Checkpoints are signed on demand
// ([Log.Checkpoint]) or every Config.CheckpointEvery entries, and stored.
//
// Appends serialise on the log's head row (SELECT … FOR UPDATE on PostgreSQL, the immediate
// write lock on SQLite) in the transaction that writes the entries, their hashes and the new
// size, so many goroutines and many processes append without forking the tree, and a
// process killed mid-append leaves each batch whole or absent.
//
// # Appending
//
// [Log.Append] returns a [Receipt] — sequence number, time, leaf hash and salt: what a person
// needs to check their own entry later — only once the record is durable. Appends from many
// goroutines are committed in groups, one transaction and one sync to disk for all the
// records that waited while the previous group committed, which is what makes a log fast
// under load (BENCHMARKS.md). [Log.AppendBatch] appends records as one unit.
// [Log.AppendTx] appends inside a transaction the caller opened on the same database, so a
// block's own rows and its evidence commit or roll back together:
//
//	err := db.InTx(ctx, func(tx *sql.Tx) error {
//		if _, err := tx.ExecContext(ctx, "UPDATE consents SET status = ...", ...); err != nil {
//			return err
//		}
//		_, err := log.AppendTx(ctx, tx, evidence.Record{Kind: "consent.withdrawn", Ref: id, ...})
//		return err
//	})
//
// A record's Ref, a non-personal reference such as a consent record ID or a message ID, is
// committed in the leaf and indexed: [Log.Scan] finds entries by kind, reference and time, so
// a block keeps no second index of its own.
//
// # Who can do what, and what is detected
//
//   - Whoever holds the database (an operator, a stolen database account, a later
//     administration) can edit, delete, reorder or insert rows. [Log.Verify] recomputes every
//     leaf and the tree and names each entry at fault ([TamperError], [Fault]); rewriting an
//     entry together with every stored hash still fails against the signed root of each
//     stored checkpoint, which they cannot forge without the signing key.
//   - They can also delete the newest entries together with the checkpoints that covered
//     them. A database cannot prove what it no longer holds: auditors and citizens therefore
//     keep the checkpoints (and proofs) they were given, pass them to Verify (or "dpi log
//     verify --checkpoint"), and a [ConsistencyProof] from a kept checkpoint to the current
//     one fails if anything it covered was removed or rewritten.
//   - [Log.Checkpoint] refuses (ErrTampered) to sign a tree smaller than, or not consistent
//     with, the latest checkpoint stored or signed by the same [Log], so the log's own key
//     does not sign a rollback or a rewritten history; a process started after the stored
//     checkpoints were deleted cannot tell, which is why auditors keep them.
//   - Whoever holds the signing key can sign a second, different history (a fork). Two
//     signed checkpoints that fail a consistency proof are evidence of that; publish
//     checkpoints widely (or to witnesses) to make forks visible.
//   - Erasure ([Log.Erase]) deletes a payload and its salt and marks the entry erased; the
//     leaf keeps the salted commitment, so proofs and Verify still pass, and a short payload
//     (a national ID number) cannot be guessed from the commitment once the salt is gone.
//     Verify tells an erased entry from a payload edited, or deleted without the erased
//     mark, and still checks every other field of an erased entry against its leaf. It
//     cannot tell an erasure through the log from the same three column updates made by
//     whoever holds the database: deleting a payload is always possible to them, and the
//     commitment that stays shows that something was there, not what.
//
// A person holding an [InclusionProof] (which carries no personal data) and their own
// payload and salt checks, offline, with the log's public key only: the checkpoint's
// signature ([Verifier.OpenCheckpoint]), the audit path ([Verifier.VerifyInclusion]) and the
// payload ([Leaf.CheckPayload]). An auditor also checks [Verifier.VerifyConsistency] from
// the last checkpoint they kept, and runs Verify (or "dpi log verify") on the database.
//
// # Example
//
//	db, err := store.Open(ctx, "sqlite:///var/lib/agency/evidence.db")
//	l, err := evidence.Open(ctx, db, evidence.Config{Origin: "agency.example/consent", Signer: key})
//	rc, err := l.Append(ctx, evidence.Record{Kind: "consent.given", Ref: id, Meta: meta, Payload: personal})
//	_, err = l.Checkpoint(ctx)
//	proof, err := l.ProveInclusion(ctx, rc.Seq, 0)
//	v, err := evidence.NewVerifier("agency.example/consent", publicKey)
//	cp, err := v.VerifyInclusion(proof)
//	report, err := l.Verify(ctx, v)
//
// A block's own face on its log is a few lines with [Typed].
//
// # What it does not do
//
// It does not run a log server, gossip checkpoints or talk to witnesses; it does not hide
// metadata (keep personal data out of Kind and Meta); it does not encrypt payloads at rest
// (the database does); and it keeps no history of erasures beyond the erased flag — append
// a record of the erasure if the block must show who erased what.
package evidence
