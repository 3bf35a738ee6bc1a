package notify

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// Dispatcher defaults, when DispatcherConfig leaves a field zero.
const (
	DefaultWorkers = 4
	DefaultLease   = 2 * time.Minute
	DefaultPoll    = time.Second
)

// DispatcherConfig configures a Dispatcher. The zero value is usable.
type DispatcherConfig struct {
	// Workers is how many notifications one dispatcher attempts at once; zero means
	// DefaultWorkers.
	Workers int
	// Lease is how long a claimed notification stays with its worker: a worker that dies
	// mid-attempt leaves it to be claimed again once the lease ends, and an attempt is
	// cancelled at half its lease so that it ends before. Zero means DefaultLease.
	Lease time.Duration
	// Poll is how often an idle worker looks for due notifications (a Send in the same
	// process wakes it at once); zero means DefaultPoll.
	Poll time.Duration
	// Logger receives failures of the database; nil logs nothing.
	Logger *slog.Logger
	// RateLimits caps, by channel name, how fast the dispatcher attempts each channel's
	// notifications; a channel without one goes as fast as the workers can. A
	// notification held back by its channel's limit is not due (RunUntilEmpty returns
	// without it).
	RateLimits map[string]RateLimit
	// Now is the clock of the rate limits; nil means time.Now.
	Now func() time.Time
}

// Dispatcher delivers the notifications of an outbox through its channels: its workers
// claim due notifications (FOR UPDATE SKIP LOCKED on PostgreSQL, SQLite's write lock),
// attempt them, and record each outcome and its evidence in one transaction. Delivery is at
// least once: many dispatchers, in many processes, may run on one outbox, and a notification
// whose worker died is claimed again once its lease ends. It is safe for concurrent use.
type Dispatcher struct {
	o      *Outbox
	n      int
	lease  time.Duration
	poll   time.Duration
	logger *slog.Logger
	limit  *limiter // nil without rate limits
}

// NewDispatcher returns a dispatcher for o.
func NewDispatcher(o *Outbox, cfg DispatcherConfig) (*Dispatcher, error) {
	if o == nil || len(o.names) == 0 {
		return nil, fmt.Errorf("%w: a dispatcher needs an outbox from Open", ErrConfig)
	}
	d := &Dispatcher{o: o, n: cfg.Workers, lease: cfg.Lease, poll: cfg.Poll, logger: cfg.Logger}
	if d.n == 0 {
		d.n = DefaultWorkers
	}
	if d.lease == 0 {
		d.lease = DefaultLease
	}
	if d.poll == 0 {
		d.poll = DefaultPoll
	}
	if d.n < 0 || d.n > limits.MaxNotifyWorkers || d.lease < 0 || d.poll < 0 {
		return nil, fmt.Errorf("%w: 1 to %d workers, and a positive lease and poll", ErrConfig, limits.MaxNotifyWorkers)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var err error
	if d.limit, err = newLimiter(o, cfg.RateLimits, now); err != nil {
		return nil, err
	}
	return d, nil
}

// Run delivers notifications as they fall due until ctx ends, and then returns nil. A failing
// database is logged and tried again at the next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range d.n {
		wg.Go(func() {
			for ctx.Err() == nil {
				woken := d.o.woken()
				did, err := d.step(ctx)
				if did && err == nil {
					continue
				}
				if err != nil && ctx.Err() == nil && d.logger != nil {
					d.logger.ErrorContext(ctx, "notify: dispatch", "err", err)
				}
				wait := d.poll
				if w := d.limit.wait(); w > 0 && w < wait {
					wait = w
				}
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
				case <-woken:
				case <-t.C:
				}
				t.Stop()
			}
		})
	}
	wg.Wait()
	return nil
}

