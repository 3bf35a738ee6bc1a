package consent

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/internal/webpage"
)

// MinCSRFKey is the shortest PageConfig.CSRFKey NewPage accepts, in bytes.
const MinCSRFKey = 32

// PageConfig configures the person's page made by [NewPage]. Store, Person and CSRFKey are
// required; every other field's zero value is a working default.
type PageConfig struct {
	// Store holds the person's records.
	Store *Store
	// Person says who is signed in, from the service's own session (the identity block's,
	// or another): the reference the person's records were given under
	// ([Pseudonymizer.Person]). It returns an error when nobody is signed in; the page then
	// answers 401.
	Person func(*http.Request) (PersonRef, error)
	// CSRFKey keys the tokens that bind a withdraw form to the person it was shown to: at
	// least MinCSRFKey random bytes, secret, and the same in every instance of the service.
	CSRFKey []byte
	// Templates, when set, restyles the page: each file in it named as one of the page's
	// own (layout.html, list.html, receipt.html, message.html, style.css; see the package's
	// templates folder) replaces that one, and the others stay. Templates are html/template
	// and see the same data as the defaults. The stylesheet is inlined and allowed by its
	// hash in the Content-Security-Policy, so a template must not add styles or scripts of
	// its own.
	Templates fs.FS
	// Languages are the languages offered, from "es", "pt" and "en"; the first is the one
	// shown when neither ?lang= nor Accept-Language names another. Empty means es, pt, en.
	Languages []string
	// Location is the time zone times are shown in; nil means UTC.
	Location *time.Location
	// SignInURL, when set, is linked from the page a person who is not signed in sees.
	SignInURL string
	// Logger, when set, hears of the failures a person sees as "something went wrong" (a
	// store that cannot be read). Nothing else is logged, and never a person reference, a
	// token or what a record says.
	Logger *slog.Logger
	// Now is the clock CSRF tokens are timed by; nil means time.Now.
	Now func() time.Time
}

// page is the handler NewPage returns. It is immutable once built.
type page struct {
	*webpage.Page
	store  *Store
	person func(*http.Request) (PersonRef, error)
	loc    *time.Location
	signIn string
	pages  map[string]*template.Template
	mux    *http.ServeMux
}

var _ http.Handler = (*page)(nil)

// NewPage returns the person's page: an http.Handler, server-rendered without JavaScript,
// in Spanish, Portuguese or English, where a signed-in person sees their consents and
// records under other legal bases, every use of their data, and the receipt of each
// record's latest change, and withdraws a consent. Mount it at a path that ends in "/"
// (with http.StripPrefix when that is not the root); its links are relative. It serves:
//
//	GET  /                     the person's records and every use of their data
//	POST /withdraw             withdraw record id (form fields id and csrf), then 303 to /
//	GET  /receipt/{id}         the receipt of the record's latest change, in plain words
//	GET  /receipt/{id}/signed  the same receipt signed, as a compact JWS to keep
//
// A person who is not signed in gets 401; a record that is not theirs, or does not exist,
// 404 alike; a withdrawal without a valid token, or from another origin, 403.
func NewPage(cfg PageConfig) (http.Handler, error) {
	if cfg.Store == nil || cfg.Person == nil {
		return nil, fmt.Errorf("%w: a page needs a store and a Person function", ErrConfig)
	}
	if len(cfg.CSRFKey) < MinCSRFKey {
		return nil, fmt.Errorf("%w: the CSRF key must be at least %d bytes", ErrConfig, MinCSRFKey)
	}
	langs, err := webpage.Languages(cfg.Languages, defaultLanguages, func(l string) bool { return languages[l] != nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	p := &page{store: cfg.Store, person: cfg.Person, loc: cfg.Location, signIn: cfg.SignInURL}
	if p.loc == nil {
		p.loc = time.UTC
	}
	pages, style, err := parsePages(cfg.Templates)
	if err != nil {
		return nil, err
	}
	p.pages = pages
	p.Page = webpage.New(webpage.Config{
		CSRFKey: cfg.CSRFKey, CSRFLabel: csrfLabel, Languages: langs, Match: matchLanguage,
		Style: style, Name: "consent page", Logger: cfg.Logger, Now: cfg.Now,
	})

	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /{$}", p.list)
	p.mux.HandleFunc("POST /withdraw", p.withdraw)
	p.mux.HandleFunc("GET /receipt/{id}", p.receipt)
	p.mux.HandleFunc("GET /receipt/{id}/signed", p.signedReceipt)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, p.Lang(r), http.StatusNotFound)
	})
	return p, nil
}

// ServeHTTP sets the security headers of every answer, then serves the page.
func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.SetHeaders(w.Header())
	p.mux.ServeHTTP(w, r)
}

//go:embed templates
var defaultTemplates embed.FS

// pageNames are the page templates; each is executed as "layout", which calls the
// page's "title" and "main".
var pageNames = []string{"list.html", "receipt.html", "message.html"}

