// Package browsertest runs the person-facing pages' tests in a real browser: Debian's
// Chromium, headless, driven by chromedp. Tests wait on what the page shows, never sleep.
package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/testenv"
)

// stepTimeout bounds each call of Do and Eval.
const stepTimeout = 30 * time.Second

// Start starts Chromium (found by testenv.Tool, so a machine without it skips the test,
// or fails it under DPI_TEST_STRICT), headless, with a fresh profile, sending acceptLang
// as its Accept-Language. It returns a chromedp context on one of its tabs that has
// already run once, so that a timeout on a step does not stop the browser. The browser
// stops when the test ends.
func Start(t *testing.T, acceptLang string) context.Context {
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
		chromedp.Flag("accept-lang", acceptLang),
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

// Do runs steps in the browser of ctx, with a deadline.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(sctx, steps...))
}

// Eval evaluates the JavaScript js in the page of ctx, with a deadline, and returns its
// value. The pages have no script of their own: js is the test's.
func Eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	require.NoError(t, err, js)
	return v
}

// HeadingJumps is JavaScript that lists where a page's headings skip a level, or do not
// start at h1 (WCAG 2.1, 1.3.1).
const HeadingJumps = `(() => {
	const out = [];
	let prev = 0;
	for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
		const level = Number(h.tagName[1]);
		if (level > prev + 1) out.push('h' + prev + ' then h' + level + ': ' + h.textContent);
		prev = level;
	}
	return out;
})()`
