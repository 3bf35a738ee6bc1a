package consent

import (
	"context"
	"crypto"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

// Kinds of the evidence log entries the store appends. Each carries the record ID as its
// reference, so a record's history is one [evidence.Log.Scan].
const (
	KindEvent  = "consent.event"  // a status change: the event, and the record after it
	KindUse    = "consent.use"    // a use Authorize allowed
	KindErased = "consent.erased" // a record erased at the person's request
)

// DefaultValidity is how long a record given without an end time or a number of uses
// lasts, when Config.DefaultValidity is zero: a year. A record is never endless.
const DefaultValidity = 365 * 24 * time.Hour

// Config configures a Store. Log and Signer are required.
type Config struct {
	// Log is the evidence log the store appends every event and use to. It must be open on
	// the database the store is opened on, with a signer, and should be the consent store's
	// own (its own origin, such as "agency.example/consent").
	Log *evidence.Log
	// Signer signs the person's receipts: the controller's key, ECDSA P-256 or Ed25519,
	// in a file, an HSM or a KMS.
	Signer crypto.Signer
	// DefaultValidity bounds a record given with neither an end time nor a number of uses;
	// zero means DefaultValidity (a year).
	DefaultValidity time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store keeps consent records in a database, as a projection of the evidence log: every
// change of a table is made in the transaction that appends its event to the log, so
// [Store.Verify] can replay the log and name any row that differs. It is safe for
// concurrent use, by many processes on PostgreSQL.
type Store struct {
	db       *store.DB
	log      *evidence.Log
	signer   crypto.Signer
	validity time.Duration
	now      func() time.Time
	// decideStmt is the query every decision runs, prepared once: parsing it again on
	// every call cost more than a tenth of a decision.
	decideStmt *sql.Stmt
}

// Open opens the consent store in db, creating its table when needed.
func Open(ctx context.Context, db *store.DB, cfg Config) (*Store, error) {
	if db == nil || cfg.Log == nil || cfg.Signer == nil {
		return nil, fmt.Errorf("%w: a store needs a database, an evidence log and a receipt signer", ErrConfig)
	}
	if _, err := receiptAlgorithm(cfg.Signer.Public()); err != nil {
		return nil, err
	}
	if cfg.DefaultValidity < 0 {
		return nil, fmt.Errorf("%w: DefaultValidity is negative", ErrConfig)
	}
	s := &Store{db: db, log: cfg.Log, signer: cfg.Signer, validity: cfg.DefaultValidity, now: cfg.Now}
	if s.validity == 0 {
		s.validity = DefaultValidity
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := db.Migrate(ctx, "consent", migrations); err != nil {
		return nil, err
	}
	st, err := db.PrepareContext(ctx, db.Rebind("SELECT doc FROM consent_records WHERE person = ? AND controller = ?"))
	if err != nil {
		return nil, fmt.Errorf("consent: prepare: %w", err)
	}
	s.decideStmt = st
	return s, nil
}

// migrations is the store's schema: one row per record, its whole state in doc (the
// record's JSON), and the columns Authorize selects on beside it.
var migrations = []store.Migration{{
	Version: 1,
	Name:    "create consent records",
	SQL: `
CREATE TABLE consent_records (
	id         TEXT    PRIMARY KEY,
	person     TEXT    NOT NULL,
	controller TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	uses       INTEGER NOT NULL,
	doc        TEXT    NOT NULL
);
CREATE INDEX consent_records_person ON consent_records (person, controller);`,
}}

// Grant is what Give records: who agreed, to whom, for what, under which notice.
type Grant struct {
	Person         PersonRef
	Controller     string
	Recipients     []string
	Purposes       []Purpose
	DataCategories []string
	// LegalBasis is a basis code (LookupBasis). A basis of another kind than consent makes
	// a record of that basis (status BasisActive), never a consent.
	LegalBasis string
	Notice     Notice
	Language   string
	Method     string
	// ValidFor, Until and MaxUses bound the record; with none of them it lasts
	// Config.DefaultValidity.
	ValidFor   time.Duration
	Until      time.Time
	MaxUses    int
	Withdrawal string
}

// Change is the outcome of a status change: the record after it, the event, and the
// person's signed receipt (a compact JWS, see [VerifyReceipt]).
type Change struct {
	Record  Record `json:"record"`
	Event   Event  `json:"event"`
	Receipt string `json:"receipt"`
}

// Give records that the person agreed (or, under a basis that is not consent, records the
// processing under that basis), and returns the record, its event and the signed receipt.
func (s *Store) Give(ctx context.Context, g Grant) (*Change, error) {
	return s.create(ctx, g, Given)
}

// Request records that the person was asked and has not answered yet; the answer is
// Answer(..., true) or Answer(..., false).
func (s *Store) Request(ctx context.Context, g Grant) (*Change, error) {
	return s.create(ctx, g, Requested)
}

func (s *Store) create(ctx context.Context, g Grant, status Status) (*Change, error) {
	basis, err := LookupBasis(g.LegalBasis)
	if err != nil {
		return nil, err
	}
	if basis.Kind != BasisConsent {
		if status == Requested {
			return nil, fail(ErrInput, "legalBasis", "%s is not consent: nobody is asked", basis.Code)
		}
		status = BasisActive
	}
	now := s.clock()
	r := Record{
		ID: newRecordID(), Person: g.Person, Controller: g.Controller,
		Recipients: clean(g.Recipients), Purposes: g.Purposes, DataCategories: clean(g.DataCategories),
		LegalBasis: basis.Code, Jurisdiction: basis.Country, Notice: g.Notice, Language: g.Language,
		Method: g.Method, Withdrawal: g.Withdrawal, Status: status, Created: now, Updated: now,
		Validity: Validity{Until: g.Until, MaxUses: g.MaxUses},
	}
	if g.ValidFor > 0 {
		until := now.Add(g.ValidFor)
		if r.Validity.Until.IsZero() || until.Before(r.Validity.Until) {
			r.Validity.Until = until
		}
	}
	if r.Validity.Until.IsZero() && r.Validity.MaxUses == 0 {
		r.Validity.Until = now.Add(s.validity)
	}
	r.Validity.Until = r.Validity.Until.UTC()
	if err := checkRecord(&r, g.ValidFor); err != nil {
		return nil, err
	}
	ev := Event{RecordID: r.ID, Status: status, At: now, By: byPerson}
	if status == BasisActive {
		ev.By = r.Controller
	}
	rc, err := s.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		doc, err := json.Marshal(&r)
		if err != nil {
			return evidence.Record{}, err
		}
		_, err = tx.ExecContext(ctx, s.db.Rebind("INSERT INTO consent_records (id, person, controller, status, uses, doc) VALUES (?, ?, ?, ?, ?, ?)"),
			r.ID, string(r.Person), r.Controller, string(r.Status), r.Uses, string(doc))
		if err != nil {
			return evidence.Record{}, err
		}
		return eventEntry(&r, &ev)
	})
	if err != nil {
		return nil, fmt.Errorf("consent: record: %w", err)
	}
	return s.signed(r, ev, rc)
}

// byPerson is Event.By for what the person did themselves.
const byPerson = "person"

// Answer records the person's answer to a request: Given when agree, Refused otherwise.
func (s *Store) Answer(ctx context.Context, person PersonRef, id string, agree bool) (*Change, error) {
	next := Refused
	if agree {
		next = Given
	}
	return s.transition(ctx, id, next, byPerson, "", &person, nil)
}

// Withdraw records that the person withdrew their consent: one call, as easy as giving it.
// It fails with ErrNotYours for another person's record, and ErrTransition when the record
// is not a consent in force.
func (s *Store) Withdraw(ctx context.Context, person PersonRef, id string) (*Change, error) {
	return s.transition(ctx, id, Withdrawn, byPerson, "", &person, nil)
}

// Renew records that the person agreed again, with a new validity (as Give's).
func (s *Store) Renew(ctx context.Context, person PersonRef, id string, validFor time.Duration, maxUses int) (*Change, error) {
	if validFor <= 0 && maxUses <= 0 {
		validFor = s.validity
	}
	return s.transition(ctx, id, Renewed, byPerson, "", &person, func(r *Record, now time.Time) {
		r.Validity = Validity{MaxUses: maxUses}
		if maxUses > 0 {
			r.Validity.MaxUses = r.Uses + maxUses
		}
		if validFor > 0 {
			r.Validity.Until = now.Add(validFor).UTC()
		}
	})
}

// Revoke records that a party other than the person (by: the controller, an authority)
// ended the consent, and why.
func (s *Store) Revoke(ctx context.Context, id, by, reason string) (*Change, error) {
	return s.transition(ctx, id, Revoked, by, reason, nil, nil)
}

// Invalidate records that the consent was found not to be valid (a flawed notice, consent
// obtained under pressure), by whom and why.
func (s *Store) Invalidate(ctx context.Context, id, by, reason string) (*Change, error) {
	return s.transition(ctx, id, Invalidated, by, reason, nil, nil)
}

// End records that processing under a legal basis other than consent ended.
func (s *Store) End(ctx context.Context, id, by, reason string) (*Change, error) {
	return s.transition(ctx, id, BasisEnded, by, reason, nil, nil)
}

// transition moves record id to next, checking in the transaction that the record is the
// person's (when person is set) and that its current status allows it.
func (s *Store) transition(ctx context.Context, id string, next Status, by, reason string, person *PersonRef, edit func(*Record, time.Time)) (*Change, error) {
	if err := checkText("by", by, maxName); err != nil {
		return nil, err
	}
	if err := checkText("reason", reason, maxText); err != nil {
		return nil, err
	}
	var r Record
	var ev Event
	rc, err := s.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		cur, err := s.load(ctx, tx, id, true)
		if err != nil {
			return evidence.Record{}, err
		}
		if person != nil && cur.Person != *person {
			return evidence.Record{}, fail(ErrNotYours, "person", "record %s is another person's", id)
		}
		if !cur.Status.CanBecome(next) {
			return evidence.Record{}, fail(ErrTransition, "status", "a record %s cannot become %s", cur.Status, next)
		}
		now := s.clock()
		r = *cur
		r.Status, r.Updated = next, now
		if edit != nil {
			edit(&r, now)
		}
		ev = Event{RecordID: r.ID, Status: next, At: now, By: by, Reason: reason}
		if err := s.update(ctx, tx, &r, cur.Uses); err != nil {
			return evidence.Record{}, err
		}
		return eventEntry(&r, &ev)
	})
	if err != nil {
		return nil, wrapStoreError(err)
	}
	return s.signed(r, ev, rc)
}

