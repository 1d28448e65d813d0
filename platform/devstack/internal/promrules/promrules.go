// Package promrules renders the PrometheusRule objects of deploy/monitoring
// as plain Prometheus rule files, the form promtool and a bare Prometheus
// read: the same groups, nothing rewritten, unless a test profile asks for
// shorter `for:` durations or lower thresholds (Overrides), each of which
// must match what it replaces so it cannot rot silently.
package promrules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rule is one alerting or recording rule.
type Rule struct {
	Alert         string            `yaml:"alert,omitempty"`
	Record        string            `yaml:"record,omitempty"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for,omitempty"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

// Group is a rule group.
type Group struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// File is a Prometheus rule file.
type File struct {
	Groups []Group `yaml:"groups"`
}

// Override changes one alert for a test rendering: For replaces its `for:`
// ("0s" removes it), Replace swaps text in its expression (each Old must
// occur).
type Override struct {
	Alert   string        `yaml:"alert"`
	For     string        `yaml:"for,omitempty"`
	Replace []Replacement `yaml:"replace,omitempty"`
}

// Replacement is one text swap in an expression.
type Replacement struct {
	Old string `yaml:"old"`
	New string `yaml:"new"`
}

// Load reads the PrometheusRule objects of the YAML files (other kinds are
// skipped) and returns their rule files keyed by "<metadata.name>.rules.yaml".
func Load(paths ...string) (map[string]*File, error) {
	out := map[string]*File{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc struct {
				Kind     string
				Metadata struct{ Name string }
				Spec     File
			}
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if doc.Kind != "PrometheusRule" {
				continue
			}
			name := doc.Metadata.Name + ".rules.yaml"
			if doc.Metadata.Name == "" || out[name] != nil {
				return nil, fmt.Errorf("%s: PrometheusRule without a name, or named %q twice", p, doc.Metadata.Name)
			}
			f := doc.Spec
			out[name] = &f
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PrometheusRule in %s", strings.Join(paths, ", "))
	}
	return out, nil
}

// LoadOverrides reads a YAML list of overrides.
func LoadOverrides(path string) ([]Override, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Override
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Alerts returns the alert names of the files, sorted.
func Alerts(files map[string]*File) []string {
	var out []string
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out = append(out, r.Alert)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Apply applies the overrides to the files; an override naming no alert, or
// a replacement whose text is not in the expression, is an error.
func Apply(files map[string]*File, overrides []Override) error {
	var errs []error
	for _, o := range overrides {
		found := false
		for _, f := range files {
			for gi := range f.Groups {
				for ri := range f.Groups[gi].Rules {
					r := &f.Groups[gi].Rules[ri]
					if r.Alert != o.Alert {
						continue
					}
					found = true
					if o.For == "0s" {
						r.For = ""
					} else if o.For != "" {
						r.For = o.For
					}
					for _, rep := range o.Replace {
						if !strings.Contains(r.Expr, rep.Old) {
							errs = append(errs, fmt.Errorf("override of %s: %q is not in its expression", o.Alert, rep.Old))
							continue
						}
						r.Expr = strings.ReplaceAll(r.Expr, rep.Old, rep.New)
					}
				}
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("override of %s: no such alert", o.Alert))
		}
	}
	return errors.Join(errs...)
}

// Write writes each file into dir.
func Write(dir string, files map[string]*File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, f := range files {
		b, err := yaml.Marshal(f)
		if err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		b = append([]byte("# Rendered from deploy/monitoring by platform/devstack/cmd/promrules: do not edit.\n"), b...)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
