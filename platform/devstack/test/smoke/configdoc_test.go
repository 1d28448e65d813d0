package smoke

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigurationDoc keeps docs/configuration.md equal to what the
// binaries say in --help: every service's every variable, its default and
// meaning, from the code itself. UPDATE_DOCS=1 rewrites the file.
func TestConfigurationDoc(t *testing.T) {
	var doc bytes.Buffer
	doc.WriteString("# Configuration\n\nEvery service is configured by environment variables only. This file is generated from each\n" +
		"binary's `--help` (`UPDATE_DOCS=1 go test ./test/smoke/` in `platform/devstack`), and a test fails when it differs.\n")
	for _, s := range services {
		out, err := exec.Command(filepath.Join(binDir, s), "--help").Output()
		if err != nil {
			t.Fatalf("%s --help: %v", s, err)
		}
		doc.WriteString(section(t, s, string(out)))
	}
	path := filepath.Join("..", "..", "..", "..", "docs", "configuration.md")
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with UPDATE_DOCS=1)", err)
	}
	if !bytes.Equal(got, doc.Bytes()) {
		t.Errorf("docs/configuration.md differs from the binaries' --help: regenerate it with UPDATE_DOCS=1 go test ./test/smoke/ in platform/devstack")
	}
}

// section turns one --help into a Markdown table.
func section(t *testing.T, name, help string) string {
	t.Helper()
	lines := strings.Split(help, "\n")
	var b strings.Builder
	summary := strings.TrimSpace(lines[0])
	if i := strings.Index(summary, " — "); i >= 0 {
		summary = summary[i+len(" — "):]
	}
	fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n| variable | default | required | meaning |\n|---|---|---|---|\n", name, strings.TrimSuffix(summary, "."))
	in := false
	rows := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "KEY\tTYPE") {
			in = true
			continue
		}
		if !in || strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 5 {
			t.Fatalf("%s --help: row %q", name, l)
		}
		def := f[2]
		if def != "" {
			def = "`" + def + "`"
		}
		req := ""
		if f[3] == "true" {
			req = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f[0], def, req, strings.ReplaceAll(strings.Join(f[4:], " "), "|", "\\|"))
		rows++
	}
	if rows == 0 {
		t.Fatalf("%s --help lists no variables", name)
	}
	return b.String()
}
