package interop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dpiblocks/dpi/evidence"
)

// The kinds of the message log's records of events. Their LogMeta says Message "event",
// Client the event's source, Service its type, Time its signing time, and the digest and
// size of its JSON.
const (
	KindEventPublished = "interop.event.published"
	KindEventReceived  = "interop.event.received"
)

// PublisherConfig configures a Publisher. Source, Signer, JetStream and Subject are
// required; the zero value of every other field is safe.
type PublisherConfig struct {
	// Source is the member or subsystem that publishes: every event's source.
	Source ClientID
	// Signer signs every event.
	Signer *Signer
	// JetStream publishes to a stream that captures Subject.*: a jetstream.JetStream, or
	// anything that publishes the same way.
	JetStream jetstream.Publisher
	// Subject is the prefix of the NATS subjects events go to: an event of type
	// "record.shared" is published on Subject + ".record.shared".
	Subject string
	// Log, when set, receives a record of every event the stream stored, with the event ID
	// as its reference.
	Log *evidence.Log
	// Now is the clock that signs; nil means time.Now.
	Now func() time.Time
}

// Publisher signs events and publishes them to NATS JetStream, in structured content mode:
// the message's data is the event in the CloudEvents JSON format, its Content-Type
// EventMediaType, its Dpi-Envelope header the envelope that signs it (as a request's does)
// and its Nats-Msg-Id the event's ID, so that the stream stores an event published twice
// within its duplicate window once. A Publisher is immutable and safe for concurrent use.
type Publisher struct {
	cfg PublisherConfig
	now func() time.Time
	log messageLog
}

// NewPublisher checks cfg and returns a publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if err := cfg.Source.Validate(); err != nil {
		return nil, fail(ErrConfig, CheckConfig, "source: %v", err)
	}
	if cfg.Signer == nil {
		return nil, fail(ErrConfig, CheckConfig, "no signer")
	}
	if cfg.JetStream == nil {
		return nil, fail(ErrConfig, CheckConfig, "no JetStream")
	}
	if cfg.Subject == "" || strings.ContainsAny(cfg.Subject, " \t\r\n*>") || strings.HasPrefix(cfg.Subject, ".") ||
		strings.HasSuffix(cfg.Subject, ".") || strings.Contains(cfg.Subject, "..") {
		return nil, fail(ErrConfig, CheckConfig, "subject prefix %q is not a NATS subject", truncate(cfg.Subject))
	}
	p := &Publisher{cfg: cfg, now: cfg.Now, log: messageLog{log: cfg.Log}}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Publish signs e and publishes it, and returns the stream's acknowledgement once the
// stream has stored it; Duplicate says the stream already held an event with its ID. It
// fills in e's ID (a random UUID), Source and Time when they are empty; a Source other than
// the publisher's is refused. Publish again with the same ID after an error: the stream
// stores the event once.
func (p *Publisher) Publish(ctx context.Context, e *Event) (*jetstream.PubAck, error) {
	if e.Source == "" {
		e.Source = p.cfg.Source.String()
	} else if e.Source != p.cfg.Source.String() {
		return nil, fail(ErrConfig, CheckEvent, "source %q is not the publisher's", truncate(e.Source))
	}
	now := p.now()
	body, envelope, err := p.cfg.Signer.sealEvent(e, now)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(p.cfg.Subject + "." + e.Type)
	msg.Data = body
	msg.Header.Set("Content-Type", EventMediaType)
	msg.Header.Set(HeaderEnvelope, envelope)
	ack, err := p.cfg.JetStream.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID))
	if err != nil {
		return nil, fmt.Errorf("interop: publish: %w", err)
	}
	if !ack.Duplicate {
		err = p.log.append(ctx, eventLogEntry(KindEventPublished, "sent", e, body, signingTime(now)))
	}
	return ack, err
}

func eventLogEntry(kind, direction string, e *Event, body []byte, at time.Time) *logEntry {
	return &logEntry{kind: kind, id: e.ID, meta: LogMeta{
		Direction: direction, Message: "event", Client: e.Source, Service: e.Type, Time: at,
		BodyDigest: contentDigest(sha256Sum(body)), BodySize: int64(len(body)), Signed: true, Complete: true,
	}}
}

// ConsumerConfig configures a Consumer. Consumer, Verifier and Handler are required; the
// zero value of every other field is safe.
type ConsumerConfig struct {
	// Consumer is a JetStream pull consumer with explicit acknowledgements
	// (jetstream.AckExplicitPolicy). A durable one resumes, after a restart, with the first
	// event it had not acknowledged. Its AckWait bounds how long Handler may take, and its
	// MaxDeliver and BackOff how often an event is retried.
	Consumer jetstream.Consumer
	// Verifier checks every event's envelope. An event is checked at the time the stream
	// stored it: its signing time must lie within the verifier's MaxSkew of that time, and
	// its signer's certificate must have been valid then. Keep the stream's duplicate window
	// at least as long as MaxSkew, so that an event published again is either dropped by
	// the stream or refused as signed too long before.
	Verifier *Verifier
	// Handler receives each event that verified, at least once: returning nil acknowledges
	// it; an error, or running past the consumer's AckWait, has it delivered again. Its
	// context ends at the AckWait. A handler that must act once keeps the IDs it acted on.
	Handler func(ctx context.Context, e *Event) error
	// Refused, when set, is told of each message refused, with an *Error naming the check
	// that failed (wrapping ErrRejected): unsigned, forged, signed by a sender the directory
	// does not list, outside the window, or not a CloudEvent. The message has already been
	// terminated, so it is never delivered again, and never reached Handler.
	Refused func(msg jetstream.Msg, err error)
	// RetryDelay is how long the stream waits before it delivers again an event whose
	// handler failed; zero redelivers at once.
	RetryDelay time.Duration
	// Log, when set, receives a record of every event handled, with the event ID as its
	// reference, before it is acknowledged.
	Log *evidence.Log
	// Logger receives refusals and failures; nil logs nothing.
	Logger *slog.Logger
}

