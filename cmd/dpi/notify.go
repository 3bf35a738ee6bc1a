package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// The notify commands: the library's notify.Outbox and notify.Dispatcher behind a few flags.
// The outbox keeps its notifications and its own evidence log (origin --log) in the
// database of --db.

func init() {
	registerNotify(
		command{name: "send", summary: "store a notification in the outbox and deliver what is due", run: runNotifySend},
		command{name: "run", summary: "deliver the outbox's notifications as they fall due (the dispatcher)", run: runNotifyRun},
		command{name: "status", summary: "show a notification's status and its evidence", run: runNotifyStatus},
	)
	register(command{name: "notify", summary: "send notifications through a durable outbox, deliver them, show their status",
		run: func(e *env, args []string) int { return dispatch(e, "dpi notify", args, notifyCommands()) }})
}

var (
	notifyMu   sync.Mutex
	notifySubs []command
)

// registerNotify adds subcommands of "dpi notify". A file that adds one (the proof of
// delivery commands, say) calls it from its own init function and touches no other file.
func registerNotify(cs ...command) {
	notifyMu.Lock()
	defer notifyMu.Unlock()
	notifySubs = append(notifySubs, cs...)
}

// notifyCommands returns the subcommands of "dpi notify", sorted by name.
func notifyCommands() []command {
	notifyMu.Lock()
	defer notifyMu.Unlock()
	out := slices.Clone(notifySubs)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// defaultNotifyLog is the origin of the outbox's evidence log when --log is not given. An
// agency names its own (agency.example/notify).
const defaultNotifyLog = "dpi.local/notify"

// The environment variables that hold the channels' secrets, so that they stay out of the
// process list and the shell's history.
const (
	webhookSecretEnv = "DPI_WEBHOOK_SECRET"
	smtpPasswordEnv  = "DPI_SMTP_PASSWORD"
	smsTokenEnv      = "DPI_SMS_TOKEN"
	smsPasswordEnv   = "DPI_SMS_PASSWORD"
)

const (
	notifyKeyHelp = "the outbox's private key, which signs the checkpoints of its evidence log: PEM PKCS#8 (PRIVATE KEY, or ENCRYPTED PRIVATE KEY with the password in DPI_KEY_PASSWORD), Ed25519 or ECDSA P-256"
	notifyLogHelp = "origin of the outbox's evidence log"

	// notifyChannelUsage explains the channel flags in every usage that takes them.
	notifyChannelUsage = "Channels are configured by flags, and only configured channels are used:\n" +
		"  webhook  --webhook-secret (or " + webhookSecretEnv + "): a whsec_ secret; requests are signed as\n" +
		"           Standard Webhooks specifies. URLs are https unless --insecure-allow-http.\n" +
		"  email    --smtp-host and --from, with --smtp-port (587), --smtp-user and " + smtpPasswordEnv + ",\n" +
		"           --smtp-ca for a server with a private CA, --smtp-implicit-tls for port 465;\n" +
		"           STARTTLS is required unless --insecure-smtp-plaintext (no password then).\n" +
		"  sms      --sms-url, with --sms-token (or " + smsTokenEnv + ") or --sms-user and " + smsPasswordEnv + ",\n" +
		"           --sms-format json|form and --sms-from; numbers are E.164 (+5511987654321).\n" +
		"Prefer the environment for secrets: a flag's value is visible in the process list.\n"
)

// notifyFlags are the flags of the commands that open the outbox to write.
type notifyFlags struct {
	dsn, keyPath, origin string
}

func addNotifyFlags(fs *flag.FlagSet, dbHelp string) *notifyFlags {
	f := &notifyFlags{}
	fs.StringVar(&f.dsn, "db", "", dbHelp)
	fs.StringVar(&f.keyPath, "key", "", notifyKeyHelp)
	fs.StringVar(&f.origin, "log", defaultNotifyLog, notifyLogHelp)
	return f
}

// channelFlags configure the channels.
type channelFlags struct {
	webhookSecret                    string
	smtpHost, smtpUser, from, smtpCA string
	smtpPort                         int
	smtpImplicitTLS, smtpPlaintext   bool
	smsURL, smsToken, smsUser        string
	smsFormat, smsFrom               string
	allowHTTP                        bool
}

func addChannelFlags(fs *flag.FlagSet) *channelFlags {
	c := &channelFlags{}
	fs.StringVar(&c.webhookSecret, "webhook-secret", "", "the webhook channel's whsec_ secret (default $"+webhookSecretEnv+")")
	fs.StringVar(&c.smtpHost, "smtp-host", "", "the SMTP submission server of the email channel")
	fs.IntVar(&c.smtpPort, "smtp-port", 0, "the SMTP server's port (default 587, or 465 with --smtp-implicit-tls)")
	fs.StringVar(&c.smtpUser, "smtp-user", "", "the SMTP username; the password is in $"+smtpPasswordEnv)
	fs.StringVar(&c.from, "from", "", "the email sender, such as 'Agency <noreply@agency.example>'")
	fs.StringVar(&c.smtpCA, "smtp-ca", "", "PEM file of the CA certificates the SMTP server's certificate is checked against (default: the system's)")
	fs.BoolVar(&c.smtpImplicitTLS, "smtp-implicit-tls", false, "connect to the SMTP server with TLS from the first byte (port 465) instead of STARTTLS")
	fs.BoolVar(&c.smtpPlaintext, "insecure-smtp-plaintext", false, "send email in the clear when the server offers no STARTTLS: only for a relay on loopback")
	fs.StringVar(&c.smsURL, "sms-url", "", "the SMS provider's URL, which takes one message per POST")
	fs.StringVar(&c.smsToken, "sms-token", "", "the SMS provider's bearer token (default $"+smsTokenEnv+")")
	fs.StringVar(&c.smsUser, "sms-user", "", "the SMS provider's username for basic authentication; the password is in $"+smsPasswordEnv)
	fs.StringVar(&c.smsFormat, "sms-format", "json", "the SMS provider's request body: json or form")
	fs.StringVar(&c.smsFrom, "sms-from", "", "the sender ID or number the SMS provider shows")
	fs.BoolVar(&c.allowHTTP, "insecure-allow-http", false, "let webhooks and the SMS provider use http:// URLs, in the clear: only for tests and loopback")
	return c
}

// channels builds the configured channels. Its errors never repeat a secret.
func (c *channelFlags) channels(e *env) ([]notify.Channel, error) {
	var out []notify.Channel
	secret := c.webhookSecret
	if secret == "" {
		secret = os.Getenv(webhookSecretEnv)
	}
	if secret != "" {
		h, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{strings.TrimSpace(secret)}, InsecureAllowHTTP: c.allowHTTP})
		if err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
		out = append(out, h)
	}
	if c.smtpHost != "" || c.from != "" {
		if c.smtpHost == "" || c.from == "" {
			return nil, errors.New("email: --smtp-host and --from go together")
		}
		cfg := notify.EmailConfig{Host: c.smtpHost, Port: c.smtpPort, From: c.from, Username: c.smtpUser,
			ImplicitTLS: c.smtpImplicitTLS, InsecureAllowPlaintext: c.smtpPlaintext}
		if c.smtpUser != "" {
			cfg.Password = os.Getenv(smtpPasswordEnv)
			if cfg.Password == "" {
				return nil, errors.New("email: --smtp-user needs the password in " + smtpPasswordEnv)
			}
		}
		if c.smtpCA != "" {
			b, err := e.readInput(c.smtpCA, limits.MaxKeyFile)
			if err != nil {
				return nil, fmt.Errorf("email: --smtp-ca: %s", oneLine(err.Error()))
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(b) {
				return nil, errors.New("email: --smtp-ca holds no PEM certificate")
			}
			cfg.TLS = &tls.Config{RootCAs: pool}
		}
		m, err := notify.NewEmail(cfg)
		if err != nil {
			return nil, fmt.Errorf("email: %w", err)
		}
		out = append(out, m)
	}
	if c.smsURL != "" {
		cfg := notify.SMSGatewayConfig{URL: c.smsURL, Format: notify.SMSFormat(c.smsFormat), From: c.smsFrom,
			BearerToken: c.smsToken, Username: c.smsUser, InsecureAllowHTTP: c.allowHTTP}
		if cfg.BearerToken == "" && c.smsUser == "" {
			cfg.BearerToken = os.Getenv(smsTokenEnv)
		}
		if c.smsUser != "" {
			cfg.Password = os.Getenv(smsPasswordEnv)
		}
		g, err := notify.NewSMSGateway(cfg)
		if err != nil {
			return nil, fmt.Errorf("sms: %w", err)
		}
		s, err := notify.NewSMS(notify.SMSConfig{Provider: g})
		if err != nil {
			return nil, fmt.Errorf("sms: %w", err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("no channel is configured: give --webhook-secret (or " + webhookSecretEnv + "), --smtp-host and --from, or --sms-url")
	}
	return out, nil
}

// channelTemplate is the template type each channel's messages are written in.
var channelTemplate = map[string]notify.TemplateType{
	"webhook": notify.TextTemplate,
	"email":   notify.EmailTemplate,
	"sms":     notify.SMSTemplate,
}

// channelNeeds says which flags configure a channel.
var channelNeeds = map[string]string{
	"webhook": "--webhook-secret (or " + webhookSecretEnv + ")",
	"email":   "--smtp-host and --from",
	"sms":     "--sms-url",
}

// outboxDB is an open outbox and what it stands on.
type outboxDB struct {
	*blockDB
	outbox *notify.Outbox
}

// openOutbox opens the outbox of f with the channels given. Only send creates (create) the
// database, the log and the tables; run opens an existing database that holds the log.
func openOutbox(e *env, f *notifyFlags, channels []notify.Channel, create bool) (*outboxDB, error) {
	if f.dsn == "" || f.keyPath == "" {
		return nil, errors.New("--db and --key are required")
	}
	if inMemory(f.dsn) {
		return nil, errors.New("sqlite://:memory: is gone when the command ends; name the database file (sqlite://PATH)")
	}
	key, err := loadLogKey(e, f.keyPath)
	if err != nil {
		return nil, fmt.Errorf("key: %s", oneLine(err.Error()))
	}
	b, err := openBlockDB(e, blockLog{
		dsn: f.dsn, origin: f.origin, key: key, create: create,
		block: "notify", first: "send a notification first (dpi notify send)", keyName: "the key",
	})
	if err != nil {
		return nil, err
	}
	// The webhook channel's signer also signs status callbacks, so that run delivers those
	// that send asked for.
	cfg := notify.Config{Log: b.log, Channels: channels}
	for _, c := range channels {
		if w, ok := c.(*notify.Webhook); ok {
			cfg.Callbacks = w
		}
	}
	o, err := notify.Open(e.ctx, b.db, cfg)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &outboxDB{blockDB: b, outbox: o}, nil
}

// notifyFail prints a command's error on stderr and returns code.
func notifyFail(e *env, cmd string, code int, err error) int {
	fmt.Fprintf(e.stderr, "dpi: notify %s: %s\n", cmd, oneLine(err.Error()))
	return code
}

// statusExit is the exit code of a notification's status: 0 delivered, 1 failed for good,
// 3 not delivered yet.
func statusExit(s notify.Status) int {
	switch {
	case s == notify.Delivered:
		return exitOK
	case s.Final():
		return exitRejected
	}
	return exitIndeterminate
}

// parseVars reads --var name=value flags; a name given more than once makes a list.
func parseVars(vars []string) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--var %q: want NAME=VALUE", printable(v))
		}
		switch prev := out[name].(type) {
		case nil:
			out[name] = value
		case string:
			out[name] = []string{prev, value}
		case []string:
			out[name] = append(prev, value)
		}
	}
	return out, nil
}

