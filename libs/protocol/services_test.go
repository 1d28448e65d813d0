package protocol

import (
	"os"
	"path/filepath"
	"testing"
)

// TestServices checks the table's own rules: names are unique, there is one
// orchestrator, every step kind's service is a worker, a tool names the
// module it is built in, and each service's main package is where the table
// says.
func TestServices(t *testing.T) {
	seen := map[string]bool{}
	orchestrators := 0
	for _, s := range Services {
		if s.Name == "" || seen[s.Name] {
			t.Errorf("service %q: a name, each its own, is required", s.Name)
		}
		seen[s.Name] = true
		switch s.Role {
		case Orchestrator:
			orchestrators++
		case Worker:
		case Tool:
			if host, ok := LookupService(s.Module); !ok || !host.OwnModule() {
				t.Errorf("tool %s: Module %q is not a service with a module of its own", s.Name, s.Module)
			}
		default:
			t.Errorf("service %s: no role", s.Name)
		}
		if s.Role != Tool && !s.OwnModule() {
			t.Errorf("service %s: only a tool is built in another service's module", s.Name)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, s.Main(), "main.go")); err != nil {
			t.Errorf("service %s: %v", s.Name, err)
		}
	}
	if orchestrators != 1 {
		t.Errorf("%d orchestrators, want 1", orchestrators)
	}
	for _, k := range StepKinds {
		if s, ok := LookupService(k.Service); !ok || s.Role != Worker {
			t.Errorf("step kind %s: service %q is not a worker in the table", k.Name, k.Service)
		}
	}
	if _, ok := LookupService("no-such-service"); ok {
		t.Error("LookupService(no-such-service) found a service")
	}
}
