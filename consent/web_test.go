package consent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// The people of the page tests, by CPF.
const (
	anaCPF = "39053344705"
	biaCPF = "11144477735"
)

// personHeader carries, in these tests only, who is signed in: the test's stand-in for a
// service's session.
const personHeader = "X-Test-Person"

// pageFixture is a consent store with records of two people, and the page on a loopback
// server.
type pageFixture struct {
	*fixture
	page      http.Handler
	srv       *httptest.Server
	client    *http.Client
	ana, bia  consent.PersonRef
	housing   string // ana's consent to share for housing benefit
	school    string // ana's consent to share for school enrolment
	tax       string // ana's record under a legal obligation
	biaRecord string
	mu        sync.Mutex
	pageNow   time.Time
}

func (pf *pageFixture) clock() time.Time {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return pf.pageNow
}

func (pf *pageFixture) advance(d time.Duration) {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.pageNow = pf.pageNow.Add(d)
}

func newPageFixture(t *testing.T, db *store.DB, tweak func(*consent.PageConfig)) *pageFixture {
	t.Helper()
	ctx := context.Background()
	pf := &pageFixture{fixture: newFixture(t, db), pageNow: time.Now()}
	pf.ana = pf.pseudo.Person("BR", "cpf", anaCPF)
	pf.bia = pf.pseudo.Person("BR", "cpf", biaCPF)

	ch, err := pf.store.Give(ctx, grant(pf.ana))
	require.NoError(t, err)
	pf.housing = ch.Record.ID
	g := grant(pf.ana)
	g.Recipients = []string{"school-board.example"}
	g.Purposes = []consent.Purpose{{Code: "school", Text: "Enrol your child at a public school"}}
	g.DataCategories = []string{"address"}
	g.MaxUses = 3
	pf.now = pf.now.Add(time.Minute)
	ch, err = pf.store.Give(ctx, g)
	require.NoError(t, err)
	pf.school = ch.Record.ID
	g = grant(pf.ana)
	g.LegalBasis = "BR-LGPD-7-II"
	g.Recipients = []string{"tax-office.example"}
	g.Purposes = []consent.Purpose{{Code: "tax", Text: "Report benefits paid to the tax office"}}
	pf.now = pf.now.Add(time.Minute)
	ch, err = pf.store.Give(ctx, g)
	require.NoError(t, err)
	pf.tax = ch.Record.ID
	ch, err = pf.store.Give(ctx, grant(pf.bia))
	require.NoError(t, err)
	pf.biaRecord = ch.Record.ID
	pf.now = pf.now.Add(time.Hour)
	d, err := pf.store.Authorize(ctx, request(pf.ana))
	require.NoError(t, err)
	require.True(t, d.Allow, d.Reason)

	key := bytes.Repeat([]byte{7}, consent.MinCSRFKey)
	cfg := consent.PageConfig{
		Store:   pf.store,
		CSRFKey: key,
		Person: func(r *http.Request) (consent.PersonRef, error) {
			cpf := r.Header.Get(personHeader)
			if cpf == "" {
				return "", errors.New("nobody is signed in")
			}
			return pf.pseudo.Person("BR", "cpf", cpf), nil
		},
		Now: pf.clock,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	pf.page, err = consent.NewPage(cfg)
	require.NoError(t, err)
	pf.srv = httptest.NewServer(pf.page)
	t.Cleanup(pf.srv.Close)
	pf.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return pf
}

// pageResponse is one answer of the page, read whole.
type pageResponse struct {
	status int
	header http.Header
	body   string
}

func (pf *pageFixture) do(t *testing.T, method, path, person string, form url.Values, header http.Header) pageResponse {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, pf.srv.URL+path, body)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if person != "" {
		req.Header.Set(personHeader, person)
	}
	resp, err := pf.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return pageResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (pf *pageFixture) get(t *testing.T, path, person string) pageResponse {
	t.Helper()
	return pf.do(t, http.MethodGet, path, person, nil, nil)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token reads the CSRF token of the withdraw forms from the person's page.
func (pf *pageFixture) token(t *testing.T, person string) string {
	t.Helper()
	r := pf.get(t, "/", person)
	require.Equal(t, http.StatusOK, r.status)
	m := csrfField.FindStringSubmatch(r.body)
	require.NotNil(t, m, "no withdraw form on the page")
	return m[1]
}

func (pf *pageFixture) status(t *testing.T, id string) consent.Status {
	t.Helper()
	r, err := pf.store.Get(context.Background(), id)
	require.NoError(t, err)
	return r.Status
}

func TestPageListsRecordsAndUses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		pf := newPageFixture(t, db, nil)
		r := pf.get(t, "/?lang=en", anaCPF)
		require.Equal(t, http.StatusOK, r.status)
		for _, want := range []string{
			`<html lang="en">`,
			"My consents and the use of my data",
			"Decide your application for housing benefit",
			"Enrol your child at a public school",
			"Report benefits paid to the tax office",
			"agency-b.example", "agency-a.example", "school-board.example", "tax-office.example",
			"income and address",
			"Consent given",
			"at most 3 uses",
			"0 of 3",
			// The record under a legal obligation is shown as what it is, never as consent.
			"In force on a legal basis (not consent)",
			"This is not consent: agency-b.example processes your data on the basis of a legal obligation",
			"Compliance with a legal or regulatory obligation",
			"Lei nº 13.709/2018 (LGPD), Art. 7, II",
			// The use: who, when, what for, which data.
			"Who used my data",
			"<td>agency-a.example</td><td>agency-b.example</td><td>Decide your application for housing benefit</td><td>income</td>",
			"1 December 2026, 11:02 UTC",
			"Withdraw consent for “Decide your application for housing benefit”",
			"Withdraw consent for “Enrol your child at a public school”",
			`href="receipt/` + pf.housing + `?lang=en"`,
			"https://agency-b.example/my-data",
		} {
			assert.Contains(t, r.body, want)
		}
		assert.Equal(t, 2, strings.Count(r.body, `<button type="submit"`), "one withdraw button per consent in force, none for the legal obligation")
		assert.NotContains(t, r.body, "Withdraw consent for “Report benefits")
		assert.NotContains(t, r.body, pf.biaRecord, "another person's record")
		assert.NotContains(t, r.body, string(pf.ana), "the person reference is never shown")
		assert.NotContains(t, r.body, anaCPF)

		r = pf.get(t, "/", biaCPF)
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, pf.biaRecord)
		assert.NotContains(t, r.body, pf.housing)
		assert.Contains(t, r.body, "Nadie ha usado sus datos con estos registros.")

		r = pf.get(t, "/", "")
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Contains(t, r.body, "Inicie sesión")
		assert.NotContains(t, r.body, "agency-b.example")
	})
}

