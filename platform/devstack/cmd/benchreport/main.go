// Command benchreport turns `go test -bench` output into docs/benchmarks.md.
// Sub-benchmarks named "baseline=<what>" are the yardstick of their group:
// every sibling is reported as a ratio against it, measured in the same run
// (for throughput metrics, value/baseline; for ns/op, baseline/value; above 1
// means faster than the baseline).
//
//	go test -bench . ./... | benchreport -title "..." > docs/benchmarks.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/service"
)

type result struct {
	group, name string
	metrics     map[string]float64 // unit -> value
	units       []string
}

func main() {
	if service.VersionArg(os.Args[1:], "benchreport", os.Stdout) {
		return
	}
	title := flag.String("title", "StreamForge benchmarks", "heading of the report")
	note := flag.String("note", "", "a paragraph placed under the heading (e.g. the command that produced the input)")
	flag.Parse()
	results, ctx, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
		os.Exit(1)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no benchmark lines on stdin")
		os.Exit(1)
	}
	write(os.Stdout, *title, *note, ctx, results)
}

// parse reads benchmark lines and the goos/goarch/cpu/pkg context lines.
func parse(r io.Reader) ([]result, []string, error) {
	var out []result
	var ctx []string
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "cpu: "), strings.HasPrefix(line, "goos: "), strings.HasPrefix(line, "goarch: "):
			if !contains(ctx, line) {
				ctx = append(ctx, line)
			}
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			name := trimProcs(f[0])
			res := result{metrics: map[string]float64{}}
			res.group, res.name = split(name)
			res.group = shortPkg(pkg) + "." + res.group
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return nil, nil, fmt.Errorf("line %q: value %q: %w", line, f[i], err)
				}
				res.metrics[f[i+1]] = v
				res.units = append(res.units, f[i+1])
			}
			out = append(out, res)
		}
	}
	return out, ctx, sc.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// trimProcs drops the -GOMAXPROCS suffix go test appends.
func trimProcs(name string) string {
	if i := strings.LastIndex(name, "-"); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// split separates "BenchmarkX/sub/name" into the group "BenchmarkX" and
// the sub-benchmark "sub/name".
func split(name string) (string, string) {
	name = strings.TrimPrefix(name, "Benchmark")
	if i := strings.Index(name, "/"); i >= 0 {
		return name[:i], name[i+1:]
	}
	return name, ""
}

func shortPkg(pkg string) string {
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		return pkg[i+1:]
	}
	return pkg
}

func write(w io.Writer, title, note string, ctx []string, results []result) {
	fmt.Fprintf(w, "# %s\n\n", title)
	fmt.Fprintf(w, "Generated %s by `make bench` (%s, GOMAXPROCS %d", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOMAXPROCS(0))
	for _, c := range ctx {
		fmt.Fprintf(w, "; %s", c)
	}
	fmt.Fprintf(w, ").\n\n")
	if note != "" {
		fmt.Fprintf(w, "%s\n\n", note)
	}
	groups := map[string][]result{}
	var order []string
	for _, r := range results {
		if _, ok := groups[r.group]; !ok {
			order = append(order, r.group)
		}
		groups[r.group] = append(groups[r.group], r)
	}
	for _, g := range order {
		rs := groups[g]
		bases := baselines(rs)
		units := unitsOf(rs)
		fmt.Fprintf(w, "## %s\n\n| benchmark |", g)
		for _, u := range units {
			fmt.Fprintf(w, " %s |", u)
		}
		if len(bases) > 0 {
			fmt.Fprintf(w, " vs %s |", baselineWhat(bases))
		}
		fmt.Fprintf(w, "\n|---|")
		for range units {
			fmt.Fprintf(w, "---:|")
		}
		if len(bases) > 0 {
			fmt.Fprintf(w, "---:|")
		}
		fmt.Fprintln(w)
		for _, r := range rs {
			name := r.name
			if name == "" {
				name = g
			}
			fmt.Fprintf(w, "| %s |", name)
			for _, u := range units {
				if v, ok := r.metrics[u]; ok {
					fmt.Fprintf(w, " %s |", human(v))
				} else {
					fmt.Fprintf(w, " |")
				}
			}
			if len(bases) > 0 {
				if base, ok := baselineFor(r, bases); ok {
					fmt.Fprintf(w, " %s |", ratio(r, base))
				} else {
					fmt.Fprintf(w, " n/a |")
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

// baselines returns the group's baselines by their parameters: the part of
// the name after the first '/', so "baseline=raw/records=1000" is the
// baseline of "connector/records=1000".
func baselines(rs []result) map[string]result {
	out := map[string]result{}
	for _, r := range rs {
		if strings.HasPrefix(r.name, "baseline=") {
			out[params(r.name)] = r
		}
	}
	return out
}

func params(name string) string {
	if i := strings.Index(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// baselineFor picks the baseline with r's parameters, or the only baseline.
func baselineFor(r result, bases map[string]result) (result, bool) {
	if b, ok := bases[params(r.name)]; ok {
		return b, true
	}
	if len(bases) == 1 {
		for _, b := range bases {
			return b, true
		}
	}
	return result{}, false
}

// baselineWhat names the baseline in the column heading.
func baselineWhat(bases map[string]result) string {
	for _, b := range bases {
		what := strings.TrimPrefix(b.name, "baseline=")
		if i := strings.Index(what, "/"); i >= 0 {
			what = what[:i]
		}
		return what
	}
	return ""
}

func unitsOf(rs []result) []string {
	var units []string
	for _, r := range rs {
		for _, u := range r.units {
			if !contains(units, u) {
				units = append(units, u)
			}
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return rank(units[i]) < rank(units[j]) })
	return units
}

// rank puts throughput first, then time, then memory.
func rank(u string) int {
	switch {
	case strings.HasSuffix(u, "/s"):
		return 0
	case u == "ns/op":
		return 1
	default:
		return 2
	}
}

// ratio compares r with base on the first throughput metric both have, else
// on ns/op (inverted, so that above 1 is faster).
func ratio(r, base result) string {
	if r.name == base.name {
		return "1.00×"
	}
	for _, u := range r.units {
		if strings.HasSuffix(u, "/s") {
			if b, ok := base.metrics[u]; ok && b > 0 {
				return fmt.Sprintf("%.2f×", r.metrics[u]/b)
			}
		}
	}
	if v, ok := r.metrics["ns/op"]; ok && v > 0 {
		if b, ok := base.metrics["ns/op"]; ok {
			return fmt.Sprintf("%.2f×", b/v)
		}
	}
	return "n/a"
}

func human(v float64) string {
	switch {
	case v == math.Trunc(v) && v < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
