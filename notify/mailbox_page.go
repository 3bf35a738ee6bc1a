package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// MinMailboxCSRFKey is the shortest MailboxPageConfig.CSRFKey NewMailboxPage accepts, in
// bytes.
const MinMailboxCSRFKey = 32

// MailboxPageConfig configures the person's mailbox page made by NewMailboxPage. Mailbox,
// Recipient and CSRFKey are required; every other field's zero value is a working default.
type MailboxPageConfig struct {
	// Mailbox holds the notices.
	Mailbox *Mailbox
	// Recipient says who is signed in, from the service's own session: the recipient
	// reference the person's notices were sent to (Message.To). It returns an error when
	// nobody is signed in; the page then answers 401.
	Recipient func(*http.Request) (string, error)
	// CSRFKey keys the tokens that bind an open form to the person it was shown to: at
	// least MinMailboxCSRFKey random bytes, secret, the same in every instance.
	CSRFKey []byte
	// Languages are the languages offered, from "es", "pt" and "en"; the first is shown when
	// neither ?lang= nor Accept-Language names another. Empty means es, pt, en.
	Languages []string
	// Location is the time zone times are shown in; nil means UTC.
	Location *time.Location
	// SignInURL, when set, is linked from the page a person who is not signed in sees.
	SignInURL string
	// Logger, when set, hears of the failures a person sees as "something went wrong".
	// Never a recipient reference, a token or a notice is logged.
	Logger *slog.Logger
	// Now is the clock CSRF tokens are timed by; nil means time.Now.
	Now func() time.Time
}

// mailboxPage is the handler NewMailboxPage returns. It is immutable once built.
type mailboxPage struct {
	mb        *Mailbox
	recipient func(*http.Request) (string, error)
	key       []byte
	langs     []string
	loc       *time.Location
	signIn    string
	log       *slog.Logger
	now       func() time.Time
	pages     map[string]*template.Template
	style     template.CSS
	csp       string
	origins   *http.CrossOriginProtection
	mux       *http.ServeMux
}

var _ http.Handler = (*mailboxPage)(nil)

//go:embed templates
var mailboxTemplates embed.FS

// NewMailboxPage returns the person's mailbox page: an http.Handler, server-rendered
// without JavaScript, in Spanish, Portuguese or English, meeting WCAG 2.1 AA, where a
// signed-in person lists their notices and opens one. Opening is a deliberate act — a
// button, never a link a browser might prefetch — because it may serve the notice in law;
// the mailbox records it, with its time, in the evidence log. Mount it at a path that ends
// in "/" (with http.StripPrefix when that is not the root); its links are relative. It
// serves:
//
//	GET  /              the person's notices, newest first
//	GET  /notice/{id}   a notice: its text once opened, otherwise a button to open it
//	POST /open          open notice id (form fields id and csrf), then 303 to the notice
//
// A person who is not signed in gets 401; a notice that is not theirs, or does not exist,
// 404 alike; an open without a valid token, or from another origin, 403. Every answer has
// a Content-Security-Policy that allows no script, and is not cached.
func NewMailboxPage(cfg MailboxPageConfig) (http.Handler, error) {
	if cfg.Mailbox == nil || cfg.Recipient == nil {
		return nil, fmt.Errorf("%w: a mailbox page needs a mailbox and a Recipient function", ErrConfig)
	}
	if len(cfg.CSRFKey) < MinMailboxCSRFKey {
		return nil, fmt.Errorf("%w: the CSRF key must be at least %d bytes", ErrConfig, MinMailboxCSRFKey)
	}
	p := &mailboxPage{
		mb: cfg.Mailbox, recipient: cfg.Recipient, key: bytes.Clone(cfg.CSRFKey), langs: slices.Clone(cfg.Languages),
		loc: cfg.Location, signIn: cfg.SignInURL, log: cfg.Logger, now: cfg.Now, origins: http.NewCrossOriginProtection(),
	}
	if len(p.langs) == 0 {
		p.langs = slices.Clone(defaultMailboxLanguages)
	}
	for i, l := range p.langs {
		if mailboxLanguages[l] == nil || slices.Index(p.langs, l) != i {
			return nil, fmt.Errorf("%w: the page's languages are es, pt and en, each once; not %q", ErrConfig, l)
		}
	}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.now == nil {
		p.now = time.Now
	}
	style, err := mailboxTemplates.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	p.style = template.CSS(style)
	base := template.Must(template.ParseFS(mailboxTemplates, "templates/layout.html"))
	p.pages = map[string]*template.Template{}
	for _, name := range []string{"list.html", "notice.html", "message.html"} {
		p.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(mailboxTemplates, "templates/"+name))
	}
	sum := sha256.Sum256(style)
	p.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /{$}", p.list)
	p.mux.HandleFunc("GET /notice/{id}", p.notice)
	p.mux.HandleFunc("POST /open", p.open)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, p.lang(r), http.StatusNotFound)
	})
	return p, nil
}

