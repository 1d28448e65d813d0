package testkit

import (
	"reflect"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// StepKind checks a worker against protocol.StepKinds: service is the one
// the table names for kind, and config (the worker's configuration, read
// with envconfig) has a field for the inputs variable queue-manager passes
// to such a step.
func StepKind(t testing.TB, kind, service string, config reflect.Type) {
	t.Helper()
	k, ok := protocol.LookupStepKind(kind)
	if !ok || k.Service != service {
		t.Fatalf("protocol.StepKinds: %s is served by %q, this service is %q", kind, k.Service, service)
	}
	if k.Inputs != "" && !hasEnv(config, k.Inputs) {
		t.Errorf("%s reads no %s, which queue-manager passes to the %s step", config, k.Inputs, k.Name)
	}
}

// hasEnv reports whether struct t (or one it embeds) has a field read from
// the environment variable name.
func hasEnv(t reflect.Type, name string) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("envconfig") == name || (f.Anonymous && f.Type.Kind() == reflect.Struct && hasEnv(f.Type, name)) {
			return true
		}
	}
	return false
}
