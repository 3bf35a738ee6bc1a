package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
)

// Fan-out defaults, when FanOutConfig leaves a name empty.
const (
	DefaultFanOutStream   = "NOTIFY"
	DefaultFanOutSubject  = "dpi.notify.claims"
	DefaultFanOutConsumer = "notify-workers"
	DefaultFanOutPending  = 4 * limits.MaxNotifyBatch
)

// FanOutConfig makes a Dispatcher hand its claims to workers on any instance through NATS
// JetStream, for deployments where one instance's workers are not enough. JetStream is
// required; the zero value of every other field is safe.
type FanOutConfig struct {
	// JetStream is the caller's connection to NATS JetStream. The dispatcher never closes
	// it.
	JetStream jetstream.JetStream
	// Stream names the stream claims go to; empty means DefaultFanOutStream. When it does
	// not exist, the dispatcher creates it: file storage, work-queue retention (a claim is
	// removed once a worker acknowledged it), capturing Subject + ".>". A stream the
	// operator made must capture those subjects.
	Stream string
	// Subject is the prefix of the subjects claims are published on: a claim of the
	// channel "webhook" goes to Subject + ".webhook". Empty means DefaultFanOutSubject.
	Subject string
	// Consumer names the durable pull consumer that every instance's workers share;
	// empty means DefaultFanOutConsumer. The dispatcher creates or updates it with
	// explicit acknowledgements and AckWait.
	Consumer string
	// AckWait is how long the stream waits for a worker to acknowledge a claim before it
	// gives it to another worker, which then finds it taken and leaves it to the lease.
	// Zero means the dispatcher's lease.
	AckWait time.Duration
	// MaxPending caps the claims waiting in the stream for a worker: a dispatcher claims
	// no more while the consumer has that many, so that claims do not outlive their lease
	// in the stream (a claim never attempted still counts as an attempt). Keep the lease
	// longer than the workers take to attempt MaxPending notifications. Zero means
	// DefaultFanOutPending.
	MaxPending int
}

// fanOut is a checked FanOutConfig.
type fanOut struct {
	js                        jetstream.JetStream
	stream, subject, consumer string
	ackWait                   time.Duration
	maxPending                int
}

func newFanOut(cfg *FanOutConfig, lease time.Duration) (*fanOut, error) {
	if cfg.JetStream == nil {
		return nil, fmt.Errorf("%w: fan-out needs a JetStream connection", ErrConfig)
	}
	f := &fanOut{js: cfg.JetStream, stream: cfg.Stream, subject: cfg.Subject, consumer: cfg.Consumer, ackWait: cfg.AckWait, maxPending: cfg.MaxPending}
	if f.stream == "" {
		f.stream = DefaultFanOutStream
	}
	if f.subject == "" {
		f.subject = DefaultFanOutSubject
	}
	if f.consumer == "" {
		f.consumer = DefaultFanOutConsumer
	}
	if f.ackWait == 0 {
		f.ackWait = lease
	}
	if f.maxPending == 0 {
		f.maxPending = DefaultFanOutPending
	}
	if !natsName(f.stream) || !natsName(f.consumer) {
		return nil, fmt.Errorf("%w: a stream or consumer name is 1 to 64 of A-Z, a-z, 0-9, '-' and '_'", ErrConfig)
	}
	for _, tok := range strings.Split(f.subject, ".") {
		if !natsName(tok) {
			return nil, fmt.Errorf("%w: fan-out subject %q is not a NATS subject without wildcards", ErrConfig, f.subject)
		}
	}
	if f.ackWait < 0 || f.maxPending < 0 {
		return nil, fmt.Errorf("%w: a negative AckWait or MaxPending", ErrConfig)
	}
	// Channel names are subject tokens too: checkChannelName allows a-z, 0-9, '-', '_'
	// and '.', none of which NATS reads as a wildcard.
	return f, nil
}