// ServeHTTP sets the security headers of every answer, then serves the page.
func (p *mailboxPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Vary", "Accept-Language")
	p.mux.ServeHTTP(w, r)
}

// mailboxData is what the templates see.
type mailboxData struct {
	T     *mailboxMessages
	Lang  string
	Langs []mailboxLangLink
	Title string
	Style template.CSS

	Notices  []noticeView
	Notice   *noticeView
	Token    string
	BackHref string

	Status  int
	Message string
	SignIn  string
}

type mailboxLangLink struct {
	Code, Name, Href string
	Current          bool
}

// noticeView is a notice as the page shows it.
type noticeView struct {
	ID, Href, Title, Available, State, Class, Hash string
	Opened                                         bool
	Paragraphs                                     []string
}

// lang chooses the page's language: ?lang= first, then Accept-Language, then the first of
// the page's languages.
func (p *mailboxPage) lang(r *http.Request) string {
	if l := matchMailboxLanguage(p.langs, r.URL.Query().Get("lang")); l != "" {
		return l
	}
	best, bestQ := "", 0.0
	for i, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		if i == limits.MaxMailboxAcceptLanguages {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if l := matchMailboxLanguage(p.langs, tag); l != "" && q > bestQ {
			best, bestQ = l, q
		}
	}
	if best != "" {
		return best
	}
	return p.langs[0]
}

func (p *mailboxPage) signedIn(r *http.Request) (string, bool) {
	who, err := p.recipient(r)
	if err != nil || checkRecipient(who) != nil {
		return "", false
	}
	return who, true
}

func (p *mailboxPage) data(lang, title string) *mailboxData {
	m := mailboxLanguages[lang]
	d := &mailboxData{T: m, Lang: lang, Title: title, Style: p.style}
	for _, l := range p.langs {
		d.Langs = append(d.Langs, mailboxLangLink{Code: l, Name: mailboxLanguages[l].LangName, Href: "?lang=" + l, Current: l == lang})
	}
	return d
}

// view makes a notice's view; href is relative to the page it is shown on.
func (p *mailboxPage) view(m *mailboxMessages, n *Notice, href string) noticeView {
	v := noticeView{ID: n.ID, Href: href, Title: noticeTitle(m, n), Available: fmt.Sprintf(m.Available, m.date(n.MadeAvailable, p.loc)),
		State: m.New, Class: "new", Hash: n.ContentHash, Opened: !n.Opened.IsZero()}
	if v.Opened {
		v.State, v.Class = fmt.Sprintf(m.OpenedOn, m.date(n.Opened, p.loc)), "opened"
		for para := range strings.SplitSeq(n.Text, "\n\n") {
			v.Paragraphs = append(v.Paragraphs, para)
		}
	}
	return v
}

// noticeTitle is the notice's subject, or else its first line, shortened.
func noticeTitle(m *mailboxMessages, n *Notice) string {
	t := n.Subject
	if t == "" {
		t, _, _ = strings.Cut(n.Text, "\n")
	}
	if utf8.RuneCountInString(t) > 80 {
		t = string([]rune(t)[:79]) + "…"
	}
	if strings.TrimSpace(t) == "" {
		t = m.Untitled
	}
	return t
}

func (p *mailboxPage) list(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(r)
	who, ok := p.signedIn(r)
	if !ok {
		p.message(w, r, lang, http.StatusUnauthorized)
		return
	}
	notices, err := p.mb.Notices(r.Context(), who)
	if err != nil {
		p.failed(w, r, lang, "list", err)
		return
	}
	m := mailboxLanguages[lang]
	d := p.data(lang, m.PageTitle)
	for i := range notices {
		d.Notices = append(d.Notices, p.view(m, &notices[i], "notice/"+url.PathEscape(notices[i].ID)+"?lang="+lang))
	}
	p.render(w, http.StatusOK, "list.html", d)
}

func (p *mailboxPage) notice(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(r)
	who, ok := p.signedIn(r)
	if !ok {
		p.message(w, r, lang, http.StatusUnauthorized)
		return
	}
	n, err := p.mb.Notice(r.Context(), who, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		p.message(w, r, lang, http.StatusNotFound)
		return
	}
	if err != nil {
		p.failed(w, r, lang, "notice", err)
		return
	}
	m := mailboxLanguages[lang]
	v := p.view(m, n, "")
	d := p.data(lang, v.Title)
	d.Notice, d.Token, d.BackHref = &v, p.token(who), "../?lang="+lang
	p.render(w, http.StatusOK, "notice.html", d)
}

