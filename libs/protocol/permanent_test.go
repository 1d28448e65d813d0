package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/protocol/schema"
)

// TestPermanentTravels: permanent is a known field of an event, on the fast
// path and beside unknown fields, and the schema accepts it.
func TestPermanentTravels(t *testing.T) {
	s := compileSchema(t, "event.schema.json", schema.Event)
	for _, in := range []string{
		`{"queue_id":"q1","producer":"p","status":"error","records_written":0,"finished":true,"timestamp":2,"error":"SYMBOL: invalid symbols: XRPUSDT (unknown)","permanent":true}`,
		`{"queue_id":"q1","producer":"p","status":"error","records_written":0,"finished":true,"timestamp":2,"permanent":true,"host":"node-3"}`,
	} {
		e, err := protocol.DecodeEvent([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if !e.Permanent {
			t.Errorf("%s: permanent not decoded", in)
		}
		if _, ok := e.Extra["permanent"]; ok {
			t.Errorf("permanent kept as an unknown field")
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameJSON(t, out, []byte(in)); d != "" {
			t.Errorf("round trip lost data (-want +got):\n%s", d)
		}
		if err := schemaValid(t, s, out); err != nil {
			t.Errorf("schema: %v", err)
		}
	}
	bad := `{"queue_id":"q1","producer":"p","status":"error","records_written":0,"finished":true,"timestamp":2,"permanent":"yes","host":"x"}`
	if _, err := protocol.DecodeEvent([]byte(bad)); err == nil {
		t.Errorf("permanent as a string decoded without error")
	}
}

func TestIsPermanent(t *testing.T) {
	base := errors.New("invalid symbols: FOOBAR (unknown)")
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"plain", base, false},
		{"marked", protocol.Permanent(base), true},
		{"wrapped after marking", fmt.Errorf("SYMBOL: %w", protocol.Permanent(base)), true},
		{"nil", protocol.Permanent(nil), false},
	}
	for _, c := range cases {
		if got := protocol.IsPermanent(c.err); got != c.want {
			t.Errorf("%s: IsPermanent = %v, want %v", c.name, got, c.want)
		}
	}
}
