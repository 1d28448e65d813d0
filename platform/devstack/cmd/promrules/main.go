// Command promrules renders the PrometheusRule objects of the given
// manifests as plain Prometheus rule files (one <name>.rules.yaml each) for
// promtool and a bare Prometheus:
//
//	go run ./platform/devstack/cmd/promrules -out DIR deploy/monitoring/prometheusrule.yaml
//	go run ./platform/devstack/cmd/promrules -out DIR -overrides deploy/monitoring/tests/it-overrides.yaml ...
//	go run ./platform/devstack/cmd/promrules -alerts deploy/monitoring/prometheusrule.yaml   # list the alert names
//
// -overrides applies a test profile (shorter `for:`, lower thresholds);
// every override must match, or nothing is written.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/streamforge/streamforge/platform/devstack/internal/promrules"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("promrules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the rule files into")
	overrides := fs.String("overrides", "", "YAML list of test overrides to apply")
	alerts := fs.Bool("alerts", false, "print the alert names, one a line, and write nothing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || (*out == "" && !*alerts) {
		fmt.Fprintln(stderr, "promrules: usage: promrules (-out DIR [-overrides FILE] | -alerts) MANIFEST...")
		return 2
	}
	files, err := promrules.Load(fs.Args()...)
	if err == nil && *overrides != "" {
		var o []promrules.Override
		if o, err = promrules.LoadOverrides(*overrides); err == nil {
			err = promrules.Apply(files, o)
		}
	}
	if err == nil && *alerts {
		for _, a := range promrules.Alerts(files) {
			fmt.Fprintln(stdout, a)
		}
		return 0
	}
	if err == nil {
		err = promrules.Write(*out, files)
	}
	if err != nil {
		fmt.Fprintf(stderr, "promrules: %v\n", err)
		return 1
	}
	return 0
}