func TestPageWithdraw(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		pf := newPageFixture(t, db, nil)
		anaToken := pf.token(t, anaCPF)
		biaToken := pf.token(t, biaCPF)
		form := func(id, token string) url.Values { return url.Values{"id": {id}, "csrf": {token}} }

		for _, c := range []struct {
			name   string
			person string
			form   url.Values
			header http.Header
			status int
		}{
			{"no token", anaCPF, url.Values{"id": {pf.housing}}, nil, http.StatusForbidden},
			{"altered token", anaCPF, form(pf.housing, alteredToken(anaToken)), nil, http.StatusForbidden},
			{"truncated token", anaCPF, form(pf.housing, anaToken[:len(anaToken)-1]), nil, http.StatusForbidden},
			{"another person's token", anaCPF, form(pf.housing, biaToken), nil, http.StatusForbidden},
			{"cross-site", anaCPF, form(pf.housing, anaToken), http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
			{"other origin", anaCPF, form(pf.housing, anaToken), http.Header{"Origin": {"https://attacker.example"}}, http.StatusForbidden},
			{"not signed in", "", form(pf.housing, anaToken), nil, http.StatusUnauthorized},
			{"another person's record", biaCPF, form(pf.housing, biaToken), nil, http.StatusNotFound},
			{"no such record", biaCPF, form("cr_aaaaaaaaaaaaaaaaaaaaaaaaaa", biaToken), nil, http.StatusNotFound},
			{"malformed record ID", biaCPF, form("<script>", biaToken), nil, http.StatusNotFound},
			{"legal obligation", anaCPF, form(pf.tax, anaToken), nil, http.StatusConflict},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := pf.do(t, http.MethodPost, "/withdraw", c.person, c.form, c.header)
				assert.Equal(t, c.status, r.status)
				assert.Equal(t, consent.Given, pf.status(t, pf.housing), "nothing changed")
				assert.NotContains(t, r.body, "<script>")
			})
		}
		// Another person's record and a record that does not exist are one answer.
		other := pf.do(t, http.MethodPost, "/withdraw", biaCPF, form(pf.housing, biaToken), nil)
		none := pf.do(t, http.MethodPost, "/withdraw", biaCPF, form("cr_aaaaaaaaaaaaaaaaaaaaaaaaaa", biaToken), nil)
		assert.Equal(t, none.body, other.body)

		same := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {pf.srv.URL}}
		r := pf.do(t, http.MethodPost, "/withdraw?lang=pt", anaCPF, form(pf.housing, anaToken), same)
		require.Equal(t, http.StatusSeeOther, r.status)
		assert.Equal(t, "./?lang=pt&withdrawn="+pf.housing, r.header.Get("Location"))
		assert.Equal(t, consent.Withdrawn, pf.status(t, pf.housing))
		assert.Equal(t, consent.Given, pf.status(t, pf.school), "the other consent stands")

		r = pf.get(t, "/?lang=pt&withdrawn="+pf.housing, anaCPF)
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, `role="status"`)
		assert.Contains(t, r.body, "Você retirou o seu consentimento para “Decide your application for housing benefit”")
		assert.Contains(t, r.body, "Consentimento retirado")
		assert.Equal(t, 1, strings.Count(r.body, `<button type="submit"`))

		// The confirmation is only ever of the person's own withdrawn record.
		r = pf.get(t, "/?lang=pt&withdrawn="+pf.school, anaCPF)
		assert.NotContains(t, r.body, `role="status"`)

		r = pf.do(t, http.MethodPost, "/withdraw", anaCPF, form(pf.housing, anaToken), nil)
		assert.Equal(t, http.StatusConflict, r.status, "withdrawn already")

		pf.advance(3 * time.Hour)
		r = pf.do(t, http.MethodPost, "/withdraw", anaCPF, form(pf.school, anaToken), nil)
		assert.Equal(t, http.StatusForbidden, r.status, "an expired token")
		assert.Equal(t, consent.Given, pf.status(t, pf.school))
		r = pf.do(t, http.MethodPost, "/withdraw", anaCPF, form(pf.school, pf.token(t, anaCPF)), nil)
		assert.Equal(t, http.StatusSeeOther, r.status)
	})
}