// Consumer reads events from a JetStream consumer, verifies each, and gives those that
// verify to a handler, at least once. Build one with NewConsumer and call Run.
type Consumer struct {
	cfg     ConsumerConfig
	ackWait time.Duration
	log     messageLog
	logger  *slog.Logger
}

// NewConsumer checks cfg and returns a consumer.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if cfg.Consumer == nil {
		return nil, fail(ErrConfig, CheckConfig, "no JetStream consumer")
	}
	if cfg.Verifier == nil {
		return nil, fail(ErrConfig, CheckConfig, "no verifier")
	}
	if cfg.Handler == nil {
		return nil, fail(ErrConfig, CheckConfig, "no handler")
	}
	if cfg.RetryDelay < 0 {
		return nil, fail(ErrConfig, CheckConfig, "negative RetryDelay")
	}
	info := cfg.Consumer.CachedInfo()
	if info == nil || info.Config.AckPolicy != jetstream.AckExplicitPolicy {
		return nil, fail(ErrConfig, CheckConfig, "the JetStream consumer must acknowledge explicitly (AckExplicitPolicy)")
	}
	c := &Consumer{cfg: cfg, ackWait: info.Config.AckWait, log: messageLog{log: cfg.Log}, logger: cfg.Logger}
	if c.ackWait <= 0 {
		c.ackWait = 30 * time.Second // the server's default
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Run reads and handles events, one at a time in the order the stream sends them, until ctx
// ends; it returns nil then, or the error that stopped it (the connection closed, the
// consumer deleted). An event delivered again comes after those the stream had already sent;
// a consumer with MaxAckPending 1 keeps the stream's order strictly.
func (c *Consumer) Run(ctx context.Context) error {
	it, err := c.cfg.Consumer.Messages()
	if err != nil {
		return fmt.Errorf("interop: consume: %w", err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, jetstream.ErrNoHeartbeat):
			continue // the iterator carries on once the server answers again
		case err != nil:
			return fmt.Errorf("interop: consume: %w", err)
		}
		c.handle(ctx, msg)
	}
}

// handle verifies, handles and acknowledges one message. Every outcome is an
// acknowledgement: ack, nak (redeliver) or term (refused, never again).
func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg) {
	e, body, err := c.verify(ctx, msg)
	if err != nil {
		if r := rejection(err); r != nil {
			c.logger.Warn("interop: event refused", "subject", msg.Subject(), "check", r.Check, "err", err)
			if termErr := msg.TermWithReason(r.Check); termErr != nil {
				c.logger.Warn("interop: terminating a refused event", "err", termErr)
			}
			if c.cfg.Refused != nil {
				c.cfg.Refused(msg, err)
			}
			return
		}
		c.logger.Error("interop: event could not be verified", "subject", msg.Subject(), "err", err)
		c.nak(msg)
		return
	}
	hctx, cancel := context.WithTimeout(ctx, c.ackWait)
	err = c.cfg.Handler(hctx, e)
	cancel()
	if err != nil {
		c.logger.Warn("interop: event handler failed", "type", e.Type, "source", e.Source, "id", e.ID, "err", err)
		c.nak(msg)
		return
	}
	meta, _ := msg.Metadata()
	at := time.Time{}
	if meta != nil {
		at = meta.Timestamp.UTC()
	}
	if err := c.log.append(ctx, eventLogEntry(KindEventReceived, "received", e, body, at)); err != nil {
		c.logger.Error("interop: event log", "id", e.ID, "err", err)
		c.nak(msg)
		return
	}
	if err := msg.Ack(); err != nil {
		c.logger.Warn("interop: acknowledging an event", "id", e.ID, "err", err)
	}
}

func (c *Consumer) nak(msg jetstream.Msg) {
	var err error
	if c.cfg.RetryDelay > 0 {
		err = msg.NakWithDelay(c.cfg.RetryDelay)
	} else {
		err = msg.Nak()
	}
	if err != nil {
		c.logger.Warn("interop: asking for an event again", "err", err)
	}
}

// verify checks one message: the event it carries, its envelope, and that the stream's
// de-duplication covered it (its Nats-Msg-Id is the signed ID).
func (c *Consumer) verify(ctx context.Context, msg jetstream.Msg) (*Event, []byte, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return nil, nil, fmt.Errorf("interop: message metadata: %w", err)
	}
	h := msg.Headers()
	envelope := h.Get(HeaderEnvelope)
	if envelope == "" {
		return nil, nil, fail(ErrMalformed, CheckNoEnvelope, "the event carries no %s", HeaderEnvelope)
	}
	if len(h.Values(HeaderEnvelope)) != 1 {
		return nil, nil, fail(ErrMalformed, CheckEnvelope, "more than one %s", HeaderEnvelope)
	}
	e, err := c.cfg.Verifier.openEvent(ctx, msg.Data(), envelope, meta.Timestamp)
	if err != nil {
		return nil, nil, err
	}
	if id := h.Get(jetstream.MsgIDHeader); id != e.ID {
		return nil, nil, fail(ErrReplay, CheckMessageID, "%s is not the event's id, so the stream did not de-duplicate it", jetstream.MsgIDHeader)
	}
	return e, msg.Data(), nil
}