func natsName(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// setup finds or creates the stream, and creates or updates the durable consumer.
func (f *fanOut) setup(ctx context.Context) (jetstream.Consumer, error) {
	if _, err := f.js.Stream(ctx, f.stream); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = f.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: f.stream, Subjects: []string{f.subject + ".>"}, Storage: jetstream.FileStorage,
			Retention: jetstream.WorkQueuePolicy,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil, fmt.Errorf("notify: fan-out stream: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("notify: fan-out stream: %w", err)
	}
	c, err := f.js.CreateOrUpdateConsumer(ctx, f.stream, jetstream.ConsumerConfig{
		Durable: f.consumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: f.ackWait,
		FilterSubject: f.subject + ".>",
	})
	if err != nil {
		return nil, fmt.Errorf("notify: fan-out consumer: %w", err)
	}
	return c, nil
}

// claimMessage is what the stream carries of a claim: which notification, which attempt,
// under which lease. It holds no personal data: no address, no reference, no content; a
// worker loads those from the outbox.
type claimMessage struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Attempt int    `json:"attempt"`
	Lease   string `json:"lease"`
}

// msgID is a claim's Nats-Msg-Id: the notification's ID and attempt, so that the stream
// stores a claim published twice once, and never takes a later attempt for a duplicate.
func (m *claimMessage) msgID() string { return m.ID + "-" + strconv.Itoa(m.Attempt) }

// publish claims up to limits.MaxNotifyBatch due notifications, fewer when the consumer
// has nearly MaxPending waiting, and publishes each claim to the stream. It returns how
// many it claimed and how many it could have. A claim it could not publish stays leased
// and is claimed again when its lease ends.
func (d *Dispatcher) publish(ctx context.Context, cons jetstream.Consumer) (n, room int, err error) {
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("notify: fan-out consumer: %w", err)
	}
	room = min(limits.MaxNotifyBatch, d.fan.maxPending-int(info.NumPending))
	if room <= 0 {
		return 0, 0, nil
	}
	cs, n, err := d.claim(ctx, room)
	if err != nil {
		return 0, room, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(cs))
	for _, c := range cs {
		m := claimMessage{ID: c.delivery.ID, Channel: c.channel, Attempt: c.delivery.Attempt, Lease: c.lease}
		body, err := json.Marshal(m)
		if err != nil {
			return n, room, err
		}
		msg := nats.NewMsg(d.fan.subject + "." + c.channel)
		msg.Data = body
		f, err := d.fan.js.PublishMsgAsync(msg, jetstream.WithMsgID(m.msgID()))
		if err != nil {
			return n, room, fmt.Errorf("notify: fan-out publish: %w", err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return n, room, fmt.Errorf("notify: fan-out publish: %w", err)
		case <-ctx.Done():
			return n, room, ctx.Err()
		}
	}
	return n, room, nil
}

// publishUntilEmpty is RunUntilEmpty with fan-out.
func (d *Dispatcher) publishUntilEmpty(ctx context.Context) error {
	cons, err := d.fan.setup(ctx)
	if err != nil {
		return err
	}
	for {
		n, room, err := d.publish(ctx, cons)
		if err != nil || n == 0 || n < room {
			return err
		}
	}
}

