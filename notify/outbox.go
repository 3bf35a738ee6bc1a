package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// KindStatus is the kind of the evidence log entries the outbox appends: one for each status
// change and each attempt of a notification, under the notification's ID as reference, with
// an Event as metadata.
const KindStatus = "notify.status"

// Status is where a notification stands, named as GOV.UK Notify names its statuses.
type Status string

// The statuses. Delivered, PermanentFailure, TemporaryFailure and TechnicalFailure are final;
// the last two, reached after the last attempt of the retry schedule, are the dead letters.
const (
	// Created: in the outbox, not attempted yet.
	Created Status = "created"
	// Sending: being attempted, or waiting for the next attempt after a failed one.
	Sending Status = "sending"
	// Delivered: the receiver accepted it.
	Delivered Status = "delivered"
	// PermanentFailure: the receiver refused it, or its endpoint is disabled; not retried.
	PermanentFailure Status = "permanent-failure"
	// TemporaryFailure: the receiver kept failing (rate limits, 5xx) until the last attempt.
	TemporaryFailure Status = "temporary-failure"
	// TechnicalFailure: the receiver could not be reached (network, timeouts), or the
	// last attempt did not finish, until the last attempt.
	TechnicalFailure Status = "technical-failure"
)

// Final reports whether the status is one a notification never leaves.
func (s Status) Final() bool {
	switch s {
	case Delivered, PermanentFailure, TemporaryFailure, TechnicalFailure:
		return true
	}
	return false
}

// MarshalText encodes the status by name.
func (s Status) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w: unknown status %q", ErrInput, string(s))
	}
	return []byte(s), nil
}

// UnmarshalText decodes a status's name.
func (s *Status) UnmarshalText(b []byte) error {
	v := Status(b)
	if !v.valid() {
		return fmt.Errorf("%w: unknown status %q", ErrInput, string(b))
	}
	*s = v
	return nil
}

func (s Status) valid() bool { return s == Created || s == Sending || s.Final() || s.legal() }

// StandardSchedule returns the retry schedule of Standard Webhooks 1.0.0 ("Deliverability and
// reliability"): the delay before each attempt, after the notification is created and then
// after each failed attempt — immediately, 5 seconds, 5 minutes, 30 minutes, 2 hours,
// 5 hours, 10 hours, 14 hours, 20 hours and 24 hours: ten attempts over about three days.
func StandardSchedule() []time.Duration {
	return []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
		5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}
}

// Config configures an Outbox. Log and Channels are required.
type Config struct {
	// Log is the evidence log every status change is appended to, in the transaction that
	// makes it. It must be open on the outbox's database, and should be the outbox's own
	// (its own origin, such as "agency.example/notify").
	Log *evidence.Log
	// Channels are the channels messages may name, each by its own name.
	Channels []Channel
	// Schedule is the delay before each attempt: the first after the notification is
	// created, each next one after a failed attempt; its length is the number of attempts.
	// Each delay gets up to 10% of random jitter, either way. Nil means StandardSchedule.
	Schedule []time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Callbacks, when set, sends the sending service a status callback, signed as a
	// webhook, when a message with a Message.CallbackURL reaches a final status
	// (delivered, permanent-failure, temporary-failure, technical-failure). Callbacks go
	// through the outbox, on the reserved channel CallbackChannel, so they are durable and
	// retried on the schedule like any notification. Nil refuses a message with a
	// CallbackURL.
	Callbacks *Webhook
}

// Outbox is a durable queue of notifications in a database: a message is rendered and stored
// when it is created (Enqueue in the caller's transaction, or Send), and a Dispatcher
// delivers it. It is safe for concurrent use, and many processes may share one outbox on
// PostgreSQL.
type Outbox struct {
	db       *store.DB
	log      *evidence.Log
	channels map[string]Channel
	names    []string
	callback *Webhook
	schedule []time.Duration
	now      func() time.Time

	group committer // the groups of Sends, claims and outcomes

	mu   sync.Mutex
	kick chan struct{} // closed, and replaced, when Send stores a notification
}