// alteredToken changes one character of a token's MAC.
func alteredToken(token string) string {
	b := []byte(token)
	if b[40] == 'A' {
		b[40] = 'B'
	} else {
		b[40] = 'A'
	}
	return string(b)
}

func TestPageReceipt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		pf := newPageFixture(t, db, nil)
		ctx := context.Background()
		w, err := pf.store.Withdraw(ctx, pf.ana, pf.housing)
		require.NoError(t, err)
		leaf, err := w.Event.Log.LeafHash.MarshalText()
		require.NoError(t, err)

		r := pf.get(t, "/receipt/"+pf.housing+"?lang=es", anaCPF)
		require.Equal(t, http.StatusOK, r.status)
		for _, want := range []string{
			`<html lang="es">`,
			"<h1>Recibo</h1>",
			"Recibo: Consentimiento retirado",
			"usted retiró su consentimiento para que agency-b.example comparta sus datos (income y address) con agency-a.example, para: «Decide your application for housing benefit»",
			"agency-b.example/consent",
			strings.ReplaceAll(string(leaf), "+", "&#43;"), // html/template writes + as a reference
			"pida a agency-b.example una prueba de inclusión de la entrada",
			`href="` + pf.housing + `/signed"`,
			`href="../?lang=es"`,
		} {
			assert.Contains(t, r.body, want)
		}

		r = pf.get(t, "/receipt/"+pf.housing+"/signed", anaCPF)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "application/jose", r.header.Get("Content-Type"))
		rc, err := consent.VerifyReceipt(r.body, pf.key.Public())
		require.NoError(t, err)
		assert.Equal(t, consent.Withdrawn, rc.Event.Status)
		assert.Equal(t, w.Event.Log.Seq, rc.Event.Log.Seq)

		notFound := pf.get(t, "/receipt/cr_aaaaaaaaaaaaaaaaaaaaaaaaaa", biaCPF)
		assert.Equal(t, http.StatusNotFound, notFound.status)
		for _, path := range []string{"/receipt/" + pf.housing, "/receipt/" + pf.housing + "/signed"} {
			r = pf.get(t, path, biaCPF)
			assert.Equal(t, http.StatusNotFound, r.status, "another person's receipt")
			assert.NotContains(t, r.body, "agency-a.example")
		}
		assert.Equal(t, http.StatusUnauthorized, pf.get(t, "/receipt/"+pf.housing, "").status)
		assert.Equal(t, http.StatusNotFound, pf.get(t, "/nowhere", anaCPF).status)
	})
}