// parsePages parses the page templates, each file taken from override when it has one.
func parsePages(override fs.FS) (map[string]*template.Template, string, error) {
	read := func(name string) (string, error) {
		if override != nil {
			b, err := fs.ReadFile(override, name)
			if err == nil {
				return string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("template %s: %v", name, err)
			}
		}
		b, err := defaultTemplates.ReadFile("templates/" + name)
		return string(b), err
	}
	pages, style, err := webpage.ParseTemplates(read, pageNames)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return pages, style, nil
}

// pageData is what the templates see.
type pageData struct {
	T     *messages
	Lang  string
	Langs []webpage.LangLink
	Title string
	Style template.CSS

	// The list.
	Records []recordView
	Uses    []useView
	Done    string // the confirmation of a withdrawal, when the person just withdrew
	DoneRef string // the receipt link of that withdrawal
	Token   string // the CSRF token of the withdraw forms

	// The receipt.
	Receipt     *receiptView
	ReceiptHTML template.HTML
	SignedHref  string
	SignedHelp  string
	BackHref    string

	// A message page.
	Status  int
	Message string
	SignIn  string
}

// recordView is a record as the list shows it.
type recordView struct {
	ID          string
	Heading     string
	Status      string
	StatusClass string // "active" or "ended"
	Facts       []fact
	NotConsent  string // said of a record under another legal basis
	Events      []string
	ReceiptHref string
	Withdraw    string // the withdraw button's words; empty when it cannot be withdrawn
}

// useView is one use as the list shows it.
type useView struct {
	When, Recipient, Controller, Purpose, Data string
}

// acceptLanguages returns the language tags of an Accept-Language header, most wanted
// first.
func acceptLanguages(header string) []string { return webpage.AcceptLanguages(header) }

// signedIn returns the person signed in, or false when nobody is.
func (p *page) signedIn(r *http.Request) (PersonRef, bool) {
	person, err := p.person(r)
	if err != nil || !person.Valid() {
		return "", false
	}
	return person, true
}

// data starts the templates' data for a page in lang.
func (p *page) data(lang, title string) *pageData {
	m := languages[lang]
	return &pageData{T: m, Lang: lang, Title: title, Style: p.Style(),
		Langs: p.LangLinks(lang, func(l string) string { return languages[l].LangName })}
}

func (p *page) list(w http.ResponseWriter, r *http.Request) {
	lang := p.Lang(r)
	person, ok := p.signedIn(r)
	if !ok {
		p.message(w, r, lang, http.StatusUnauthorized)
		return
	}
	h, err := p.store.History(r.Context(), person)
	if err != nil {
		p.failed(w, r, lang, "history", err)
		return
	}
	m := languages[lang]
	d := p.data(lang, m.PageTitle)
	d.Token = p.Token(string(person))
	byID := make(map[string]*Record, len(h.Records))
	for i := range h.Records {
		rec := &h.Records[i]
		byID[rec.ID] = rec
		d.Records = append(d.Records, p.recordView(m, lang, rec, h.Events))
	}
	for i := len(h.Uses) - 1; i >= 0; i-- {
		u := &h.Uses[i]
		uv := useView{When: m.date(u.At, p.loc), Recipient: u.Recipient, Purpose: u.Purpose, Data: m.list(u.DataCategories)}
		if rec := byID[u.RecordID]; rec != nil {
			uv.Controller = rec.Controller
			for _, pp := range rec.Purposes {
				if pp.Code == u.Purpose {
					uv.Purpose = pp.Text
				}
			}
		}
		d.Uses = append(d.Uses, uv)
	}
	if id := r.URL.Query().Get("withdrawn"); id != "" {
		if rec := byID[id]; rec != nil && rec.Status == Withdrawn {
			d.Done = fmt.Sprintf(m.WithdrawnDone, purposeWords(m, rec.Purposes))
			d.DoneRef = receiptHref(rec.ID, lang)
		}
	}
	p.render(w, http.StatusOK, "list.html", d)
}

func receiptHref(id, lang string) string {
	return "receipt/" + url.PathEscape(id) + "?lang=" + lang
}

func (p *page) recordView(m *messages, lang string, rec *Record, events []Event) recordView {
	v := recordView{
		ID: rec.ID, Heading: purposeWords(m, rec.Purposes) + " — " + rec.Controller,
		Status: m.status(rec.Status), StatusClass: "ended",
		Facts:       slices.DeleteFunc(recordFacts(m, rec, p.loc), func(f fact) bool { return f.Label == m.LabelStatus }),
		ReceiptHref: receiptHref(rec.ID, lang),
	}
	if rec.Status.Active() {
		v.StatusClass = "active"
	}
	if !isConsent(rec) {
		v.NotConsent = fmt.Sprintf(m.NotConsent, rec.Controller, basisWords(m, rec.LegalBasis))
	}
	if withdrawable(rec.Status) {
		v.Withdraw = fmt.Sprintf(m.WithdrawButton, purposeWords(m, rec.Purposes))
	}
	for _, ev := range events {
		if ev.RecordID != rec.ID {
			continue
		}
		line := fmt.Sprintf(m.EventLine, m.date(ev.At, p.loc), m.status(ev.Status), m.by(ev.By))
		if ev.Reason != "" {
			line += ". " + fmt.Sprintf(m.ReasonLine, m.reason(ev.Reason))
		}
		v.Events = append(v.Events, line)
	}
	return v
}

