package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

func TestMailboxDeliverAndOpen(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
		id, err := f.outbox.Send(ctx, notify.Message{Channel: "mailbox", To: "psn-ana", Template: decision,
			Personalisation: map[string]any{"case": "EXP-9", "outcome": "concedida"}, Reference: "EXP-9"})
		require.NoError(t, err)
		require.NoError(t, f.disp.RunUntilEmpty(ctx))

		// Delivered again (a dispatcher that died before recording): stored and made
		// available once.
		require.NoError(t, f.mailbox.Deliver(ctx, &notify.Delivery{ID: id, Attempt: 2, To: "psn-ana", Content: notify.Content{Text: "other"}}))
		list, err := f.mailbox.Notices(ctx, "psn-ana")
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "Resolución EXP-9", list[0].Subject)
		assert.True(t, list[0].Opened.IsZero())
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.MadeAvailable, notify.Delivered}, f.history(t, id))

		// Another person sees nothing of it.
		other, err := f.mailbox.Notices(ctx, "psn-bob")
		require.NoError(t, err)
		assert.Empty(t, other)
		_, err = f.mailbox.Open(ctx, "psn-bob", id)
		assert.ErrorIs(t, err, notify.ErrNotFound)
		_, err = f.mailbox.Notice(ctx, "psn-bob", id)
		assert.ErrorIs(t, err, notify.ErrNotFound)

		f.clk.Add(3600e9)
		n, err := f.mailbox.Open(ctx, "psn-ana", id)
		require.NoError(t, err)
		assert.True(t, f.clk.Now().Equal(n.Opened))
		f.clk.Add(3600e9)
		again, err := f.mailbox.Open(ctx, "psn-ana", id)
		require.NoError(t, err)
		assert.True(t, n.Opened.Equal(again.Opened), "the first opening counts")
		assert.Equal(t, []notify.Status{notify.Created, notify.Sending, notify.MadeAvailable, notify.Delivered, notify.Opened}, f.history(t, id))

		// A recipient reference is refused when the message is created if it is not one.
		_, err = f.outbox.Send(ctx, notify.Message{Channel: "mailbox", To: "Ana Souza", Template: alertText})
		assert.ErrorIs(t, err, notify.ErrInput)
	})
}

// pageFixture serves a mailbox page whose signed-in person is the test-person cookie.
type pageFixture struct {
	*legalFixture
	srv *httptest.Server
}

const testPersonCookie = "test-person"

var csrfKey = []byte("0123456789abcdef0123456789abcdef")

func newPageFixture(t testing.TB, db *store.DB) *pageFixture {
	t.Helper()
	f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
	page, err := notify.NewMailboxPage(notify.MailboxPageConfig{
		Mailbox: f.mailbox, CSRFKey: csrfKey, Location: cet, SignInURL: "/signin", Now: f.clk.Now,
		Recipient: func(r *http.Request) (string, error) {
			ck, err := r.Cookie(testPersonCookie)
			if err != nil {
				return "", err
			}
			return ck.Value, nil
		},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	// The test's sign-in hook, not part of the page.
	mux.HandleFunc("GET /test-login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: testPersonCookie, Value: r.URL.Query().Get("person"), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/mailbox/", http.StatusSeeOther)
	})
	mux.Handle("/mailbox/", http.StripPrefix("/mailbox", page))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &pageFixture{legalFixture: f, srv: srv}
}

func client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t testing.TB, c *http.Client, u string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var tokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestMailboxPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		pf := newPageFixture(t, db)
		id := pf.send(t, pf.notice("psn-ana", ""))
		c := client(t)

		code, h, body := get(t, c, pf.srv.URL+"/mailbox/")
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Contains(t, body, "Inicie sesión")
		assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
		assert.NotContains(t, h.Get("Content-Security-Policy"), "script-src")
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		assert.Equal(t, "no-store", h.Get("Cache-Control"))
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"))

		code, _, _ = get(t, c, pf.srv.URL+"/test-login?person=psn-ana")
		require.Equal(t, http.StatusSeeOther, code)
		code, _, body = get(t, c, pf.srv.URL+"/mailbox/")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "Resolución EXP-7")
		assert.Contains(t, body, "Sin abrir")
		assert.NotContains(t, body, "<script")
		assert.NotContains(t, body, "denegada", "the list does not open the notice")

		// The notice before it is opened: a button, and nothing of the text.
		code, _, body = get(t, c, pf.srv.URL+"/mailbox/notice/"+id, "Accept-Language", "pt-BR,pt;q=0.9")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, `lang="pt"`)
		assert.Contains(t, body, "Abrir a notificação")
		assert.NotContains(t, body, "denegada")
		m := tokenRE.FindStringSubmatch(body)
		require.Len(t, m, 2)
		token := m[1]

		post := func(form url.Values, origin string) int {
			req, err := http.NewRequest(http.MethodPost, pf.srv.URL+"/mailbox/open?lang=pt", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if origin != "" {
				req.Header.Set("Origin", origin)
				req.Header.Set("Sec-Fetch-Site", "cross-site")
			}
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		assert.Equal(t, http.StatusForbidden, post(url.Values{"id": {id}}, ""), "no token")
		assert.Equal(t, http.StatusForbidden, post(url.Values{"id": {id}, "csrf": {token}}, "https://evil.example"), "another origin")
		assert.Equal(t, http.StatusNotFound, post(url.Values{"id": {"ntf_other"}, "csrf": {token}}, ""))
		n, err := pf.mailbox.Notice(ctx, "psn-ana", id)
		require.NoError(t, err)
		assert.True(t, n.Opened.IsZero(), "nothing above opened it")

		assert.Equal(t, http.StatusSeeOther, post(url.Values{"id": {id}, "csrf": {token}}, ""))
		code, _, body = get(t, c, pf.srv.URL+"/mailbox/notice/"+id+"?lang=en")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "Su solicitud EXP-7 ha sido denegada.")
		assert.Contains(t, body, "Opened on March 2, 2026, 10:00 CET")
		assert.Contains(t, body, n.ContentHash)
		assert.Equal(t, notify.Opened, pf.history(t, id)[4])

		// Another person: the notice is not theirs.
		other := client(t)
		get(t, other, pf.srv.URL+"/test-login?person=psn-bob")
		code, _, body = get(t, other, pf.srv.URL+"/mailbox/notice/"+id)
		assert.Equal(t, http.StatusNotFound, code)
		assert.NotContains(t, body, "denegada")
		// A token shown to Ana is no use to Bob.
		req, _ := http.NewRequest(http.MethodPost, pf.srv.URL+"/mailbox/open", strings.NewReader(url.Values{"id": {id}, "csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := other.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
}

func TestMailboxPageRefused(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
	who := func(*http.Request) (string, error) { return "psn-ana", nil }
	for name, cfg := range map[string]notify.MailboxPageConfig{
		"no mailbox":    {Recipient: who, CSRFKey: csrfKey},
		"no recipient":  {Mailbox: f.mailbox, CSRFKey: csrfKey},
		"short key":     {Mailbox: f.mailbox, Recipient: who, CSRFKey: csrfKey[:31]},
		"unknown lang":  {Mailbox: f.mailbox, Recipient: who, CSRFKey: csrfKey, Languages: []string{"fr"}},
		"repeated lang": {Mailbox: f.mailbox, Recipient: who, CSRFKey: csrfKey, Languages: []string{"es", "es"}},
	} {
		_, err := notify.NewMailboxPage(cfg)
		assert.ErrorIs(t, err, notify.ErrConfig, name)
	}
}
