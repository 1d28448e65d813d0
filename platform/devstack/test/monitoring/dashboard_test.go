//go:build integration

package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// panelQuery is one query of a dashboard panel.
type panelQuery struct {
	Dashboard, Panel, Expr string
}

// dashboardQueries reads every panel query of the Grafana dashboards.
func dashboardQueries(t *testing.T) []panelQuery {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "deploy/monitoring/dashboards/*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in deploy/monitoring/dashboards: %v", err)
	}
	var out []panelQuery
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		type panel struct {
			Title   string  `json:"title"`
			Panels  []panel `json:"panels"` // a collapsed row's
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		}
		var d struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, pn := range ps {
				for _, tg := range pn.Targets {
					if tg.Expr != "" {
						out = append(out, panelQuery{Dashboard: filepath.Base(p), Panel: pn.Title, Expr: tg.Expr})
					}
				}
				walk(pn.Panels)
			}
		}
		walk(d.Panels)
	}
	return out
}

// emptyPanels reads deploy/monitoring/tests/dashboard-empty.yaml: the panels
// a Scenario 1 run legitimately leaves empty, with why.
func emptyPanels(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/monitoring/tests/dashboard-empty.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var list []struct{ Panel, Why string }
	if err := yaml.Unmarshal(b, &list); err != nil {
		t.Fatalf("dashboard-empty.yaml: %v", err)
	}
	out := map[string]string{}
	for _, e := range list {
		if e.Panel == "" || e.Why == "" {
			t.Fatalf("dashboard-empty.yaml: an entry without panel or why: %+v", e)
		}
		out[e.Panel] = e.Why
	}
	return out
}

// grafanaVars replaces Grafana's variables as Grafana would for a range
// [start, end] on a Prometheus scraping every second.
func grafanaVars(expr string, start, end time.Time) string {
	return strings.NewReplacer(
		"$__rate_interval", "5s", // Grafana: max(4 × scrape interval, step + scrape interval)
		"$__interval", "1s",
		"$__range", fmt.Sprintf("%ds", int(end.Sub(start).Seconds())+1),
	).Replace(expr)
}

// checkDashboards runs every panel query over [start, end]: none may fail,
// and each must answer unless dashboard-empty.yaml says why it cannot —
// and a panel listed there must indeed be empty, so the list stays true.
func checkDashboards(t *testing.T, ctx context.Context, p prom, start, end time.Time) {
	t.Helper()
	allowed := emptyPanels(t)
	answered := map[string]bool{}
	panels := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		panels[q.Panel] = true
		n, err := p.queryRange(ctx, grafanaVars(q.Expr, start, end), start, end, time.Second)
		if err != nil {
			t.Errorf("%s %q: %s: %v", q.Dashboard, q.Panel, q.Expr, err)
			continue
		}
		t.Logf("panel %q: %d series for %s", q.Panel, n, q.Expr)
		answered[q.Panel] = answered[q.Panel] || n > 0
	}
	var names []string
	for name := range panels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		why, ok := allowed[name]
		switch {
		case !answered[name] && !ok:
			t.Errorf("panel %q answered nothing after Scenario 1 (list it in dashboard-empty.yaml only if it must be empty)", name)
		case answered[name] && ok:
			t.Errorf("panel %q is listed as empty (%s) but answered: remove it from dashboard-empty.yaml", name, why)
		}
	}
	for name := range allowed {
		if !panels[name] {
			t.Errorf("dashboard-empty.yaml names panel %q, which no dashboard has", name)
		}
	}
}