func TestPageLanguages(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "dpi.db"))
	require.NoError(t, err)
	defer db.Close()
	pf := newPageFixture(t, db, nil)
	for _, c := range []struct {
		query, accept, lang, title string
	}{
		{"", "", "es", "Mis consentimientos y el uso de mis datos"},
		{"?lang=pt", "en", "pt", "Meus consentimentos e o uso dos meus dados"},
		{"?lang=en", "", "en", "My consents and the use of my data"},
		{"?lang=pt-BR", "", "pt", "Meus consentimentos"},
		{"?lang=fr", "en-GB,en;q=0.9", "en", "My consents"},
		{"", "pt-BR,pt;q=0.9,en;q=0.8", "pt", "Meus consentimentos"},
		{"", "fr;q=1, pt;q=0.5, en;q=0.8", "en", "My consents"},
		{"", "en;q=0, pt;q=0.1", "pt", "Meus consentimentos"},
		{"", "fr, de", "es", "Mis consentimientos"},
		{"", "*", "es", "Mis consentimientos"},
	} {
		t.Run(c.query+" "+c.accept, func(t *testing.T) {
			h := http.Header{}
			if c.accept != "" {
				h.Set("Accept-Language", c.accept)
			}
			r := pf.do(t, http.MethodGet, "/"+c.query, anaCPF, nil, h)
			require.Equal(t, http.StatusOK, r.status)
			assert.Contains(t, r.body, `<html lang="`+c.lang+`">`)
			assert.Contains(t, r.body, c.title)
			for _, l := range []string{"es", "pt", "en"} {
				assert.Contains(t, r.body, `href="?lang=`+l+`" hreflang="`+l+`"`, "the language switch")
			}
			assert.Contains(t, r.body, `action="withdraw?lang=`+c.lang+`"`)
		})
	}
	// The error pages speak the person's language too.
	r := pf.do(t, http.MethodGet, "/?lang=pt", "", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.body, `<html lang="pt">`)
	assert.Contains(t, r.body, "Entre na sua conta")

	en := newPageFixture(t, sqliteFile(t), func(c *consent.PageConfig) { c.Languages = []string{"en", "pt"} })
	r = en.get(t, "/", anaCPF)
	assert.Contains(t, r.body, `<html lang="en">`)
	assert.NotContains(t, r.body, `hreflang="es"`)
	r = en.get(t, "/?lang=es", anaCPF)
	assert.Contains(t, r.body, `<html lang="en">`, "a language the page does not offer")
}

func sqliteFile(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "dpi.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// TestPageHeadersAndMarkup checks every kind of answer for the security headers, a style
// the Content-Security-Policy allows by its hash, the lang attribute, and no script.
func TestPageHeadersAndMarkup(t *testing.T) {
	pf := newPageFixture(t, sqliteFile(t), nil)
	token := pf.token(t, anaCPF)
	for _, c := range []struct {
		name   string
		method string
		path   string
		person string
		form   url.Values
		status int
	}{
		{"list", http.MethodGet, "/", anaCPF, nil, http.StatusOK},
		{"receipt", http.MethodGet, "/receipt/" + pf.school, anaCPF, nil, http.StatusOK},
		{"signed receipt", http.MethodGet, "/receipt/" + pf.school + "/signed", anaCPF, nil, http.StatusOK},
		{"signed out", http.MethodGet, "/", "", nil, http.StatusUnauthorized},
		{"not found", http.MethodGet, "/receipt/" + pf.biaRecord, anaCPF, nil, http.StatusNotFound},
		{"unknown path", http.MethodGet, "/admin", anaCPF, nil, http.StatusNotFound},
		{"forbidden", http.MethodPost, "/withdraw", anaCPF, url.Values{"id": {pf.school}}, http.StatusForbidden},
		{"withdrawn", http.MethodPost, "/withdraw", anaCPF, url.Values{"id": {pf.school}, "csrf": {token}}, http.StatusSeeOther},
		{"conflict", http.MethodPost, "/withdraw", anaCPF, url.Values{"id": {pf.school}, "csrf": {token}}, http.StatusConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := pf.do(t, c.method, c.path, c.person, c.form, nil)
			require.Equal(t, c.status, r.status)
			csp := r.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "style-src 'sha256-"} {
				assert.Contains(t, csp, want)
			}
			assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"))
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				return
			}
			assert.Regexp(t, `<html lang="(es|pt|en)">`, r.body)
			assertNoScript(t, r.body)
			m := styleElement.FindStringSubmatch(r.body)
			require.NotNil(t, m, "the stylesheet is inline")
			sum := sha256.Sum256([]byte(m[1]))
			assert.Contains(t, csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		})
	}
}

// assertNoScript checks that a page has no script: no element, no handler attribute, no
// javascript: URL.
func assertNoScript(t *testing.T, body string) {
	t.Helper()
	lower := strings.ToLower(body)
	assert.NotContains(t, lower, "<script")
	assert.NotRegexp(t, `(href|src|action)\s*=\s*"?\s*javascript:`, lower)
	assert.NotRegexp(t, `<[^>]*\son[a-z]+\s*=`, lower)
}