// notifyResult is the JSON form of "dpi notify send --json" and "dpi notify status --json".
type notifyResult struct {
	Notification *notify.Notification `json:"notification"`
	// Duplicate, from send, says that the idempotency key was used before: this is the first
	// notification, and nothing new was stored or sent.
	Duplicate bool `json:"duplicate,omitempty"`
	// History, from status, is the notification's evidence, oldest first.
	History []notify.Event `json:"history,omitempty"`
}

func runNotifySend(e *env, args []string) int {
	const usage = "dpi notify send --db DSN --key KEY.pem --template FILE --to CHANNEL:ADDRESS [--var NAME=VALUE...]\n" +
		"    [--idempotency-key K] [--reference REF] [--callback-url URL] [--queue] [--log ORIGIN]\n" +
		"    [channel flags] [--json]\n\n" +
		"Renders the template with the --var values and stores the notification in the outbox, with\n" +
		"the evidence of its creation, then delivers what is due on the configured channels (one\n" +
		"dispatcher pass, as dpi notify run --until-empty; --queue stores only, for a dpi notify run\n" +
		"that runs elsewhere) and prints the notification; its ID is the last line. CHANNEL is\n" +
		"webhook (ADDRESS an https URL), email (an address) or sms (an E.164 number). The template\n" +
		"file holds the body; for email an optional first line 'Subject: ...'. Placeholders are\n" +
		"((name)), ((name??text shown when name is yes)); a --var given more than once is a list.\n" +
		"A missing or extra --var refuses the message. With an --idempotency-key already used, send\n" +
		"prints the first notification and stores and sends nothing new. The database is created\n" +
		"if needed, and a checkpoint of the outbox's log is signed after the change. With\n" +
		"--callback-url, the sending service is told at that URL when the notification reaches a\n" +
		"final status: a status callback signed with the webhook secret, retried like a webhook.\n\n" +
		notifyChannelUsage + "\n" +
		"Exit 0 delivered (or stored, with --queue), 1 delivery failed for good (permanent-,\n" +
		"temporary- or technical-failure), 2 usage error or unusable input (a template that does\n" +
		"not parse, a --var missing or not in the template, an address the channel cannot reach,\n" +
		"a channel not configured, a --key that is not the log's key), 3 stored but not delivered\n" +
		"yet: an attempt failed and the next is due later (dpi notify run delivers it)."
	fs := e.newFlags("notify send", usage)
	f := addNotifyFlags(fs, "database, created if needed: sqlite://PATH or postgres://...")
	cf := addChannelFlags(fs)
	tmplPath := fs.String("template", "", "file holding the message template ('-' for standard input)")
	to := fs.String("to", "", "CHANNEL:ADDRESS, such as webhook:https://app.example/hook, email:ana@example.org or sms:+5511987654321")
	var vars listFlag
	fs.Var(&vars, "var", "a personalisation value, NAME=VALUE (repeatable; a NAME given twice makes a list)")
	key := fs.String("idempotency-key", "", "the message is sent once whatever the number of sends with this key")
	reference := fs.String("reference", "", "the service's own reference, sent with the notification and kept in the log (not personal data)")
	queue := fs.Bool("queue", false, "store the notification only; dpi notify run delivers it")
	callbackURL := fs.String("callback-url", "", "the sending service's URL for a signed status callback when the notification reaches a final status (needs the webhook secret)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 || *tmplPath == "" || *to == "" {
		return e.usageError("usage: %s", usage)
	}
	channel, address, ok := strings.Cut(*to, ":")
	typ, known := channelTemplate[channel]
	if !ok || !known || address == "" {
		return e.usageError("notify send: --to is CHANNEL:ADDRESS with CHANNEL webhook, email or sms")
	}
	personalisation, err := parseVars(vars)
	if err != nil {
		return e.usageError("notify send: %s", err)
	}
	src, err := e.readInput(*tmplPath, limits.MaxNotifyTemplate)
	if err != nil {
		return e.usageError("notify send: template: %s", oneLine(err.Error()))
	}
	tmpl, err := notify.ParseTemplate(typ, string(src))
	if err != nil {
		return e.usageError("notify send: template: %s", oneLine(err.Error()))
	}
	channels, err := cf.channels(e)
	if err != nil {
		return e.usageError("notify send: %s", err)
	}
	i := slices.IndexFunc(channels, func(c notify.Channel) bool { return c.Name() == channel })
	if i < 0 {
		return e.usageError("notify send: the %s channel is not configured: give %s", channel, channelNeeds[channel])
	}
	// The outbox checks both again; checking first creates no database for a message it
	// would refuse.
	if ac, ok := channels[i].(notify.AddressChecker); ok {
		if err := ac.CheckAddress(address); err != nil {
			return e.usageError("notify send: --to: %s", oneLine(err.Error()))
		}
	}
	if _, err := tmpl.Render(personalisation); err != nil {
		return e.usageError("notify send: %s", oneLine(err.Error()))
	}
	if *callbackURL != "" {
		w := slices.IndexFunc(channels, func(c notify.Channel) bool { _, ok := c.(*notify.Webhook); return ok })
		if w < 0 {
			return e.usageError("notify send: --callback-url needs the webhook secret, which signs the callbacks: give %s", channelNeeds["webhook"])
		}
		if err := channels[w].(*notify.Webhook).CheckAddress(*callbackURL); err != nil {
			return e.usageError("notify send: --callback-url: %s", oneLine(err.Error()))
		}
	}
	o, err := openOutbox(e, f, channels, true)
	if err != nil {
		return notifyFail(e, "send", exitUsage, err)
	}
	defer o.Close()

	if *key != "" {
		n, err := o.outbox.Lookup(e.ctx, *key)
		switch {
		case err == nil:
			return printNotification(e, notifyResult{Notification: n, Duplicate: true}, *queue)
		case !errors.Is(err, notify.ErrNotFound):
			return notifyFail(e, "send", exitUsage, err)
		}
	}
	id, err := o.outbox.Send(e.ctx, notify.Message{Channel: channel, To: address, Template: tmpl,
		Personalisation: personalisation, Reference: *reference, IdempotencyKey: *key, CallbackURL: *callbackURL})
	if err != nil {
		return notifyFail(e, "send", exitUsage, err)
	}
	code = exitOK
	if !*queue {
		d, err := notify.NewDispatcher(o.outbox, notify.DispatcherConfig{})
		if err == nil {
			err = d.RunUntilEmpty(e.ctx)
		}
		if err != nil {
			code = notifyFail(e, "send", exitUsage, fmt.Errorf("stored as %s, but not delivered (dpi notify run delivers it): %w", id, err))
		}
	}
	if err := o.checkpoint(e); err != nil {
		code = notifyFail(e, "send", exitCodeOf(err), fmt.Errorf("stored as %s, but the notify log's checkpoint was refused: %w", id, err))
	}
	n, err := o.outbox.Get(e.ctx, id)
	if err != nil {
		return notifyFail(e, "send", exitUsage, err)
	}
	if c := printNotification(e, notifyResult{Notification: n}, *queue); code == exitOK {
		code = c
	}
	return code
}

