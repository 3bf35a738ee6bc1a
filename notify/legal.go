package notify

import (
	"context"
	"crypto"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// The statuses of a legal notification, besides the outbox's: they follow the notice in
// the mailbox after its delivery, and are appended to the evidence log under its ID.
const (
	// MadeAvailable: the notice is in the person's mailbox, where they can open it.
	MadeAvailable Status = "made-available"
	// Opened: the person opened the notice in their mailbox.
	Opened Status = "opened"
	// DeemedServed: the notice's rule deems it served, opened or not.
	DeemedServed Status = "deemed-served"
	// DeemedRejected: the notice's rule deems it rejected, as it was not opened in time.
	DeemedRejected Status = "deemed-rejected"
)

func (s Status) legal() bool {
	return s == MadeAvailable || s == Opened || s == DeemedServed || s == DeemedRejected
}

// LegalConfig configures a Legal. Outbox, Mailbox, Rule, Calendar, Sender and Letter are
// required; Signer is required to make proofs.
type LegalConfig struct {
	// Outbox sends the notices, the alerts and the letters. Its channels must include
	// Mailbox and the channel named Letter.
	Outbox *Outbox
	// Mailbox is where notices are made available. It must be open on the outbox's
	// database.
	Mailbox *Mailbox
	// Rule decides when a notice is deemed served or rejected (RuleES, RuleBR, ...).
	Rule *Rule
	// Calendar counts the rule's days, in the rule's country's time zone and holidays.
	Calendar *Calendar
	// Sender names the sending authority in proofs, such as "agency.example".
	Sender string
	// Letter names the outbox channel (a LetterChannel) a notice falls back to on paper:
	// at once when the person has no digital address, and when a notice is not opened in
	// time. Nobody is left without notice, so it is required.
	Letter string
	// LetterAfter, when set, sends the letter this long after the notice was made
	// available, if it is still not opened then, and not before the rule deems it; zero
	// sends it when the rule deems the notice. Set it under a rule that serves notices as
	// soon as they are made available (RuleDK).
	LetterAfter time.Duration
	// Signer signs proofs of delivery: an ECDSA P-256 (ES256) or Ed25519 (EdDSA) key, in a
	// file, an HSM or a KMS. The log must also sign checkpoints (evidence.Config.Signer).
	Signer crypto.Signer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Legal sends legal notifications — notices with legal effect — through a mailbox, and
// follows each until its rule deems it served or rejected: made-available when it is in
// the mailbox, opened when the person opens it, deemed-served or deemed-rejected when
// DeemDue finds its days have passed, each in the evidence log under the notification's
// ID, with a letter on paper when the notice is not opened in time or the person has no
// digital address. Proof returns signed, offline-verifiable proof of delivery. It is safe
// for concurrent use.
type Legal struct {
	o           *Outbox
	m           *Mailbox
	rule        Rule
	cal         *Calendar
	sender      string
	letter      string
	letterAfter time.Duration
	signer      crypto.Signer
	now         func() time.Time
}

// NewLegal returns a Legal.
func NewLegal(cfg LegalConfig) (*Legal, error) {
	if cfg.Outbox == nil || cfg.Mailbox == nil || cfg.Calendar == nil {
		return nil, fmt.Errorf("%w: legal notifications need an outbox, a mailbox and a calendar", ErrConfig)
	}
	if err := cfg.Rule.check(); err != nil {
		return nil, err
	}
	if cfg.Outbox.channels[cfg.Mailbox.Name()] != cfg.Mailbox {
		return nil, fmt.Errorf("%w: the mailbox is not one of the outbox's channels", ErrConfig)
	}
	if cfg.Outbox.db != cfg.Mailbox.db {
		return nil, fmt.Errorf("%w: the mailbox and the outbox must share a database", ErrConfig)
	}
	if cfg.Letter == "" || cfg.Outbox.channels[cfg.Letter] == nil {
		return nil, fmt.Errorf("%w: legal notifications need a letter channel of the outbox to fall back to", ErrConfig)
	}
	if err := checkText("sender", cfg.Sender, limits.MaxNotifyReference); err != nil || cfg.Sender == "" {
		return nil, fmt.Errorf("%w: a sender of 1 to %d bytes", ErrConfig, limits.MaxNotifyReference)
	}
	if cfg.LetterAfter < 0 {
		return nil, fmt.Errorf("%w: a negative LetterAfter", ErrConfig)
	}
	if cfg.Signer != nil {
		if _, err := proofAlgorithm(cfg.Signer.Public()); err != nil {
			return nil, err
		}
	}
	l := &Legal{o: cfg.Outbox, m: cfg.Mailbox, rule: *cfg.Rule, cal: cfg.Calendar, sender: cfg.Sender,
		letter: cfg.Letter, letterAfter: cfg.LetterAfter, signer: cfg.Signer, now: cfg.Now}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Rule returns the rule the notices are deemed by.
func (l *Legal) Rule() Rule { return l.rule }

// LegalNotice is a notice with legal effect to one person.
type LegalNotice struct {
	// To is the person's mailbox: the recipient reference the service gave them. Empty
	// when the person has no digital address: the notice then goes on paper at once.
	To string
	// Template and Personalisation make the notice, as for a Message.
	Template        *Template
	Personalisation map[string]any
	// Reference is the service's own, non-personal reference (a case number).
	Reference string
	// IdempotencyKey, when set, makes the notice be sent once whatever the number of calls.
	IdempotencyKey string
	// Alert, when set, tells the person that a notice waits in their mailbox (an email or
	// a text message through the outbox). It is only an alert: it must not carry the
	// notice. It is sent with the notice, and the time it is delivered is in the proof.
	Alert *Message
	// PostalAddress is where the letter goes, one line per line of the address. Required:
	// every legal notice can fall back to paper.
	PostalAddress string
	// CallbackURL, when set, is where the sending service receives a StatusCallback for
	// each legal status the notice reaches: made-available, opened, and deemed-served or
	// deemed-rejected. DeemDue enqueues them, each once: a deemed status in the
	// transaction that records it, made-available and opened (which the mailbox records)
	// at the first sweep after. The notice's delivery to the mailbox, or its letter for a
	// person without a digital address, is called back too when it reaches a final outbox
	// status, as for a Message.CallbackURL. It needs the outbox's Config.Callbacks, which
	// checks it as a webhook URL.
	CallbackURL string
}

// Enqueue stores a legal notice inside tx, a transaction the caller opened on the
// outbox's database, as Outbox.Enqueue does, with its alert; or, for a person without a
// digital address, its letter. It returns the notification's ID: the notice's in the
// mailbox, or the letter's.
func (l *Legal) Enqueue(ctx context.Context, tx *sql.Tx, n LegalNotice) (string, error) {
	if tx == nil {
		return "", fail(ErrInput, "transaction", "Enqueue needs the caller's transaction; Send needs none")
	}
	if n.PostalAddress == "" {
		return "", fail(ErrInput, "postal address", "a legal notice needs a postal address to fall back to")
	}
	// The address is checked now, not when the letter is due: a letter that cannot go would
	// leave the person without notice.
	if len(n.PostalAddress) > limits.MaxNotifyAddress || checkText("postal address", strings.ReplaceAll(n.PostalAddress, "\n", " "), limits.MaxNotifyAddress) != nil {
		return "", fail(ErrInput, "postal address", "at most %d bytes of UTF-8, lines without control characters", limits.MaxNotifyAddress)
	}
	if ac, ok := l.o.channels[l.letter].(AddressChecker); ok {
		if err := ac.CheckAddress(n.PostalAddress); err != nil {
			return "", err
		}
	}
	if n.CallbackURL != "" {
		if l.o.callback == nil {
			return "", fail(ErrInput, "callback URL", "the outbox has no Callbacks webhook")
		}
		if err := l.o.callback.CheckAddress(n.CallbackURL); err != nil {
			return "", err
		}
	}
	c, err := n.Template.renderChecked(n.Personalisation)
	if err != nil {
		return "", err
	}
	// So is the notice: a letter its fonts cannot print would leave the person without
	// notice too.
	if cc, ok := l.o.channels[l.letter].(ContentChecker); ok {
		if err := cc.CheckContent(letterContent(c)); err != nil {
			return "", err
		}
	}
	if n.To == "" {
		id, err := l.enqueueLetter(ctx, tx, c, n.PostalAddress, n.Reference, n.IdempotencyKey, "", n.CallbackURL)
		if err != nil {
			return "", err
		}
		// A notice without a mailbox is its letter, and nothing is left to deem.
		_, err = tx.ExecContext(ctx, l.o.db.Rebind(`INSERT INTO notify_legal
			(id, rule, recipient, postal, alert_id, letter_id, deemed_status, deemed_at, settled, created_at, callback)
			VALUES (?, ?, '', ?, '', ?, '', 0, 1, ?, ?) ON CONFLICT (id) DO NOTHING`),
			id, l.rule.ID, n.PostalAddress, id, l.now().UnixNano(), n.CallbackURL)
		if err != nil {
			return "", fmt.Errorf("notify: legal: %w", err)
		}
		return id, nil
	}
	if err := checkRecipient(n.To); err != nil {
		return "", err
	}
	id, err := l.o.Enqueue(ctx, tx, Message{Channel: l.m.Name(), To: n.To, Template: n.Template,
		Personalisation: n.Personalisation, Reference: n.Reference, IdempotencyKey: n.IdempotencyKey, CallbackURL: n.CallbackURL})
	if err != nil {
		return "", err
	}
	var alertID string
	if n.Alert != nil {
		a := *n.Alert
		if a.Reference == "" {
			a.Reference = n.Reference
		}
		if n.IdempotencyKey != "" && a.IdempotencyKey == "" {
			a.IdempotencyKey = n.IdempotencyKey + "/alert"
		}
		if alertID, err = l.o.Enqueue(ctx, tx, a); err != nil {
			return "", err
		}
	}
	_, err = tx.ExecContext(ctx, l.o.db.Rebind(`INSERT INTO notify_legal
		(id, rule, recipient, postal, alert_id, letter_id, deemed_status, deemed_at, settled, created_at, callback)
		VALUES (?, ?, ?, ?, ?, '', '', 0, 0, ?, ?) ON CONFLICT (id) DO NOTHING`),
		id, l.rule.ID, n.To, n.PostalAddress, alertID, l.now().UnixNano(), n.CallbackURL)
	if err != nil {
		return "", fmt.Errorf("notify: legal: %w", err)
	}
	return id, nil
}

// Send stores a legal notice as Enqueue does, in a transaction of its own, and wakes the
// outbox's dispatchers in this process.
func (l *Legal) Send(ctx context.Context, n LegalNotice) (string, error) {
	var id string
	err := l.o.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = l.Enqueue(ctx, tx, n)
		return err
	})
	if err != nil {
		return "", err
	}
	l.o.wake()
	return id, nil
}

// renderChecked renders a template, refusing a nil one as the outbox does.
func (t *Template) renderChecked(values map[string]any) (*Content, error) {
	if t == nil {
		return nil, fail(ErrInput, "template", "a message needs a template")
	}
	return t.Render(values)
}

// letterTemplates carry a notice already rendered, unchanged, to the letter channel.
var (
	letterBody        = mustTemplate("((notice))")
	letterWithSubject = mustTemplate("((subject))\n\n((notice))")
)

func mustTemplate(src string) *Template {
	t, err := ParseTemplate(TextTemplate, src)
	if err != nil {
		panic(err) // a constant of this file
	}
	return t
}

// letterContent is the content of the letter of notice c, as enqueueLetter renders it.
func letterContent(c *Content) *Content {
	if c.Subject == "" {
		return &Content{Text: c.Text}
	}
	return &Content{Text: c.Subject + "\n\n" + c.Text}
}

// enqueueLetter enqueues the letter of a notice in tx. of is the notice's ID when the
// letter follows a notice in the mailbox; callback, the URL of the letter's own status
// callback, if any.
func (l *Legal) enqueueLetter(ctx context.Context, tx *sql.Tx, c *Content, postal, reference, key, of, callback string) (string, error) {
	m := Message{Channel: l.letter, To: postal, Template: letterBody, Personalisation: map[string]any{"notice": c.Text}, Reference: reference, CallbackURL: callback}
	if c.Subject != "" {
		m.Template, m.Personalisation["subject"] = letterWithSubject, c.Subject
	}
	switch {
	case of != "":
		m.IdempotencyKey = "letter/" + of
	case key != "":
		m.IdempotencyKey = key
	}
	return l.o.Enqueue(ctx, tx, m)
}

// LegalStatus is where a legal notification stands.
type LegalStatus struct {
	// ID is the notice's notification ID.
	ID string `json:"id"`
	// Rule is the ID of the rule that deems it.
	Rule string `json:"rule"`
	// Status is the notice's outbox status until it is made available, then its legal
	// status: made-available, opened, deemed-served or deemed-rejected.
	Status Status `json:"status"`
	// MadeAvailable and Opened are when the notice was made available and opened.
	MadeAvailable time.Time `json:"madeAvailable,omitzero"`
	Opened        time.Time `json:"opened,omitzero"`
	// Due is when the rule deems (or deemed) the notice, unless it is opened first where
	// opening serves it; Served is when it was served or deemed served or rejected.
	Due    time.Time `json:"due,omitzero"`
	Served time.Time `json:"served,omitzero"`
	// AlertID and LetterID are the IDs of the alert and of the letter, when sent.
	AlertID  string `json:"alertId,omitempty"`
	LetterID string `json:"letterId,omitempty"`
}

// legalRow is a notify_legal row, with its mailbox times and reference.
type legalRow struct {
	id, rule, postal, alertID, letterID, deemed string
	callback, sent, reference                   string
	deemedAt, available, opened                 time.Time
	inMailbox                                   bool
}

const legalSelect = `SELECT l.id, l.rule, l.postal, l.alert_id, l.letter_id, l.deemed_status, l.deemed_at,
	l.callback, l.callbacks_sent, COALESCE(m.reference, ''),
	COALESCE(m.available_at, 0), COALESCE(m.opened_at, 0), m.id IS NOT NULL
	FROM notify_legal l LEFT JOIN notify_mailbox m ON m.id = l.id`

func scanLegal(sc interface{ Scan(...any) error }) (*legalRow, error) {
	var r legalRow
	var deemedAt, avail, opened int64
	if err := sc.Scan(&r.id, &r.rule, &r.postal, &r.alertID, &r.letterID, &r.deemed, &deemedAt,
		&r.callback, &r.sent, &r.reference, &avail, &opened, &r.inMailbox); err != nil {
		return nil, err
	}
	if deemedAt != 0 {
		r.deemedAt = time.Unix(0, deemedAt).UTC()
	}
	if avail != 0 {
		r.available = time.Unix(0, avail).UTC()
	}
	if opened != 0 {
		r.opened = time.Unix(0, opened).UTC()
	}
	return &r, nil
}

func (l *Legal) row(ctx context.Context, id string) (*legalRow, error) {
	r, err := scanLegal(l.o.db.QueryRowContext(ctx, l.o.db.Rebind(legalSelect+" WHERE l.id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fail(ErrNotFound, "id", "no legal notification with this ID")
	}
	if err != nil {
		return nil, fmt.Errorf("notify: legal: %w", err)
	}
	if r.rule != l.rule.ID {
		return nil, fail(ErrNotFound, "rule", "the notification is under another rule")
	}
	return r, nil
}

// Status returns where a legal notification stands now.
func (l *Legal) Status(ctx context.Context, id string) (*LegalStatus, error) {
	r, err := l.row(ctx, id)
	if err != nil {
		return nil, err
	}
	s := &LegalStatus{ID: r.id, Rule: r.rule, AlertID: r.alertID, LetterID: r.letterID, MadeAvailable: r.available, Opened: r.opened}
	if !r.inMailbox {
		n, err := l.o.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		s.Status = n.Status
		return s, nil
	}
	d, err := l.rule.Decide(l.cal, r.available, r.opened, l.now())
	if err != nil {
		return nil, err
	}
	if s.Due, err = l.rule.Due(l.cal, r.available); err != nil {
		return nil, err
	}
	s.Status = d.Status
	if r.deemed != "" {
		// What was recorded stands, whatever the clock says now.
		s.Status, s.Served = Status(r.deemed), r.deemedAt
	} else if d.Final() {
		s.Served = d.At
	}
	if s.Status == MadeAvailable && !r.opened.IsZero() {
		s.Status = Opened
	}
	return s, nil
}

// DeemDue records, for every notice of the rule whose time has come, what the rule makes
// of it: deemed-served or deemed-rejected in the evidence log (a notice that opening
// served needs no such entry) and, for a notice not opened in time, its letter. Run it
// periodically (every few minutes; the times recorded are the rule's, not the sweep's);
// several processes may run it at once. It returns how many notices it changed.
func (l *Legal) DeemDue(ctx context.Context) (int, error) {
	changed := 0
	after := ""
	for {
		rows, err := l.o.db.QueryContext(ctx, l.o.db.Rebind(legalSelect+
			" WHERE l.settled = 0 AND l.rule = ? AND l.id > ? AND m.id IS NOT NULL ORDER BY l.id LIMIT ?"),
			l.rule.ID, after, limits.NotifyDeemBatch)
		if err != nil {
			return changed, fmt.Errorf("notify: deem: %w", err)
		}
		var batch []*legalRow
		for rows.Next() {
			r, err := scanLegal(rows)
			if err != nil {
				rows.Close()
				return changed, fmt.Errorf("notify: deem: %w", err)
			}
			batch = append(batch, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return changed, fmt.Errorf("notify: deem: %w", err)
		}
		for _, r := range batch {
			did, err := l.deem(ctx, r.id)
			if err != nil {
				return changed, err
			}
			if did {
				changed++
			}
		}
		if len(batch) < limits.NotifyDeemBatch {
			return changed, nil
		}
		after = batch[len(batch)-1].id
	}
}

// deem settles what is due of one notice, in one transaction.
func (l *Legal) deem(ctx context.Context, id string) (bool, error) {
	did, woke := false, false
	err := l.o.db.InTx(ctx, func(tx *sql.Tx) error {
		did, woke = false, false
		read := func() (*legalRow, *deemPlan, error) {
			r, err := scanLegal(tx.QueryRowContext(ctx, l.o.db.Rebind(legalSelect+" WHERE l.id = ? AND l.settled = 0"), id))
			if errors.Is(err, sql.ErrNoRows) {
				return nil, nil, nil // settled meanwhile by another sweep
			}
			if err != nil {
				return nil, nil, fmt.Errorf("notify: deem: %w", err)
			}
			p, err := l.plan(r, l.now())
			return r, p, err
		}
		r, p, err := read()
		if r == nil || err != nil || p.idle() {
			return err
		}
		// Something is to be written: lock the row, then read it again, so that two sweeps
		// never both write what one read (on PostgreSQL; SQLite's write lock, taken when
		// the transaction began, already orders them), and so that a notice the person
		// opens meanwhile is seen here or goes back to the sweep (Mailbox.Open).
		res, err := tx.ExecContext(ctx, l.o.db.Rebind("UPDATE notify_legal SET settled = settled WHERE id = ? AND settled = 0"), id)
		if err != nil {
			return fmt.Errorf("notify: deem: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if r, p, err = read(); r == nil || err != nil || p.idle() {
			return err
		}

		deemed, letterID, sent := r.deemed, r.letterID, r.sent
		var deemEv *Event
		if p.deem != "" {
			deemed = string(p.deem)
			deemEv = &Event{Status: p.deem, At: p.now, Rule: l.rule.ID, Due: p.at}
			r.deemedAt = p.at
			did = true
		}
		if p.letter {
			// Read in tx: SQLite's write lock, which tx holds, would block a read outside it.
			var c Content
			var reference string
			err := tx.QueryRowContext(ctx, l.o.db.Rebind("SELECT reference, subject, body FROM notify_messages WHERE id = ?"), id).Scan(&reference, &c.Subject, &c.Text)
			if err != nil {
				return fmt.Errorf("notify: deem: %w", err)
			}
			if letterID, err = l.enqueueLetter(ctx, tx, &c, r.postal, reference, "", id, ""); err != nil {
				return err
			}
			did = true
		}
		for _, ev := range p.callbacks {
			cb, err := l.o.enqueueCallback(ctx, tx, id, r.callback, r.reference, ev)
			if err != nil {
				return err
			}
			if deemEv != nil && ev.Status == deemEv.Status {
				deemEv.Callback = cb
			}
			sent = strings.TrimSpace(sent + " " + string(ev.Status))
		}
		if deemEv != nil {
			rec, err := record(id, *deemEv, nil)
			if err != nil {
				return err
			}
			if _, err := l.o.log.AppendTx(ctx, tx, rec); err != nil {
				return fmt.Errorf("notify: evidence: %w", err)
			}
		}
		settled := 0
		if p.settled {
			settled = 1
		}
		_, err = tx.ExecContext(ctx, l.o.db.Rebind("UPDATE notify_legal SET deemed_status = ?, deemed_at = ?, letter_id = ?, callbacks_sent = ?, settled = ? WHERE id = ?"),
			deemed, unixOrZero(r.deemedAt), letterID, sent, settled, id)
		if err != nil {
			return fmt.Errorf("notify: deem: %w", err)
		}
		woke = did || len(p.callbacks) > 0
		return nil
	})
	if err == nil && woke {
		l.o.wake()
	}
	return did, err
}

// deemPlan is what a sweep is to write of one notice.
type deemPlan struct {
	now time.Time
	// deem is the status the rule now deems the notice, when it is to be recorded; at is
	// the rule's date for it.
	deem Status
	at   time.Time
	// letter is set when the letter is to go now.
	letter bool
	// callbacks are the status callbacks to enqueue.
	callbacks []Event
	// settled is set when nothing is left to do after this.
	settled bool
}

// idle reports whether the plan writes nothing.
func (p *deemPlan) idle() bool {
	return p.deem == "" && !p.letter && len(p.callbacks) == 0 && !p.settled
}

// plan decides what a sweep at now writes of notice r.
func (l *Legal) plan(r *legalRow, now time.Time) (*deemPlan, error) {
	p := &deemPlan{now: now}
	d, err := l.rule.Decide(l.cal, r.available, r.opened, now)
	if err != nil {
		return nil, err
	}
	deemed, deemedAt := Status(r.deemed), r.deemedAt
	if deemed == "" && (d.Status == DeemedServed || d.Status == DeemedRejected) {
		p.deem, p.at = d.Status, d.At
		deemed, deemedAt = d.Status, d.At
	}
	// The letter goes when the notice is still unopened at the later of the rule's date
	// and LetterAfter.
	due, err := l.rule.Due(l.cal, r.available)
	if err != nil {
		return nil, err
	}
	letterAt := due
	if a := r.available.Add(l.letterAfter); a.After(letterAt) {
		letterAt = a
	}
	letterID := r.letterID
	if letterID == "" && r.opened.IsZero() && !now.Before(letterAt) {
		p.letter = true
		letterID = "due"
	}
	if r.callback != "" {
		sent := strings.Fields(r.sent)
		for _, ev := range []Event{
			{Status: MadeAvailable, At: r.available},
			{Status: Opened, At: r.opened},
			{Status: deemed, At: deemedAt},
		} {
			if ev.Status != "" && !ev.At.IsZero() && !slices.Contains(sent, string(ev.Status)) {
				p.callbacks = append(p.callbacks, ev)
			}
		}
	}
	// Nothing more to do once the rule has decided and the letter went, or will never go
	// because the person opened the notice; the callbacks of what was seen go now. An
	// opening after that sends the notice back to the sweep (Mailbox.Open).
	p.settled = (deemed != "" || d.Status == Opened) && (letterID != "" || !r.opened.IsZero())
	return p, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
