// Package webpage holds the plumbing of the person-facing pages that blocks serve (the
// consent block's page, the notify block's mailbox): the security headers, CSRF tokens,
// language negotiation, cross-origin protection and template rendering. Each block keeps
// its own templates, translations and handlers; this package knows nothing of them.
package webpage

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Config configures a [Page]. Every field but Logger and Now is required; the block checks
// the key's length and the languages (with [Languages]) before it builds one.
type Config struct {
	// CSRFKey keys the page's CSRF tokens; it is copied.
	CSRFKey []byte
	// CSRFLabel separates one page's tokens from another's: a fixed string that ends in NUL.
	CSRFLabel string
	// Languages are the page's languages, checked by [Languages]; the first is the default.
	Languages []string
	// Match returns the one of the languages a tag names, or "" when it names none.
	Match func(langs []string, tag string) string
	// Style is the page's inline stylesheet, allowed by its hash in the CSP.
	Style string
	// Name names the page in log lines, such as "consent page".
	Name string
	// Logger, when set, hears of failures; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock tokens are timed by; nil means time.Now.
	Now func() time.Time
}

// Page is the plumbing a person-facing page shares with the others. It is immutable once
// built and safe for concurrent use.
type Page struct {
	key     []byte
	label   string
	langs   []string
	match   func([]string, string) string
	style   template.CSS
	csp     string
	name    string
	log     *slog.Logger
	now     func() time.Time
	origins *http.CrossOriginProtection
}

// New returns the Page cfg describes.
func New(cfg Config) *Page {
	p := &Page{
		key: bytes.Clone(cfg.CSRFKey), label: cfg.CSRFLabel, langs: slices.Clone(cfg.Languages), match: cfg.Match,
		style: template.CSS(cfg.Style), name: cfg.Name, log: cfg.Logger, now: cfg.Now,
		origins: http.NewCrossOriginProtection(),
	}
	if p.now == nil {
		p.now = time.Now
	}
	sum := sha256.Sum256([]byte(cfg.Style))
	p.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	return p
}

// Languages returns the languages a page offers: langs, or defaults when langs is empty.
// Each must be known, and named once.
func Languages(langs, defaults []string, known func(string) bool) ([]string, error) {
	if len(langs) == 0 {
		return slices.Clone(defaults), nil
	}
	for i, l := range langs {
		if !known(l) || slices.Index(langs, l) != i {
			return nil, fmt.Errorf("the page's languages are es, pt and en, each once; not %q", l)
		}
	}
	return slices.Clone(langs), nil
}

// Style returns the page's stylesheet, for the templates to inline.
func (p *Page) Style() template.CSS { return p.style }

// SetHeaders sets the security headers of every answer: a Content-Security-Policy that
// allows no script and only the page's own stylesheet, no sniffing, no referrer, no
// caching, and no framing.
func (p *Page) SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Language")
}

// CrossOrigin reports whether r is a cross-origin request that must be refused.
func (p *Page) CrossOrigin(r *http.Request) bool {
	return p.origins.Check(r) != nil
}

// Lang chooses the page's language: ?lang= first, then Accept-Language, then the first of
// the page's languages.
func (p *Page) Lang(r *http.Request) string {
	if l := p.match(p.langs, r.URL.Query().Get("lang")); l != "" {
		return l
	}
	for _, tag := range AcceptLanguages(r.Header.Get("Accept-Language")) {
		if l := p.match(p.langs, tag); l != "" {
			return l
		}
	}
	return p.langs[0]
}

// LangLink is one link of a page's language switch.
type LangLink struct {
	Code, Name, Href string
	Current          bool
}

// LangLinks returns the language switch of a page shown in lang; name gives each
// language's name in itself.
func (p *Page) LangLinks(lang string, name func(string) string) []LangLink {
	var links []LangLink
	for _, l := range p.langs {
		links = append(links, LangLink{Code: l, Name: name(l), Href: "?lang=" + l, Current: l == lang})
	}
	return links
}

