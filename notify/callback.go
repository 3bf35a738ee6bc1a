package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// StatusCallbackEventType is the type of a status callback's payload.
const StatusCallbackEventType = "notification.status"

// CallbackChannel is the name of the outbox's channel that carries status callbacks. It
// is reserved: no channel of Config.Channels may take it.
const CallbackChannel = "status-callback"

// StatusCallback is the JSON body of a status callback, in the payload structure of
// Standard Webhooks (type, timestamp, data) and signed the same way as a webhook: a
// receiver checks it with a WebhookVerifier and drops one whose webhook-id it has seen.
type StatusCallback struct {
	// Type is StatusCallbackEventType.
	Type string `json:"type"`
	// Timestamp is when the notification reached its status.
	Timestamp time.Time `json:"timestamp"`
	// Data says which notification reached which status.
	Data StatusCallbackData `json:"data"`
}

// StatusCallbackData is what a status callback reports. It holds no personal data: no
// address and no content.
type StatusCallbackData struct {
	// ID is the notification's ID (not the callback's, which is its webhook-id).
	ID string `json:"id"`
	// Reference is the sending service's reference, when it gave one.
	Reference string `json:"reference,omitempty"`
	// Status is the final status the notification reached or, for a legal notice, the
	// legal status it reached (made-available, opened, deemed-served, deemed-rejected).
	Status Status `json:"status"`
	// Attempts counts the delivery attempts made; zero for a legal status.
	Attempts int `json:"attempts"`
	// Reason says why the last attempt failed.
	Reason string `json:"reason,omitempty"`
}

// callbackChannel posts status callbacks with the outbox's callback webhook: the same
// signer and the same reading of the receiver's answers as the webhook channel.
type callbackChannel struct{ w *Webhook }

var _ Channel = callbackChannel{}

func (c callbackChannel) Name() string { return CallbackChannel }

// Deliver posts the callback whose data the outbox stored as the notification's text.
func (c callbackChannel) Deliver(ctx context.Context, d *Delivery) error {
	var data StatusCallbackData
	if err := json.Unmarshal([]byte(d.Content.Text), &data); err != nil {
		return &Error{Check: "status callback", Reason: "stored data does not parse", Err: ErrPermanent}
	}
	body, err := json.Marshal(StatusCallback{Type: StatusCallbackEventType, Timestamp: d.Created.UTC(), Data: data})
	if err != nil {
		return err
	}
	if err := c.w.CheckAddress(d.To); err != nil {
		return &Error{Check: "address", Reason: "not a callback URL", Err: ErrPermanent}
	}
	return c.w.post(ctx, d.ID, d.To, body)
}

// enqueueCallback stores, in tx, the status callback of notification id that reached
// ev.Status, and returns the callback's ID. The callback is a notification of its own on
// CallbackChannel, delivered and retried by the dispatcher as any other; its idempotency
// key makes a second call for the same status (a worker that lost its lease) store
// nothing new. Its creation is evidenced by the Callback field of the event that recorded
// the status, in the same transaction.
func (o *Outbox) enqueueCallback(ctx context.Context, tx *sql.Tx, id, url, reference string, ev Event) (string, error) {
	data, err := json.Marshal(StatusCallbackData{ID: id, Reference: reference, Status: ev.Status, Attempts: ev.Attempt, Reason: ev.Reason})
	if err != nil {
		return "", err
	}
	r := &row{id: newID(), key: "status-callback/" + id + "/" + string(ev.Status), channel: CallbackChannel, to: url,
		reference: reference, content: &Content{Text: string(data)}, created: ev.At}
	_, err = o.insert(ctx, tx, r)
	var dup *duplicate
	if errors.As(err, &dup) {
		return dup.id, nil
	}
	if err != nil {
		return "", fmt.Errorf("notify: status callback: %w", err)
	}
	return r.id, nil
}
