package testkit

import (
	"reflect"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

func TestStepKindFindsInputs(t *testing.T) {
	type common struct {
		Graph string `envconfig:"GRAPH_NAME"`
	}
	type embeds struct{ common }
	type plain struct {
		Other string `envconfig:"OTHER"`
	}
	cases := []struct {
		name string
		typ  reflect.Type
		want bool
	}{
		{"own field", reflect.TypeFor[common](), true},
		{"embedded field", reflect.TypeFor[embeds](), true},
		{"missing", reflect.TypeFor[plain](), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := hasEnv(c.typ, "GRAPH_NAME"); got != c.want {
				t.Errorf("hasEnv = %v, want %v", got, c.want)
			}
		})
	}
	k, _ := protocol.LookupStepKind(protocol.StepTrain)
	if k.Inputs != "GRAPH_NAME" {
		t.Fatalf("the train step's inputs are %q: this test assumes GRAPH_NAME", k.Inputs)
	}
}
