package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// startChromium starts Debian's Chromium, headless, with a fresh profile, as the consent
// page's browser test does, and returns a chromedp context on a tab that has run once.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Tool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root, inside a sandbox of their own
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// A person in Madrid: the page follows the browser's Accept-Language.
		chromedp.Flag("accept-lang", "es-ES,es"),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	return ctx
}

// inBrowser runs steps with a deadline: the test waits on what the page shows, never sleeps.
func inBrowser(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(sctx, steps...))
}

func evalJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	require.NoError(t, err, js)
	return v
}

// headingJumps lists where the headings skip a level, or do not start at h1.
const headingJumps = `(() => {
	const out = []; let prev = 0;
	for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
		const level = Number(h.tagName[1]);
		if (level > prev + 1) out.push('h' + prev + ' then h' + level + ': ' + h.textContent);
		prev = level;
	}
	return out;
})()`

// TestMailboxPageInBrowser signs in through the test hook, sees a notice not yet opened,
// opens it with its button, and sees it marked opened with its text, in a real Chromium.
func TestMailboxPageInBrowser(t *testing.T) {
	ctx := startChromium(t)
	db, err := store.Open(context.Background(), "sqlite://"+t.TempDir()+"/dpi.db")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	pf := newPageFixture(t, db)
	id := pf.send(t, pf.notice("psn-ana", ""))

	inBrowser(t, ctx, chromedp.Navigate(pf.srv.URL+"/mailbox/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	assert.Equal(t, "Inicie sesión", evalJS[string](t, ctx, `document.querySelector('h1').textContent`))

	inBrowser(t, ctx, chromedp.Navigate(pf.srv.URL+"/test-login?person=psn-ana"), chromedp.WaitVisible(chromedp.CSS("li.notice")))
	assert.Equal(t, "es", evalJS[string](t, ctx, `document.documentElement.lang`))
	assert.Equal(t, 1, evalJS[int](t, ctx, `document.querySelectorAll('li.notice').length`))
	assert.Equal(t, "Sin abrir", evalJS[string](t, ctx, `document.querySelector('li.notice .state').textContent`))
	assert.Equal(t, 0, evalJS[int](t, ctx, `document.scripts.length`))
	assert.Empty(t, evalJS[[]string](t, ctx, headingJumps))
	// The inline stylesheet applies: the Content-Security-Policy allows it by its hash.
	assert.Equal(t, "rgb(255, 244, 229)", evalJS[string](t, ctx, `getComputedStyle(document.querySelector('.state.new')).backgroundColor`))

	inBrowser(t, ctx, chromedp.Click(chromedp.CSS(`li.notice h2 a`)), chromedp.WaitVisible(chromedp.CSS("button.open")))
	assert.NotContains(t, evalJS[string](t, ctx, `document.body.textContent`), "denegada", "not shown before it is opened")
	inBrowser(t, ctx, chromedp.Click(chromedp.CSS(`button.open`)), chromedp.WaitVisible(chromedp.CSS("article.text")))
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector('article.text').textContent`), "Su solicitud EXP-7 ha sido denegada.")
	assert.True(t, strings.HasPrefix(evalJS[string](t, ctx, `document.querySelector('.state').textContent`), "Abierta el 2 de marzo de 2026"))

	inBrowser(t, ctx, chromedp.Click(chromedp.CSS(`main > p:last-child a`)), chromedp.WaitVisible(chromedp.CSS("li.notice")))
	assert.Contains(t, evalJS[string](t, ctx, `document.querySelector('li.notice .state').textContent`), "Abierta el")
	assert.Equal(t, notify.Opened, pf.history(t, id)[4])
}
