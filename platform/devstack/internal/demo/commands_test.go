package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHelpListsEveryCommand(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{arg}, &out, &errb); code != 0 {
			t.Errorf("devstack %s: exit %d, want 0 (stderr %q)", arg, code, errb.String())
		}
		for _, c := range Commands {
			if !strings.Contains(out.String(), "\n  "+c.Name+" ") {
				t.Errorf("devstack %s does not list %s:\n%s", arg, c.Name, out.String())
			}
		}
	}
}

func TestEveryCommandHelpExitsZero(t *testing.T) {
	for _, c := range Commands {
		t.Run(c.Name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Main(context.Background(), []string{c.Name, "--help"}, &out, &errb); code != 0 {
				t.Errorf("devstack %s --help: exit %d, want 0", c.Name, code)
			}
			if !strings.Contains(out.String()+errb.String(), "Usage of devstack "+c.Name) {
				t.Errorf("devstack %s --help printed no usage:\n%s%s", c.Name, out.String(), errb.String())
			}
		})
	}
}

func TestUnknownCommandAndVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "nope"`) {
		t.Errorf("devstack nope: exit %d, stderr %q; want 2 naming it", code, errb.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"--version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "devstack ") {
		t.Errorf("devstack --version: exit %d, %q", code, out.String())
	}
}

// TestStreamHelpOneTradeRateDefault: stream's livelier simulator rate is
// the one default its help states.
func TestStreamHelpOneTradeRateDefault(t *testing.T) {
	var out, errb bytes.Buffer
	Main(context.Background(), []string{"stream", "--help"}, &out, &errb)
	help := errb.String()
	i := strings.Index(help, "-trade-rate")
	if i < 0 {
		t.Fatalf("no --trade-rate in:\n%s", help)
	}
	entry := help[i:]
	if j := strings.Index(entry, "\n  -"); j >= 0 {
		entry = entry[:j]
	}
	if n := strings.Count(entry, "default"); n != 1 || !strings.Contains(entry, "(default 10)") {
		t.Errorf("--trade-rate help states %d defaults, want one, 10:\n%s", n, entry)
	}
}

func TestCleanAsksForYes(t *testing.T) {
	dir := t.TempDir()
	fill := func() {
		t.Helper()
		var out bytes.Buffer
		if code := clean([]string{"--data-dir", dir, "--yes"}, strings.NewReader(""), false, &out, &out); code != 0 {
			t.Fatalf("clean --yes: %d %s", code, out.String())
		}
	}
	fill() // an empty directory: nothing to remove
	writeFile(t, dir+"/logs/stack.log")
	var out, errb bytes.Buffer
	if code := clean([]string{"--data-dir", dir}, strings.NewReader(""), false, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--yes") {
		t.Errorf("clean without --yes off a terminal: exit %d, %q; want 2 asking for --yes", code, errb.String())
	}
	if code := clean([]string{"--data-dir", dir}, strings.NewReader("n\n"), true, &out, &errb); code != 1 {
		t.Errorf("clean answered n: exit %d, want 1", code)
	}
	if !exists(dir + "/logs/stack.log") {
		t.Fatal("removed without a yes")
	}
	if code := clean([]string{"--data-dir", dir}, strings.NewReader("y\n"), true, &out, &errb); code != 0 || exists(dir+"/logs") {
		t.Errorf("clean answered y: exit %d, logs still there: %v", code, exists(dir+"/logs"))
	}
}
