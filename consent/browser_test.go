package consent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/internal/browsertest"
)

// testPersonCookie holds, in the browser test only, the CPF of who signed in through
// /test-login: the test's stand-in for a service's session.
const testPersonCookie = "test-person"

// What the browser test checks in the page, with JavaScript of the test's own (the page
// has none).
const (
	// unlabelledControls lists the form controls a person cannot tell apart by their
	// accessible name: an input, select or textarea without a label or aria-label, or a
	// button without words.
	unlabelledControls = `Array.from(document.querySelectorAll('input, select, textarea, button'))
		.filter(el => el.type !== 'hidden')
		.filter(el => {
			const names = Array.from(el.labels || []).map(l => l.textContent);
			names.push(el.getAttribute('aria-label') || '');
			if (el.tagName === 'BUTTON') names.push(el.textContent);
			return names.join('').trim() === '';
		})
		.map(el => el.outerHTML)`

	// lowContrast lists visible text whose colour has a contrast under 4.5:1 with the
	// background behind it (WCAG 2.1, 1.4.3).
	lowContrast = `(() => {
		const rgb = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
			const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
		const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
			return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
		const behind = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
			if (c && c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
		const out = [];
		const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			if (!n.textContent.trim()) continue;
			const el = n.parentElement, cs = getComputedStyle(el);
			if (cs.display === 'none' || cs.visibility === 'hidden') continue;
			const a = lum(rgb(cs.color)), b = lum(behind(el));
			const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
			if (ratio < 4.5) out.push(ratio.toFixed(2) + ' ' + el.tagName + ': ' + n.textContent.trim().slice(0, 40));
		}
		return out;
	})()`

	focusedJS = `(() => { const el = document.activeElement; return el.tagName + ' ' + el.textContent.trim(); })()`
)

// TestPageInBrowser signs in through the test hook, sees two consents, a record under a
// legal obligation and a use, withdraws one consent with the keyboard alone, and sees it
// withdrawn while the other stands, in a real Chromium.
func TestPageInBrowser(t *testing.T) {
	ctx := browsertest.Start(t, "es-UY,es") // a person in Montevideo: the page follows the browser's Accept-Language
	var pseudo *consent.Pseudonymizer       // the fixture's, once it is made
	pf := newPageFixture(t, sqliteFile(t), func(c *consent.PageConfig) {
		c.Person = func(r *http.Request) (consent.PersonRef, error) {
			ck, err := r.Cookie(testPersonCookie)
			if err != nil || ck.Value == "" {
				return "", errors.New("nobody is signed in")
			}
			return pseudo.Person("BR", "cpf", ck.Value), nil
		}
	})
	pseudo = pf.pseudo

	// The test's own mux: /test-login is the test's sign-in hook, not part of the page.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /test-login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: testPersonCookie, Value: r.URL.Query().Get("person"), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("/", pf.page)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	// Not signed in: a page that says so, in the default language.
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	assert.Equal(t, "Inicie sesión", browsertest.Eval[string](t, ctx, `document.querySelector('h1').textContent`))

	// Signed in: two consents, the record under a legal obligation, and one use.
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/test-login?person="+anaCPF), chromedp.WaitVisible(chromedp.CSS("section.record")))
	assert.Equal(t, "es", browsertest.Eval[string](t, ctx, `document.documentElement.lang`))
	assert.Equal(t, 3, browsertest.Eval[int](t, ctx, `document.querySelectorAll('section.record').length`))
	assert.Equal(t, 2, browsertest.Eval[int](t, ctx, `document.querySelectorAll('form button').length`))
	assert.Equal(t, 1, browsertest.Eval[int](t, ctx, `document.querySelectorAll('table tbody tr').length`))
	assert.Contains(t, browsertest.Eval[string](t, ctx, `document.querySelector('table tbody tr').textContent`), "agency-a.example")
	assert.Contains(t, statusOf(t, ctx, pf.tax), "no es consentimiento")

	// What every person needs from the page, checked in the page as the browser built it.
	assert.Empty(t, browsertest.Eval[[]string](t, ctx, unlabelledControls), "form controls without a label")
	assert.Empty(t, browsertest.Eval[[]string](t, ctx, browsertest.HeadingJumps), "headings out of order")
	assert.Empty(t, browsertest.Eval[[]string](t, ctx, lowContrast), "text under 4.5:1")
	assert.Equal(t, 0, browsertest.Eval[int](t, ctx, `document.scripts.length`))
	// The inline stylesheet applies: the Content-Security-Policy allows it by its hash.
	assert.Equal(t, "rgb(155, 28, 28)", browsertest.Eval[string](t, ctx, `getComputedStyle(document.querySelector('button.withdraw')).backgroundColor`))

	// The keyboard alone: the first Tab reaches the skip link, which shows itself; more Tabs
	// reach the housing benefit's withdraw button, with a visible focus ring; Enter
	// withdraws.
	browsertest.Do(t, ctx, chromedp.KeyEvent(kb.Tab))
	assert.Equal(t, "A Saltar al contenido principal", browsertest.Eval[string](t, ctx, focusedJS))
	assert.Greater(t, browsertest.Eval[float64](t, ctx, `document.activeElement.getBoundingClientRect().top`), 0.0, "the focused skip link is on screen")
	want := "BUTTON Retirar el consentimiento para «Decide your application for housing benefit»"
	for i := 0; browsertest.Eval[string](t, ctx, focusedJS) != want; i++ {
		require.Less(t, i, 40, "the withdraw button is not reachable with Tab")
		browsertest.Do(t, ctx, chromedp.KeyEvent(kb.Tab))
	}
	assert.Equal(t, "solid", browsertest.Eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`))
	browsertest.Do(t, ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`.done[role="status"]`)))

	assert.Contains(t, browsertest.Eval[string](t, ctx, `document.querySelector('.done').textContent`), "Usted retiró su consentimiento")
	assert.Contains(t, statusOf(t, ctx, pf.housing), "Consentimiento retirado")
	assert.Contains(t, statusOf(t, ctx, pf.school), "Consentimiento dado")
	assert.Equal(t, 1, browsertest.Eval[int](t, ctx, `document.querySelectorAll('form button').length`))
	assert.Equal(t, consent.Withdrawn, pf.status(t, pf.housing))
	assert.Equal(t, consent.Given, pf.status(t, pf.school))

	// The receipt of the withdrawal, by a click, then the page in Portuguese.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`.done a`)), chromedp.WaitVisible(chromedp.CSS("article.receipt")))
	assert.Contains(t, browsertest.Eval[string](t, ctx, `document.querySelector('article.receipt h2').textContent`), "Recibo: Consentimiento retirado")
	assert.Empty(t, browsertest.Eval[[]string](t, ctx, browsertest.HeadingJumps), "headings out of order on the receipt")
	assert.Empty(t, browsertest.Eval[[]string](t, ctx, lowContrast), "text under 4.5:1 on the receipt")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[hreflang="pt"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="pt"] article.receipt`)))
	assert.Contains(t, browsertest.Eval[string](t, ctx, `document.querySelector('article.receipt h2').textContent`), "Recibo: Consentimento retirado")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`main p:last-child a`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="pt"] section.record`)))
	assert.Contains(t, statusOf(t, ctx, pf.housing), "Consentimento retirado")
}

// statusOf reads the status a record's section shows.
func statusOf(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return strings.TrimSpace(browsertest.Eval[string](t, ctx, `document.querySelector('section[aria-labelledby="h-`+id+`"] .status').textContent`))
}
