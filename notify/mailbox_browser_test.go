package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/browsertest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// TestMailboxPageInBrowser signs in through the test hook, sees a notice not yet opened,
// opens it with its button, and sees it marked opened with its text, in a real Chromium.
func TestMailboxPageInBrowser(t *testing.T) {
	ctx := browsertest.Start(t, "es-ES,es") // a person in Madrid: the page follows the browser's Accept-Language
	db, err := store.Open(context.Background(), "sqlite://"+t.TempDir()+"/dpi.db")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	pf := newPageFixture(t, db)
	id := pf.send(t, pf.notice("psn-ana", ""))

	browsertest.Do(t, ctx, chromedp.Navigate(pf.srv.URL+"/mailbox/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	assert.Equal(t, "Inicie sesión", browsertest.Eval[string](t, ctx, `document.querySelector('h1').textContent`))

	browsertest.Do(t, ctx, chromedp.Navigate(pf.srv.URL+"/test-login?person=psn-ana"), chromedp.WaitVisible(chromedp.CSS("li.notice")))
	assert.Equal(t, "es", browsertest.Eval[string](t, ctx, `document.documentElement.lang`))
	assert.Equal(t, 1, browsertest.Eval[int](t, ctx, `document.querySelectorAll('li.notice').length`))
	assert.Equal(t, "Sin abrir", browsertest.Eval[string](t, ctx, `document.querySelector('li.notice .state').textContent`))
	assert.Equal(t, 0, browsertest.Eval[int](t, ctx, `document.scripts.length`))
	assert.Empty(t, browsertest.Eval[[]string](t, ctx, browsertest.HeadingJumps))
	// The inline stylesheet applies: the Content-Security-Policy allows it by its hash.
	assert.Equal(t, "rgb(255, 244, 229)", browsertest.Eval[string](t, ctx, `getComputedStyle(document.querySelector('.state.new')).backgroundColor`))

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`li.notice h2 a`)), chromedp.WaitVisible(chromedp.CSS("button.open")))
	assert.NotContains(t, browsertest.Eval[string](t, ctx, `document.body.textContent`), "denegada", "not shown before it is opened")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`button.open`)), chromedp.WaitVisible(chromedp.CSS("article.text")))
	assert.Contains(t, browsertest.Eval[string](t, ctx, `document.querySelector('article.text').textContent`), "Su solicitud EXP-7 ha sido denegada.")
	assert.True(t, strings.HasPrefix(browsertest.Eval[string](t, ctx, `document.querySelector('.state').textContent`), "Abierta el 2 de marzo de 2026"))

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`main > p:last-child a`)), chromedp.WaitVisible(chromedp.CSS("li.notice")))
	assert.Contains(t, browsertest.Eval[string](t, ctx, `document.querySelector('li.notice .state').textContent`), "Abierta el")
	assert.Equal(t, notify.Opened, pf.history(t, id)[4])
}