// wrapStoreError keeps the store's own errors as they are and names the rest.
func wrapStoreError(err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("consent: record: %w", err)
}

// signed completes a change with its log receipt and the person's signed receipt.
func (s *Store) signed(r Record, ev Event, rc evidence.Receipt) (*Change, error) {
	ev.Log = rc
	jws, err := SignReceipt(s.signer, &Receipt{Record: r, Event: ev})
	if err != nil {
		// The change is recorded; the receipt can be signed again with Store.Receipt.
		return &Change{Record: r, Event: ev}, err
	}
	return &Change{Record: r, Event: ev, Receipt: jws}, nil
}

// load reads record id, in tx when tx is not nil, locking its row on PostgreSQL when lock.
func (s *Store) load(ctx context.Context, tx *sql.Tx, id string, lock bool) (*Record, error) {
	q := "SELECT doc FROM consent_records WHERE id = ?"
	if lock && s.db.Dialect() == store.Postgres {
		q += " FOR UPDATE"
	}
	var row *sql.Row
	if tx != nil {
		row = tx.QueryRowContext(ctx, s.db.Rebind(q), id)
	} else {
		row = s.db.QueryRowContext(ctx, s.db.Rebind(q), id)
	}
	var doc string
	if err := row.Scan(&doc); errors.Is(err, sql.ErrNoRows) {
		return nil, fail(ErrNotFound, "id", "no record %s", printable(id))
	} else if err != nil {
		return nil, err
	}
	var r Record
	if err := decodeRecord(doc, &r); err != nil || r.ID != id {
		return nil, fail(ErrTampered, "row", "record %s does not decode", printable(id))
	}
	return &r, nil
}

