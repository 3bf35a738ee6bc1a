package consent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dpiblocks/dpi/evidence"
)

// Request asks whether a controller may share a person's data with a recipient, for a
// purpose.
type Request struct {
	Person         PersonRef
	Controller     string
	Recipient      string
	Purpose        string
	DataCategories []string
	// At is when the data would be used; zero means now.
	At time.Time
}

// Decision is the outcome of Check or Authorize: allow or deny, why, and the record that
// decided. A denial is a decision, not an error.
type Decision struct {
	Allow  bool    `json:"allow"`
	Reason Reason  `json:"reason"`
	Record *Record `json:"record,omitempty"`
	// Use is the recorded use, when Authorize allowed one.
	Use *Use `json:"use,omitempty"`
}

// Check decides a request without recording anything: what a service asks before it
// offers a choice. Deny is the default: only an active record of the person and the
// controller that names the recipient, covers the purpose and every data category, and is
// within its time and uses, allows.
func (s *Store) Check(ctx context.Context, req Request) (*Decision, error) {
	d, _, err := s.decide(ctx, req)
	return d, err
}

// Authorize decides a request as Check does and, when it allows, records the use in the
// evidence log and counts it against the record's uses, before it returns: each allowed
// use is one the person can see in their History. A record found past its time or uses is
// marked Expired.
func (s *Store) Authorize(ctx context.Context, req Request) (*Decision, error) {
	d, lapsed, err := s.decide(ctx, req)
	if err != nil {
		return nil, err
	}
	if lapsed != nil {
		// The record ran out: say so in its history. A concurrent change wins.
		_, _ = s.transition(ctx, lapsed.ID, Expired, "dpi", string(d.Reason), nil, nil)
	}
	if !d.Allow {
		return d, nil
	}
	at := req.At
	if at.IsZero() {
		at = s.clock()
	}
	at = at.UTC()
	d.Use = &Use{RecordID: d.Record.ID, Recipient: req.Recipient, Purpose: req.Purpose, DataCategories: clean(req.DataCategories), At: at}
	var used Record
	rc, err := s.log.AppendWith(ctx, func(ctx context.Context, tx *sql.Tx) (evidence.Record, error) {
		cur, err := s.load(ctx, tx, d.Record.ID, true)
		if err != nil {
			return evidence.Record{}, err
		}
		// The record may have changed since the decision: decide again under the lock.
		if reason := cur.lapse(at); !cur.Status.Active() || reason != "" {
			if reason == "" {
				reason = statusReason(cur)
			}
			return evidence.Record{}, &deniedError{reason: reason, record: cur}
		}
		used = *cur
		used.Uses++
		used.Updated = at
		if err := s.update(ctx, tx, &used, cur.Uses); err != nil {
			return evidence.Record{}, err
		}
		meta, err := json.Marshal(entryMeta{Use: d.Use})
		if err != nil {
			return evidence.Record{}, err
		}
		return evidence.Record{Kind: KindUse, Ref: cur.ID, Meta: meta}, nil
	})
	var denied *deniedError
	if errors.As(err, &denied) {
		if denied.record.Status.Active() && (denied.reason == ReasonExpired || denied.reason == ReasonUsedUp) {
			_, _ = s.transition(ctx, denied.record.ID, Expired, "dpi", string(denied.reason), nil, nil)
		}
		return &Decision{Allow: false, Reason: denied.reason, Record: denied.record}, nil
	}
	if err != nil {
		return nil, wrapStoreError(err)
	}
	d.Use.Log = rc
	d.Record = &used
	return d, nil
}

// deniedError carries a denial found in the transaction out of AppendWith.
type deniedError struct {
	reason Reason
	record *Record
}

func (e *deniedError) Error() string { return "consent: denied: " + string(e.reason) }