// printNotification prints a notification (and, from status, its history), and returns the
// exit code of its status; a notification only stored is done when queue is set.
func printNotification(e *env, res notifyResult, queue bool) int {
	n := res.Notification
	code := statusExit(n.Status)
	if queue && !n.Status.Final() {
		code = exitOK
	}
	if e.json {
		if err := e.printJSON(res); err != nil {
			return exitUsage
		}
		return code
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 1, ' ', 0)
	if res.Duplicate {
		fmt.Fprintf(w, "duplicate:\tthe idempotency key was used before: this is the first notification, nothing new was sent\n")
	}
	fmt.Fprintf(w, "status:\t%s\n", n.Status)
	fmt.Fprintf(w, "channel:\t%s\n", printable(n.Channel))
	fmt.Fprintf(w, "to:\t%s\n", printable(n.To))
	if n.Reference != "" {
		fmt.Fprintf(w, "reference:\t%s\n", printable(n.Reference))
	}
	fmt.Fprintf(w, "attempts:\t%d\n", n.Attempts)
	if n.Reason != "" {
		fmt.Fprintf(w, "reason:\t%s\n", printable(n.Reason))
	}
	fmt.Fprintf(w, "created:\t%s\n", n.Created.Format(time.RFC3339))
	if !n.NextAttempt.IsZero() {
		fmt.Fprintf(w, "next attempt:\t%s\n", n.NextAttempt.Format(time.RFC3339))
	}
	if n.Content.Subject != "" {
		fmt.Fprintf(w, "subject:\t%s\n", printable(n.Content.Subject))
	}
	for _, ev := range res.History {
		line := fmt.Sprintf("%s %s", ev.At.UTC().Format(time.RFC3339), ev.Status)
		if ev.Attempt > 0 {
			line += fmt.Sprintf(", attempt %d", ev.Attempt)
		}
		if ev.Reason != "" {
			line += ": " + ev.Reason
		}
		if !ev.Next.IsZero() {
			line += ", next at " + ev.Next.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "evidence:\t%s\n", printable(line))
	}
	_ = w.Flush()
	fmt.Fprintln(e.stdout, n.ID)
	return code
}

