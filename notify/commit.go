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

// committer coalesces the outbox's writes, each with its evidence: the rows of concurrent
// Sends and the batches of the dispatchers' claims and outcomes. The writes that wait
// while one transaction commits go into the next: one multi-row insert for the Sends, each
// batch's own statements, and one evidence append for all (evidence.Log.AppendBatchTx), so
// that a busy outbox pays for a transaction, and a sync to disk, per group rather than
// per message. At most one caller, the leader, commits at a time; when it is done it hands
// the lead to the oldest waiting caller. No goroutine of the outbox's own runs.
type committer struct {
	mu    sync.Mutex
	queue []*commitReq
	busy  bool // a leader is committing or has been handed the lead
}

// commitReq is one write waiting to be committed with a group: a Send's row, or a
// function that writes in the group's transaction and returns its evidence.
type commitReq struct {
	row  *row
	fn   func(ctx context.Context, tx *sql.Tx) ([]evidence.Record, error)
	id   string // a row's notification ID, or the first one's for a used idempotency key
	err  error
	done chan struct{} // closed when id or err is set
	lead chan struct{} // receives when the request is handed the lead
}

// errGroupFailed rolls back a group one of whose functions failed, to run each write again
// in a transaction of its own.
var errGroupFailed = errors.New("notify: a write of the group failed")

// send stores r with the group it joins and returns its notification's ID.
func (o *Outbox) send(ctx context.Context, r *row) (string, error) {
	req := &commitReq{row: r}
	if err := o.commit(ctx, req); err != nil {
		return "", err
	}
	return req.id, nil
}

// inGroup runs fn in the transaction of the next group, so that its writes and the records
// it returns commit together. fn may run more than once: it must use the tx and the
// context it is given, and do nothing outside tx.
func (o *Outbox) inGroup(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) ([]evidence.Record, error)) error {
	return o.commit(ctx, &commitReq{fn: fn})
}

// commit queues req for the next group and waits for its outcome, leading the group when
// no other caller does.
func (o *Outbox) commit(ctx context.Context, req *commitReq) error {
	g := &o.group
	req.done, req.lead = make(chan struct{}), make(chan struct{}, 1)
	g.mu.Lock()
	g.queue = append(g.queue, req)
	leader := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !leader {
		select {
		case <-req.done:
			return req.err
		case <-req.lead:
		case <-ctx.Done():
			if g.withdraw(req) {
				return fmt.Errorf("notify: store: %w", ctx.Err())
			}
			// A leader took the request: it commits or fails on the group's terms.
			select {
			case <-req.done:
				return req.err
			case <-req.lead:
			}
		}
	}
	o.leadGroup(ctx)
	<-req.done
	return req.err
}

// withdraw removes a request that is still waiting, passing on the lead if it had just
// been handed to it, and reports whether it was still waiting.
func (g *committer) withdraw(req *commitReq) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == req {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			select {
			case <-req.lead:
				g.handOff()
			default:
			}
			return true
		}
	}
	return false
}

// handOff passes the lead to the oldest waiting request, or ends the busy spell. g.mu is held.
func (g *committer) handOff() {
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
		return
	}
	g.busy = false
}

// leadGroup commits one group, the oldest waiting requests, and hands the lead on.
func (o *Outbox) leadGroup(ctx context.Context) {
	g := &o.group
	g.mu.Lock()
	n := min(len(g.queue), limits.MaxNotifyBatch)
	group := append([]*commitReq(nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()

	// One caller's cancellation must not fail the writes of the others in its group.
	cctx := context.WithoutCancel(ctx)
	err := o.commitGroup(cctx, group)
	if errors.Is(err, errGroupFailed) {
		// Each write again on its own, so that one failing fails alone.
		for _, req := range group {
			req.err = o.commitGroup(cctx, []*commitReq{req})
		}
	} else {
		for _, req := range group {
			req.err = err
		}
	}
	g.mu.Lock()
	g.handOff()
	g.mu.Unlock()
	stored := false
	for _, req := range group {
		stored = stored || req.err == nil && req.row != nil && req.id == req.row.id
		close(req.done)
	}
	if stored {
		o.wake()
	}
}

// commitGroup runs a group's writes in one transaction and appends their evidence.
func (o *Outbox) commitGroup(ctx context.Context, group []*commitReq) error {
	return o.db.InTx(ctx, func(tx *sql.Tx) error {
		var rows []*commitReq
		var records []evidence.Record
		for _, req := range group {
			if req.row != nil {
				rows = append(rows, req)
			}
		}
		if len(rows) > 0 {
			recs, err := o.insertBatch(ctx, tx, rows)
			if err != nil {
				return err
			}
			records = append(records, recs...)
		}
		for _, req := range group {
			if req.fn == nil {
				continue
			}
			recs, err := req.fn(ctx, tx)
			if err != nil {
				if len(group) > 1 {
					return errGroupFailed
				}
				return err
			}
			records = append(records, recs...)
		}
		if len(records) == 0 {
			return nil
		}
		if _, err := o.log.AppendBatchTx(ctx, tx, records); err != nil {
			return fmt.Errorf("notify: evidence: %w", err)
		}
		return nil
	})
}

// insertBatch stores the rows of a group's Sends, in tx, and returns the evidence of their
// creation. It sets each request's ID: its own, or the first notification's when its
// idempotency key was used.
func (o *Outbox) insertBatch(ctx context.Context, tx *sql.Tx, batch []*commitReq) ([]evidence.Record, error) {
	inserted, err := o.insertRows(ctx, tx, batch)
	if err != nil {
		return nil, err
	}
	var records []evidence.Record
	var used []any
	for _, q := range batch {
		q.id = ""
		if !inserted[q.row.id] {
			used = append(used, q.row.key)
			continue
		}
		q.id = q.row.id
		payload, err := json.Marshal(createdPayload{To: q.row.to, Subject: q.row.content.Subject, Text: q.row.content.Text})
		if err != nil {
			return nil, err
		}
		rec, err := record(q.row.id, Event{Status: Created, At: q.row.created, Channel: q.row.channel, Reference: q.row.reference}, payload)
		if err != nil {
			return nil, err
		}
		records = append(records, rec)
	}
	if len(used) == 0 {
		return records, nil
	}
	// The messages whose key was used, before or earlier in this batch, get the ID of the
	// notification that holds it.
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
			if q.id = holders[q.row.key]; q.id == "" {
				return nil, fmt.Errorf("notify: store: no notification holds an idempotency key that refused a message")
			}
		}
	}
	return records, nil
}

// insertRows inserts the batch's rows in one statement and returns the IDs of those it
// stored: not those whose idempotency key was used.
func (o *Outbox) insertRows(ctx context.Context, tx *sql.Tx, batch []*commitReq) (map[string]bool, error) {
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
		r := req.row
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
