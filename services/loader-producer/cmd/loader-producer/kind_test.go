package main

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestStepKind: loader-producer is the service protocol.StepKinds names
// for the load step.
func TestStepKind(t *testing.T) {
	if k, ok := protocol.LookupStepKind(protocol.StepLoad); !ok || k.Service != name {
		t.Errorf("protocol.StepKinds: load is served by %q, this service is %q", k.Service, name)
	}
}

// TestREADMEDataTypes keeps the README's table of data types to the ones
// protocol.DataTypes lists, live ones with the stream they subscribe to.
func TestREADMEDataTypes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_<>]+)`[^|]*\\| ([^|]*)\\|")
	var got, want []string
	streams := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		got = append(got, m[1])
		streams[m[1]] = m[2]
	}
	for _, d := range protocol.DataTypes {
		want = append(want, d.Pattern())
		if d.Live && !regexp.MustCompile("^`"+regexp.QuoteMeta(d.Stream)+"`").MatchString(streams[d.Pattern()]) {
			t.Errorf("README: %s's source %q does not start with `%s`", d.Pattern(), streams[d.Pattern()], d.Stream)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("README data types %v, want protocol.DataTypes' %v", got, want)
	}
}