// notifyRunResult is the JSON form of "dpi notify run --json": what this run recorded
// (notify.DispatcherStats), not what other runs on the database did meanwhile.
type notifyRunResult struct {
	Attempts  int `json:"attempts"`
	Delivered int `json:"delivered"`
	Retrying  int `json:"retrying"`
	Failed    int `json:"failed"`
}

func runNotifyRun(e *env, args []string) int {
	const usage = "dpi notify run --db DSN --key KEY.pem [--until-empty] [--workers N] [--log ORIGIN] [channel flags] [--json]\n" +
		"    [--nats URL [--nats-stream NAME]]\n\n" +
		"The dispatcher: delivers the outbox's notifications on the configured channels as they\n" +
		"fall due, and tries failed ones again on the retry schedule of Standard Webhooks\n" +
		"(5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h). It runs until interrupted (SIGINT,\n" +
		"SIGTERM), or with --until-empty until no notification is due. Many may run on one\n" +
		"PostgreSQL database; one killed mid-attempt loses nothing: its notification is tried\n" +
		"again when its lease ends. Notifications of channels not configured here wait. Prints\n" +
		"how many attempts this run made and how they ended (not those of other runs on the\n" +
		"database), and signs a checkpoint of the outbox's log. The database is never created.\n\n" +
		"With --nats, the runs on one database share the work through a NATS JetStream stream\n" +
		"(--nats-stream, created if missing): each run publishes the claims it makes, and the\n" +
		"workers of every run attempt them. The stream carries a notification's ID, attempt and\n" +
		"lease, never its address or content. The server must be reachable at start (within 5 s)\n" +
		"and have JetStream; later outages are waited out. --until-empty does not go with --nats.\n\n" +
		notifyChannelUsage + "\n" +
		"Exit 0 done (failed deliveries are counted, not an error), 2 usage error or unusable input\n" +
		"(no such database or notify log, a channel flag refused, a --key that is not the log's\n" +
		"key, the database failing, the NATS server unreachable or without JetStream)."
	fs := e.newFlags("notify run", usage)
	f := addNotifyFlags(fs, "database holding the outbox: sqlite://PATH or postgres://...")
	cf := addChannelFlags(fs)
	untilEmpty := fs.Bool("until-empty", false, "stop once no notification is due")
	workers := fs.Int("workers", notify.DefaultWorkers, "how many notifications are attempted at once")
	natsURL := fs.String("nats", "", "the NATS server (nats://host:4222, tls://...; a comma-separated list for a cluster) through whose JetStream the runs on this database share the work")
	natsStream := fs.String("nats-stream", notify.DefaultFanOutStream, "with --nats, the JetStream stream of the claims; every run on the database names the same")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return e.usageError("usage: %s", usage)
	}
	if *natsURL == "" && flagSet(fs, "nats-stream") {
		return e.usageError("notify run: --nats-stream needs --nats")
	}
	if *natsURL != "" && *untilEmpty {
		return e.usageError("notify run: --until-empty does not go with --nats: the workers of every run attempt the claims, so run until interrupted")
	}
	channels, err := cf.channels(e)
	if err != nil {
		return e.usageError("notify run: %s", err)
	}
	o, err := openOutbox(e, f, channels, false)
	if err != nil {
		return notifyFail(e, "run", exitUsage, err)
	}
	defer o.Close()
	cfg := notify.DispatcherConfig{Workers: *workers}
	if *natsURL != "" {
		nc, js, err := connectJetStream(e.ctx, *natsURL)
		if err != nil {
			return notifyFail(e, "run", exitUsage, err)
		}
		defer nc.Close()
		cfg.FanOut = &notify.FanOutConfig{JetStream: js, Stream: *natsStream}
		// Run with fan-out waits out a NATS outage, trying again at each poll; the log
		// says why nothing is delivered meanwhile.
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	d, err := notify.NewDispatcher(o.outbox, cfg)
	if err != nil {
		return e.usageError("notify run: %s", oneLine(err.Error()))
	}
	if *untilEmpty {
		err = d.RunUntilEmpty(e.ctx)
	} else {
		err = d.Run(e.ctx)
	}
	// The email channel keeps connections for the next deliveries: end them with QUIT.
	for _, c := range channels {
		if m, ok := c.(*notify.Email); ok {
			m.CloseIdleConnections()
		}
	}
	code = exitOK
	if err != nil && e.ctx.Err() == nil {
		code = notifyFail(e, "run", exitUsage, err)
	}
	// The run may have been interrupted: what it did is recorded all the same.
	ctx := context.WithoutCancel(e.ctx)
	if _, err := o.log.Checkpoint(ctx); err != nil {
		code = notifyFail(e, "run", exitCodeOf(err), fmt.Errorf("the notify log's checkpoint was refused: %w", err))
	}
	// This run's own records: other runs on the database append to the same log meanwhile.
	st := d.Stats()
	res := notifyRunResult{Attempts: st.Attempts, Delivered: st.Delivered, Retrying: st.Retrying, Failed: st.Failed}
	if e.json {
		if err := e.printJSON(res); err != nil {
			return exitUsage
		}
		return code
	}
	fmt.Fprintf(e.stdout, "%s: %d delivered, %d to be tried again, %d failed for good\n",
		plural(res.Attempts, "attempt", "attempts"), res.Delivered, res.Retrying, res.Failed)
	return code
}