// Open opens the outbox in db, creating its tables when needed.
func Open(ctx context.Context, db *store.DB, cfg Config) (*Outbox, error) {
	if db == nil || cfg.Log == nil {
		return nil, fmt.Errorf("%w: an outbox needs a database and an evidence log", ErrConfig)
	}
	if len(cfg.Channels) == 0 {
		return nil, fmt.Errorf("%w: an outbox needs a channel", ErrConfig)
	}
	o := &Outbox{db: db, log: cfg.Log, channels: map[string]Channel{}, schedule: slices.Clone(cfg.Schedule), now: cfg.Now, kick: make(chan struct{})}
	for _, c := range cfg.Channels {
		if c == nil {
			return nil, fmt.Errorf("%w: a nil channel", ErrConfig)
		}
		name := c.Name()
		if err := checkChannelName(name); err != nil {
			return nil, err
		}
		if o.channels[name] != nil || name == CallbackChannel {
			return nil, fmt.Errorf("%w: two channels named %q", ErrConfig, name)
		}
		o.channels[name] = c
		o.names = append(o.names, name)
	}
	if cfg.Callbacks != nil {
		o.callback = cfg.Callbacks
		o.channels[CallbackChannel] = callbackChannel{w: cfg.Callbacks}
		o.names = append(o.names, CallbackChannel)
	}
	if o.schedule == nil {
		o.schedule = StandardSchedule()
	}
	if len(o.schedule) == 0 || len(o.schedule) > limits.MaxNotifyAttempts {
		return nil, fmt.Errorf("%w: a schedule of 1 to %d attempts", ErrConfig, limits.MaxNotifyAttempts)
	}
	for _, d := range o.schedule {
		if d < 0 || d > limits.MaxNotifyRetryAfter {
			return nil, fmt.Errorf("%w: a delay of the schedule out of range (0 to %v)", ErrConfig, limits.MaxNotifyRetryAfter)
		}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if err := db.Migrate(ctx, "notify", migrations); err != nil {
		return nil, err
	}
	return o, nil
}

func checkChannelName(name string) error {
	if name == "" || len(name) > limits.MaxNotifyChannelName || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return fmt.Errorf("%w: a channel name is 1 to %d of a-z, 0-9, '-', '_' and '.'", ErrConfig, limits.MaxNotifyChannelName)
	}
	return nil
}

// migrations is the outbox's schema: a row per notification, with its rendered content, the
// endpoints disabled by their receivers, and the rate limits' token buckets. next_at is when the notification may next be
// claimed: the due time of the next attempt, or the end of the lease of the attempt in
// flight.
var migrations = []store.Migration{{
	Version: 1,
	Name:    "create notify messages and endpoints",
	SQL: `
CREATE TABLE notify_messages (
	id              TEXT    PRIMARY KEY,
	idempotency_key TEXT    UNIQUE,
	channel         TEXT    NOT NULL,
	recipient       TEXT    NOT NULL,
	reference       TEXT    NOT NULL,
	subject         TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	html            TEXT    NOT NULL,
	status          TEXT    NOT NULL,
	attempts        INTEGER NOT NULL,
	next_at         BIGINT  NOT NULL,
	lease           TEXT    NOT NULL,
	reason          TEXT    NOT NULL,
	created_at      BIGINT  NOT NULL,
	updated_at      BIGINT  NOT NULL
);
CREATE INDEX notify_messages_due ON notify_messages (next_at) WHERE status IN ('created', 'sending');
CREATE TABLE notify_endpoints (
	channel     TEXT   NOT NULL,
	address     TEXT   NOT NULL,
	disabled_at BIGINT NOT NULL,
	reason      TEXT   NOT NULL,
	PRIMARY KEY (channel, address)
);`,
}, {
	Version: 2,
	Name:    "add notify status callback URLs",
	SQL:     `ALTER TABLE notify_messages ADD COLUMN callback TEXT NOT NULL DEFAULT ''`,
}, {
	// A row per rate-limited channel: the token bucket that the dispatchers of every
	// process share on PostgreSQL (RateLimit). per_second and burst are the limit the last
	// claim refilled it at; updated_at, in Unix nanoseconds of the database's clock, is
	// when. On SQLite the table stays empty: the buckets are the dispatcher's own.
	Version: 3,
	Name:    "add notify rate limit buckets",
	SQL: `
CREATE TABLE notify_rate_buckets (
	channel    TEXT             PRIMARY KEY,
	per_second DOUBLE PRECISION NOT NULL,
	burst      INTEGER          NOT NULL,
	tokens     DOUBLE PRECISION NOT NULL,
	updated_at BIGINT           NOT NULL
)`,
}}

