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
	// notifications; a channel without one goes as fast as the workers can. On
	// PostgreSQL a limit holds for all the dispatchers on the outbox together, in every
	// process (see RateLimit). A notification held back by its channel's limit is not due
	// (RunUntilEmpty returns without it).
	RateLimits map[string]RateLimit
	// Now is the clock of the rate limits on SQLite, and of how long an idle dispatcher
	// waits for a token; nil means time.Now. The buckets shared on PostgreSQL run on the
	// database's clock, the one clock every instance sees.
	Now func() time.Time
	// FanOut, when set, hands the dispatcher's claims to workers on any instance through
	// NATS JetStream (see FanOutConfig); nil attempts them in this dispatcher's workers.
	FanOut *FanOutConfig
}

// Dispatcher delivers the notifications of an outbox through its channels. It claims due
// notifications in batches, as many as it has idle workers (FOR UPDATE SKIP LOCKED on
// PostgreSQL, SQLite's write lock), leasing them and appending their "sending" evidence in
// one transaction; its workers attempt them at once; and it records their outcomes, with
// their evidence, in batches too: one transaction for the outcomes that are ready when the
// last one committed. Delivery is at least once: many dispatchers, in many processes, may
// run on one outbox, and a notification whose worker died, or whose outcome was not
// recorded, is claimed again once its lease ends. It is safe for concurrent use.
type Dispatcher struct {
	o      *Outbox
	n      int
	lease  time.Duration
	poll   time.Duration
	logger *slog.Logger
	limit  *limiter // nil without rate limits
	fan    *fanOut  // nil without fan-out

	statsMu sync.Mutex
	stats   DispatcherStats
}

// DispatcherStats counts what one Dispatcher recorded in the outbox, in all its Run and
// RunUntilEmpty calls: the evidence it appended, not that of other dispatchers on the
// same outbox.
type DispatcherStats struct {
	// Attempts counts the attempts it claimed (a "sending" entry each); with fan-out,
	// those it published, whichever worker attempted them.
	Attempts int
	// Delivered counts the notifications it recorded as delivered.
	Delivered int
	// Retrying counts the failed attempts it recorded that are to be tried again.
	Retrying int
	// Failed counts the notifications it ended in a failure status, after an attempt or
	// without one (an endpoint disabled, a last attempt that did not finish).
	Failed int
}

// Stats returns what the dispatcher has recorded so far.
func (d *Dispatcher) Stats() DispatcherStats {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	return d.stats
}

// count adds what a committed transaction recorded to the dispatcher's stats.
func (d *Dispatcher) count(s DispatcherStats) {
	d.statsMu.Lock()
	d.stats.Attempts += s.Attempts
	d.stats.Delivered += s.Delivered
	d.stats.Retrying += s.Retrying
	d.stats.Failed += s.Failed
	d.statsMu.Unlock()
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
	if cfg.FanOut != nil {
		if d.fan, err = newFanOut(cfg.FanOut, d.lease); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Run delivers notifications as they fall due until ctx ends, and then returns nil, once the
// attempts in flight have ended and the outcomes of those that finished are recorded. A
// failing database is logged and tried again at the next poll.
//
// With fan-out, Run claims and publishes what falls due, and its workers attempt the claims
// they consume from the stream; until it can find or make the stream and its consumer, it
// logs why and tries again at each poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.fan != nil {
		return d.runFanOut(ctx)
	}
	p := d.start(ctx)
	for ctx.Err() == nil {
		woken := d.o.woken()
		n, free, err := p.fill()
		if err != nil && ctx.Err() == nil && d.logger != nil {
			d.logger.ErrorContext(ctx, "notify: dispatch", "err", err)
		}
		if err == nil && n > 0 && n == free {
			continue // a full batch: more may be due
		}
		if err == nil && free == 0 {
			select {
			case <-ctx.Done():
			case <-p.freed:
			}
			continue
		}
		d.idle(ctx, woken)
	}
	p.stop()
	return nil
}