func (p *mailboxPage) open(w http.ResponseWriter, r *http.Request) {
	lang := p.lang(r)
	if p.origins.Check(r) != nil {
		p.message(w, r, lang, http.StatusForbidden)
		return
	}
	who, ok := p.signedIn(r)
	if !ok {
		p.message(w, r, lang, http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limits.MaxMailboxPageForm)
	if err := r.ParseForm(); err != nil {
		p.message(w, r, lang, http.StatusBadRequest)
		return
	}
	if !p.validToken(who, r.PostForm.Get("csrf")) {
		p.message(w, r, lang, http.StatusForbidden)
		return
	}
	id := r.PostForm.Get("id")
	_, err := p.mb.Open(r.Context(), who, id)
	if errors.Is(err, ErrNotFound) {
		p.message(w, r, lang, http.StatusNotFound)
		return
	}
	if err != nil {
		p.failed(w, r, lang, "open", err)
		return
	}
	w.Header().Set("Location", "notice/"+url.PathEscape(id)+"?lang="+lang)
	w.WriteHeader(http.StatusSeeOther)
}

func (p *mailboxPage) message(w http.ResponseWriter, r *http.Request, lang string, status int) {
	m := mailboxLanguages[lang]
	title, text := m.ErrorTitle, m.Error
	switch status {
	case http.StatusUnauthorized:
		title, text = m.SignedOutTitle, m.SignedOut
	case http.StatusForbidden:
		title, text = m.ForbiddenTitle, m.Forbidden
	case http.StatusNotFound:
		title, text = m.NotFoundTitle, m.NotFound
	case http.StatusBadRequest:
		title, text = m.BadRequestTitle, m.BadRequest
	}
	d := p.data(lang, title)
	d.Status, d.Message = status, text
	if status == http.StatusUnauthorized {
		d.SignIn = p.signIn
	} else {
		up := strings.Repeat("../", strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/"))
		if up == "" {
			up = "./"
		}
		d.BackHref = up + "?lang=" + lang
	}
	p.render(w, status, "message.html", d)
}

// failed answers 500 and tells the logger which step failed. The error comes from the
// database and names no person.
func (p *mailboxPage) failed(w http.ResponseWriter, r *http.Request, lang, step string, err error) {
	if p.log != nil {
		p.log.LogAttrs(r.Context(), slog.LevelError, "mailbox page failed", slog.String("step", step), slog.String("error", err.Error()))
	}
	p.message(w, r, lang, http.StatusInternalServerError)
}

func (p *mailboxPage) render(w http.ResponseWriter, status int, name string, d *mailboxData) {
	var b bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&b, "layout", d); err != nil {
		if p.log != nil {
			p.log.LogAttrs(context.Background(), slog.LevelError, "mailbox page template failed", slog.String("template", name), slog.String("error", err.Error()))
		}
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// A CSRF token is exp || nonce || HMAC-SHA-256(key, label, recipient, exp, nonce), in
// base64url: it binds a form to the person it was shown to and to a time, without server
// state.
const (
	mailboxCSRFLabel    = "dpi-notify-mailbox/csrf/v1\x00"
	mailboxCSRFNonce    = 16
	mailboxCSRFSize     = 8 + mailboxCSRFNonce + sha256.Size
	mailboxCSRFLifetime = 2 * time.Hour
)

func (p *mailboxPage) token(who string) string {
	var b [mailboxCSRFSize]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.now().Add(mailboxCSRFLifetime).Unix()))
	_, _ = rand.Read(b[8 : 8+mailboxCSRFNonce])
	copy(b[8+mailboxCSRFNonce:], p.tokenMAC(who, b[:8+mailboxCSRFNonce]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (p *mailboxPage) tokenMAC(who string, expNonce []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(mailboxCSRFLabel))
	m.Write([]byte(who))
	m.Write([]byte{0})
	m.Write(expNonce)
	return m.Sum(nil)
}

func (p *mailboxPage) validToken(who, tok string) bool {
	if len(tok) != base64.RawURLEncoding.EncodedLen(mailboxCSRFSize) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) != mailboxCSRFSize || !hmac.Equal(b[8+mailboxCSRFNonce:], p.tokenMAC(who, b[:8+mailboxCSRFNonce])) {
		return false
	}
	now := p.now()
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return now.Before(exp) && !exp.After(now.Add(mailboxCSRFLifetime+time.Minute))
}