// Message is what a service asks to send.
type Message struct {
	// Channel names the channel, such as "webhook".
	Channel string
	// To is the recipient's address on the channel: for a webhook, its URL.
	To string
	// Template and Personalisation make the content (Template.Render): a field missing or
	// not in the template refuses the message.
	Template        *Template
	Personalisation map[string]any
	// Reference is the service's own reference for the notification, sent with it and kept
	// in the evidence log. As GOV.UK Notify asks of its reference, it must not hold
	// personal data.
	Reference string
	// IdempotencyKey, when set, makes the message be sent once whatever the number of
	// calls: a message with a key the outbox has seen is not stored again, and the call
	// returns the ID of the first.
	IdempotencyKey string
	// CallbackURL, when set, is where the outbox sends a StatusCallback when the
	// notification reaches a final status. It needs Config.Callbacks, which checks it as a
	// webhook URL.
	CallbackURL string
}

// Event is the metadata of an evidence log entry of kind KindStatus: a status change or an
// attempt. It holds no personal data; the "created" entry's payload holds the recipient and
// the content, which the log can erase.
type Event struct {
	// Status is the notification's status after the event.
	Status Status `json:"status"`
	// At is when it happened, by the outbox's clock.
	At time.Time `json:"at"`
	// Attempt counts the attempts so far.
	Attempt int `json:"attempt"`
	// Channel and Reference are set on the "created" event.
	Channel   string `json:"channel,omitempty"`
	Reference string `json:"reference,omitempty"`
	// Reason says why an attempt failed.
	Reason string `json:"reason,omitempty"`
	// Next is when the next attempt is due, after a failed one.
	Next time.Time `json:"next,omitzero"`
	// Callback, on the event of a final status, is the ID of the status callback it
	// created (a notification on CallbackChannel).
	Callback string `json:"callback,omitempty"`
	// EndpointDisabled is set when the receiver's answer disabled the endpoint.
	EndpointDisabled bool `json:"endpointDisabled,omitempty"`
	// ContentHash, on a "made-available" event, is the hex SHA-256 of the notice made
	// available (Content.Hash).
	ContentHash string `json:"contentHash,omitempty"`
	// Rule, on the events of a legal notification, is the ID of the rule that decides when
	// it is deemed served or rejected (Rule.ID).
	Rule string `json:"rule,omitempty"`
	// Due, on a "deemed-served" or "deemed-rejected" event, is when the rule deems the
	// notice served or rejected, which may be before the event is recorded.
	Due time.Time `json:"due,omitzero"`
}

// createdPayload is the personal payload of the "created" event.
type createdPayload struct {
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
}

// Notification is a notification as the outbox holds it.
type Notification struct {
	// ID is the notification's ID, also its webhook-id and its evidence reference.
	ID string `json:"id"`
	// Channel, To and Reference are the message's.
	Channel   string `json:"channel"`
	To        string `json:"to"`
	Reference string `json:"reference,omitempty"`
	// Status is where the notification stands.
	Status Status `json:"status"`
	// Attempts counts the attempts made, including one in flight.
	Attempts int `json:"attempts"`
	// Reason says why the last attempt failed.
	Reason string `json:"reason,omitempty"`
	// Created and Updated are when the notification was created and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// NextAttempt is when the notification may next be attempted (or its attempt in flight
	// be taken over); zero once the status is final.
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	// Content is the rendered message.
	Content Content `json:"content"`
}

// row is a notification ready to be stored.
type row struct {
	id, key, channel, to, reference string
	callback                        string
	content                         *Content
	created                         time.Time
}

// prepare checks and renders a message.
func (o *Outbox) prepare(m Message) (*row, error) {
	if o.channels[m.Channel] == nil {
		return nil, fail(ErrInput, "channel", "no channel named %q", m.Channel)
	}
	if m.To == "" || len(m.To) > limits.MaxNotifyAddress || !utf8.ValidString(m.To) {
		return nil, fail(ErrInput, "address", "an address is 1 to %d bytes of UTF-8", limits.MaxNotifyAddress)
	}
	if ac, ok := o.channels[m.Channel].(AddressChecker); ok {
		if err := ac.CheckAddress(m.To); err != nil {
			return nil, err
		}
	}
	if err := checkText("reference", m.Reference, limits.MaxNotifyReference); err != nil {
		return nil, err
	}
	if err := checkText("idempotency key", m.IdempotencyKey, limits.MaxNotifyIdempotencyKey); err != nil {
		return nil, err
	}
	if m.CallbackURL != "" {
		if o.callback == nil {
			return nil, fail(ErrInput, "callback URL", "the outbox has no Callbacks webhook")
		}
		if err := o.callback.CheckAddress(m.CallbackURL); err != nil {
			return nil, err
		}
	}
	if m.Channel == CallbackChannel {
		return nil, fail(ErrInput, "channel", "%s is the outbox's own", CallbackChannel)
	}
	if m.Template == nil {
		return nil, fail(ErrInput, "template", "a message needs a template")
	}
	c, err := m.Template.Render(m.Personalisation)
	if err != nil {
		return nil, err
	}
	if cc, ok := o.channels[m.Channel].(ContentChecker); ok {
		if err := cc.CheckContent(c); err != nil {
			return nil, err
		}
	}
	return &row{id: newID(), key: m.IdempotencyKey, channel: m.Channel, to: m.To, reference: m.Reference, callback: m.CallbackURL, content: c, created: o.now()}, nil
}

