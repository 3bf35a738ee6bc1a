package notify

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// RateLimit caps how fast the dispatchers of an outbox hand notifications to one channel
// (an SMS gateway's contract, an SMTP relay's limit, a receiver's capacity): a token
// bucket that refills PerSecond tokens a second up to Burst, one token per attempt.
//
// On PostgreSQL the bucket is a row of the outbox's database, shared by every dispatcher
// on the outbox in every process: together they attempt the channel at most Burst times at
// once and PerSecond times a second after that, by the database's clock. Give every
// instance the same limit, the provider's whole limit: a claim refills the bucket at the
// rate of the dispatcher that makes it. On SQLite, whose write lock one process holds, the
// bucket is the dispatcher's own (golang.org/x/time/rate), shared by its workers and
// driven by DispatcherConfig.Now.
type RateLimit struct {
	// PerSecond is the sustained rate, in attempts per second: more than zero.
	PerSecond float64
	// Burst is how many attempts may go at once after a quiet period; zero means 1.
	Burst int
}

// limiter is the token buckets of one dispatcher's rate-limited channels: rows of the
// database on PostgreSQL (shared), golang.org/x/time/rate limiters driven by the
// dispatcher's clock on SQLite (local).
type limiter struct {
	db    *store.DB
	now   func() time.Time
	rates map[string]RateLimit // Burst set
	names []string             // the limited channels, sorted: the order their rows are locked in

	// shared keeps the buckets in the database.
	shared bool
	// local is the buckets of a dispatcher on SQLite.
	local map[string]*rate.Limiter

	// mu makes "which channels have a token", the claim and the taking of the token one
	// step, so that a worker never claims a notification it then has no token for. Across
	// processes, the bucket rows' locks do the same.
	mu sync.Mutex

	// hintMu guards ready: by shared channel, when by the dispatcher's clock its bucket
	// should hold a token again, from what the last claim read. It only shortens an idle
	// wait; the database decides.
	hintMu sync.Mutex
	ready  map[string]time.Time
}

func newLimiter(o *Outbox, cfg map[string]RateLimit, now func() time.Time) (*limiter, error) {
	if len(cfg) == 0 {
		return nil, nil
	}
	l := &limiter{db: o.db, now: now, rates: map[string]RateLimit{}, shared: o.db.Dialect() == store.Postgres}
	for name, rl := range cfg {
		if o.channels[name] == nil {
			return nil, fmt.Errorf("%w: a rate limit for %q, which is not a channel of the outbox", ErrConfig, name)
		}
		if rl.Burst == 0 {
			rl.Burst = 1
		}
		if !(rl.PerSecond > 0) || math.IsInf(rl.PerSecond, 0) || rl.PerSecond > limits.MaxNotifyRate || rl.Burst < 0 || rl.Burst > limits.MaxNotifyRateBurst {
			return nil, fmt.Errorf("%w: rate limit of %q: 0 < PerSecond <= %d and 0 <= Burst <= %d", ErrConfig, name, limits.MaxNotifyRate, limits.MaxNotifyRateBurst)
		}
		l.rates[name] = rl
		l.names = append(l.names, name)
	}
	slices.Sort(l.names)
	if l.shared {
		l.ready = map[string]time.Time{}
		return l, nil
	}
	l.local = map[string]*rate.Limiter{}
	for name, rl := range l.rates {
		l.local[name] = rate.NewLimiter(rate.Limit(rl.PerSecond), rl.Burst)
	}
	return l, nil
}

// quota is how many notifications one claim may take of some channels.
type quota struct {
	names []string
	n     int
}