func (p *page) withdraw(w http.ResponseWriter, r *http.Request) {
	lang := p.Lang(r)
	if p.CrossOrigin(r) {
		p.message(w, r, lang, http.StatusForbidden)
		return
	}
	person, ok := p.signedIn(r)
	if !ok {
		p.message(w, r, lang, http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limits.MaxConsentPageForm)
	if err := r.ParseForm(); err != nil {
		p.message(w, r, lang, http.StatusBadRequest)
		return
	}
	if !p.ValidToken(string(person), r.PostForm.Get("csrf")) {
		p.message(w, r, lang, http.StatusForbidden)
		return
	}
	id := r.PostForm.Get("id")
	_, err := p.store.Withdraw(r.Context(), person, id)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotYours), errors.Is(err, ErrInput):
		p.message(w, r, lang, http.StatusNotFound)
		return
	case errors.Is(err, ErrTransition):
		p.message(w, r, lang, http.StatusConflict)
		return
	case err != nil:
		p.failed(w, r, lang, "withdraw", err)
		return
	}
	// A relative Location: the page may be mounted under a prefix it does not know.
	w.Header().Set("Location", "./?lang="+lang+"&withdrawn="+url.QueryEscape(id))
	w.WriteHeader(http.StatusSeeOther)
}

// ownReceipt returns the person's record id and its latest receipt, signed and as read
// back; ok is false when an answer was already written.
func (p *page) ownReceipt(w http.ResponseWriter, r *http.Request, lang string) (jws string, rc *Receipt, ok bool) {
	person, signedIn := p.signedIn(r)
	if !signedIn {
		p.message(w, r, lang, http.StatusUnauthorized)
		return "", nil, false
	}
	rec, err := p.store.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) || (err == nil && rec.Person != person) {
		p.message(w, r, lang, http.StatusNotFound)
		return "", nil, false
	}
	if err == nil {
		jws, err = p.store.Receipt(r.Context(), rec.ID)
	}
	if err == nil {
		rc, err = VerifyReceipt(jws, p.store.signer.Public())
	}
	if err != nil {
		p.failed(w, r, lang, "receipt", err)
		return "", nil, false
	}
	return jws, rc, true
}

func (p *page) receipt(w http.ResponseWriter, r *http.Request) {
	lang := p.Lang(r)
	_, rc, ok := p.ownReceipt(w, r, lang)
	if !ok {
		return
	}
	m := languages[lang]
	v := rc.view(m, p.loc)
	d := p.data(lang, v.Title)
	d.Receipt = &v
	d.ReceiptHTML = renderReceiptHTML(v)
	d.SignedHref = url.PathEscape(rc.Record.ID) + "/signed"
	d.SignedHelp = fmt.Sprintf(m.SignedHelp, rc.Record.Controller)
	d.BackHref = "../?lang=" + lang
	p.render(w, http.StatusOK, "receipt.html", d)
}

func (p *page) signedReceipt(w http.ResponseWriter, r *http.Request) {
	jws, rc, ok := p.ownReceipt(w, r, p.Lang(r))
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/jose")
	w.Header().Set("Content-Disposition", `attachment; filename="`+rc.Record.ID+`.jws"`)
	_, _ = w.Write([]byte(jws))
}

// message answers with a page that says what went wrong, for status.
func (p *page) message(w http.ResponseWriter, r *http.Request, lang string, status int) {
	m := languages[lang]
	title, text := m.ErrorTitle, m.Error
	switch status {
	case http.StatusUnauthorized:
		title, text = m.SignedOutTitle, m.SignedOut
	case http.StatusForbidden:
		title, text = m.ForbiddenTitle, m.Forbidden
	case http.StatusNotFound:
		title, text = m.NotFoundTitle, m.NotFound
	case http.StatusConflict:
		title, text = m.ConflictTitle, m.Conflict
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

// failed answers 500 and tells the logger, if any, which step failed. The error comes from
// the store or the database and names no person.
func (p *page) failed(w http.ResponseWriter, r *http.Request, lang, step string, err error) {
	p.Failed(r.Context(), step, err)
	p.message(w, r, lang, http.StatusInternalServerError)
}

// render executes a page into a buffer first, so a failing template sends a clean 500.
func (p *page) render(w http.ResponseWriter, status int, name string, d *pageData) {
	p.Render(w, status, p.pages[name], name, d)
}

// csrfLabel separates the consent page's CSRF tokens from any other page's.
const csrfLabel = "dpi-consent-page/csrf/v1\x00"