func checkText(check, s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return fail(ErrInput, check, "at most %d bytes of UTF-8 without control characters", max)
	}
	return nil
}

// idEncoding writes notification IDs: lower-case base32 without padding, no '.', as
// Standard Webhooks asks of a webhook-id.
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "ntf_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// duplicate is what insert returns for a message whose idempotency key was used.
type duplicate struct{ id string }

func (d *duplicate) Error() string { return "notify: idempotency key already used by " + d.id }

// insert stores r in tx and returns the evidence of its creation, or a *duplicate.
func (o *Outbox) insert(ctx context.Context, tx *sql.Tx, r *row) (evidence.Record, error) {
	var key any
	if r.key != "" {
		key = r.key
	}
	at := r.created.UnixNano()
	res, err := tx.ExecContext(ctx, o.db.Rebind(`INSERT INTO notify_messages
		(id, idempotency_key, channel, recipient, reference, subject, body, html, status, attempts, next_at, lease, reason, created_at, updated_at, callback)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', '', ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING`),
		r.id, key, r.channel, r.to, r.reference, r.content.Subject, r.content.Text, r.content.HTML, string(Created),
		r.created.Add(o.schedule[0]).UnixNano(), at, at, r.callback)
	if err != nil {
		return evidence.Record{}, fmt.Errorf("notify: store: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return evidence.Record{}, fmt.Errorf("notify: store: %w", err)
	} else if n == 0 {
		var id string
		if err := tx.QueryRowContext(ctx, o.db.Rebind("SELECT id FROM notify_messages WHERE idempotency_key = ?"), r.key).Scan(&id); err != nil {
			return evidence.Record{}, fmt.Errorf("notify: store: %w", err)
		}
		return evidence.Record{}, &duplicate{id: id}
	}
	payload, err := json.Marshal(createdPayload{To: r.to, Subject: r.content.Subject, Text: r.content.Text})
	if err != nil {
		return evidence.Record{}, err
	}
	return record(r.id, Event{Status: Created, At: r.created, Channel: r.channel, Reference: r.reference}, payload)
}

func record(id string, ev Event, payload []byte) (evidence.Record, error) {
	ev.At = ev.At.UTC()
	if !ev.Next.IsZero() {
		ev.Next = ev.Next.UTC()
	}
	if !ev.Due.IsZero() {
		ev.Due = ev.Due.UTC()
	}
	meta, err := json.Marshal(ev)
	if err != nil {
		return evidence.Record{}, err
	}
	return evidence.Record{Kind: KindStatus, Ref: id, Meta: meta, Payload: payload}, nil
}

// Enqueue stores a message inside tx, a transaction the caller opened on the outbox's
// database, with the evidence of its creation: both commit with the caller's own writes, or
// neither does (the transactional outbox). It returns the notification's ID, which holds
// once tx commits; a Dispatcher delivers it after that.
//
// A message whose idempotency key the outbox already holds (committed, or written earlier
// in tx) is not stored again: Enqueue returns the first notification's ID. On PostgreSQL, a
// second transaction enqueuing the same key waits for the first to end.
//
// The evidence log's head stays locked until tx ends (evidence.Log.AppendTx): keep the
// transaction short.
func (o *Outbox) Enqueue(ctx context.Context, tx *sql.Tx, m Message) (string, error) {
	if tx == nil {
		return "", fail(ErrInput, "transaction", "Enqueue needs the caller's transaction; Send needs none")
	}
	r, err := o.prepare(m)
	if err != nil {
		return "", err
	}
	rec, err := o.insert(ctx, tx, r)
	var dup *duplicate
	if errors.As(err, &dup) {
		return dup.id, nil
	}
	if err != nil {
		return "", err
	}
	if _, err := o.log.AppendTx(ctx, tx, rec); err != nil {
		return "", fmt.Errorf("notify: evidence: %w", err)
	}
	return r.id, nil
}

// Send stores a message and the evidence of its creation in a transaction of its own, and
// returns the notification's ID once both are durable; a Dispatcher delivers it. A message
// whose idempotency key the outbox already holds is not stored again: Send returns the
// first notification's ID.
//
// Concurrent calls are stored in batches: the messages that wait while one batch commits
// go into the next, in one transaction. A failure of the database fails each message of
// its batch.
func (o *Outbox) Send(ctx context.Context, m Message) (string, error) {
	r, err := o.prepare(m)
	if err != nil {
		return "", err
	}
	return o.send(ctx, r)
}

// wake tells this process's dispatchers that a notification is due.
func (o *Outbox) wake() {
	o.mu.Lock()
	close(o.kick)
	o.kick = make(chan struct{})
	o.mu.Unlock()
}

func (o *Outbox) woken() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.kick
}