// quotas splits a claim of up to max notifications of the channels names, in tx: the
// channels without a limit share one quota of max, and each channel with a limit gets the
// whole tokens its bucket holds. A channel whose bucket is empty gets none. It returns
// the tokens of the shared buckets as it read them; their rows stay locked until tx ends.
func (l *limiter) quotas(ctx context.Context, tx *sql.Tx, names []string, max int) ([]quota, map[string]float64, error) {
	if l == nil {
		return []quota{{names: names, n: max}}, nil, nil
	}
	tokens, err := l.refill(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	free := quota{n: max}
	var out []quota
	for _, n := range names {
		if _, ok := l.rates[n]; !ok {
			free.names = append(free.names, n)
			continue
		}
		if t := int(min(tokens[n], float64(max))); t >= 1 {
			out = append(out, quota{names: []string{n}, n: t})
		}
	}
	if len(free.names) > 0 {
		out = append([]quota{free}, out...)
	}
	return out, tokens, nil
}

// refill returns the tokens each bucket holds now. A shared bucket is refilled and locked
// in one statement: its row is created full when missing, and otherwise gains PerSecond
// tokens for each second of the database's clock since it was last refilled, up to Burst.
//
// The clock is the database's now() (the start of tx), not the dispatcher's: the
// instances' clocks differ, and a bucket refilled by the fastest of them would fill
// sooner than it should. updated_at never goes back, so a transaction that started before
// the last refill, but locked the row after it, adds nothing.
func (l *limiter) refill(ctx context.Context, tx *sql.Tx) (map[string]float64, error) {
	tokens := make(map[string]float64, len(l.names))
	if !l.shared {
		now := l.now()
		for name, b := range l.local {
			tokens[name] = b.TokensAt(now)
		}
		return tokens, nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO notify_rate_buckets AS b (channel, per_second, burst, tokens, updated_at)
		SELECT v.channel, v.per_second, v.burst, v.burst, CAST(EXTRACT(EPOCH FROM now()) * 1000000000 AS BIGINT)
		FROM (VALUES `)
	args := make([]any, 0, 3*len(l.names))
	for i, name := range l.names {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION), CAST(? AS INTEGER))")
		rl := l.rates[name]
		args = append(args, name, rl.PerSecond, rl.Burst)
	}
	q.WriteString(`) AS v (channel, per_second, burst) ORDER BY v.channel
		ON CONFLICT (channel) DO UPDATE SET per_second = excluded.per_second, burst = excluded.burst,
			tokens = LEAST(CAST(excluded.burst AS DOUBLE PRECISION),
				b.tokens + CAST(GREATEST(0, excluded.updated_at - b.updated_at) AS DOUBLE PRECISION) / 1e9 * excluded.per_second),
			updated_at = GREATEST(b.updated_at, excluded.updated_at)
		RETURNING channel, tokens`)
	rows, err := tx.QueryContext(ctx, l.db.Rebind(q.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: rate limit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var t float64
		if err := rows.Scan(&name, &t); err != nil {
			return nil, fmt.Errorf("notify: rate limit: %w", err)
		}
		tokens[name] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: rate limit: %w", err)
	}
	if len(tokens) != len(l.names) {
		return nil, fmt.Errorf("notify: rate limit: %d of %d buckets read", len(tokens), len(l.names))
	}
	return tokens, nil
}

// takeTx takes, in tx and one statement, the tokens of the notifications a claim is about
// to attempt, by channel, from the shared buckets that quotas locked. The local buckets
// are taken from once tx has committed (took).
func (l *limiter) takeTx(ctx context.Context, tx *sql.Tx, taken map[string]int) error {
	if l == nil || !l.shared {
		return nil
	}
	var q strings.Builder
	var args []any
	for _, name := range l.names {
		if taken[name] == 0 {
			continue
		}
		if len(args) > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(CAST(? AS TEXT), CAST(? AS INTEGER))")
		args = append(args, name, taken[name])
	}
	if len(args) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, l.db.Rebind(`UPDATE notify_rate_buckets AS b SET tokens = b.tokens - v.n
		FROM (VALUES `+q.String()+`) AS v (channel, n) WHERE b.channel = v.channel`), args...)
	if err != nil {
		return fmt.Errorf("notify: rate limit: %w", err)
	}
	return nil
}

// took follows a committed claim: it takes the tokens of the local buckets, and notes
// when the shared ones should hold a token again, from the tokens the claim read.
func (l *limiter) took(taken map[string]int, tokens map[string]float64) {
	if l == nil {
		return
	}
	now := l.now()
	if !l.shared {
		for name, n := range taken {
			if b := l.local[name]; b != nil && n > 0 {
				b.AllowN(now, n)
			}
		}
		return
	}
	l.hintMu.Lock()
	defer l.hintMu.Unlock()
	for _, name := range l.names {
		left := tokens[name] - float64(taken[name])
		if left >= 1 {
			delete(l.ready, name)
			continue
		}
		l.ready[name] = now.Add(time.Duration((1 - left) / l.rates[name].PerSecond * float64(time.Second)))
	}
}

// wait is how long until the emptiest bucket holds a token again, zero when every bucket
// holds one: an idle worker looks again no later than that.
func (l *limiter) wait() time.Duration {
	if l == nil {
		return 0
	}
	now := l.now()
	var w time.Duration
	if l.shared {
		l.hintMu.Lock()
		for _, at := range l.ready {
			if d := at.Sub(now); d > 0 && (w == 0 || d < w) {
				w = d
			}
		}
		l.hintMu.Unlock()
	}
	for _, b := range l.local {
		if t := b.TokensAt(now); t < 1 {
			d := time.Duration((1 - t) / float64(b.Limit()) * float64(time.Second))
			if w == 0 || d < w {
				w = d
			}
		}
	}
	if w == 0 {
		return 0
	}
	return max(w, time.Millisecond)
}
