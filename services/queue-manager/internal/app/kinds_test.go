package app

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestStepLimitsDefault keeps STEP_LIMITS' default (a struct tag, so
// --help and docs/configuration.md show it) equal to the default limits of
// protocol.StepKinds.
func TestStepLimitsDefault(t *testing.T) {
	var want []string
	for _, k := range protocol.StepKinds {
		want = append(want, k.Name+"="+strconv.Itoa(k.DefaultLimit))
	}
	f, _ := reflect.TypeFor[Config]().FieldByName("Limits")
	if got := f.Tag.Get("default"); got != strings.Join(want, ",") {
		t.Errorf("STEP_LIMITS default %q, want %q (protocol.StepKinds)", got, strings.Join(want, ","))
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if row := "| `STEP_LIMITS` | `" + strings.Join(want, ",") + "` |"; !strings.Contains(string(readme), row) {
		t.Errorf("README: no row %q", row)
	}
}

func TestKindMap(t *testing.T) {
	got, err := kindMap("load=a, train=b")
	if err != nil || got["load"] != "a" || got["train"] != "b" || len(got) != 2 {
		t.Errorf("kindMap = %v, %v", got, err)
	}
	for _, bad := range []string{"gnn=1", "load", "=1"} {
		if _, err := kindMap(bad); err == nil || !strings.Contains(err.Error(), "kind one of load, store, graph, train") {
			t.Errorf("kindMap(%q): error %v, want the kinds listed", bad, err)
		}
	}
}

// TestEventsGroupDefault keeps EVENTS_GROUP's default the consumer group
// protocol.Services grants queue-manager.
func TestEventsGroupDefault(t *testing.T) {
	s, ok := protocol.LookupService("queue-manager")
	if !ok || len(s.Groups) != 1 {
		t.Fatalf("protocol.Services: queue-manager %+v, want one group", s)
	}
	f, _ := reflect.TypeFor[Config]().FieldByName("EventsGroup")
	if got := f.Tag.Get("default"); f.Tag.Get("envconfig") != "EVENTS_GROUP" || (s.Groups[0] != protocol.Group{Name: got}) {
		t.Errorf("EVENTS_GROUP default %q, the access table's group %+v", got, s.Groups[0])
	}
}
