//go:build integration

package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m, &binDir)) }

// browser starts headless chromium (skipped when it is not installed:
// .ci/run installs Debian's chromium).
func browser(t *testing.T, ctx context.Context, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no chromium on PATH (Debian: apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancel)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	return bctx
}

// shots is where screenshots go: docs/console with UPDATE_SCREENSHOTS=1
// (the README shows them), else the test's temporary directory.
func shots(t *testing.T) string {
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "..", "..", "docs", "console")
	}
	return t.TempDir()
}

func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// poll waits until the page's expression is truthy, failing the test
// with what about names after limit. An evaluation that fails (the page
// navigating away meanwhile, as a login does) is tried again.
func poll(t *testing.T, ctx context.Context, expr string, limit time.Duration, about string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(ectx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	t.Fatalf("%s: not seen within %s (last error: %v); the page shows:\n%s", about, limit, last, body)
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// TestConsoleIntegration drives the console like a person: a bad request
// in the "new workflow" form shows the API's error beside the field; a good
// one creates a history workflow (load, store, graph, train for 5 epochs)
// whose steps reach finished on its page with the training curve and a
// window of the graph drawn,
// and the Data page then counts its collection and shows its day present;
// on the market page "start live stream" creates the ws workflow, both
// sides of the book and a moving tape appear, 1 m candles are a click away, a gap in the exchange's
// depth updates is counted and marked, and "stop stream" stops it.
// axe-core finds no serious or critical accessibility violation on any of
// the pages.
func TestConsoleIntegration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := stacktest.Up(t, ctx, stack.Options{BinDir: binDir, DataDir: t.TempDir(), APIAddr: stacktest.FreeAddr(t),
		ExchangeAddr: "127.0.0.1:0", KafkaPort: 0, TradeRate: 20, Env: []string{"STOP_GRACE=10s"}})
	b := browser(t, ctx)
	dir := shots(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	// / leads to the console.
	if err := chromedp.Do(b, chromedp.Navigate(s.API+"/"), chromedp.WaitVisible(`#n-symbols`)); err != nil {
		t.Fatalf("open the console: %v", err)
	}

	// A symbol that is not one: the API's problem appears beside the field.
	if err := chromedp.Do(b, chromedp.SendKeys(`#n-symbols`, "BTC-USDT"), chromedp.SendKeys(`#n-types`, "api_candles_1m"),
		chromedp.SendKeys(`#n-range`, "2026-10-01:2026-10-02"), chromedp.Click(`#n-submit`)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.getElementById('e-symbols').textContent.includes('not a symbol')`, 10*time.Second, "the symbol's error beside its field")
	if got := eval[string](t, b, `document.getElementById('n-symbols').getAttribute('aria-invalid')`); got != "true" {
		t.Fatalf("the symbols field: aria-invalid %q, want true", got)
	}

	// A good request: a day of 1 m candles, loaded, stored, made a graph
	// and trained on for a few epochs.
	if err := chromedp.Do(b, chromedp.SetValue(`#n-symbols`, "BTCUSDT"), chromedp.Click(`#n-step-graph`), chromedp.Click(`#n-step-train`),
		chromedp.SetValue(`#n-options`, `{"train": {"GNN_EPOCHS": "5"}}`), chromedp.Click(`#n-submit`)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.querySelector('#workflows tbody tr[data-id]')`, 15*time.Second, "the new workflow in the list")
	id := eval[string](t, b, `document.querySelector('#workflows tbody tr[data-id]').dataset.id`)
	if err := chromedp.Do(b, chromedp.Navigate(s.API+"/ui/#/workflows/"+id)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `(() => { const s = [...document.querySelectorAll('.step[data-state]')]; return s.length === 4 && s.every((e) => e.dataset.state === 'finished'); })()`,
		90*time.Second, "every step of "+id+" finished")
	// The train step's curve and a window of the graph, drawn in SVG.
	poll(t, b, `document.querySelector('#curve path.train')?.getAttribute('d').split('L').length === 5 && document.querySelector('#curve path.val')`,
		10*time.Second, "the training curve of 5 epochs")
	poll(t, b, `document.querySelectorAll('#graph circle').length > 10 && document.querySelectorAll('#graph .edge').length > 0`,
		15*time.Second, "the graph's picture")
	if n := eval[int](t, b, `document.querySelectorAll('#attempts tbody tr').length`); n < 2 {
		t.Fatalf("%d attempts listed, want one a step at least", n)
	}
	shoot(t, b, dir, "workflow.png")
	accessible(t, b, "workflow")
	if err := chromedp.Do(b, chromedp.Navigate(s.API+"/ui/#/workflows")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.querySelector('#workflows tbody tr[data-state=finished]')`, 10*time.Second, "the finished workflow in the list")

	// The Data page: the day's collection with its documents counted, and
	// the day present in the coverage ledger.
	if err := chromedp.Do(b, chromedp.Navigate(s.API+"/ui/#/data")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `parseInt(document.querySelector('#d-collections tr[data-name="btcusdt_api_candles_1m_2026_10_01"]')?.dataset.count) > 0`,
		15*time.Second, "the stored collection counted on the Data page")
	poll(t, b, `document.querySelector('.cov[data-series="BTCUSDT api_candles_1m"] .strip li[data-day="2026-10-01"][data-state=present]')`,
		15*time.Second, "2026-10-01 present in the coverage strip")
	shoot(t, b, dir, "data.png")
	accessible(t, b, "data")

	// The market: start a live stream from the page, see it, stop it.
	if err := chromedp.Do(b, chromedp.Navigate(s.API+"/ui/#/market/ETHUSDT")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.getElementById('m-status').textContent === 'no live stream'`, 15*time.Second, "no live stream yet")
	if err := chromedp.Do(b, chromedp.Click(`#m-start`)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.querySelectorAll('#m-ladder tr.ask').length > 0 && document.querySelectorAll('#m-ladder tr.bid').length > 0`,
		60*time.Second, "both sides of the book")
	poll(t, b, `document.querySelectorAll('#m-tape tbody tr:not([hidden])').length > 3`, 30*time.Second, "trades on the tape")
	first := eval[string](t, b, `document.querySelector('#m-tape tbody tr').innerText`)
	poll(t, b, fmt.Sprintf(`document.querySelector('#m-tape tbody tr').innerText !== %q`, first), 15*time.Second, "the tape moving")
	bid := eval[float64](t, b, `parseFloat(document.querySelector('#m-ladder tr.bid td').innerText.replace(/,/g, ''))`)
	ask := eval[float64](t, b, `parseFloat([...document.querySelectorAll('#m-ladder tr.ask')].at(-1).querySelector('td').innerText.replace(/,/g, ''))`)
	if !(bid > 0 && ask > bid) {
		t.Fatalf("best bid %v, best ask %v: want a two-sided book with the ask above the bid", bid, ask)
	}
	// A gap in the exchange's depth updates: the loader reports it and takes
	// the book again; the page counts it and marks it on the timeline.
	if err := s.Simulator().InjectDepthGap("ETHUSDT", 5); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `parseInt(document.getElementById('view').dataset.gaps) > 0 && parseInt(document.getElementById('view').dataset.marks) > 0`,
		30*time.Second, "the book gap counted and marked")
	time.Sleep(2 * time.Second) // a few candles to show
	shoot(t, b, dir, "market.png")
	accessible(t, b, "market")
	// The same trades as 1 m candles, a click away.
	if err := chromedp.Do(b, chromedp.Click(`#m-span-1m`)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.getElementById('view').dataset.span === '1m' && parseInt(document.getElementById('view').dataset.candles) > 0`,
		10*time.Second, "1 m candles shown")
	if err := chromedp.Do(b, chromedp.Click(`#m-span-1s`)); err != nil {
		t.Fatal(err)
	}
	wf := eval[string](t, b, `document.querySelector('#m-stats a').textContent`)
	if err := chromedp.Do(b, chromedp.Click(`#m-stop`)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.getElementById('m-status').textContent === 'no live stream'`, 30*time.Second, "the stream stopped")
	deadline := time.Now().Add(30 * time.Second)
	for {
		state := workflowState(t, s.API, wf)
		if state == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow %s %s after the stop from the page, want stopped", wf, state)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := chromedp.Do(b, chromedp.Navigate(s.API+"/ui/#/workflows")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.querySelectorAll('#workflows tbody tr[data-id]').length === 2`, 10*time.Second, "both workflows listed")
	shoot(t, b, dir, "workflows.png")
	accessible(t, b, "workflows")
}

// accessible runs axe-core (vendored: platform/scripts/vendor-axe.sh) on
// the page shown and fails on any serious or critical violation.
func accessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then((r) => JSON.stringify(
		r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		 .map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core on the %s page: %v", page, err)
	}
	var found []map[string]any
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		t.Fatal(err)
	}
	for _, v := range found {
		t.Errorf("the %s page: accessibility violation %v (%v): %v on %v", page, v["id"], v["impact"], v["help"], v["nodes"])
	}
}

func workflowState(t *testing.T, api, id string) string {
	t.Helper()
	res, err := http.Get(api + "/api/v1/workflows/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var wf struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(res.Body).Decode(&wf); err != nil {
		t.Fatal(err)
	}
	return wf.State
}
