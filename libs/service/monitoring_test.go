package service

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Every metric the alerts (deploy/monitoring/prometheusrule.yaml) and the
// Grafana dashboard (deploy/monitoring/dashboards/*.json) query must be one
// the Go code registers: no alert or panel on a metric that does not exist.

const repoRoot = "../.."

// collectorMetrics are the series of client_golang's standard collectors
// that the manifests may use, keyed by the constructor that registers them.
var collectorMetrics = map[string][]string{
	"collectors.NewProcessCollector": {"process_start_time_seconds", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "process_open_fds", "process_max_fds"},
	"collectors.NewGoCollector": {"go_goroutines", "go_threads", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds"},
}

var (
	optsName   = regexp.MustCompile(`(Counter|Gauge|Histogram|Summary)Opts\{\s*Name:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"`)
	descName   = regexp.MustCompile(`NewDesc\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"`) // a collector's const metrics
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	matchers   = regexp.MustCompile(`\{[^}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\]]*\]`)
	labelLists = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident      = regexp.MustCompile(`\$?[a-zA-Z_:][a-zA-Z0-9_:]*`)
	keywords   = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true,
		"without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// registeredMetrics collects the metric names the repository's Go code
// registers (tests excluded), with the series a histogram or summary adds.
func registeredMetrics(t *testing.T) map[string]bool {
	names := map[string]bool{}
	for _, dir := range []string{"libs", "services", "platform"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range optsName.FindAllSubmatch(b, -1) {
				n := string(m[2])
				names[n] = true
				if kind := string(m[1]); kind == "Histogram" || kind == "Summary" {
					names[n+"_sum"], names[n+"_count"] = true, true
					names[n+"_bucket"] = kind == "Histogram"
				}
			}
			for _, m := range descName.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
			for ctor, series := range collectorMetrics {
				if strings.Contains(string(b), ctor+"(") {
					for _, s := range series {
						names[s] = true
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d registered metrics: is the scan broken?", len(names))
	}
	return names
}

// metricNames returns the metric names a PromQL expression selects.
func metricNames(expr string) []string {
	s := quoted.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = labelLists.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range ident.FindAllStringIndex(s, -1) {
		word := s[loc[0]:loc[1]]
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		switch {
		case strings.HasPrefix(word, "$"), keywords[strings.ToLower(word)], strings.HasPrefix(rest, "("):
			continue // a variable, an operator or a function
		case loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.'):
			continue // a number such as 1e3
		}
		out = append(out, word)
	}
	return out
}

// manifestQueries returns every PromQL expression of the alerts and
// dashboards, named by where it is.
func manifestQueries(t *testing.T) map[string]string {
	out := map[string]string{}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct{ Alert, Record, Expr string }
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/monitoring/prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rule); err != nil {
		t.Fatal(err)
	}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			out["rule "+r.Alert+r.Record] = r.Expr
		}
	}
	dashboards, _ := filepath.Glob(filepath.Join(repoRoot, "deploy/monitoring/dashboards/*.json"))
	for _, p := range dashboards {
		var v any
		b, err := os.ReadFile(p)
		if err == nil {
			err = json.Unmarshal(b, &v)
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var walk func(where string, v any)
		walk = func(where string, v any) {
			switch v := v.(type) {
			case map[string]any:
				if title, ok := v["title"].(string); ok {
					where = filepath.Base(p) + " " + title
				}
				for k, c := range v {
					if e, ok := c.(string); ok && k == "expr" {
						out[where+" "+e] = e
					}
					walk(where, c)
				}
			case []any:
				for _, c := range v {
					walk(where, c)
				}
			}
		}
		walk(filepath.Base(p), v)
	}
	if len(out) < 5 {
		t.Fatalf("found only %d queries in deploy/monitoring", len(out))
	}
	return out
}

func TestMonitoringUsesRegisteredMetrics(t *testing.T) {
	registered := registeredMetrics(t)
	for where, expr := range manifestQueries(t) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric found in %q", where, expr)
		}
		for _, n := range names {
			if !registered[n] {
				t.Errorf("%s: metric %s is not registered by any Go code", where, n)
			}
		}
	}
}

// registeredKinds maps the metric names registered with CounterOpts,
// GaugeOpts, HistogramOpts or SummaryOpts to counter, gauge, histogram or
// summary (a histogram's _bucket, _sum and _count series to counter).
func registeredKinds(t *testing.T) map[string]string {
	kinds := map[string]string{}
	for _, dir := range []string{"libs", "services", "platform"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range optsName.FindAllSubmatch(b, -1) {
				n, kind := string(m[2]), strings.ToLower(string(m[1]))
				kinds[n] = kind
				if kind == "histogram" || kind == "summary" {
					kinds[n+"_sum"], kinds[n+"_count"], kinds[n+"_bucket"] = "counter", "counter", "counter"
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return kinds
}

// rangeFuncs finds a range function applied straight to a metric.
var rangeFuncs = regexp.MustCompile(`\b(rate|irate|increase|deriv|delta)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)

// misusedRanges lists the range functions of expr applied to a metric of
// the wrong kind: rate, irate and increase take counters, deriv and delta
// gauges.
func misusedRanges(expr string, kinds map[string]string) []string {
	var out []string
	for _, m := range rangeFuncs.FindAllStringSubmatch(expr, -1) {
		fn, kind := m[1], kinds[m[2]]
		want := "counter"
		if fn == "deriv" || fn == "delta" {
			want = "gauge"
		}
		if kind != "" && kind != want {
			out = append(out, fn+"("+m[2]+"): a "+kind+", want a "+want)
		}
	}
	return out
}

// TestRangeFunctionsFitTheMetricKind: no rate or increase over a gauge, no
// deriv over a counter, in any alert or panel.
func TestRangeFunctionsFitTheMetricKind(t *testing.T) {
	kinds := registeredKinds(t)
	for where, expr := range manifestQueries(t) {
		for _, bad := range misusedRanges(expr, kinds) {
			t.Errorf("%s: %s", where, bad)
		}
	}
	// The check itself: a rate over a gauge and a deriv over a counter.
	if got := misusedRanges(`sum(rate(streamforge_connector_consumer_lag[5m])) + deriv(streamforge_workflows_submitted_total[5m])`, kinds); len(got) != 2 {
		t.Errorf("misusedRanges found %v, want the rate over a gauge and the deriv over a counter", got)
	}
}

func TestMetricNamesCatchesUnknown(t *testing.T) {
	expr := `sum by (namespace, le) (rate(streamforge_made_up_total{status="a{b}"}[5m])) / on (pod) group_left(worker) ` +
		`histogram_quantile(0.9, streamforge_kafka_produce_duration_seconds_bucket[$__rate_interval]) > 1e3 and absent(up)`
	got := metricNames(expr)
	want := []string{"streamforge_made_up_total", "streamforge_kafka_produce_duration_seconds_bucket", "up"}
	if !slices.Equal(got, want) {
		t.Fatalf("metricNames = %v, want %v", got, want)
	}
	registered := registeredMetrics(t)
	if registered["streamforge_made_up_total"] || !registered["streamforge_kafka_produce_duration_seconds_bucket"] {
		t.Fatal("registeredMetrics accepts a made-up metric or misses a histogram's buckets")
	}
}