// readOnlyChannel lets status open an outbox, which needs a channel, without configuring
// one: status delivers nothing.
type readOnlyChannel struct{}

func (readOnlyChannel) Name() string { return "status" }

func (readOnlyChannel) Deliver(context.Context, *notify.Delivery) error {
	return errors.New("dpi notify status delivers nothing")
}

func runNotifyStatus(e *env, args []string) int {
	const usage = "dpi notify status --db DSN [--log ORIGIN] [--json] ID\n\n" +
		"Prints the notification ID as the outbox holds it (status, channel, address, attempts,\n" +
		"the reason of the last failure, the next attempt) and its evidence from the outbox's\n" +
		"log, oldest first: each status change and attempt. Writes nothing; needs no key.\n\n" +
		"Exit 0 delivered, 1 failed for good (permanent-, temporary- or technical-failure) or no\n" +
		"such notification, 2 usage error or unusable input (no such database or notify log),\n" +
		"3 not delivered yet (created, or sending: attempted, and the next attempt is due later)."
	fs := e.newFlags("notify status", usage)
	dsn := fs.String("db", "", "database holding the outbox: sqlite://PATH or postgres://...")
	origin := fs.String("log", defaultNotifyLog, notifyLogHelp)
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 || *dsn == "" {
		return e.usageError("usage: %s", usage)
	}
	db, err := store.OpenReadOnly(e.ctx, *dsn)
	if errors.Is(err, store.ErrNotExist) {
		return notifyFail(e, "status", exitUsage, fmt.Errorf("%w: send a notification first (dpi notify send)", notExistError(*dsn, "there is no outbox in it")))
	}
	if err != nil {
		return notifyFail(e, "status", exitUsage, err)
	}
	defer db.Close()
	origins, err := evidence.Origins(e.ctx, db)
	if err != nil || !slices.Contains(origins, *origin) {
		return notifyFail(e, "status", exitUsage, fmt.Errorf("the database holds no notify log %q: send a notification first (dpi notify send), or name the log with --log", *origin))
	}
	l, err := evidence.Open(e.ctx, db, evidence.Config{Origin: *origin, ReadOnly: true})
	if err != nil {
		return notifyFail(e, "status", exitUsage, err)
	}
	o, err := notify.Open(e.ctx, db, notify.Config{Log: l, Channels: []notify.Channel{readOnlyChannel{}}})
	if err != nil {
		return notifyFail(e, "status", exitUsage, err)
	}
	n, err := o.Get(e.ctx, rest[0])
	if errors.Is(err, notify.ErrNotFound) {
		return notifyFail(e, "status", exitRejected, fmt.Errorf("no notification %s in the outbox", printable(rest[0])))
	}
	if err != nil {
		return notifyFail(e, "status", exitUsage, err)
	}
	hist, err := o.History(e.ctx, n.ID)
	if err != nil {
		return notifyFail(e, "status", exitUsage, err)
	}
	return printNotification(e, notifyResult{Notification: n, History: hist}, false)
}
