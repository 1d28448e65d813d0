package demo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

func TestNextSteps(t *testing.T) {
	tests := []struct {
		name, dataDir string
		want          []string
	}{
		{"default data dir", "data", []string{"make notebook", "make up", "http://127.0.0.1:8080/api/v1/workflows", "console http://127.0.0.1:8080/ui/", "make clean-data"}},
		{"own data dir", "/tmp/d", []string{"platform/scripts/notebook.sh /tmp/d", "bin/devstack up --data-dir /tmp/d", "bin/devstack clean --data-dir /tmp/d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			nextSteps(&out, tt.dataDir, "http://127.0.0.1:8080")
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("next steps lack %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestStackSaysWhereTheConsoleIs(t *testing.T) {
	var out bytes.Buffer
	printStack(&out, &stack.Stack{API: "http://127.0.0.1:8080"}, "exchange simulator")
	if !strings.Contains(out.String(), "console       http://127.0.0.1:8080/ui/") {
		t.Fatalf("the stack's summary lacks the console's URL:\n%s", out.String())
	}
}
