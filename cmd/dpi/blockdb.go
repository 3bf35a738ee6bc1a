package main

import (
	"crypto"
	"errors"
	"fmt"
	"slices"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// blockDB is the database a block's commands (consent, notify) open, with the block's
// evidence log.
type blockDB struct {
	db  *store.DB
	log *evidence.Log
}

func (b *blockDB) Close() { b.db.Close() }

// checkpoint signs a checkpoint of the block's log after a change, so that the change is
// vouched for by the log's key and an auditor who keeps the checkpoint can tell if the log
// is later rewritten.
func (b *blockDB) checkpoint(e *env) error {
	_, err := b.log.Checkpoint(e.ctx)
	return err
}

// blockLog says which log of which block openBlockDB opens, and how its errors read.
type blockLog struct {
	dsn, origin string
	key         crypto.Signer
	// create makes the database and the log; otherwise both must exist.
	create bool
	// block names the block's log in errors: "consent", "notify".
	block string
	// first says what makes the log: "record a consent first (dpi consent give)".
	first string
	// keyName names the key --key must be: "the controller key".
	keyName string
}

// openBlockDB opens the database at l.dsn and the block's evidence log in it, signed by
// l.key. Unless l.create, it refuses a database that does not exist or holds no such log
// rather than make one.
func openBlockDB(e *env, l blockLog) (*blockDB, error) {
	var db *store.DB
	var err error
	if l.create {
		db, err = store.Open(e.ctx, l.dsn)
	} else {
		db, err = store.OpenExisting(e.ctx, l.dsn)
	}
	if errors.Is(err, store.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", notExistError(l.dsn, ""), l.first)
	}
	if err != nil {
		return nil, err
	}
	if !l.create {
		origins, err := evidence.Origins(e.ctx, db)
		if err != nil || !slices.Contains(origins, l.origin) {
			db.Close()
			return nil, fmt.Errorf("the database holds no %s log %q: %s, or name the log with --log", l.block, l.origin, l.first)
		}
	}
	log, err := evidence.Open(e.ctx, db, evidence.Config{Origin: l.origin, Signer: l.key})
	if errors.Is(err, evidence.ErrOtherKey) {
		db.Close()
		return nil, fmt.Errorf("the %s log %q is kept under another key: --key must be %s it was started with", l.block, l.origin, l.keyName)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &blockDB{db: db, log: log}, nil
}
