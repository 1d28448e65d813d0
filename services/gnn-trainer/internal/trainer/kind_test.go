package trainer

import (
	"reflect"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// TestStepKind: this service is the one protocol.StepKinds names for the
// train step, and it reads the inputs variable the table says
// queue-manager passes.
func TestStepKind(t *testing.T) {
	testkit.StepKind(t, protocol.StepTrain, Name, reflect.TypeFor[Config]())
}