// runFanOut is Run with fan-out: a loop that claims and publishes, and workers that
// consume.
func (d *Dispatcher) runFanOut(ctx context.Context) error {
	var cons jetstream.Consumer
	for {
		var err error
		if cons, err = d.fan.setup(ctx); err == nil {
			break
		}
		if d.logger != nil {
			d.logger.ErrorContext(ctx, "notify: fan-out", "err", err)
		}
		t := time.NewTimer(d.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	// The client buffers no more claims than there are workers, so that a claim waits in
	// the stream, not in a buffer whose worker may die.
	it, err := cons.Messages(jetstream.PullMaxMessages(d.n))
	if err != nil {
		return fmt.Errorf("notify: fan-out consume: %w", err)
	}
	p := d.start(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		p.consume(it)
	}()
	for ctx.Err() == nil {
		woken := d.o.woken()
		n, room, err := d.publish(ctx, cons)
		if err != nil && ctx.Err() == nil && d.logger != nil {
			d.logger.ErrorContext(ctx, "notify: fan-out dispatch", "err", err)
		}
		if err == nil && n > 0 && n == room {
			continue // a full batch: more may be due
		}
		d.idle(ctx, woken)
	}
	it.Stop()
	<-consumed
	p.stop()
	return nil
}

// consume hands the claims of the stream to the workers until the iterator stops.
func (p *pipeline) consume(it jetstream.MessagesContext) {
	for {
		select {
		case p.slots <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		msg, err := it.Next(jetstream.NextContext(p.ctx))
		switch {
		case p.ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed):
			<-p.slots
			return
		case err != nil:
			// A missed heartbeat or a reconnection: the iterator carries on.
			<-p.slots
			if p.d.logger != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
				p.d.logger.WarnContext(p.ctx, "notify: fan-out consume", "err", err)
			}
			continue
		}
		p.busy.Add(1)
		p.deliveries.Go(func() { p.work(msg) })
	}
}

// work takes one claim from the stream and attempts it. A claim whose notification was
// claimed again, recorded, or whose lease ended is acknowledged and not attempted: the
// outbox, not the stream, says what is due.
func (p *pipeline) work(msg jetstream.Msg) {
	release := func() {
		<-p.slots
		p.busy.Done()
	}
	var m claimMessage
	if err := json.Unmarshal(msg.Data(), &m); err != nil || m.ID == "" || m.Lease == "" {
		release()
		p.d.settle(msg, msg.Term(), "terminate")
		return
	}
	if p.d.o.channels[m.Channel] == nil {
		// Another instance may have the channel.
		release()
		p.d.settle(msg, msg.NakWithDelay(p.d.poll), "nak")
		return
	}
	c, err := p.d.take(p.ctx, &m)
	switch {
	case err != nil:
		release()
		if p.d.logger != nil {
			p.d.logger.ErrorContext(p.ctx, "notify: fan-out take", "err", err)
		}
		p.d.settle(msg, msg.Nak(), "nak")
		return
	case c == nil:
		release()
		p.d.settle(msg, msg.Ack(), "ack")
		return
	}
	c.after = func(err error) {
		if err != nil {
			p.d.settle(msg, msg.Nak(), "nak")
			return
		}
		p.d.settle(msg, msg.Ack(), "ack")
	}
	p.deliver(c)
}

// settle logs a failure to acknowledge a message; the stream then delivers it again, and
// the worker that gets it finds it taken or done.
func (d *Dispatcher) settle(msg jetstream.Msg, err error, what string) {
	if err != nil && d.logger != nil {
		d.logger.Warn("notify: fan-out "+what, "subject", msg.Subject(), "err", err)
	}
}

// take moves a published claim to a lease of this worker's own, in one statement, and
// returns it with the notification's content; nil when the claim no longer holds (claimed
// again, recorded, or its lease ended). Two workers given the same claim never both
// attempt it: only one replaces its lease.
func (d *Dispatcher) take(ctx context.Context, m *claimMessage) (*claim, error) {
	var c *claim
	err := d.o.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) ([]evidence.Record, error) {
		c = nil
		now := d.o.now()
		lease := newLease()
		q := `UPDATE notify_messages SET lease = ? WHERE id = ? AND lease = ? AND attempts = ? AND status = ? AND next_at > ?
			RETURNING channel, recipient, reference, subject, body, html, created_at, callback, next_at`
		var created, until int64
		t := &claim{lease: lease}
		dl := &t.delivery
		err := tx.QueryRowContext(ctx, d.o.db.Rebind(q), lease, m.ID, m.Lease, m.Attempt, string(Sending), now.UnixNano()).Scan(
			&t.channel, &dl.To, &dl.Reference, &dl.Content.Subject, &dl.Content.Text, &dl.Content.HTML, &created, &t.callback, &until)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("notify: fan-out take: %w", err)
		}
		dl.ID, dl.Attempt, dl.Created = m.ID, m.Attempt, time.Unix(0, created).UTC()
		// The attempt ends at half of what is left of the lease, so that its outcome is
		// recorded before the notification can be claimed again.
		t.timeout = min(d.lease, time.Unix(0, until).Sub(now)) / 2
		c = t
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	if c != nil && c.timeout <= 0 {
		return nil, nil
	}
	return c, nil
}
