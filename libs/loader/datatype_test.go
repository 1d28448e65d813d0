package loader

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestKindsCoverDataTypes: every data type protocol lists is a kind of
// this engine, parses to it and prints back as itself; every live one has
// a stream handler.
func TestKindsCoverDataTypes(t *testing.T) {
	if len(AllKinds) != len(protocol.DataTypes) || len(kindOf) != len(protocol.DataTypes) {
		t.Fatalf("%d kinds (%d mapped) for %d protocol data types", len(AllKinds), len(kindOf), len(protocol.DataTypes))
	}
	for _, d := range protocol.DataTypes {
		k, ok := kindOf[d.Name]
		if !ok {
			t.Errorf("%s: no kind", d.Name)
			continue
		}
		if k.Live() != d.Live || k.String() != d.Pattern() {
			t.Errorf("%s: kind %v live=%v, want %s live=%v", d.Name, k, k.Live(), d.Pattern(), d.Live)
		}
		if d.Live && !slices.Contains(liveKinds, k) {
			t.Errorf("%s is live but the live loader has no handler for it", d.Name)
		}
		for _, name := range d.Names(false) {
			got, err := ParseDataType(name)
			if err != nil || got.Kind != k || got.String() != name {
				t.Errorf("ParseDataType(%q) = %v (%v), %v", name, got, got.Kind, err)
			}
		}
	}
}

// TestTypeVariableListsDataTypes keeps TYPE's description (and so --help
// and docs/configuration.md) true to protocol.DataTypes.
func TestTypeVariableListsDataTypes(t *testing.T) {
	f, ok := reflect.TypeFor[Config]().FieldByName("Type")
	if !ok {
		t.Fatal("Config has no Type field")
	}
	if desc := f.Tag.Get("desc"); !strings.HasPrefix(desc, protocol.DataTypePatterns()+";") {
		t.Errorf("TYPE desc %q does not start with %q", desc, protocol.DataTypePatterns()+";")
	}
}