// update writes r over the row that held uses uses, and fails if another writer changed it
// in between (which the row lock or SQLite's write lock prevents, so it means tampering).
func (s *Store) update(ctx context.Context, tx *sql.Tx, r *Record, uses int) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, s.db.Rebind("UPDATE consent_records SET status = ?, uses = ?, doc = ? WHERE id = ? AND uses = ?"),
		string(r.Status), r.Uses, string(doc), r.ID, uses)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return fail(ErrTampered, "row", "record %s changed under the store", r.ID)
	}
	return nil
}

// entryMeta is the non-personal part of a log entry: the event or the use, and, for an
// event, the record after it without the person.
type entryMeta struct {
	Event  *Event  `json:"event,omitempty"`
	Use    *Use    `json:"use,omitempty"`
	Record *Record `json:"record,omitempty"`
}

// entryPayload is the personal part of an event's log entry, which evidence can erase.
type entryPayload struct {
	Person PersonRef `json:"person"`
}

func eventEntry(r *Record, ev *Event) (evidence.Record, error) {
	withoutPerson := *r
	withoutPerson.Person = ""
	meta, err := json.Marshal(entryMeta{Event: ev, Record: &withoutPerson})
	if err != nil {
		return evidence.Record{}, err
	}
	payload, err := json.Marshal(entryPayload{Person: r.Person})
	if err != nil {
		return evidence.Record{}, err
	}
	return evidence.Record{Kind: KindEvent, Ref: r.ID, Meta: meta, Payload: payload}, nil
}

