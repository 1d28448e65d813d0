package builder

import (
	"reflect"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// TestStepKind: this service is the one protocol.StepKinds names for the
// graph step, and it reads the inputs variable the table says
// queue-manager passes.
func TestStepKind(t *testing.T) {
	testkit.StepKind(t, protocol.StepGraph, Name, reflect.TypeFor[Config]())
}