// idle waits for the next look at the outbox: until ctx ends, the outbox is woken, or the
// poll interval has passed, or sooner the time a rate limit holds a token again.
func (d *Dispatcher) idle(ctx context.Context, woken <-chan struct{}) {
	wait := d.poll
	if w := d.limit.wait(); w > 0 && w < wait {
		wait = w
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-woken:
	case <-t.C:
	}
}

// RunUntilEmpty delivers notifications until none is due (one waiting for a later retry, or
// claimed by a worker elsewhere, is not), and returns once every outcome is recorded. It
// returns the first failure of the database, or ctx's error.
//
// With fan-out, RunUntilEmpty claims and publishes until none is due, and returns once the
// stream holds every claim (or MaxPending claims wait there); it attempts nothing: Run
// does.
func (d *Dispatcher) RunUntilEmpty(ctx context.Context) error {
	if d.fan != nil {
		return d.publishUntilEmpty(ctx)
	}
	p := d.start(ctx)
	var err error
	for err == nil {
		var n, free int
		n, free, err = p.fill()
		switch {
		case err != nil:
		case free == 0:
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-p.freed:
			}
		case n < free:
			// Nothing more is due now; what is in flight may make more due (a retry, a
			// status callback), so look once more after it is recorded.
			p.busy.Wait()
			if err = p.failed(); err == nil && n == 0 {
				if n, _, err = p.fill(); err == nil && n == 0 {
					p.stop()
					return p.failed()
				}
			}
		}
	}
	p.stop()
	if ferr := p.failed(); ferr != nil {
		return ferr
	}
	return err
}

// errLeaseLost ends an outcome whose notification was claimed again after its lease.
var errLeaseLost = errors.New("notify: lease lost")

// claim is a notification a worker holds.
type claim struct {
	delivery Delivery
	channel  string
	callback string // the sending service's callback URL, if any
	lease    string
	// done, set when the claim ended the notification without an attempt (an endpoint
	// disabled, the last attempt lost).
	done bool
	// timeout, when set, bounds the attempt instead of half the lease.
	timeout time.Duration
	// after, when set, is told whether the outcome was recorded.
	after func(err error)
}

// outcome is the end of an attempt, waiting to be recorded.
type outcome struct {
	c   *claim
	err error
}

// pipeline is one Run or RunUntilEmpty: the claims, the attempts in flight, and the
// recorder of their outcomes.
type pipeline struct {
	d     *Dispatcher
	ctx   context.Context
	slots chan struct{} // one per attempt in flight, up to the workers
	freed chan struct{} // signalled when a slot is freed
	out   chan outcome
	// busy counts the claims whose outcome is not recorded yet (or was given up).
	busy       sync.WaitGroup
	deliveries sync.WaitGroup
	recorded   chan struct{} // closed when the recorder has drained out

	mu  sync.Mutex
	err error // the first failure to record outcomes
}

func (d *Dispatcher) start(ctx context.Context) *pipeline {
	p := &pipeline{d: d, ctx: ctx, slots: make(chan struct{}, d.n), freed: make(chan struct{}, 1),
		out: make(chan outcome, d.n), recorded: make(chan struct{})}
	go p.record()
	return p
}

