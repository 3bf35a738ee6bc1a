package limits

import "time"

// Caps of package notify. Templates and personalisation come from the sending service;
// webhook requests, their headers and their receivers' answers come from the network, so
// every one of them is read through a cap here.
const (
	// MaxNotifyTemplate caps a template's source: GOV.UK Notify's longest letters are a few
	// pages, well under this.
	MaxNotifyTemplate = 64 << 10

	// MaxNotifyFields caps the personalisation fields of one template, and the values given
	// with one message.
	MaxNotifyFields = 256

	// MaxNotifyFieldName caps the name of one personalisation field.
	MaxNotifyFieldName = 128

	// MaxNotifyValue caps one personalisation value, or one item of a list value.
	MaxNotifyValue = 64 << 10

	// MaxNotifyListItems caps the items of one list value.
	MaxNotifyListItems = 1000

	// MaxNotifyContent caps a rendered message: subject, text and HTML together.
	MaxNotifyContent = 1 << 20

	// MaxNotifySubject caps a rendered email subject, in bytes: RFC 5322 §2.1.1 limits a
	// header line to 998 characters.
	MaxNotifySubject = 998

	// MaxSMSCharacters caps a rendered text message, in GSM-7 septets or UCS-2 code units:
	// GOV.UK Notify's SMS_CHAR_COUNT_LIMIT, 918 (six concatenated GSM-7 parts of 153).
	MaxSMSCharacters = 918

	// MaxNotifyReference caps a message's reference, which the evidence log keeps.
	MaxNotifyReference = 255

	// MaxNotifyIdempotencyKey caps an idempotency key.
	MaxNotifyIdempotencyKey = 255

	// MaxNotifyAddress caps a recipient's address on a channel (a webhook URL, an email
	// address, a phone number).
	MaxNotifyAddress = 2048

	// MaxNotifyChannelName caps a channel's name.
	MaxNotifyChannelName = 64

	// MaxNotifyAttempts caps the delivery attempts of one retry schedule.
	MaxNotifyAttempts = 32

	// MaxNotifyReason caps the failure reason stored with a notification and its evidence.
	MaxNotifyReason = 512

	// MaxNotifyWorkers caps the workers of one dispatcher.
	MaxNotifyWorkers = 256

	// MaxNotifyBatch caps the outcomes a dispatcher records in one transaction (and one
	// evidence append); a claim takes at most its idle workers, so at most
	// MaxNotifyWorkers.
	MaxNotifyBatch = 256

	// MaxNotifyRetryAfter caps how long a receiver's Retry-After may hold a notification back.
	MaxNotifyRetryAfter = 24 * time.Hour

	// MaxWebhookResponse caps what is read of a webhook receiver's answer: only its status
	// matters, the rest is drained so that the connection can be reused.
	MaxWebhookResponse = 64 << 10

	// MaxWebhookBody caps a webhook request body a receiver reads (Standard Webhooks
	// recommends payloads under 20 KB).
	MaxWebhookBody = 1 << 20

	// MaxWebhookHeader caps each of the webhook-id, webhook-timestamp and webhook-signature
	// headers a receiver reads.
	MaxWebhookHeader = 8 << 10

	// MaxWebhookSignatures caps the signatures of one webhook-signature header (several are
	// sent while a key is rotated).
	MaxWebhookSignatures = 16

	// MaxWebhookTolerance caps the timestamp tolerance a webhook verifier may be given.
	MaxWebhookTolerance = time.Hour

	// WebhookHTTPTimeout is the default timeout of one webhook request, within the 15 to 30
	// seconds Standard Webhooks recommends.
	WebhookHTTPTimeout = 30 * time.Second
)

// Caps of notify's legal notifications, mailbox and proofs.
const (
	// MaxNotifyDeemDays caps the days of a rule that deems a notice served or rejected.
	MaxNotifyDeemDays = 366

	// MaxNotifyHolidays caps the holidays of one calendar: decades of any country's.
	MaxNotifyHolidays = 4096

	// MaxNotifyRecipient caps a mailbox's recipient reference (a pseudonym the service
	// gives, never a national number).
	MaxNotifyRecipient = 255

	// MaxMailboxNotices caps the notices the mailbox page lists at once, newest first.
	MaxMailboxNotices = 200

	// MaxMailboxPageForm caps the open form of the mailbox page: an ID, a token, a language.
	MaxMailboxPageForm = 4 << 10

	// MaxNotifyProof caps a proof of delivery a verifier reads: a signed statement and a
	// handful of inclusion proofs of a few KiB each.
	MaxNotifyProof = 256 << 10

	// MaxNotifyProofEntries caps the evidence entries one proof of delivery carries.
	MaxNotifyProofEntries = 16

	// MaxLetterAddressLines caps the lines of a postal address.
	MaxLetterAddressLines = 8

	// NotifyDeemBatch is how many legal notifications one sweep reads at a time.
	NotifyDeemBatch = 100
)

// MaxNotifySMTPReplies caps what one email delivery reads from an SMTP server: a greeting,
// two EHLO replies and a few more lines are well under it, and a server that sends an
// endless line is cut off rather than held in memory.
const MaxNotifySMTPReplies = 64 << 10

// Sizes of an email address, in octets of its UTF-8 whether or not it is ASCII (RFC 6531
// §3.3 keeps RFC 5321's limits in octets).
const (
	// MaxNotifyEmailAddress caps a whole address: a path is at most 256 octets with its
	// angle brackets (RFC 5321 §4.5.3.1.3).
	MaxNotifyEmailAddress = 254
	// MaxNotifyEmailLocalPart caps the local part (RFC 5321 §4.5.3.1.1).
	MaxNotifyEmailLocalPart = 64
	// MaxNotifyEmailLabel caps one label of the domain (RFC 1035 §2.3.4).
	MaxNotifyEmailLabel = 63
)

// MaxLetterPages caps the pages of one PDF letter: a notice longer than this is refused
// when it is created, not when it is printed.
const MaxLetterPages = 50

// Caps of a dispatcher's per-channel rate limits.
const (
	// MaxNotifyRate caps a channel's rate limit, in attempts per second.
	MaxNotifyRate = 1_000_000

	// MaxNotifyRateBurst caps a channel's burst.
	MaxNotifyRateBurst = 1_000_000
)
