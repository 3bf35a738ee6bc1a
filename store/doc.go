// Package store opens the database that dpi's blocks keep their records in, from one DSN
// form shared by the library and every --db flag of the dpi command, and gives a block the
// few things it needs on it: the dialect, transactions that retry a lost race, and versioned
// migrations.
//
// # DSNs
//
//	sqlite://PATH          an SQLite file (modernc.org/sqlite, pure Go, no cgo), in WAL mode
//	                       with synchronous=FULL: a committed transaction survives power loss
//	sqlite://:memory:      an SQLite database in memory, gone when closed
//	postgres://…           PostgreSQL through pgx (postgresql:// works too)
//
// PATH is taken literally, up to the first '?': "sqlite:///d/a#b.db" opens the file a#b.db
// in /d, and "%41" stays "%41". An SQLite DSN may end with tuning parameters, each a whole
// number:
//
//	?cache_size=KIB        page cache per connection, in KiB (default 65536, 64 MiB; pages
//	                       are cached only as they are read)
//	&mmap_size=BYTES       read the file through a memory map of up to BYTES (default 0, off).
//	                       Faster reads of a large log; an I/O error on a mapped page then
//	                       stops the process instead of returning an error.
//
// SQLite is the embedded default for one service process; PostgreSQL lets many service
// instances share one database.
//
// # Opening
//
// [Open] creates an SQLite file that is not there; [OpenExisting] refuses to (a command
// that adds to a log someone set up); [OpenReadOnly] neither creates nor writes anything,
// for auditors and every command that only reads.
//
// # Transactions
//
// [DB.InTx] runs a function in a transaction and retries it when it lost a race that a
// second run can win. A block that must write its own row and its evidence together opens
// the transaction (with InTx or [sql.DB.BeginTx]) and passes it to the block's Tx method,
// such as evidence's AppendTx: both commit, or neither does.
//
// # Migrations
//
// Each block declares its schema as versioned [Migration]s and applies them with
// [DB.Migrate], which is safe to call from many processes at once.
//
// # What it does not do
//
// It is not an ORM or a query builder, it pools connections only as database/sql does, and
// it runs no database server.
package store
