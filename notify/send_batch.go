package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
)

// sends coalesces concurrent calls of Send: the messages that wait while one batch commits
// go into the next, in one multi-row insert and one evidence append, so that a busy
// service pays for a transaction per batch rather than per message. At most one caller,
// the leader, stores a batch at a time; when it is done it hands the lead to the oldest
// waiting caller. No goroutine of the outbox's own runs.
type sends struct {
	mu    sync.Mutex
	queue []*sendReq
	busy  bool // a leader is storing a batch or has been handed the lead
}

// sendReq is one caller's Send, waiting to be stored with a batch.
type sendReq struct {
	r    *row
	id   string // the stored notification's, or the first one's for a used idempotency key
	err  error
	done chan struct{} // closed when id or err is set
	lead chan struct{} // receives when the request is handed the lead
}

// send stores r with the batch it joins and returns its notification's ID.
func (o *Outbox) send(ctx context.Context, r *row) (string, error) {
	s := &o.sends
	req := &sendReq{r: r, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	s.mu.Lock()
	s.queue = append(s.queue, req)
	leader := !s.busy
	s.busy = true
	s.mu.Unlock()
	if !leader {
		select {
		case <-req.done:
			return req.id, req.err
		case <-req.lead:
		case <-ctx.Done():
			if s.withdraw(req) {
				return "", fmt.Errorf("notify: store: %w", ctx.Err())
			}
			// A leader took the request: it is stored or fails on the batch's terms.
			select {
			case <-req.done:
				return req.id, req.err
			case <-req.lead:
			}
		}
	}
	o.leadSends(ctx)
	<-req.done
	return req.id, req.err
}

// withdraw removes a request that is still waiting, passing on the lead if it had just
// been handed to it, and reports whether it was still waiting.
func (s *sends) withdraw(req *sendReq) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.queue {
		if q == req {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			select {
			case <-req.lead:
				s.handOff()
			default:
			}
			return true
		}
	}
	return false
}

// handOff passes the lead to the oldest waiting request, or ends the busy spell. s.mu is held.
func (s *sends) handOff() {
	if len(s.queue) > 0 {
		s.queue[0].lead <- struct{}{}
		return
	}
	s.busy = false
}

// leadSends stores one batch, the oldest waiting requests, and hands the lead on.
func (o *Outbox) leadSends(ctx context.Context) {
	s := &o.sends
	s.mu.Lock()
	n := min(len(s.queue), limits.MaxNotifyBatch)
	batch := append([]*sendReq(nil), s.queue[:n]...)
	s.queue = append(s.queue[:0], s.queue[n:]...)
	s.mu.Unlock()

	// One caller's cancellation must not fail the messages of the others in its batch.
	err := o.insertBatch(context.WithoutCancel(ctx), batch)
	s.mu.Lock()
	s.handOff()
	s.mu.Unlock()
	stored := false
	for _, q := range batch {
		if err != nil {
			q.id, q.err = "", err
		}
		stored = stored || q.id == q.r.id
		close(q.done)
	}
	if stored {
		o.wake()
	}
}

// insertBatch stores the batch's rows, and the evidence of their creation, in one
// transaction of the evidence log's group commit. It sets each request's ID: its own, or
// the first notification's when its idempotency key was used.
func (o *Outbox) insertBatch(ctx context.Context, batch []*sendReq) error {
	err := o.appendBatch(ctx, func(ctx context.Context, tx *sql.Tx) ([]evidence.Record, error) {
		inserted, err := o.insertRows(ctx, tx, batch)
		if err != nil {
			return nil, err
		}
		var records []evidence.Record
		var used []any
		for _, q := range batch {
			q.id = ""
			if !inserted[q.r.id] {
				used = append(used, q.r.key)
				continue
			}
			q.id = q.r.id
			payload, err := json.Marshal(createdPayload{To: q.r.to, Subject: q.r.content.Subject, Text: q.r.content.Text})
			if err != nil {
				return nil, err
			}
			rec, err := record(q.r.id, Event{Status: Created, At: q.r.created, Channel: q.r.channel, Reference: q.r.reference}, payload)
			if err != nil {
				return nil, err
			}
			records = append(records, rec)
		}
		if len(used) == 0 {
			return records, nil
		}
		// The messages whose key was used, before or earlier in this batch, get the ID of
		// the notification that holds it.
		rows, err := tx.QueryContext(ctx, o.db.Rebind("SELECT id, idempotency_key FROM notify_messages WHERE idempotency_key IN (?"+
			strings.Repeat(", ?", len(used)-1)+")"), used...)
		if err != nil {
			return nil, fmt.Errorf("notify: store: %w", err)
		}
		defer rows.Close()
		holders := map[string]string{}
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key); err != nil {
				return nil, fmt.Errorf("notify: store: %w", err)
			}
			holders[key] = id
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("notify: store: %w", err)
		}
		for _, q := range batch {
			if q.id == "" {
				if q.id = holders[q.r.key]; q.id == "" {
					return nil, fmt.Errorf("notify: store: no notification holds an idempotency key that refused a message")
				}
			}
		}
		return records, nil
	})
	if errors.Is(err, errNoRecords) {
		return nil // every message's key was used: nothing new to store
	}
	return err
}

// insertRows inserts the batch's rows in one statement and returns the IDs of those it
// stored: not those whose idempotency key was used.
func (o *Outbox) insertRows(ctx context.Context, tx *sql.Tx, batch []*sendReq) (map[string]bool, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO notify_messages
		(id, idempotency_key, channel, recipient, reference, subject, body, html, status, attempts, next_at, lease, reason, created_at, updated_at, callback)
		VALUES `)
	args := make([]any, 0, 13*len(batch))
	for i, req := range batch {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', '', ?, ?, ?)")
		r := req.r
		var key any
		if r.key != "" {
			key = r.key
		}
		at := r.created.UnixNano()
		args = append(args, r.id, key, r.channel, r.to, r.reference, r.content.Subject, r.content.Text, r.content.HTML, string(Created),
			r.created.Add(o.schedule[0]).UnixNano(), at, at, r.callback)
	}
	q.WriteString(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")
	rows, err := tx.QueryContext(ctx, o.db.Rebind(q.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: store: %w", err)
	}
	defer rows.Close()
	inserted := make(map[string]bool, len(batch))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("notify: store: %w", err)
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: store: %w", err)
	}
	return inserted, nil
}