// AcceptLanguages returns the language tags of an Accept-Language header (RFC 9110
// §12.5.4), most wanted first, leaving out those with q=0. It reads at most
// limits.MaxPageAcceptLanguages entries.
func AcceptLanguages(header string) []string {
	type tagQ struct {
		tag string
		q   float64
	}
	var tags []tagQ
	for i, part := range strings.Split(header, ",") {
		if i == limits.MaxPageAcceptLanguages {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if tag != "" && tag != "*" && q > 0 {
			tags = append(tags, tagQ{tag, q})
		}
	}
	slices.SortStableFunc(tags, func(a, b tagQ) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.tag
	}
	return out
}

// BackHref is the link from r's page back to the page's root, relative to r's path.
func BackHref(r *http.Request, lang string) string {
	up := strings.Repeat("../", strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/"))
	if up == "" {
		up = "./"
	}
	return up + "?lang=" + lang
}

// Failed tells the logger, if any, which step of a request failed. err must name no person.
func (p *Page) Failed(ctx context.Context, step string, err error) {
	if p.log != nil {
		p.log.LogAttrs(ctx, slog.LevelError, p.name+" failed", slog.String("step", step), slog.String("error", err.Error()))
	}
}

// Render executes t's "layout" with d into a buffer first, so a failing template sends a
// clean 500; name names t in the log.
func (p *Page) Render(w http.ResponseWriter, status int, t *template.Template, name string, d any) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", d); err != nil {
		if p.log != nil {
			p.log.LogAttrs(context.Background(), slog.LevelError, p.name+" template failed", slog.String("template", name), slog.String("error", err.Error()))
		}
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// ParseTemplates parses the page templates names, each on a clone of layout.html, with
// read returning a file's text. Each is executed as "layout", which calls the page's
// "title" and "main". It returns the templates and style.css; its errors say which file
// is wrong and wrap nothing, for the block to wrap in its own.
func ParseTemplates(read func(name string) (string, error), names []string) (map[string]*template.Template, string, error) {
	style, err := read("style.css")
	if err != nil {
		return nil, "", err
	}
	if strings.Contains(strings.ToLower(style), "</style") {
		return nil, "", errors.New("style.css must not close its <style> element")
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, "", err
	}
	base, err := template.New("layout.html").Parse(layout)
	if err != nil {
		return nil, "", fmt.Errorf("template layout.html: %v", err)
	}
	pages := make(map[string]*template.Template, len(names))
	for _, name := range names {
		src, err := read(name)
		if err != nil {
			return nil, "", err
		}
		t, err := template.Must(base.Clone()).New(name).Parse(src)
		if err != nil {
			return nil, "", fmt.Errorf("template %s: %v", name, err)
		}
		if t.Lookup("layout") == nil || t.Lookup("main") == nil {
			return nil, "", fmt.Errorf("template %s: layout.html must define \"layout\" and %s \"main\"", name, name)
		}
		pages[name] = t
	}
	return pages, style, nil
}

// A CSRF token is exp || nonce || HMAC-SHA-256(key, label, subject, exp, nonce), in
// base64url: it binds a form to the person it was shown to and to a time, needs no server
// state, and a page of one person is no use to another.
const (
	csrfNonce    = 16
	csrfSize     = 8 + csrfNonce + sha256.Size
	csrfLifetime = 2 * time.Hour
)

// Token returns a CSRF token for subject, the person the form is shown to.
func (p *Page) Token(subject string) string {
	var b [csrfSize]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.now().Add(csrfLifetime).Unix()))
	_, _ = rand.Read(b[8 : 8+csrfNonce])
	copy(b[8+csrfNonce:], p.tokenMAC(subject, b[:8+csrfNonce]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (p *Page) tokenMAC(subject string, expNonce []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(p.label))
	m.Write([]byte(subject))
	m.Write([]byte{0})
	m.Write(expNonce)
	return m.Sum(nil)
}

// ValidToken reports whether tok was made for subject by this page and has not expired.
func (p *Page) ValidToken(subject, tok string) bool {
	if len(tok) != base64.RawURLEncoding.EncodedLen(csrfSize) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) != csrfSize {
		return false
	}
	if !hmac.Equal(b[8+csrfNonce:], p.tokenMAC(subject, b[:8+csrfNonce])) {
		return false
	}
	now := p.now()
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return now.Before(exp) && !exp.After(now.Add(csrfLifetime+time.Minute))
}
