package evidence

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Filter selects the entries [Log.Scan] yields. Every field that is set must match; the
// zero Filter selects every entry.
type Filter struct {
	// Kind, when set, selects the entries of this kind.
	Kind string
	// Ref, when set, selects the entries appended under this reference ([Record.Ref]).
	Ref string
	// Since, when not zero, selects the entries appended at or after this time.
	Since time.Time
	// Until, when not zero, selects the entries appended before this time.
	Until time.Time
	// From selects the entries at this sequence number or later: the next one after the
	// last entry a caller saw, to resume a scan.
	From uint64
}

// scanPage is how many entries Scan reads per query. Between pages no rows are held open,
// so a caller may append, or use an SQLite in-memory database's only connection, while it
// scans.
const scanPage = 256

// Scan yields the entries that f selects, in the order of the log, reading them a page at a
// time so that a scan of any length holds one page in memory. It finds a block's entries by
// kind, reference and time without a second index of the block's own: a consent record's
// history, the request a response answers, a notification's delivery evidence.
//
// Scan reads what the database holds, as Get does: Verify, or an inclusion proof, shows
// that it was not changed. A row that no append could have written (fields beyond the caps,
// which Verify names) is left out; a row with a column of the wrong type ends the scan with
// ErrTampered. When the iteration ends with an error it yields it, with a nil entry, last.
func (l *Log) Scan(ctx context.Context, f Filter) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		if f.From > maxSize {
			return
		}
		if len(f.Kind) > limits.MaxEvidenceKind || len(f.Ref) > limits.MaxEvidenceRef || !label(f.Kind) || !label(f.Ref) {
			yield(nil, fmt.Errorf("%w: the filter's kind or reference is not one an entry can have", ErrInput))
			return
		}
		var where strings.Builder
		args := []any{l.id, 0}
		where.WriteString(" WHERE log_id = ? AND seq >= ?")
		if f.Kind != "" {
			where.WriteString(" AND kind = ?")
			args = append(args, f.Kind)
		}
		if f.Ref != "" {
			// ref <> '' lets the planner use the partial index on references.
			where.WriteString(" AND ref = ? AND ref <> ''")
			args = append(args, f.Ref)
		}
		if !f.Since.IsZero() {
			where.WriteString(" AND time_ns >= ?")
			args = append(args, clampNanos(f.Since))
		}
		if !f.Until.IsZero() {
			where.WriteString(" AND time_ns < ?")
			args = append(args, clampNanos(f.Until))
		}
		where.WriteString(" AND NOT " + oversized + " ORDER BY seq LIMIT ?")
		args = append(args, limits.MaxEvidenceKind, limits.MaxEvidenceMeta, limits.MaxEvidencePayload, limits.MaxEvidencePayload, scanPage)
		query := l.db.Rebind("SELECT " + entryColumns + " FROM tlog_entries" + where.String())

		next := int64(f.From)
		for {
			args[1] = next
			page, err := l.scanPage(ctx, query, args)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			if len(page) < scanPage {
				return
			}
			next = int64(page[len(page)-1].Seq) + 1
		}
	}
}

// scanPage runs one page of a scan and closes its rows before the caller sees an entry.
func (l *Log) scanPage(ctx context.Context, query string, args []any) ([]*Entry, error) {
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("evidence: scan: %w", err)
	}
	defer rows.Close()
	page := make([]*Entry, 0, scanPage)
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("evidence: scan: %w", err)
		}
		if e.badColumn != "" {
			return nil, fmt.Errorf("%w: a row's column %s holds a value of the wrong type", ErrTampered, e.badColumn)
		}
		page = append(page, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("evidence: scan: %w", err)
	}
	return page, nil
}

// clampNanos converts t to Unix nanoseconds, clamped to what int64 holds, so that a bound
// far in the past or future still orders correctly.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, minNanos)):
		return minNanos
	case t.After(time.Unix(0, maxNanos)):
		return maxNanos
	}
	return t.UnixNano()
}

const (
	minNanos = -1 << 63
	maxNanos = 1<<63 - 1
)
