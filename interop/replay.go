package interop

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// SeenIDs remembers the message IDs a receiver has accepted, each until the time after which
// its envelope would be refused as too old anyway: the replay defence. An implementation
// must be safe for concurrent use; NewMemorySeenIDs keeps them in one process, OpenSeenIDs
// in a database that many instances share.
type SeenIDs interface {
	// Add records key until expires and reports true, or reports false, recording nothing,
	// when key is already recorded and has not expired.
	Add(ctx context.Context, key string, expires time.Time) (bool, error)
}

// replayKey is what a receiver records for a message: the SHA-256 of the client and the
// message ID, so two clients never collide and every key has the same size.
func replayKey(client ClientID, id string) string {
	sum := sha256.Sum256([]byte(client.String() + "\n" + id))
	return hex.EncodeToString(sum[:])
}

// SeenConfig configures a SeenIDs store. The zero value is safe.
type SeenConfig struct {
	// Max caps the keys an in-memory store holds; zero means limits.MaxInteropSeenIDs.
	// When it is full of keys that have not expired, Add fails rather than forgetting one
	// that could then be replayed. A database store ignores it.
	Max int
	// Now is the clock that expires keys; nil means time.Now.
	Now func() time.Time
}

// MemorySeenIDs is a SeenIDs held in memory: bounded, each key forgotten once it expires.
type MemorySeenIDs struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	keys map[string]time.Time
	heap expiryHeap
}

var _ SeenIDs = (*MemorySeenIDs)(nil)

// NewMemorySeenIDs returns an empty in-memory store.
func NewMemorySeenIDs(cfg SeenConfig) *MemorySeenIDs {
	m := &MemorySeenIDs{max: cfg.Max, now: cfg.Now, keys: map[string]time.Time{}}
	if m.max <= 0 {
		m.max = limits.MaxInteropSeenIDs
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Add records key until expires, unless it is already there.
func (m *MemorySeenIDs) Add(_ context.Context, key string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for len(m.heap) > 0 && !m.heap[0].expires.After(now) {
		e := heap.Pop(&m.heap).(expiry)
		if m.keys[e.key].Equal(e.expires) {
			delete(m.keys, e.key)
		}
	}
	if exp, ok := m.keys[key]; ok && exp.After(now) {
		return false, nil
	}
	if len(m.keys) >= m.max {
		return false, fmt.Errorf("%w: %d message IDs inside their window, the most this store holds", errSeen, m.max)
	}
	m.keys[key] = expires
	heap.Push(&m.heap, expiry{key: key, expires: expires})
	return true, nil
}

// Len returns the number of keys held, expired or not.
func (m *MemorySeenIDs) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

type expiry struct {
	key     string
	expires time.Time
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// DBSeenIDs is a SeenIDs in a database (SQLite or PostgreSQL) that many service instances
// share: one row per key under a unique key, expired rows deleted as new ones arrive.
type DBSeenIDs struct {
	db    *store.DB
	now   func() time.Time
	adds  atomic.Uint64
	sweep uint64
}

var _ SeenIDs = (*DBSeenIDs)(nil)

// seenMigrations is the replay store's schema.
var seenMigrations = []store.Migration{{
	Version: 1,
	Name:    "create interop seen ids",
	SQL: `
CREATE TABLE interop_seen_ids (
	id_hash TEXT   PRIMARY KEY,
	expires BIGINT NOT NULL
);
CREATE INDEX interop_seen_ids_expires ON interop_seen_ids (expires);`,
}}

// sweepEvery is how many adds pass between two deletions of every expired row; each add
// also replaces an expired row of its own key.
const sweepEvery = 512

// OpenSeenIDs creates the replay store's table in db when needed and returns the store.
func OpenSeenIDs(ctx context.Context, db *store.DB, cfg SeenConfig) (*DBSeenIDs, error) {
	if db == nil {
		return nil, fail(ErrConfig, CheckConfig, "no database")
	}
	if err := db.Migrate(ctx, "interop", seenMigrations); err != nil {
		return nil, err
	}
	s := &DBSeenIDs{db: db, now: cfg.Now, sweep: sweepEvery}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Add records key until expires, unless a row for it has not expired. The unique key
// decides between instances adding the same key at once: one of them gets true.
func (s *DBSeenIDs) Add(ctx context.Context, key string, expires time.Time) (bool, error) {
	now := s.now().UnixNano()
	if s.adds.Add(1)%s.sweep == 0 {
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM interop_seen_ids WHERE expires <= ?`), now); err != nil {
			return false, fmt.Errorf("%w: %v", errSeen, err)
		}
	}
	var fresh bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM interop_seen_ids WHERE id_hash = ? AND expires <= ?`), key, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO interop_seen_ids (id_hash, expires) VALUES (?, ?) ON CONFLICT (id_hash) DO NOTHING`), key, expires.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%w: %v", errSeen, err)
	}
	return fresh, nil
}