// stop waits for the attempts in flight and for the recording of their outcomes.
func (p *pipeline) stop() {
	p.deliveries.Wait()
	close(p.out)
	<-p.recorded
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// fill claims as many due notifications as there are idle workers and starts attempting
// them. It returns how many it claimed and how many it could have.
func (p *pipeline) fill() (n, free int, err error) {
	free = cap(p.slots) - len(p.slots)
	if free == 0 {
		return 0, 0, nil
	}
	cs, n, err := p.d.claim(p.ctx, free)
	if err != nil {
		return 0, free, err
	}
	for _, c := range cs {
		p.slots <- struct{}{}
		p.busy.Add(1)
		p.deliveries.Go(func() { p.deliver(c) })
	}
	return n, free, nil
}

// deliver attempts c and hands its outcome to the recorder.
func (p *pipeline) deliver(c *claim) {
	defer func() {
		<-p.slots
		select {
		case p.freed <- struct{}{}:
		default:
		}
	}()
	timeout := p.d.lease / 2
	if c.timeout > 0 {
		timeout = c.timeout
	}
	dctx, cancel := context.WithTimeout(p.ctx, timeout)
	derr := p.d.o.channels[c.channel].Deliver(dctx, &c.delivery)
	cancel()
	if p.ctx.Err() != nil && derr != nil {
		// Stopped mid-attempt: the lease hands the notification to the next worker.
		p.busy.Done()
		return
	}
	p.out <- outcome{c: c, err: derr}
}

// record writes the outcomes as they come, in batches: those that wait while one batch
// commits go into the next. A batch that fails is logged and left to the leases: its
// notifications are claimed and attempted again.
func (p *pipeline) record() {
	defer close(p.recorded)
	// A delivery that succeeded is recorded even if ctx ends meanwhile, so that it is not
	// sent again.
	ctx := context.WithoutCancel(p.ctx)
	batch := make([]outcome, 0, limits.MaxNotifyBatch)
	for first := range p.out {
		batch = append(batch[:0], first)
	more:
		for len(batch) < limits.MaxNotifyBatch {
			select {
			case o, ok := <-p.out:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		rctx, cancel := context.WithTimeout(ctx, limits.WebhookHTTPTimeout)
		callbacks, err := p.d.recordOutcomes(rctx, batch)
		cancel()
		if err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
			if p.d.logger != nil {
				p.d.logger.ErrorContext(ctx, "notify: record outcomes", "err", err, "outcomes", len(batch))
			}
		}
		if callbacks {
			p.d.o.wake() // a status callback is due
		}
		for _, o := range batch {
			if o.c.after != nil {
				o.c.after(err)
			}
			p.busy.Done()
		}
	}
}

// claim leases up to max due notifications of the channels that may be attempted now, and
// appends their evidence, in one transaction. It returns those to attempt, and how many it
// took, counting those it ended without an attempt.
//
// On PostgreSQL the tokens of the rate-limited channels are taken in the same transaction,
// from bucket rows it locks first: a claim that fails takes no token, and one that cannot
// reach the database claims nothing, so a limit never lets a notification through unless
// its token was taken.
func (d *Dispatcher) claim(ctx context.Context, max int) ([]*claim, int, error) {
	if d.limit != nil {
		// Which channels have tokens, the claim and the taking of the tokens are one step,
		// so that no worker claims a notification it then has no token for.
		d.limit.mu.Lock()
		defer d.limit.mu.Unlock()
		if !d.limit.shared {
			if qs, _, _ := d.limit.quotas(ctx, nil, d.o.names, max); len(qs) == 0 {
				return nil, 0, nil
			}
		}
	}
	var out []*claim
	var n int
	var taken map[string]int
	var tokens map[string]float64
	err := d.o.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) ([]evidence.Record, error) {
		out, n, taken = out[:0], 0, map[string]int{}
		quotas, t, err := d.limit.quotas(ctx, tx, d.o.names, max)
		if err != nil {
			return nil, err
		}
		tokens = t
		now := d.o.now()
		lease := newLease()
		var records []evidence.Record
		for _, q := range quotas {
			if n >= max {
				break
			}
			cs, err := d.claimIn(ctx, tx, q.names, min(q.n, max-n), now, lease)
			if err != nil {
				return nil, err
			}
			n += len(cs)
			for _, c := range cs {
				rec, err := d.claimed(ctx, tx, c, now)
				if err != nil {
					return nil, err
				}
				records = append(records, rec)
				if !c.done {
					out = append(out, c)
					taken[c.channel]++
				}
			}
		}
		if err := d.limit.takeTx(ctx, tx, taken); err != nil {
			return nil, err
		}
		return records, nil
	})
	if err != nil {
		return nil, 0, err
	}
	d.limit.took(taken, tokens)
	d.count(DispatcherStats{Attempts: len(out), Failed: n - len(out)})
	return out, n, nil
}

