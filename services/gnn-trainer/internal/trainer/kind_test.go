package trainer

import (
	"reflect"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestStepKind: this service is the one protocol.StepKinds names for the
// train step, and it reads the inputs variable the table says
// queue-manager passes.
func TestStepKind(t *testing.T) {
	k, ok := protocol.LookupStepKind(protocol.StepTrain)
	if !ok || k.Service != Name {
		t.Fatalf("protocol.StepKinds: %s is served by %q, this service is %q", protocol.StepTrain, k.Service, Name)
	}
	if k.Inputs != "" && !hasEnv(reflect.TypeFor[Config](), k.Inputs) {
		t.Errorf("Config reads no %s, which queue-manager passes to the %s step", k.Inputs, k.Name)
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
