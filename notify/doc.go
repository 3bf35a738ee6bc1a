// Package notify tells people and services things, and loses nothing on the way: message
// templates in the GOV.UK Notify style, a durable outbox in the service's own database with
// idempotency keys, retries and delivery statuses, a dispatcher that delivers at least once
// through channels: webhooks signed as Standard Webhooks specifies, email over SMTP, and SMS
// through a provider. Every status change of a notification is appended to an evidence log
// (package evidence) in the transaction that makes it, under the notification's ID.
//
// "What it does not do yet" lists what is still to come.
//
// # Templates
//
// [ParseTemplate] reads a template as GOV.UK Notify writes them (its notifications_utils
// library, field.py and template.py, is the reference followed here):
//
//   - ((name)) is replaced by the value of the personalisation field name; names match
//     ignoring case, spaces, hyphens and underscores;
//   - ((name??text)) shows text only when the value is yes, y, true, t, 1, include or show;
//   - a list value renders as a paragraph of bullet lines ("• item"; "- item" in a text
//     message, whose GSM-7 alphabet has no bullet) and as "a, b, c" in a subject, where
//     Notify writes "a, b and c" in English;
//   - an email template's optional first line "Subject: …" is its subject.
//
// [Template.Render] returns plain text, and for email an HTML body (paragraphs, line breaks
// and bullet lists) in which every value and all of the template's text is escaped. A field
// missing from the personalisation, or a value for a field the template does not have, is an
// [ErrInput] when the message is created, never when it is sent. A text message longer than
// 918 characters (Notify's limit) is refused too; [CountSMS] gives its encoding (GSM-7 with
// its extension table, or UCS-2), length and fragment count (160/153 and 70/67, 3GPP TS
// 23.038 and 23.040).
//
// # The outbox
//
// [Outbox.Enqueue] stores a message inside the caller's own transaction, so that the
// service's row and the notification (and its evidence) commit together or not at all: the
// transactional outbox. [Outbox.Send] does the same in a transaction of its own. A message
// with an [Message.IdempotencyKey] the outbox has seen is not stored again; the call returns
// the first notification's ID (GOV.UK Notify has no such key).
//
// A [Dispatcher] runs N workers that claim due notifications — with FOR UPDATE SKIP LOCKED
// on PostgreSQL, so that many processes share the work, and under SQLite's write lock by
// default — and hold each under a lease: a worker killed mid-attempt leaves its notification
// to be claimed again when the lease ends. Delivery is therefore at least once, and
// receivers drop duplicates by ID (the webhook-id). Failed attempts are tried again on the
// retry schedule of Standard Webhooks 1.0.0 ([StandardSchedule]: immediately, 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h) with up to 10% of jitter, or after a receiver's
// Retry-After when longer.
//
// [DispatcherConfig].RateLimits caps how fast each channel is attempted ([RateLimit]: a
// token bucket, one token per attempt). On PostgreSQL the bucket is a row of the outbox's
// database that every dispatcher on the outbox shares, whatever its process: a claim
// refills it from the database's clock (now(), the one clock all instances see; a refill
// never moves it back) and takes its tokens, as many as it claims notifications of the
// channel, in the claim's own transaction, so the instances together stay within the
// limit and a claim that fails, or cannot reach the database, takes nothing and sends
// nothing. On SQLite, whose write lock one process holds, the bucket is the dispatcher's
// own (golang.org/x/time/rate, driven by its clock and shared by its workers).
//
// Statuses are GOV.UK Notify's: created, sending, delivered, permanent-failure,
// temporary-failure and technical-failure. The last two, reached after the last attempt,
// are the dead letters; a 410 Gone from a receiver disables its endpoint
// ([Outbox.EnableEndpoint] enables it again).
//
// # Fan-out through NATS JetStream
//
// For deployments where one instance's workers are not enough, [DispatcherConfig].FanOut
// (a [FanOutConfig] with the [jetstream.JetStream] the caller connected) splits the
// dispatcher in two. The instance that claims due notifications, as above, publishes each
// claim to a JetStream stream, with the notification's ID and attempt as Nats-Msg-Id so
// that the stream stores a claim published twice once. A claim carries the ID, channel,
// attempt and lease, and nothing else: no address, no reference, no content, so the stream
// holds no personal data. The workers of every instance read the claims from one durable
// pull consumer with explicit acknowledgements; a worker first takes a claim in the outbox,
// replacing its lease with its own in one statement, loads the notification, attempts it,
// and acknowledges the message only once the outcome is recorded. Delivery stays at least
// once and the outbox the source of truth: a claim the stream lost, or whose worker died,
// is claimed again when its lease ends and published anew (the next attempt, another
// message ID); a claim delivered twice, or after its lease, is acknowledged and not
// attempted. [FanOutConfig].MaxPending stops claiming while that many claims wait in the
// stream, so that claims do not outlive their lease there. The dispatcher creates the
// stream (file storage, work-queue retention) when it is missing; the library never runs
// a NATS server.
//
// # Webhooks
//
// The [Webhook] channel POSTs a JSON [WebhookPayload] (type, timestamp and data: the
// notification ID, the reference and the rendered text) signed per Standard Webhooks 1.0.0:
// headers webhook-id, webhook-timestamp and webhook-signature; HMAC-SHA256 signatures
// ("v1,") with "whsec_" secrets and Ed25519 signatures ("v1a,"), over
// "{webhook-id}.{webhook-timestamp}.{body}". 2xx is delivered; 410 disables the endpoint;
// 429, 408 and 5xx back off; redirects are not followed and, like other 4xx, are permanent
// failures. A receiver checks requests with a [WebhookVerifier], which needs the secrets or
// public keys it trusts, compares in constant time and refuses timestamps more than five
// minutes off. Signatures verify with the reference library (npm standardwebhooks); a test
// checks this.
//
// # Status callbacks
//
// With [Config].Callbacks set (a [Webhook]: the same signer, secrets or Ed25519 keys, as
// the webhook channel), a message with a [Message].CallbackURL makes the outbox tell the
// sending service when the notification reaches a final status: a [StatusCallback]
// (type "notification.status", the notification's ID, reference, status, attempts and
// reason; no address, no content) POSTed to that URL and signed per Standard Webhooks. A
// callback is itself a notification in the outbox, on the reserved channel
// [CallbackChannel], enqueued in the transaction that records the final status (whose
// event names it in [Event].Callback), so it is durable, retried on the schedule, and
// sent at least once under a webhook-id of its own. Its idempotency key makes a status
// call back once.
//
// A legal notice with a [LegalNotice].CallbackURL is called back as well for each legal
// status it reaches — made-available, opened, deemed-served or deemed-rejected — by
// [Legal.DeemDue]: a deemed status in the transaction that records it (its event names
// the callback), made-available and opened, which the mailbox records, at the first sweep
// after; each once, however many sweeps run.
//
// # Email and SMS
//
// The [Email] channel sends through an SMTP submission server (RFC 5321, RFC 6409) with the
// standard library's net/smtp: STARTTLS required (RFC 3207) or implicit TLS (RFC 8314), the
// server's certificate always verified, AUTH PLAIN (RFC 4616) only over TLS; it sends in the
// clear only with the loudly named [EmailConfig].InsecureAllowPlaintext, which takes no
// password. The message is MIME (RFC 2045, 2046): multipart/alternative with the plain text
// and the HTML of the rendered [Content], quoted-printable UTF-8, a Subject in RFC 2047
// encoded words when it is not plain ASCII, and the notification's ID in the Message-ID and
// a [HeaderNotificationID] header. Every attempt sends the same bytes, so a receiver drops a
// retry by its Message-ID. A 5xx reply is a permanent failure, a 4xx a temporary one (RFC
// 5321 §4.2.1); the reason keeps the codes, never the server's text.
//
// Addresses are bare addr-specs of at most 254 octets, checked strictly when the message is
// created (no display name, quoting, comment, control, format or space character, so no
// header or command can be injected), in ASCII or in UTF-8 (SMTPUTF8, RFC 6531; in Unicode
// NFC, RFC 6532 §3.1). A message to a non-ASCII address such as josé@correo.gob.uy goes
// with the SMTPUTF8 parameter of MAIL FROM and that address as written in its To field (RFC
// 6532) when the server offers SMTPUTF8, and otherwise fails permanently, before anything is
// sent, with an [Error] whose Check is "smtputf8": the channel does not turn a non-ASCII
// domain into an A-label, since golang.org/x/net/idna is not among the module's
// dependencies. A message to an ASCII address never asks for SMTPUTF8, so a relay further
// on that lacks it does not bounce it; Subjects and the sender's name stay RFC 2047 encoded
// words.
//
// The channel reuses connections: up to [EmailConfig].MaxIdleConns
// ([DefaultSMTPMaxIdleConns]) wait at most [EmailConfig].IdleTimeout
// ([DefaultSMTPIdleTimeout]), and none is reused after five minutes. A delivery on a kept
// connection starts with RSET; one that finds the connection closed by the server (its
// RSET, or MAIL, fails on the connection itself or with 421) drops it and goes on another or
// a fresh one, so a stale connection never fails a delivery. A connection that fails in any
// way other than a 4xx or 5xx reply is closed, never reused. [Email.CloseIdleConnections]
// ends the kept ones. Tests send to a real
// SMTP server (aiosmtpd) and parse what it received with Go's net/mail and mime/multipart and
// with Python's email package.
//
// The [SMS] channel hands text messages to an [SMSProvider], a one-method interface; numbers
// are E.164 ([CheckE164]), checked when the message is created. [SMSGateway] is a generic
// HTTP provider: one POST per message, JSON or a form with field names the provider's API
// chooses, a bearer token or basic authentication, and the notification's ID as
// Idempotency-Key; HTTP statuses are read as a webhook's are.
//
// # The mailbox and legal notifications
//
// A [Mailbox] is a digital mailbox the library keeps in the service's database: a channel
// whose Deliver stores the notice for a recipient and appends "made-available" (with the
// notice's SHA-256, [Content.Hash]) to the evidence log. The recipient's address is a
// pseudonymous reference the service gives the person; the block does not know who the
// person is. [NewMailboxPage] is the person's page: server-rendered, no JavaScript, in
// Spanish, Portuguese or English, WCAG 2.1 AA, with a Content-Security-Policy that allows
// no script, and the service's own sign-in plugged in as a function. Opening a notice is a
// button with a CSRF token, never a link a browser could prefetch, because it may serve
// the notice in law; [Mailbox.Open] records it, with its time, as "opened".
//
// [Legal] sends notices with legal effect through the mailbox, with an optional alert by
// email or SMS that carries no notice, and follows each to the end its [Rule] gives it:
// served when opened, or deemed-served or deemed-rejected once the rule's days have
// passed, counted on a [Calendar] of the country's time zone and holidays that the caller
// passes in. Rules are data, one file per country, each citing its law: [RuleES] (Ley
// 39/2015 art. 43.2: rejected after ten calendar days unopened), [RuleBR] (Decreto
// 70.235/1972 art. 23 §2 III: served fifteen days after delivery to the DTE, or when
// consulted), [RuleCL] (Ley 19.880 as Ley 21.180 and Ley 21.806 made it: served on the
// third business day after sending to the domicilio digital único) and [RuleDK] (lov om
// Digital Post § 10, nr. 1: served when available), [RulePE] (TUO de la Ley 27444, D.S.
// 004-2019-JUS, arts. 20.4 and 25.2: served when deposited in the casilla electrónica) and
// [RuleUY] (Decreto 276/013, domicilio electrónico: served when opened, or at the start of
// the next business day). The PE and UY rules, like CL's, rest on secondary sources and
// say so in their documentation: check them against the official texts. [Rule.Decide] is the rule as a
// pure function of the times; [Legal.DeemDue] is the sweep that records what is due, with
// the rule's date, not the sweep's.
//
// Every digital notice keeps a paper fallback: a notice to a person without a digital
// address goes at once, and one not opened in time goes when the rule deems it (or after
// [LegalConfig.LetterAfter]), through a [LetterChannel] that renders a letter and hands it
// to a [PrintProvider].
//
// # Letters
//
// The [LetterChannel] renders each notification as a PDF letter ([PDFLetter]) on A4 for a
// windowed envelope: the sender's block, the recipient's address, the date, the reference
// and the notification's ID, the subject, the notice, and on every page a verification
// line with the notice's SHA-256 ([Content.Hash]), which a proof of delivery also carries.
// The text is set in the PDF standard fonts (Helvetica), which cover Windows-1252: Spanish,
// Portuguese and the other Western European languages print as written, and a notice,
// address or sender with any other character is refused with [ErrInput] when the message
// is created (the channel is a [ContentChecker] and an [AddressChecker]), as is a notice
// of more than 50 pages (limits.MaxLetterPages). The PDF is made with pdfcpu
// (github.com/pdfcpu/pdfcpu), a maintained pure-Go PDF library that the module uses for
// PAdES too; go-pdf/fpdf, the other candidate, is archived. pdfcpu reads "%p", "%t" and
// the like in a text as placeholders, so the renderer cuts the text at each '%' to print
// the service's words as written. [TextLetter] is the plain-text renderer.
//
// [PrintSpool] is a print provider that writes each letter (ID.pdf) and its envelope data
// (ID.json, a [SpoolEntry]) into a directory, atomically, for a print shop, a mail room
// or a small agency's printer; a real print and post service implements [PrintProvider].
//
// # Proof of delivery
//
// [Legal.Proof] makes signed proof of delivery: a [ProofStatement] — sender, recipient
// reference, content hash, the times made available, alerted and opened, the date served
// or deemed, the rule — signed by the agency's crypto.Signer as a compact JWS (RFC 7515,
// ES256 or EdDSA) over its RFC 8785 canonical JSON, with an RFC 6962 inclusion proof for
// each evidence entry it rests on. [VerifyProof] checks it offline with the agency's
// public key and the log's [evidence.Verifier], both required, and refuses anything else
// with an [Error] matching [ErrProof] that names the check.
//
// # Example
//
//	hook, _ := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{secret}})
//	outbox, _ := notify.Open(ctx, db, notify.Config{Log: log, Channels: []notify.Channel{hook}})
//	tmpl, _ := notify.ParseTemplate(notify.TextTemplate, "Dear ((name)), your application ((ref)) was approved.")
//	err := db.InTx(ctx, func(tx *sql.Tx) error {
//		// ... the service's own writes in tx ...
//		_, err := outbox.Enqueue(ctx, tx, notify.Message{Channel: "webhook", To: url, Template: tmpl,
//			Personalisation: map[string]any{"name": "Ana", "ref": "A-42"}, Reference: "A-42", IdempotencyKey: "decision-A-42"})
//		return err
//	})
//	d, _ := notify.NewDispatcher(outbox, notify.DispatcherConfig{Workers: 8})
//	go d.Run(ctx)
//
// # What it does not do yet
//
// Still to come: letters in scripts beyond Windows-1252 (which needs an embedded font),
// restyling the mailbox page with templates of the service's own, and consistency proofs
// from checkpoints an auditor kept. Templates have no Markdown beyond paragraphs, line
// breaks and bullet lists, and do not downgrade characters to fit GSM-7 as Notify does. The
// email channel does not convert a non-ASCII domain to an A-label (IDNA) for a server
// without SMTPUTF8.
package notify