// Get returns record id.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	return s.load(ctx, nil, id, false)
}

// List returns the person's records, newest first.
func (s *Store) List(ctx context.Context, person PersonRef) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT doc FROM consent_records WHERE person = ?"), string(person))
	if err != nil {
		return nil, fmt.Errorf("consent: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("consent: list: %w", err)
		}
		var r Record
		if err := decodeRecord(doc, &r); err != nil {
			return nil, fail(ErrTampered, "row", "a record of this person does not decode")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent: list: %w", err)
	}
	slices.SortFunc(out, func(a, b Record) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// History is everything the store holds about a person: their records, every change of
// each, and every use of their data, so they can see who used it, when and for what.
type History struct {
	Records []Record `json:"records"`
	Events  []Event  `json:"events"`
	Uses    []Use    `json:"uses"`
}

// History returns the person's records, and the events and uses of each in the order they
// were logged, read from the evidence log.
func (s *Store) History(ctx context.Context, person PersonRef) (*History, error) {
	recs, err := s.List(ctx, person)
	if err != nil {
		return nil, err
	}
	h := &History{Records: recs, Events: []Event{}, Uses: []Use{}}
	for _, r := range recs {
		for e, err := range s.log.Scan(ctx, evidence.Filter{Ref: r.ID}) {
			if err != nil {
				return nil, fmt.Errorf("consent: history: %w", err)
			}
			var m entryMeta
			if err := json.Unmarshal(e.Meta, &m); err != nil {
				return nil, fail(ErrTampered, "log", "an entry of record %s does not decode", r.ID)
			}
			rc := evidence.Receipt{Origin: s.log.Origin(), Seq: e.Seq, Time: e.Time, LeafHash: e.LeafHash, Salt: e.Salt}
			switch {
			case e.Kind == KindEvent && m.Event != nil:
				m.Event.Log = rc
				h.Events = append(h.Events, *m.Event)
			case e.Kind == KindUse && m.Use != nil:
				m.Use.Log = rc
				h.Uses = append(h.Uses, *m.Use)
			}
		}
	}
	slices.SortFunc(h.Events, func(a, b Event) int { return a.At.Compare(b.At) })
	slices.SortFunc(h.Uses, func(a, b Use) int { return a.At.Compare(b.At) })
	return h, nil
}

// Receipt signs a new receipt for the latest event of record id, for a person who lost
// theirs.
func (s *Store) Receipt(ctx context.Context, id string) (string, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	var last *evidence.Entry
	var meta entryMeta
	for e, err := range s.log.Scan(ctx, evidence.Filter{Ref: id, Kind: KindEvent}) {
		if err != nil {
			return "", fmt.Errorf("consent: receipt: %w", err)
		}
		last = e
	}
	if last == nil || json.Unmarshal(last.Meta, &meta) != nil || meta.Event == nil || meta.Record == nil {
		return "", fail(ErrTampered, "log", "record %s has no event in the log", id)
	}
	ev := *meta.Event
	ev.Log = evidence.Receipt{Origin: s.log.Origin(), Seq: last.Seq, Time: last.Time, LeafHash: last.LeafHash, Salt: last.Salt}
	rec := *meta.Record
	rec.Person = r.Person
	return SignReceipt(s.signer, &Receipt{Record: rec, Event: ev})
}

// Erase erases a person from the store, at their request or when the agency's retention
// ends: each of their records' rows is deleted, in the transaction that logs the erasure
// (an entry without personal data), and the person's reference is erased from the payload
// of every event of those records in the evidence log. What stays is what must show what
// happened: each record's non-personal history and its uses, which no longer point to
// anyone. It returns the IDs of the records erased.
func (s *Store) Erase(ctx context.Context, person PersonRef) ([]string, error) {
	recs, err := s.List(ctx, person)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range recs {
		at := s.clock()
		_, err := s.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
			res, err := tx.ExecContext(ctx, s.db.Rebind("DELETE FROM consent_records WHERE id = ? AND person = ?"), r.ID, string(person))
			if err != nil {
				return evidence.Record{}, err
			}
			if n, err := res.RowsAffected(); err == nil && n != 1 {
				return evidence.Record{}, fail(ErrNotFound, "id", "record %s is gone", r.ID)
			}
			meta, err := json.Marshal(erasure{RecordID: r.ID, At: at})
			if err != nil {
				return evidence.Record{}, err
			}
			return evidence.Record{Kind: KindErased, Ref: r.ID, Meta: meta}, nil
		})
		if err != nil {
			return ids, wrapStoreError(err)
		}
		for e, err := range s.log.Scan(ctx, evidence.Filter{Ref: r.ID, Kind: KindEvent}) {
			if err != nil {
				return ids, fmt.Errorf("consent: erase: %w", err)
			}
			if err := s.log.Erase(ctx, e.Seq); err != nil {
				return ids, fmt.Errorf("consent: erase: %w", err)
			}
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// erasure is the Meta of a KindErased entry.
type erasure struct {
	RecordID string    `json:"recordId"`
	At       time.Time `json:"at"`
}

func (s *Store) clock() time.Time { return time.Unix(0, s.now().UnixNano()).UTC() }

var recordIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecordID returns a random record ID: "cr_" and 128 bits in lower-case base32.
func newRecordID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "cr_" + strings.ToLower(recordIDEncoding.EncodeToString(b[:]))
}

// Caps on what a record holds: its fields are shown to people and kept for years.
const (
	maxName  = 256  // an identifier: controller, recipient, purpose code, category
	maxText  = 2048 // a sentence: a purpose's text, a reason, how to withdraw
	maxItems = 64   // recipients, purposes or categories of one record
)

// checkRecord refuses a record that misses what ISO/IEC TS 27560 asks for, or that holds
// what no record should.
func checkRecord(r *Record, validFor time.Duration) error {
	switch {
	case !r.Person.Valid():
		return fail(ErrInput, "person", "not a pseudonymous reference from a Pseudonymizer")
	case len(r.Recipients) == 0 || len(r.Recipients) > maxItems:
		return fail(ErrInput, "recipients", "1 to %d recipients", maxItems)
	case len(r.Purposes) == 0 || len(r.Purposes) > maxItems:
		return fail(ErrInput, "purposes", "1 to %d purposes", maxItems)
	case len(r.DataCategories) == 0 || len(r.DataCategories) > maxItems:
		return fail(ErrInput, "dataCategories", "1 to %d categories", maxItems)
	case validFor < 0 || r.Validity.MaxUses < 0:
		return fail(ErrInput, "validity", "negative")
	case !r.Validity.Until.IsZero() && !r.Validity.Until.After(r.Created):
		return fail(ErrInput, "validity", "ends before it begins")
	}
	if err := checkText("controller", r.Controller, maxName); err != nil || r.Controller == "" {
		return fail(ErrInput, "controller", "1 to %d printable characters", maxName)
	}
	for _, x := range r.Recipients {
		if err := checkText("recipients", x, maxName); err != nil || x == "" {
			return fail(ErrInput, "recipients", "each 1 to %d printable characters", maxName)
		}
	}
	for _, x := range r.DataCategories {
		if err := checkText("dataCategories", x, maxName); err != nil || x == "" {
			return fail(ErrInput, "dataCategories", "each 1 to %d printable characters", maxName)
		}
	}
	for _, p := range r.Purposes {
		if checkText("purposes", p.Code, maxName) != nil || p.Code == "" || checkText("purposes", p.Text, maxText) != nil || p.Text == "" {
			return fail(ErrInput, "purposes", "each a code and the text shown to the person")
		}
	}
	if len(r.Notice.SHA256) != 64 || strings.Trim(r.Notice.SHA256, "0123456789abcdef") != "" {
		return fail(ErrInput, "notice", "the SHA-256 of the text shown, in lower-case hex")
	}
	for name, v := range map[string]string{"notice": r.Notice.URL + r.Notice.Version, "language": r.Language, "collectionMethod": r.Method, "withdrawal": r.Withdrawal} {
		if err := checkText(name, v, maxText); err != nil {
			return err
		}
	}
	if r.Status != BasisActive && (r.Language == "" || r.Withdrawal == "" || r.Notice.URL == "") {
		return fail(ErrInput, "notice", "consent needs the notice's URL, its language and how to withdraw")
	}
	return nil
}

// checkText refuses text that is too long, not UTF-8, or holds control characters.
func checkText(field, v string, max int) error {
	if len(v) > max || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fail(ErrInput, field, "at most %d printable characters", max)
	}
	return nil
}

// clean returns list without duplicates, in its order.
func clean(list []string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// printable shortens an identifier for an error message, and drops what is not printable.
func printable(s string) string {
	if len(s) > 64 || checkText("", s, 64) != nil {
		return "(malformed)"
	}
	return s
}