func TestPageEscapesRecordText(t *testing.T) {
	pf := newPageFixture(t, sqliteFile(t), nil)
	g := grant(pf.ana)
	g.Purposes = []consent.Purpose{{Code: "x", Text: `<script>alert(1)</script> & "quoted"`}}
	g.Notice.URL = "javascript:alert(1)"
	g.Withdrawal = `<img src=x onerror=alert(1)>`
	_, err := pf.store.Give(context.Background(), g)
	require.NoError(t, err)
	r := pf.get(t, "/", anaCPF)
	require.Equal(t, http.StatusOK, r.status)
	assertNoScript(t, r.body)
	assert.Contains(t, r.body, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34;")
	assert.NotContains(t, r.body, "<img")
}

func TestNewPageConfig(t *testing.T) {
	f := newFixture(t, sqliteFile(t))
	person := func(*http.Request) (consent.PersonRef, error) { return "", errors.New("nobody") }
	key := bytes.Repeat([]byte{1}, consent.MinCSRFKey)
	for _, c := range []struct {
		name string
		cfg  consent.PageConfig
	}{
		{"no store", consent.PageConfig{Person: person, CSRFKey: key}},
		{"no person", consent.PageConfig{Store: f.store, CSRFKey: key}},
		{"no key", consent.PageConfig{Store: f.store, Person: person}},
		{"short key", consent.PageConfig{Store: f.store, Person: person, CSRFKey: key[:31]}},
		{"unknown language", consent.PageConfig{Store: f.store, Person: person, CSRFKey: key, Languages: []string{"es", "fr"}}},
		{"repeated language", consent.PageConfig{Store: f.store, Person: person, CSRFKey: key, Languages: []string{"es", "es"}}},
		{"broken template", consent.PageConfig{Store: f.store, Person: person, CSRFKey: key, Templates: fstest.MapFS{"list.html": {Data: []byte(`{{define "main"}}{{.Nope`)}}}},
		{"style that closes its element", consent.PageConfig{Store: f.store, Person: person, CSRFKey: key, Templates: fstest.MapFS{"style.css": {Data: []byte(`</style><script>`)}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := consent.NewPage(c.cfg)
			assert.ErrorIs(t, err, consent.ErrConfig)
		})
	}
}

func TestPageTemplatesOverride(t *testing.T) {
	css := "body { color: #000000; background: #ffffff; }"
	pf := newPageFixture(t, sqliteFile(t), func(c *consent.PageConfig) {
		c.Templates = fstest.MapFS{
			"style.css":    {Data: []byte(css)},
			"message.html": {Data: []byte(`{{define "main"}}<h1 class="agency">{{.Title}}</h1>{{if .SignIn}}<a href="{{.SignIn}}">{{.T.SignIn}}</a>{{end}}{{end}}`)},
		}
		c.SignInURL = "/login?next=consent"
	})
	r := pf.get(t, "/?lang=en", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.body, `<h1 class="agency">Sign in</h1>`)
	assert.Contains(t, r.body, `<a href="/login?next=consent">Sign in</a>`)
	assert.Contains(t, r.body, "<style>"+css+"</style>")
	sum := sha256.Sum256([]byte(css))
	assert.Contains(t, r.header.Get("Content-Security-Policy"), "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	r = pf.get(t, "/", anaCPF)
	assert.Contains(t, r.body, "Decide your application for housing benefit", "the list keeps its default template")
}

// TestPageLogsNoPersonalData checks that the page logs nothing while it works, and that
// what it logs when the store fails names no person.
func TestPageLogsNoPersonalData(t *testing.T) {
	var logs bytes.Buffer
	db := sqliteFile(t)
	pf := newPageFixture(t, db, func(c *consent.PageConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	})
	token := pf.token(t, anaCPF)
	pf.get(t, "/receipt/"+pf.housing, anaCPF)
	pf.do(t, http.MethodPost, "/withdraw", anaCPF, url.Values{"id": {pf.housing}, "csrf": {token}}, nil)
	pf.do(t, http.MethodPost, "/withdraw", biaCPF, url.Values{"id": {pf.school}, "csrf": {token}}, nil)
	pf.get(t, "/", "")
	assert.Empty(t, logs.String())

	require.NoError(t, db.Close())
	r := pf.get(t, "/", anaCPF)
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Contains(t, r.body, "Algo salió mal")
	assert.Contains(t, logs.String(), "consent page failed")
	for _, secret := range []string{anaCPF, string(pf.ana), token} {
		assert.NotContains(t, logs.String(), secret)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