// Get returns the notification with the given ID.
func (o *Outbox) Get(ctx context.Context, id string) (*Notification, error) {
	var n Notification
	var status string
	var next, created, updated int64
	err := o.db.QueryRowContext(ctx, o.db.Rebind(`SELECT id, channel, recipient, reference, subject, body, html, status, attempts, next_at, reason, created_at, updated_at
		FROM notify_messages WHERE id = ?`), id).Scan(&n.ID, &n.Channel, &n.To, &n.Reference, &n.Content.Subject, &n.Content.Text, &n.Content.HTML,
		&status, &n.Attempts, &next, &n.Reason, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fail(ErrNotFound, "id", "no notification with this ID")
	}
	if err != nil {
		return nil, fmt.Errorf("notify: get: %w", err)
	}
	n.Status = Status(status)
	n.Created, n.Updated = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if !n.Status.Final() {
		n.NextAttempt = time.Unix(0, next).UTC()
	}
	return &n, nil
}

// Lookup returns the notification stored under an idempotency key (Message.IdempotencyKey),
// or an error matching ErrNotFound when the outbox holds none: a caller tells with it whether
// a message was stored before, without storing it.
func (o *Outbox) Lookup(ctx context.Context, idempotencyKey string) (*Notification, error) {
	if idempotencyKey == "" {
		return nil, fail(ErrNotFound, "idempotency key", "no notification is stored under an empty key")
	}
	var id string
	err := o.db.QueryRowContext(ctx, o.db.Rebind("SELECT id FROM notify_messages WHERE idempotency_key = ?"), idempotencyKey).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fail(ErrNotFound, "idempotency key", "no notification under this key")
	}
	if err != nil {
		return nil, fmt.Errorf("notify: lookup: %w", err)
	}
	return o.Get(ctx, id)
}

// History returns the events of a notification from the evidence log, oldest first.
func (o *Outbox) History(ctx context.Context, id string) ([]Event, error) {
	var out []Event
	for e, err := range o.log.Scan(ctx, evidence.Filter{Kind: KindStatus, Ref: id}) {
		if err != nil {
			return nil, err
		}
		var ev Event
		if err := json.Unmarshal(e.Meta, &ev); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", evidence.ErrTampered, e.Seq, err)
		}
		out = append(out, ev)
	}
	if len(out) == 0 {
		return nil, fail(ErrNotFound, "id", "no evidence for this ID")
	}
	return out, nil
}

// EnableEndpoint enables again an endpoint that its receiver disabled (HTTP 410): later
// notifications to it are attempted. Notifications that failed while it was disabled stay
// failed.
func (o *Outbox) EnableEndpoint(ctx context.Context, channel, address string) error {
	_, err := o.db.ExecContext(ctx, o.db.Rebind("DELETE FROM notify_endpoints WHERE channel = ? AND address = ?"), channel, address)
	if err != nil {
		return fmt.Errorf("notify: enable endpoint: %w", err)
	}
	return nil
}

// EndpointDisabled reports whether the endpoint at address on channel is disabled.
func (o *Outbox) EndpointDisabled(ctx context.Context, channel, address string) (bool, error) {
	var n int
	err := o.db.QueryRowContext(ctx, o.db.Rebind("SELECT COUNT(*) FROM notify_endpoints WHERE channel = ? AND address = ?"), channel, address).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("notify: endpoint: %w", err)
	}
	return n > 0, nil
}
