package notify

import (
	"context"
	"time"
)

// Channel delivers notifications one way: a webhook, and later email, SMS, a mailbox or a
// letter. Deliver returns nil once the receiver has accepted the notification. Otherwise
// its error says what the dispatcher does next: an error matching ErrPermanent ends the
// notification as permanent-failure, ErrEndpointGone does too and disables the endpoint,
// ErrTemporary (an *Error may carry a RetryAfter) tries again on the retry schedule and
// ends as temporary-failure after the last attempt, and any other error (the network, a
// timeout) tries again and ends as technical-failure.
//
// Deliver may be called more than once for one notification, even after it succeeded (a
// dispatcher killed before it recorded the success): delivery is at least once, and
// Delivery.ID is the same each time so the receiver can drop duplicates.
type Channel interface {
	// Name is the channel's name in Message.Channel, such as "webhook".
	Name() string
	// Deliver sends one notification.
	Deliver(ctx context.Context, d *Delivery) error
}

// AddressChecker is implemented by a channel that can tell, when a message is created,
// whether an address is one it can deliver to; the outbox then refuses a message to any
// other with ErrInput.
type AddressChecker interface {
	CheckAddress(to string) error
}

// ContentChecker is implemented by a channel that can tell, when a message is created,
// whether it can carry the rendered content (a letter's fonts, its number of pages); the
// outbox then refuses any other with ErrInput.
type ContentChecker interface {
	CheckContent(c *Content) error
}

// Delivery is one attempt to deliver a notification.
type Delivery struct {
	// ID is the notification's ID: the same on every attempt (the webhook-id).
	ID string
	// Attempt counts the attempts, from 1.
	Attempt int
	// To is the recipient's address on the channel.
	To string
	// Reference is the sending service's own reference for the notification.
	Reference string
	// Content is the rendered message.
	Content Content
	// Created is when the notification was created.
	Created time.Time
}
