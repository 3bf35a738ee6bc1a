package notify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/gowebpki/jcs"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/store"
)

// MailboxConfig configures a Mailbox. Log is required.
type MailboxConfig struct {
	// Name is the channel's name in Message.Channel; empty means "mailbox".
	Name string
	// Log is the evidence log "made-available" and "opened" are appended to, under the
	// notification's ID: the outbox's own log.
	Log *evidence.Log
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Mailbox is a digital mailbox the library keeps in the service's database: a Channel
// whose Deliver stores the notice for its recipient and records it as made available,
// and from which the person reads it on the page NewMailboxPage serves, where opening it
// is recorded. The recipient's address (Message.To) is a pseudonymous reference the
// service gives the person, never a national number or a name: the mailbox does not know
// who the person is, the service's sign-in does. It is safe for concurrent use.
type Mailbox struct {
	db   *store.DB
	log  *evidence.Log
	name string
	now  func() time.Time
}

var (
	_ Channel        = (*Mailbox)(nil)
	_ AddressChecker = (*Mailbox)(nil)
)

// mailboxMigrations are the mailbox's and the legal notifications' tables. available_at
// and opened_at are Unix nanoseconds, opened_at 0 until the person opens the notice.
var mailboxMigrations = []store.Migration{{
	Version: 1,
	Name:    "create notify mailbox and legal notifications",
	SQL: `
CREATE TABLE notify_mailbox (
	id           TEXT   PRIMARY KEY,
	recipient    TEXT   NOT NULL,
	reference    TEXT   NOT NULL,
	subject      TEXT   NOT NULL,
	body         TEXT   NOT NULL,
	content_hash TEXT   NOT NULL,
	available_at BIGINT NOT NULL,
	opened_at    BIGINT NOT NULL
);
CREATE INDEX notify_mailbox_recipient ON notify_mailbox (recipient, available_at);
CREATE TABLE notify_legal (
	id            TEXT    PRIMARY KEY,
	rule          TEXT    NOT NULL,
	recipient     TEXT    NOT NULL,
	postal        TEXT    NOT NULL,
	alert_id      TEXT    NOT NULL,
	letter_id     TEXT    NOT NULL,
	deemed_status TEXT    NOT NULL,
	deemed_at     BIGINT  NOT NULL,
	settled       INTEGER NOT NULL,
	created_at    BIGINT  NOT NULL
);
CREATE INDEX notify_legal_open ON notify_legal (rule, created_at) WHERE settled = 0;`,
}, {
	// callback is the sending service's URL for status callbacks (LegalNotice.CallbackURL);
	// callbacks_sent lists, space-separated, the legal statuses whose callback the sweep
	// has enqueued, so that it enqueues each once.
	Version: 2,
	Name:    "add notify legal status callbacks",
	SQL: `
ALTER TABLE notify_legal ADD COLUMN callback TEXT NOT NULL DEFAULT '';
ALTER TABLE notify_legal ADD COLUMN callbacks_sent TEXT NOT NULL DEFAULT '';`,
}}

// OpenMailbox opens the mailbox in db, creating its tables when needed.
func OpenMailbox(ctx context.Context, db *store.DB, cfg MailboxConfig) (*Mailbox, error) {
	if db == nil || cfg.Log == nil {
		return nil, fmt.Errorf("%w: a mailbox needs a database and an evidence log", ErrConfig)
	}
	m := &Mailbox{db: db, log: cfg.Log, name: cfg.Name, now: cfg.Now}
	if m.name == "" {
		m.name = "mailbox"
	}
	if err := checkChannelName(m.name); err != nil {
		return nil, err
	}
	if m.now == nil {
		m.now = time.Now
	}
	if err := db.Migrate(ctx, "notify-mailbox", mailboxMigrations); err != nil {
		return nil, err
	}
	return m, nil
}

// Name returns the channel's name.
func (m *Mailbox) Name() string { return m.name }

// CheckAddress accepts a recipient reference: 1 to limits.MaxNotifyRecipient bytes of
// UTF-8 without spaces or control characters.
func (m *Mailbox) CheckAddress(to string) error { return checkRecipient(to) }

func checkRecipient(to string) error {
	if to == "" || len(to) > limits.MaxNotifyRecipient || checkText("recipient", to, limits.MaxNotifyRecipient) != nil ||
		strings.ContainsFunc(to, unicode.IsSpace) {
		return fail(ErrInput, "recipient", "a recipient reference is 1 to %d bytes of UTF-8 without spaces", limits.MaxNotifyRecipient)
	}
	return nil
}

// Hash returns the hex SHA-256 of the notice as its recipient reads it: of the RFC 8785
// canonical JSON of {"subject": Subject, "text": Text}, the subject left out when empty.
// The HTML form, made from the text, is not part of it. A person who kept the notice
// recomputes it and compares it with a proof's content hash.
func (c Content) Hash() string {
	b, _ := json.Marshal(Content{Subject: c.Subject, Text: c.Text})
	canon, err := jcs.Transform(b)
	if err != nil {
		// json.Marshal of two strings is always valid JSON: not reached.
		canon = b
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// errStored ends a Deliver whose notice the mailbox already holds.
var errStored = errors.New("notify: already in the mailbox")

// Deliver stores the notice in its recipient's mailbox and appends "made-available" to
// the evidence log, in one transaction. A notice delivered again (the dispatcher retried
// after a crash) is stored once, made available once.
func (m *Mailbox) Deliver(ctx context.Context, d *Delivery) error {
	if err := checkRecipient(d.To); err != nil {
		return &Error{Check: "recipient", Reason: "not a recipient reference", Err: ErrPermanent}
	}
	hash := d.Content.Hash()
	_, err := m.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		now := m.now()
		res, err := tx.ExecContext(ctx, m.db.Rebind(`INSERT INTO notify_mailbox
			(id, recipient, reference, subject, body, content_hash, available_at, opened_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO NOTHING`),
			d.ID, d.To, d.Reference, d.Content.Subject, d.Content.Text, hash, now.UnixNano())
		if err != nil {
			return evidence.Record{}, fmt.Errorf("notify: mailbox: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return evidence.Record{}, fmt.Errorf("notify: mailbox: %w", err)
		} else if n == 0 {
			return evidence.Record{}, errStored
		}
		return record(d.ID, Event{Status: MadeAvailable, At: now, Attempt: d.Attempt, ContentHash: hash}, nil)
	})
	if errors.Is(err, errStored) {
		return nil
	}
	return err
}

// Notice is a notice in a mailbox.
type Notice struct {
	// ID is the notification's ID.
	ID string `json:"id"`
	// Reference is the sending service's reference.
	Reference string `json:"reference,omitempty"`
	// Subject and Text are the notice; Subject may be empty.
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
	// ContentHash is Content.Hash of the notice.
	ContentHash string `json:"contentHash"`
	// MadeAvailable is when the notice was stored in the mailbox.
	MadeAvailable time.Time `json:"madeAvailable"`
	// Opened is when the person first opened it; zero while they have not.
	Opened time.Time `json:"opened,omitzero"`
}

const noticeColumns = "id, reference, subject, body, content_hash, available_at, opened_at"

func scanNotice(sc interface{ Scan(...any) error }) (*Notice, error) {
	var n Notice
	var avail, opened int64
	if err := sc.Scan(&n.ID, &n.Reference, &n.Subject, &n.Text, &n.ContentHash, &avail, &opened); err != nil {
		return nil, err
	}
	n.MadeAvailable = time.Unix(0, avail).UTC()
	if opened != 0 {
		n.Opened = time.Unix(0, opened).UTC()
	}
	return &n, nil
}

// Notices returns the recipient's notices, newest first, at most
// limits.MaxMailboxNotices.
func (m *Mailbox) Notices(ctx context.Context, recipient string) ([]Notice, error) {
	rows, err := m.db.QueryContext(ctx, m.db.Rebind("SELECT "+noticeColumns+
		" FROM notify_mailbox WHERE recipient = ? ORDER BY available_at DESC, id LIMIT ?"), recipient, limits.MaxMailboxNotices)
	if err != nil {
		return nil, fmt.Errorf("notify: mailbox: %w", err)
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("notify: mailbox: %w", err)
		}
		out = append(out, *n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: mailbox: %w", err)
	}
	return out, nil
}

// Notice returns one of the recipient's notices, without opening it. A notice of another
// recipient is ErrNotFound, as one that does not exist.
func (m *Mailbox) Notice(ctx context.Context, recipient, id string) (*Notice, error) {
	return m.get(ctx, m.db, recipient, id)
}

func (m *Mailbox) get(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, recipient, id string) (*Notice, error) {
	n, err := scanNotice(q.QueryRowContext(ctx, m.db.Rebind("SELECT "+noticeColumns+
		" FROM notify_mailbox WHERE id = ? AND recipient = ?"), id, recipient))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fail(ErrNotFound, "notice", "no such notice in this mailbox")
	}
	if err != nil {
		return nil, fmt.Errorf("notify: mailbox: %w", err)
	}
	return n, nil
}

// Open opens one of the recipient's notices: the first time, it records when, in the
// mailbox and as "opened" in the evidence log, in one transaction. It returns the notice.
// Opening it again changes nothing. A notice of another recipient is ErrNotFound.
func (m *Mailbox) Open(ctx context.Context, recipient, id string) (*Notice, error) {
	var n *Notice
	_, err := m.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		var err error
		if n, err = m.get(ctx, tx, recipient, id); err != nil {
			return evidence.Record{}, err
		}
		if !n.Opened.IsZero() {
			return evidence.Record{}, errStored
		}
		now := m.now()
		res, err := tx.ExecContext(ctx, m.db.Rebind("UPDATE notify_mailbox SET opened_at = ? WHERE id = ? AND opened_at = 0"), now.UnixNano(), id)
		if err != nil {
			return evidence.Record{}, fmt.Errorf("notify: mailbox: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return evidence.Record{}, errStored
		}
		// A legal notice whose sender asked for status callbacks goes back to the sweep
		// (Legal.DeemDue), which calls "opened" back, even when it had settled the notice.
		// The row lock this takes orders this transaction with the sweep's (Legal.deem).
		if _, err := tx.ExecContext(ctx, m.db.Rebind("UPDATE notify_legal SET settled = 0 WHERE id = ? AND callback <> ''"), id); err != nil {
			return evidence.Record{}, fmt.Errorf("notify: mailbox: %w", err)
		}
		n.Opened = time.Unix(0, now.UnixNano()).UTC()
		return record(id, Event{Status: Opened, At: now}, nil)
	})
	if errors.Is(err, errStored) {
		return m.get(ctx, m.db, recipient, id)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}