// decide makes the decision on the records as stored, and returns the covering record that
// ran out of time or uses, if any.
func (s *Store) decide(ctx context.Context, req Request) (*Decision, *Record, error) {
	if err := checkRequest(&req); err != nil {
		return nil, nil, err
	}
	at := req.At
	if at.IsZero() {
		at = s.clock()
	}
	at = at.UTC()
	rows, err := s.decideStmt.QueryContext(ctx, string(req.Person), req.Controller)
	if err != nil {
		return nil, nil, fmt.Errorf("consent: read records: %w", err)
	}
	defer rows.Close()
	// The denial so far, built into a Decision only when nothing allows.
	denyReason, denyRecord := ReasonNoRecord, (*Record)(nil)
	closeness := 0 // how near the nearest record came: 1 recipient, 2 purpose, 3 data, 4 and 5 covered
	var lapsed *Record
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, nil, fmt.Errorf("consent: read records: %w", err)
		}
		r := new(Record)
		if err := decodeRecord(doc, r); err != nil {
			return nil, nil, fail(ErrTampered, "row", "a record of this person does not decode")
		}
		ok, mismatch := r.Allows(req.Recipient, req.Purpose, req.DataCategories)
		if !ok {
			if c := mismatchCloseness(mismatch); c > closeness {
				closeness, denyReason, denyRecord = c, mismatch, r
			}
			continue
		}
		reason := Reason("")
		switch {
		case !r.Status.Active():
			reason = statusReason(r)
		case at.Before(r.Created):
			reason = ReasonNotYet
		default:
			reason = r.lapse(at)
			if reason != "" {
				lapsed = r
			}
		}
		if reason == "" {
			// The registered basis itself, not LookupBasis's copy: nothing here changes it.
			if basis, ok := bases[r.LegalBasis]; !ok || !basis.Sharing {
				reason = ReasonBasis
			}
		}
		if reason == "" {
			return &Decision{Allow: true, Reason: ReasonAllowed, Record: r}, nil, nil
		}
		// A covering record says more than one that does not cover, and an active one more
		// than one that ended.
		rank := 4
		if r.Status.Active() {
			rank = 5
		}
		if rank > closeness {
			closeness, denyReason, denyRecord = rank, reason, r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("consent: read records: %w", err)
	}
	return &Decision{Reason: denyReason, Record: denyRecord}, lapsed, nil
}

// mismatchCloseness is how near a record that does not cover a request came to it.
func mismatchCloseness(mismatch Reason) int {
	switch mismatch {
	case ReasonRecipient:
		return 1
	case ReasonPurpose:
		return 2
	case ReasonData:
		return 3
	}
	return 0
}

// lapse says whether the record's validity has run out at at: its time or its uses.
func (r *Record) lapse(at time.Time) Reason {
	switch {
	case !r.Validity.Until.IsZero() && !at.Before(r.Validity.Until):
		return ReasonExpired
	case r.Validity.MaxUses > 0 && r.Uses >= r.Validity.MaxUses:
		return ReasonUsedUp
	}
	return ""
}

// statusReason is the reason a record that is not active denies.
func statusReason(r *Record) Reason {
	switch r.Status {
	case Withdrawn:
		return ReasonWithdrawn
	case Revoked:
		return ReasonRevoked
	case Expired:
		if r.Validity.MaxUses > 0 && r.Uses >= r.Validity.MaxUses {
			return ReasonUsedUp
		}
		return ReasonExpired
	}
	return ReasonInactive
}

func checkRequest(req *Request) error {
	switch {
	case !req.Person.Valid():
		return fail(ErrInput, "person", "not a pseudonymous reference from a Pseudonymizer")
	case req.Controller == "" || req.Recipient == "" || req.Purpose == "":
		return fail(ErrInput, "request", "controller, recipient and purpose are required")
	case len(req.DataCategories) > maxItems:
		return fail(ErrInput, "dataCategories", "at most %d categories", maxItems)
	}
	for _, v := range [...]string{req.Controller, req.Recipient, req.Purpose} {
		if err := checkText("request", v, maxName); err != nil {
			return err
		}
	}
	for _, v := range req.DataCategories {
		if err := checkText("request", v, maxName); err != nil {
			return err
		}
	}
	return nil
}
