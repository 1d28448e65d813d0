package promrules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const manifest = `apiVersion: v1
kind: ConfigMap
metadata: {name: other}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: sf}
spec:
  groups:
    - name: g
      rules:
        - alert: Lag
          expr: lag > 10000
          for: 5m
          labels: {severity: warning}
`

func load(t *testing.T) map[string]*File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(p, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRenderKeepsRulesAndAppliesOverrides(t *testing.T) {
	files := load(t)
	if got := Alerts(files); len(got) != 1 || got[0] != "Lag" {
		t.Fatalf("Alerts = %v, want [Lag]", got)
	}
	if err := Apply(files, []Override{{Alert: "Lag", For: "5s", Replace: []Replacement{{Old: "> 10000", New: "> 10"}}}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sf.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: g", "alert: Lag", "expr: lag > 10\n", "for: 5s", "severity: warning"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rendered file lacks %q:\n%s", want, b)
		}
	}
}

func TestOverridesThatDoNotMatchAreErrors(t *testing.T) {
	for name, o := range map[string]Override{
		"unknown alert":  {Alert: "Nope", For: "1s"},
		"text not found": {Alert: "Lag", Replace: []Replacement{{Old: "> 99", New: "> 1"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Apply(load(t), []Override{o}); err == nil {
				t.Fatal("Apply accepted an override that matches nothing")
			}
		})
	}
}