// claimIn leases, in one statement, up to limit notifications of the named channels that
// are due, the first due first, and returns them with the attempt they are claimed for.
func (d *Dispatcher) claimIn(ctx context.Context, tx *sql.Tx, names []string, limit int, now time.Time, lease string) ([]*claim, error) {
	args := []any{string(Sending), now.Add(d.lease).UnixNano(), lease, now.UnixNano(), now.UnixNano()}
	for _, n := range names {
		args = append(args, n)
	}
	args = append(args, limit)
	due := "SELECT id FROM notify_messages WHERE status IN ('created', 'sending') AND next_at <= ? AND channel IN (" +
		strings.Repeat("?, ", len(names)-1) + "?) ORDER BY next_at LIMIT ?"
	if d.o.db.Dialect() == store.Postgres {
		due += " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE notify_messages SET status = ?, attempts = attempts + 1, next_at = ?, lease = ?, updated_at = ?
		WHERE id IN (` + due + `)
		RETURNING id, channel, recipient, reference, subject, body, html, attempts, created_at, callback,
			EXISTS (SELECT 1 FROM notify_endpoints e WHERE e.channel = notify_messages.channel AND e.address = notify_messages.recipient)`
	rows, err := tx.QueryContext(ctx, d.o.db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	defer rows.Close()
	var out []*claim
	for rows.Next() {
		c := &claim{lease: lease}
		dl := &c.delivery
		var created int64
		var disabled bool
		if err := rows.Scan(&dl.ID, &c.channel, &dl.To, &dl.Reference, &dl.Content.Subject, &dl.Content.Text, &dl.Content.HTML,
			&dl.Attempt, &created, &c.callback, &disabled); err != nil {
			return nil, fmt.Errorf("notify: claim: %w", err)
		}
		dl.Created = time.Unix(0, created).UTC()
		c.done = disabled
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	return out, nil
}

// claimed returns the evidence of a claim, in tx: the "sending" of its attempt, or the end
// of a notification that is not to be attempted.
func (d *Dispatcher) claimed(ctx context.Context, tx *sql.Tx, c *claim, now time.Time) (evidence.Record, error) {
	dl := &c.delivery
	switch {
	case c.done:
		dl.Attempt--
		return d.finish(ctx, tx, c, now, Event{Status: PermanentFailure, Attempt: dl.Attempt, Reason: "the endpoint is disabled"})
	case dl.Attempt > len(d.o.schedule):
		// The last attempt was claimed and never recorded: its worker died.
		c.done = true
		dl.Attempt--
		return d.finish(ctx, tx, c, now, Event{Status: TechnicalFailure, Attempt: dl.Attempt, Reason: "the last attempt did not finish within its lease"})
	}
	return record(dl.ID, Event{Status: Sending, At: now, Attempt: dl.Attempt}, nil)
}

// finish ends a notification in a final status, in tx, when it still holds its lease, and
// enqueues its status callback when the service asked for one. It sets the attempts to
// ev.Attempt, since a claim that ends a notification counted one it did not make.
func (d *Dispatcher) finish(ctx context.Context, tx *sql.Tx, c *claim, now time.Time, ev Event) (evidence.Record, error) {
	id := c.delivery.ID
	ev.At = now
	ev.Reason = clip(ev.Reason)
	res, err := tx.ExecContext(ctx, d.o.db.Rebind("UPDATE notify_messages SET status = ?, attempts = ?, lease = '', reason = ?, updated_at = ? WHERE id = ? AND lease = ?"),
		string(ev.Status), ev.Attempt, ev.Reason, now.UnixNano(), id, c.lease)
	if err != nil {
		return evidence.Record{}, fmt.Errorf("notify: record outcome: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return evidence.Record{}, errLeaseLost
	}
	if err := d.callback(ctx, tx, c, &ev); err != nil {
		return evidence.Record{}, err
	}
	return record(id, ev, nil)
}

// callback enqueues, in tx, the status callback of a notification that reached ev.Status,
// when the service asked for one, and notes its ID in ev.
func (d *Dispatcher) callback(ctx context.Context, tx *sql.Tx, c *claim, ev *Event) error {
	if c.callback == "" || d.o.callback == nil {
		return nil
	}
	var err error
	ev.Callback, err = d.o.enqueueCallback(ctx, tx, c.delivery.ID, c.callback, c.delivery.Reference, *ev)
	return err
}

// recordOutcomes records a batch of outcomes and their evidence in one transaction: the
// deliveries in one statement, the failures one by one. An outcome whose notification was
// claimed again meanwhile (its lease ended) is left out. It reports whether it enqueued a
// status callback.
func (d *Dispatcher) recordOutcomes(ctx context.Context, batch []outcome) (bool, error) {
	var callbacks bool
	var stats DispatcherStats
	err := d.o.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) ([]evidence.Record, error) {
		callbacks, stats = false, DispatcherStats{}
		now := d.o.now()
		var records []evidence.Record
		var delivered []*claim
		for _, o := range batch {
			if o.err == nil {
				delivered = append(delivered, o.c)
			}
		}
		held, err := d.delivered(ctx, tx, delivered, now)
		if err != nil {
			return nil, err
		}
		for _, o := range batch {
			var rec evidence.Record
			switch {
			case o.err == nil && !held[o.c.delivery.ID]:
				continue
			case o.err == nil:
				ev := Event{Status: Delivered, At: now, Attempt: o.c.delivery.Attempt}
				if err := d.callback(ctx, tx, o.c, &ev); err != nil {
					return nil, err
				}
				if rec, err = record(o.c.delivery.ID, ev, nil); err != nil {
					return nil, err
				}
				stats.Delivered++
			default:
				var final bool
				rec, final, err = d.failed(ctx, tx, o.c, o.err, now)
				if errors.Is(err, errLeaseLost) {
					continue
				}
				if err != nil {
					return nil, err
				}
				if final {
					stats.Failed++
				} else {
					stats.Retrying++
				}
			}
			callbacks = callbacks || o.c.callback != ""
			records = append(records, rec)
		}
		return records, nil
	})
	if err == nil {
		d.count(stats)
	}
	return callbacks, err
}

// delivered marks cs delivered, in tx and one statement, and returns the IDs of those
// whose lease held.
func (d *Dispatcher) delivered(ctx context.Context, tx *sql.Tx, cs []*claim, now time.Time) (map[string]bool, error) {
	held := make(map[string]bool, len(cs))
	if len(cs) == 0 {
		return held, nil
	}
	var q strings.Builder
	q.WriteString("UPDATE notify_messages SET status = ?, lease = '', reason = '', updated_at = ? WHERE (id, lease) IN (VALUES ")
	args := make([]any, 0, 2+2*len(cs))
	args = append(args, string(Delivered), now.UnixNano())
	for i, c := range cs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?)")
		args = append(args, c.delivery.ID, c.lease)
	}
	q.WriteString(") RETURNING id")
	rows, err := tx.QueryContext(ctx, d.o.db.Rebind(q.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: record outcome: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("notify: record outcome: %w", err)
		}
		held[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: record outcome: %w", err)
	}
	return held, nil
}

// failed records a failed attempt, in tx: failed for good (final), or to be tried again.
// It returns errLeaseLost, having written nothing, when c no longer holds its lease.
func (d *Dispatcher) failed(ctx context.Context, tx *sql.Tx, c *claim, derr error, now time.Time) (rec evidence.Record, final bool, err error) {
	dl := &c.delivery
	ev := Event{Attempt: dl.Attempt, Reason: derr.Error()}
	var e *Error
	errors.As(derr, &e)
	switch {
	case errors.Is(derr, ErrEndpointGone):
		ev.Status, ev.EndpointDisabled = PermanentFailure, true
		rec, err := d.finish(ctx, tx, c, now, ev)
		if err != nil {
			return rec, true, err
		}
		_, err = tx.ExecContext(ctx, d.o.db.Rebind("INSERT INTO notify_endpoints (channel, address, disabled_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING"),
			c.channel, dl.To, now.UnixNano(), clip(ev.Reason))
		if err != nil {
			return evidence.Record{}, true, fmt.Errorf("notify: disable endpoint: %w", err)
		}
		return rec, true, nil
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
			return evidence.Record{}, false, fmt.Errorf("notify: record outcome: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return evidence.Record{}, false, errLeaseLost
		}
		rec, err = record(dl.ID, ev, nil)
		return rec, false, err
	case errors.Is(derr, ErrTemporary):
		ev.Status = TemporaryFailure
	default:
		ev.Status = TechnicalFailure
	}
	rec, err = d.finish(ctx, tx, c, now, ev)
	return rec, true, err
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
