package notify

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/internal/webpage"
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
	*webpage.Page
	mb        *Mailbox
	recipient func(*http.Request) (string, error)
	loc       *time.Location
	signIn    string
	pages     map[string]*template.Template
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
	langs, err := webpage.Languages(cfg.Languages, defaultMailboxLanguages, func(l string) bool { return mailboxLanguages[l] != nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	p := &mailboxPage{mb: cfg.Mailbox, recipient: cfg.Recipient, loc: cfg.Location, signIn: cfg.SignInURL}
	if p.loc == nil {
		p.loc = time.UTC
	}
	read := func(name string) (string, error) {
		b, err := mailboxTemplates.ReadFile("templates/" + name)
		return string(b), err
	}
	pages, style, err := webpage.ParseTemplates(read, []string{"list.html", "notice.html", "message.html"})
	if err != nil {
		return nil, err
	}
	p.pages = pages
	p.Page = webpage.New(webpage.Config{
		CSRFKey: cfg.CSRFKey, CSRFLabel: mailboxCSRFLabel, Languages: langs, Match: matchMailboxLanguage,
		Style: style, Name: "mailbox page", Logger: cfg.Logger, Now: cfg.Now,
	})
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /{$}", p.list)
	p.mux.HandleFunc("GET /notice/{id}", p.notice)
	p.mux.HandleFunc("POST /open", p.open)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, p.Lang(r), http.StatusNotFound)
	})
	return p, nil
}

// ServeHTTP sets the security headers of every answer, then serves the page.
func (p *mailboxPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.SetHeaders(w.Header())
	w.Header().Set("X-Frame-Options", "DENY")
	p.mux.ServeHTTP(w, r)
}

// mailboxData is what the templates see.
type mailboxData struct {
	T     *mailboxMessages
	Lang  string
	Langs []webpage.LangLink
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

// noticeView is a notice as the page shows it.
type noticeView struct {
	ID, Href, Title, Available, State, Class, Hash string
	Opened                                         bool
	Paragraphs                                     []string
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
	return &mailboxData{T: m, Lang: lang, Title: title, Style: p.Style(),
		Langs: p.LangLinks(lang, func(l string) string { return mailboxLanguages[l].LangName })}
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
	lang := p.Lang(r)
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
	lang := p.Lang(r)
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
	d.Notice, d.Token, d.BackHref = &v, p.Token(who), "../?lang="+lang
	p.render(w, http.StatusOK, "notice.html", d)
}

func (p *mailboxPage) open(w http.ResponseWriter, r *http.Request) {
	lang := p.Lang(r)
	if p.CrossOrigin(r) {
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
	if !p.ValidToken(who, r.PostForm.Get("csrf")) {
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
		d.BackHref = webpage.BackHref(r, lang)
	}
	p.render(w, status, "message.html", d)
}

// failed answers 500 and tells the logger which step failed. The error comes from the
// database and names no person.
func (p *mailboxPage) failed(w http.ResponseWriter, r *http.Request, lang, step string, err error) {
	p.Failed(r.Context(), step, err)
	p.message(w, r, lang, http.StatusInternalServerError)
}

func (p *mailboxPage) render(w http.ResponseWriter, status int, name string, d *mailboxData) {
	p.Render(w, status, p.pages[name], name, d)
}

// mailboxCSRFLabel separates the mailbox's CSRF tokens from any other page's.
const mailboxCSRFLabel = "dpi-notify-mailbox/csrf/v1\x00"
