package evidence

import "github.com/dpiblocks/dpi/store"

// component is the name the log's migrations are recorded under.
const component = "tlog"

// migrations is the log's schema. tlog_logs holds one row per log, whose size is the head
// that appenders lock to serialise sequence numbers; tlog_hashes holds the stored hashes of
// the tree (golang.org/x/mod/sumdb/tlog's StoredHashIndex order: every leaf hash and the
// hash of every complete subtree), so a proof reads O(log n) rows.
var migrations = []store.Migration{{
	Version: 1,
	Name:    "create tlog tables",
	SQLite: `
CREATE TABLE tlog_logs (
	id     INTEGER PRIMARY KEY,
	origin TEXT    NOT NULL UNIQUE,
	size   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tlog_entries (
	log_id       INTEGER NOT NULL REFERENCES tlog_logs (id),
	seq          INTEGER NOT NULL,
	time_ns      INTEGER NOT NULL,
	kind         TEXT    NOT NULL,
	meta         BLOB    NOT NULL,
	payload_hash BLOB    NOT NULL,
	leaf_hash    BLOB    NOT NULL,
	payload      BLOB,
	salt         BLOB,
	erased       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (log_id, seq)
);
CREATE TABLE tlog_hashes (
	log_id INTEGER NOT NULL,
	idx    INTEGER NOT NULL,
	hash   BLOB    NOT NULL,
	PRIMARY KEY (log_id, idx)
) WITHOUT ROWID;
CREATE TABLE tlog_checkpoints (
	log_id     INTEGER NOT NULL REFERENCES tlog_logs (id),
	size       INTEGER NOT NULL,
	note       TEXT    NOT NULL,
	PRIMARY KEY (log_id, size)
);`,
	Postgres: `
CREATE TABLE tlog_logs (
	id     BIGSERIAL PRIMARY KEY,
	origin TEXT      NOT NULL UNIQUE,
	size   BIGINT    NOT NULL DEFAULT 0
);
CREATE TABLE tlog_entries (
	log_id       BIGINT   NOT NULL REFERENCES tlog_logs (id),
	seq          BIGINT   NOT NULL,
	time_ns      BIGINT   NOT NULL,
	kind         TEXT     NOT NULL,
	meta         BYTEA    NOT NULL,
	payload_hash BYTEA    NOT NULL,
	leaf_hash    BYTEA    NOT NULL,
	payload      BYTEA,
	salt         BYTEA,
	erased       SMALLINT NOT NULL DEFAULT 0,
	PRIMARY KEY (log_id, seq)
);
CREATE TABLE tlog_hashes (
	log_id BIGINT NOT NULL,
	idx    BIGINT NOT NULL,
	hash   BYTEA  NOT NULL,
	PRIMARY KEY (log_id, idx)
);
CREATE TABLE tlog_checkpoints (
	log_id BIGINT NOT NULL REFERENCES tlog_logs (id),
	size   BIGINT NOT NULL,
	note   TEXT   NOT NULL,
	PRIMARY KEY (log_id, size)
);`,
}, {
	// The optional reference of each entry (Record.Ref), and the indexes Scan uses to find
	// entries by reference and by kind, so that a block keeps no second index of its own.
	// The partial index leaves out the many entries without a reference. verifier_key is
	// the note verifier key of the first signer a log was opened with, which every later
	// signer must match.
	Version: 2,
	Name:    "add entry references, scan indexes and the log's key",
	SQL: `
ALTER TABLE tlog_logs ADD COLUMN verifier_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tlog_entries ADD COLUMN ref TEXT NOT NULL DEFAULT '';
CREATE INDEX tlog_entries_ref ON tlog_entries (log_id, ref, seq) WHERE ref <> '';
CREATE INDEX tlog_entries_kind ON tlog_entries (log_id, kind, seq);`,
}}