// RunUntilEmpty delivers notifications until none is due (one waiting for a later retry, or
// claimed by a worker elsewhere, is not), and returns. It returns the first failure of the
// database, or ctx's error.
func (d *Dispatcher) RunUntilEmpty(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range d.n {
		wg.Go(func() {
			for {
				did, err := d.step(ctx)
				if err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				if !did {
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// errNothingDue ends a claim that found no notification due.
var errNothingDue = errors.New("notify: nothing due")

// errLeaseLost ends an outcome whose notification was claimed again after its lease.
var errLeaseLost = errors.New("notify: lease lost")

// claim is a notification a worker holds.
type claim struct {
	delivery Delivery
	channel  string
	callback string // the sending service's callback URL, if any
	lease    string
	deliver  bool // false when the claim ended the notification without an attempt
}

// step claims one due notification, attempts it and records the outcome. It reports
// whether it found one.
func (d *Dispatcher) step(ctx context.Context) (bool, error) {
	if d.limit != nil {
		d.limit.mu.Lock()
	}
	c, err := d.claimDue(ctx)
	if d.limit != nil {
		if c != nil && c.deliver {
			d.limit.take(c.channel)
		}
		d.limit.mu.Unlock()
	}
	if errors.Is(err, errNothingDue) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !c.deliver {
		return true, nil
	}
	dctx, cancel := context.WithTimeout(ctx, d.lease/2)
	derr := d.o.channels[c.channel].Deliver(dctx, &c.delivery)
	cancel()
	if ctx.Err() != nil && derr != nil {
		// Stopped mid-attempt: the lease hands the notification to the next worker.
		return true, nil
	}
	// A delivery that succeeded is recorded even if ctx ends meanwhile, so that it is not
	// sent again.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), limits.WebhookHTTPTimeout)
	defer rcancel()
	_, err = d.o.log.AppendWith(rctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		return d.outcome(ctx, tx, c, derr)
	})
	if errors.Is(err, errLeaseLost) {
		return true, nil
	}
	if err == nil && c.callback != "" {
		d.o.wake() // a status callback may be due
	}
	return true, err
}

// claimDue claims the notification due first among the channels that may be attempted
// now, or returns errNothingDue.
func (d *Dispatcher) claimDue(ctx context.Context) (*claim, error) {
	names := d.limit.ready(d.o.names)
	if len(names) == 0 {
		return nil, errNothingDue
	}
	if due, err := d.anyDue(ctx, names); err != nil || !due {
		if err == nil {
			err = errNothingDue
		}
		return nil, err
	}
	var c *claim
	_, err := d.o.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		var err error
		var rec evidence.Record
		c, rec, err = d.claim(ctx, tx, names)
		return rec, err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// anyDue looks, without a transaction, for a due notification of the dispatcher's channels,
// so that an idle worker takes no write lock.
func (d *Dispatcher) anyDue(ctx context.Context, names []string) (bool, error) {
	q, args := d.dueQuery("SELECT id", names)
	var id string
	err := d.o.db.QueryRowContext(ctx, d.o.db.Rebind(q), args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notify: look for due notifications: %w", err)
	}
	return true, nil
}

func (d *Dispatcher) dueQuery(sel string, names []string) (string, []any) {
	args := []any{d.o.now().UnixNano()}
	for _, n := range names {
		args = append(args, n)
	}
	q := sel + " FROM notify_messages WHERE status IN ('created', 'sending') AND next_at <= ? AND channel IN (" +
		strings.Repeat("?, ", len(names)-1) + "?) ORDER BY next_at LIMIT 1"
	return q, args
}

// claim takes the notification due first and leases it to the caller, in tx.
func (d *Dispatcher) claim(ctx context.Context, tx *sql.Tx, names []string) (*claim, evidence.Record, error) {
	q, args := d.dueQuery("SELECT id, channel, recipient, reference, subject, body, html, attempts, created_at, lease, callback", names)
	if d.o.db.Dialect() == store.Postgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	c := &claim{}
	dl := &c.delivery
	var created int64
	var stale string // the lease of a worker that died, if any
	err := tx.QueryRowContext(ctx, d.o.db.Rebind(q), args...).Scan(&dl.ID, &c.channel, &dl.To, &dl.Reference,
		&dl.Content.Subject, &dl.Content.Text, &dl.Content.HTML, &dl.Attempt, &created, &stale, &c.callback)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidence.Record{}, errNothingDue
	}
	if err != nil {
		return nil, evidence.Record{}, fmt.Errorf("notify: claim: %w", err)
	}
	dl.Created = time.Unix(0, created).UTC()
	now := d.o.now()
	var disabled int
	err = tx.QueryRowContext(ctx, d.o.db.Rebind("SELECT COUNT(*) FROM notify_endpoints WHERE channel = ? AND address = ?"), c.channel, dl.To).Scan(&disabled)
	if err != nil {
		return nil, evidence.Record{}, fmt.Errorf("notify: claim: %w", err)
	}
	switch {
	case disabled > 0:
		rec, err := d.finish(ctx, tx, c, stale, now, Event{Status: PermanentFailure, Attempt: dl.Attempt, Reason: "the endpoint is disabled"})
		return c, rec, err
	case dl.Attempt >= len(d.o.schedule):
		// The last attempt was claimed and never recorded: its worker died.
		rec, err := d.finish(ctx, tx, c, stale, now, Event{Status: TechnicalFailure, Attempt: dl.Attempt, Reason: "the last attempt did not finish within its lease"})
		return c, rec, err
	}
	c.lease = newLease()
	c.deliver = true
	dl.Attempt++
	_, err = tx.ExecContext(ctx, d.o.db.Rebind("UPDATE notify_messages SET status = ?, attempts = ?, next_at = ?, lease = ?, updated_at = ? WHERE id = ?"),
		string(Sending), dl.Attempt, now.Add(d.lease).UnixNano(), c.lease, now.UnixNano(), dl.ID)
	if err != nil {
		return nil, evidence.Record{}, fmt.Errorf("notify: claim: %w", err)
	}
	rec, err := record(dl.ID, Event{Status: Sending, At: now, Attempt: dl.Attempt}, nil)
	return c, rec, err
}

// finish ends a notification in a final status, in tx, when it still holds lease, and
// enqueues its status callback when the service asked for one.
func (d *Dispatcher) finish(ctx context.Context, tx *sql.Tx, c *claim, lease string, now time.Time, ev Event) (evidence.Record, error) {
	id := c.delivery.ID
	ev.At = now
	ev.Reason = clip(ev.Reason)
	res, err := tx.ExecContext(ctx, d.o.db.Rebind("UPDATE notify_messages SET status = ?, lease = '', reason = ?, updated_at = ? WHERE id = ? AND lease = ?"),
		string(ev.Status), ev.Reason, now.UnixNano(), id, lease)
	if err != nil {
		return evidence.Record{}, fmt.Errorf("notify: record outcome: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return evidence.Record{}, errLeaseLost
	}
	if c.callback != "" && d.o.callback != nil {
		if ev.Callback, err = d.o.enqueueCallback(ctx, tx, id, c.callback, c.delivery.Reference, ev); err != nil {
			return evidence.Record{}, err
		}
	}
	return record(id, ev, nil)
}

// outcome records the result of an attempt, in tx: delivered, failed for good, or to be
// tried again.
func (d *Dispatcher) outcome(ctx context.Context, tx *sql.Tx, c *claim, derr error) (evidence.Record, error) {
	now := d.o.now()
	dl := &c.delivery
	ev := Event{Attempt: dl.Attempt}
	var e *Error
	errors.As(derr, &e)
	if derr != nil {
		ev.Reason = derr.Error()
	}
	switch {
	case derr == nil:
		ev.Status = Delivered
	case errors.Is(derr, ErrEndpointGone):
		ev.Status, ev.EndpointDisabled = PermanentFailure, true
		_, err := tx.ExecContext(ctx, d.o.db.Rebind("INSERT INTO notify_endpoints (channel, address, disabled_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING"),
			c.channel, dl.To, now.UnixNano(), clip(ev.Reason))
		if err != nil {
			return evidence.Record{}, fmt.Errorf("notify: disable endpoint: %w", err)
		}
	case errors.Is(derr, ErrPermanent):
		ev.Status = PermanentFailure
	case dl.Attempt < len(d.o.schedule):
		// A receiver's Retry-After is a floor: jitter goes on the schedule, never below it.
		delay := jitter(d.o.schedule[dl.Attempt])
		if e != nil && e.RetryAfter > delay {
			delay = e.RetryAfter
		}
		ev.Status, ev.Next, ev.Reason = Sending, now.Add(delay), clip(ev.Reason)
		ev.At = now
		res, err := tx.ExecContext(ctx, d.o.db.Rebind("UPDATE notify_messages SET next_at = ?, lease = '', reason = ?, updated_at = ? WHERE id = ? AND lease = ?"),
			ev.Next.UnixNano(), ev.Reason, now.UnixNano(), dl.ID, c.lease)
		if err != nil {
			return evidence.Record{}, fmt.Errorf("notify: record outcome: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return evidence.Record{}, errLeaseLost
		}
		return record(dl.ID, ev, nil)
	case errors.Is(derr, ErrTemporary):
		ev.Status = TemporaryFailure
	default:
		ev.Status = TechnicalFailure
	}
	return d.finish(ctx, tx, c, c.lease, now, ev)
}

// jitter spreads a delay by up to 10% either way, so that notifications that failed together
// are not all tried again at once (Standard Webhooks recommends "some level of random
// jitter").
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	spread := int64(d) / 10
	if spread == 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}

// clip shortens a failure reason to limits.MaxNotifyReason bytes of valid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= limits.MaxNotifyReason {
		return s
	}
	s = s[:limits.MaxNotifyReason]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func newLease() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
