package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dpiblocks/dpi/evidence"
)

// VerifyReport is what Verify checked in a store that verifies.
type VerifyReport struct {
	// Records counts the records replayed from the log and found in the table.
	Records int `json:"records"`
	// Events and Uses count the log entries replayed.
	Events int `json:"events"`
	Uses   int `json:"uses"`
	// Erased counts the records erased through Store.Erase, whose rows are gone by design.
	Erased int `json:"erased"`
	// Log is the evidence log's own report.
	Log *evidence.Report `json:"log"`
}

// RecordFault names a record whose stored row differs from what the log says.
type RecordFault struct {
	// ID is the record's ID, or the ID column of a row that is in no log entry.
	ID string `json:"id"`
	// Detail says what differs: "row deleted", "row not in the log", or the columns.
	Detail string `json:"detail"`
}

// String describes the fault in one line.
func (f RecordFault) String() string { return "record " + f.ID + ": " + f.Detail }

// TamperError lists the records whose rows differ from the log. It matches ErrTampered.
type TamperError struct {
	Records []RecordFault `json:"records"`
}

// Error lists the first few faulty records.
func (e *TamperError) Error() string {
	var b strings.Builder
	b.WriteString(ErrTampered.Error())
	for i, f := range e.Records {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Records)-3)
			break
		}
		b.WriteString("; ")
		b.WriteString(f.String())
	}
	return b.String()
}

// Unwrap returns ErrTampered.
func (e *TamperError) Unwrap() error { return ErrTampered }

// Verify checks the store against its evidence log. It verifies the log itself with v, the
// verifier of the log's published key (an auditor builds it with evidence.NewVerifier or
// evidence.ParseVerifierKey; the log's own [evidence.Log.Verifier] when the store holds the
// signer), replays
// every event and use the log holds into the records they make, and compares each with its
// row, column by column: a row edited behind the store's back (any column), deleted, or
// inserted without its event is named in a [*TamperError]. A record whose person was
// erased from the log is compared on every other column.
//
// Verify holds the replayed records in memory: about a kilobyte each.
func (s *Store) Verify(ctx context.Context, v *evidence.Verifier) (*VerifyReport, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: Verify needs the verifier of the log's published key", ErrConfig)
	}
	logRep, err := s.log.Verify(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("consent: the evidence log does not verify: %w", err)
	}
	rep := &VerifyReport{Log: logRep}
	type replayed struct {
		rec         Record
		personKnown bool
	}
	want := map[string]*replayed{}
	var faults []RecordFault
	for e, err := range s.log.Scan(ctx, evidence.Filter{}) {
		if err != nil {
			return nil, fmt.Errorf("consent: replay: %w", err)
		}
		if e.Kind == KindErased {
			if want[e.Ref] != nil {
				delete(want, e.Ref)
				rep.Erased++
			}
			continue
		}
		if e.Kind != KindEvent && e.Kind != KindUse {
			continue
		}
		var m entryMeta
		if err := json.Unmarshal(e.Meta, &m); err != nil {
			faults = append(faults, RecordFault{ID: printable(e.Ref), Detail: "log entry " + strconv.FormatUint(e.Seq, 10) + " does not decode"})
			continue
		}
		switch {
		case e.Kind == KindEvent && m.Event != nil && m.Record != nil && m.Record.ID == e.Ref && m.Event.RecordID == e.Ref:
			rep.Events++
			r := &replayed{rec: *m.Record}
			if !e.Erased {
				var p entryPayload
				if json.Unmarshal(e.Payload, &p) == nil {
					r.rec.Person, r.personKnown = p.Person, true
				}
			} else if prev := want[e.Ref]; prev != nil {
				r.rec.Person, r.personKnown = prev.rec.Person, prev.personKnown
			}
			want[e.Ref] = r
		case e.Kind == KindUse && m.Use != nil && m.Use.RecordID == e.Ref && want[e.Ref] != nil:
			rep.Uses++
			want[e.Ref].rec.Uses++
			want[e.Ref].rec.Updated = m.Use.At
		default:
			faults = append(faults, RecordFault{ID: printable(e.Ref), Detail: "log entry " + strconv.FormatUint(e.Seq, 10) + " is not an event or a use of a known record"})
		}
	}

	rows, err := s.db.QueryContext(ctx, "SELECT id, person, controller, status, uses, doc FROM consent_records")
	if err != nil {
		return nil, fmt.Errorf("consent: read records: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		// Read every column whatever it holds: SQLite keeps any value in any column.
		var id, person, controller, status, uses, doc any
		if err := rows.Scan(&id, &person, &controller, &status, &uses, &doc); err != nil {
			return nil, fmt.Errorf("consent: read records: %w", err)
		}
		rid := printable(text(id))
		r, ok := want[text(id)]
		if !ok {
			faults = append(faults, RecordFault{ID: rid, Detail: "row not in the log"})
			continue
		}
		seen[text(id)] = true
		rep.Records++
		exp := r.rec
		var stored Record
		var differ []string
		if err := json.Unmarshal([]byte(text(doc)), &stored); err != nil {
			differ = append(differ, "doc")
		} else {
			if !r.personKnown {
				exp.Person = stored.Person
			}
			a, _ := json.Marshal(&exp)
			b, _ := json.Marshal(&stored)
			if !bytes.Equal(a, b) {
				differ = append(differ, "doc")
			}
		}
		if (r.personKnown && text(person) != string(exp.Person)) || (!r.personKnown && text(person) != string(stored.Person)) {
			differ = append(differ, "person")
		}
		if text(controller) != exp.Controller {
			differ = append(differ, "controller")
		}
		if text(status) != string(exp.Status) {
			differ = append(differ, "status")
		}
		if n, ok := uses.(int64); !ok || n != int64(exp.Uses) {
			differ = append(differ, "uses")
		}
		if len(differ) > 0 {
			verb := " differs"
			if len(differ) > 1 {
				verb = " differ"
			}
			faults = append(faults, RecordFault{ID: rid, Detail: "row edited: " + strings.Join(differ, ", ") + verb + " from the log"})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consent: read records: %w", err)
	}
	for id := range want {
		if !seen[id] {
			faults = append(faults, RecordFault{ID: printable(id), Detail: "row deleted"})
		}
	}
	if len(faults) > 0 {
		slices.SortFunc(faults, func(a, b RecordFault) int { return strings.Compare(a.ID, b.ID) })
		return rep, &TamperError{Records: faults}
	}
	return rep, nil
}

// text reads a column scanned into an any as the text it holds.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
