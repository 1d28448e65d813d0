package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/protocol/schema"
)

func compileSchema(t testing.TB, name string, data []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse schema %s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatalf("add schema %s: %v", name, err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatalf("compile schema %s: %v", name, err)
	}
	return s
}

func schemaValid(t testing.TB, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse instance: %v", err)
	}
	return s.Validate(doc)
}

// sameJSON reports the difference between two JSON documents in meaning
// (member order and number spelling do not count).
func sameJSON(t *testing.T, got, want []byte) string {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	return cmp.Diff(w, g)
}

func TestExampleCommandValidatesAndRoundTrips(t *testing.T) {
	raw, err := os.ReadFile("testdata/example-command.json")
	if err != nil {
		t.Fatal(err)
	}
	s := compileSchema(t, "command.schema.json", schema.Command)
	if err := schemaValid(t, s, raw); err != nil {
		t.Fatalf("example command does not validate against the schema: %v", err)
	}
	got, err := protocol.DecodeCommand(raw)
	if err != nil {
		t.Fatalf("DecodeCommand: %v", err)
	}
	want := protocol.Command{
		Command: protocol.CommandStart, QueueID: "wf-btcusdt-api_candles_5m-20240801-a1b2c3", Target: "loader-producer",
		Symbol: "BTCUSDT", Type: "api_candles_5m", TimeRange: "2024-08-01:2024-08-02",
		KafkaTopic: "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data", CollectionName: "btcusdt_api_candles_5m_2024_08_01",
		TelemetryID: "loader-producer__a1b2c3", Image: "registry.dmz.home/streamforge/loader-producer:v0.2.0",
		Timestamp: 1722500000.123,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded command (-want +got):\n%s", d)
	}
	out, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameJSON(t, out, raw); d != "" {
		t.Errorf("re-encoded command differs in meaning (-want +got):\n%s", d)
	}
	if !bytes.Contains(out, []byte(`"timestamp":1722500000.123`)) {
		t.Errorf("timestamp lost its spelling: %s", out)
	}
	if err := schemaValid(t, s, out); err != nil {
		t.Errorf("re-encoded command does not validate: %v", err)
	}
}

func TestExampleEventValidatesAndRoundTrips(t *testing.T) {
	raw, err := os.ReadFile("testdata/example-event.json")
	if err != nil {
		t.Fatal(err)
	}
	s := compileSchema(t, "event.schema.json", schema.Event)
	if err := schemaValid(t, s, raw); err != nil {
		t.Fatalf("example event does not validate against the schema: %v", err)
	}
	got, err := protocol.DecodeEvent(raw)
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	want := protocol.Event{
		QueueID: "wf-btcusdt-api_candles_5m-20240801-a1b2c3", Producer: "arango-connector__a1b2c3", Symbol: "BTCUSDT",
		Type: "api_candles_5m", Status: protocol.StatusLoading, Message: "Saved 15000 records", RecordsWritten: 15000,
		Timestamp: 1722500125.456,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded event (-want +got):\n%s", d)
	}
	out, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameJSON(t, out, raw); d != "" {
		t.Errorf("re-encoded event differs in meaning (-want +got):\n%s", d)
	}
	if err := schemaValid(t, s, out); err != nil {
		t.Errorf("re-encoded event does not validate: %v", err)
	}
}

func TestUnknownFieldsSurviveRoundTrip(t *testing.T) {
	in := []byte(`{"command":"ping","queue_id":"wf-x","timestamp":1.5,"priority":7,"labels":{"team":["quant"]},"note":"héllo"}`)
	c, err := protocol.DecodeCommand(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Extra) != 3 {
		t.Errorf("Extra has %d fields, want 3: %v", len(c.Extra), c.Extra)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameJSON(t, out, in); d != "" {
		t.Errorf("round trip lost data (-want +got):\n%s", d)
	}

	ev := []byte(`{"queue_id":"q1","producer":"p","status":"heartbeat","records_written":0,"finished":false,"timestamp":2,"host":"node-3"}`)
	e, err := protocol.DecodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err = json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameJSON(t, out, ev); d != "" {
		t.Errorf("event round trip lost data (-want +got):\n%s", d)
	}
}

func TestDecodeCommandNamesBadField(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		field string // "" means a syntax error with no field
	}{
		{"not json", `ping please`, ""},
		{"json array", `["ping"]`, ""},
		{"truncated", `{"command":"ping","queue_id":"q`, ""},
		{"command wrong type", `{"command":5,"queue_id":"q","timestamp":1}`, "command"},
		{"unknown command", `{"command":"explode","queue_id":"q","timestamp":1}`, "command"},
		{"missing command", `{"queue_id":"q","timestamp":1}`, "command"},
		{"missing queue_id", `{"command":"ping","timestamp":1}`, "queue_id"},
		{"queue_id with space", `{"command":"ping","queue_id":"a b","timestamp":1}`, "queue_id"},
		{"queue_id number", `{"command":"ping","queue_id":12,"timestamp":1}`, "queue_id"},
		{"timestamp string", `{"command":"ping","queue_id":"q","timestamp":"now"}`, "timestamp"},
		{"timestamp missing", `{"command":"ping","queue_id":"q"}`, "timestamp"},
		{"start without target", `{"command":"start","queue_id":"q","symbol":"BTCUSDT","type":"api_trades","timestamp":1}`, "target"},
		{"start lower-case symbol", `{"command":"start","queue_id":"q","target":"t","symbol":"btcusdt","type":"api_trades","timestamp":1}`, "symbol"},
		{"start without type", `{"command":"start","queue_id":"q","target":"t","symbol":"BTCUSDT","timestamp":1}`, "type"},
		{"bad time range", `{"command":"stop","queue_id":"q","time_range":"2024-08-02:2024-08-01","timestamp":1}`, "time_range"},
		{"bad topic", `{"command":"stop","queue_id":"q","kafka_topic":"a/b","timestamp":1}`, "kafka_topic"},
		{"bad collection", `{"command":"stop","queue_id":"q","collection_name":"1abc","timestamp":1}`, "collection_name"},
		{"bad telemetry id", `{"command":"stop","queue_id":"q","telemetry_id":"loader","timestamp":1}`, "telemetry_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.DecodeCommand([]byte(tt.in))
			if err == nil {
				t.Fatal("DecodeCommand accepted bad input")
			}
			var fe *protocol.FieldError
			switch {
			case tt.field == "" && errors.As(err, &fe):
				t.Errorf("got field error %v, want a syntax error", err)
			case tt.field != "" && !errors.As(err, &fe):
				t.Errorf("got %v, want a field error on %q", err, tt.field)
			case tt.field != "" && fe.Field != tt.field:
				t.Errorf("error names field %q, want %q (%v)", fe.Field, tt.field, err)
			}
		})
	}
}

func TestEventValidate(t *testing.T) {
	ok := protocol.Event{QueueID: "q", Producer: "dummy-service__abcdef", Status: protocol.StatusLoading, Timestamp: 1}
	tests := []struct {
		name  string
		edit  func(*protocol.Event)
		field string
	}{
		{"valid progress", func(*protocol.Event) {}, ""},
		{"valid finished", func(e *protocol.Event) { e.Status, e.Finished = protocol.StatusFinished, true }, ""},
		{"valid fatal error", func(e *protocol.Event) { e.Status, e.Finished = protocol.StatusError, true }, ""},
		{"valid recoverable error", func(e *protocol.Event) { e.Status = protocol.StatusError }, ""},
		{"finished without flag", func(e *protocol.Event) { e.Status = protocol.StatusFinished }, "finished"},
		{"interrupted without flag", func(e *protocol.Event) { e.Status = protocol.StatusInterrupted }, "finished"},
		{"progress with flag", func(e *protocol.Event) { e.Finished = true }, "finished"},
		{"pong with flag", func(e *protocol.Event) { e.Status, e.Finished = protocol.StatusPong, true }, "finished"},
		{"unknown status", func(e *protocol.Event) { e.Status = "exploded" }, "status"},
		{"no producer", func(e *protocol.Event) { e.Producer = "" }, "producer"},
		{"negative records", func(e *protocol.Event) { e.RecordsWritten = -1 }, "records_written"},
		{"no timestamp", func(e *protocol.Event) { e.Timestamp = 0 }, "timestamp"},
		{"valid result", func(e *protocol.Event) {
			e.Status, e.Finished, e.Result = protocol.StatusFinished, true, json.RawMessage(`{"nodes":8928,"edges":{"n":1}}`)
		}, ""},
		{"valid result of an interrupted worker", func(e *protocol.Event) {
			e.Status, e.Finished, e.Result = protocol.StatusInterrupted, true, json.RawMessage(`{"coverage":[{"symbol":"BTCUSDT","spans":[]}]}`)
		}, ""},
		{"result not an object", func(e *protocol.Event) { e.Result = json.RawMessage(`[1,2]`) }, "result"},
		{"result a string", func(e *protocol.Event) { e.Result = json.RawMessage(`"done"`) }, "result"},
	}
	s := compileSchema(t, "event.schema.json", schema.Event)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.edit(&e)
			err := e.Validate()
			var fe *protocol.FieldError
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
			} else if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate = %v, want a field error on %q", err, tt.field)
			}
			// The schema and Validate must agree, or tools outside Go accept
			// what services reject.
			b, _ := json.Marshal(e)
			if serr := schemaValid(t, s, b); (serr == nil) != (err == nil) {
				t.Errorf("schema says %v, Validate says %v for %s", serr, err, b)
			}
		})
	}
}

func TestEventRecordsWrittenMustBeWhole(t *testing.T) {
	_, err := protocol.DecodeEvent([]byte(`{"queue_id":"q","producer":"p","status":"loading","records_written":1.5,"finished":false,"timestamp":1}`))
	var fe *protocol.FieldError
	if !errors.As(err, &fe) || fe.Field != "records_written" {
		t.Fatalf("got %v, want a field error on records_written", err)
	}
}

func TestEncodingEscapes(t *testing.T) {
	e := protocol.Event{QueueID: "q", Producer: "p", Status: protocol.StatusError, Message: "bad \"quote\"\n<tag> & ünïcode", Timestamp: 1}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back protocol.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("re-decode %s: %v", b, err)
	}
	if back.Message != e.Message {
		t.Errorf("message = %q, want %q", back.Message, e.Message)
	}
	if strings.ContainsAny(string(b), "\n<>") {
		t.Errorf("encoding left raw control or HTML characters: %s", b)
	}
}

func FuzzDecodeCommand(f *testing.F) {
	seed, _ := os.ReadFile("testdata/example-command.json")
	f.Add(seed)
	f.Add([]byte(`{"command":"ping","queue_id":"q","timestamp":1,"x":[1,{"y":null}]}`))
	f.Add([]byte(`{"command":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := protocol.DecodeCommand(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal a valid command: %v", err)
		}
		back, err := protocol.DecodeCommand(out)
		if err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if d := cmp.Diff(c, back, cmp.Comparer(func(a, b json.RawMessage) bool {
			var x, y any
			return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y)
		})); d != "" {
			t.Fatalf("round trip changed the command (-first +second):\n%s", d)
		}
	})
}

// TestRunIDTravels: run_id is a known field of both messages, on the fast
// path and beside unknown fields, and the schemas accept it.
func TestRunIDTravels(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"event", `{"queue_id":"q1","producer":"p","status":"finished","records_written":3,"finished":true,"timestamp":2,"run_id":"q1.load.2"}`},
		{"event with unknown fields", `{"queue_id":"q1","producer":"p","status":"finished","records_written":3,"finished":true,"timestamp":2,` +
			`"run_id":"q1.load.2","result":{"nodes":3},"host":"node-3"}`},
	}
	s := compileSchema(t, "event.schema.json", schema.Event)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := protocol.DecodeEvent([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := e.RunID, "q1.load.2"; got != want {
				t.Errorf("run id %q, want %q", got, want)
			}
			if _, ok := e.Extra["run_id"]; ok {
				t.Errorf("run_id kept as an unknown field")
			}
			out, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameJSON(t, out, []byte(c.in)); d != "" {
				t.Errorf("round trip lost data (-want +got):\n%s", d)
			}
			if err := schemaValid(t, s, out); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
	cmd := protocol.Task{QueueID: "wf-btcusdt-api_trades-20240801-a1b2c3", Symbol: "BTCUSDT", Type: "api_trades",
		RunID: "wf-btcusdt-api_trades-20240801-a1b2c3.load.1"}.StartCommand("loader-producer", 1)
	out, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, err := protocol.DecodeCommand(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.RunID != cmd.RunID {
		t.Errorf("start command run id %q, want %q", got.RunID, cmd.RunID)
	}
	if err := schemaValid(t, compileSchema(t, "command.schema.json", schema.Command), out); err != nil {
		t.Errorf("command schema: %v", err)
	}
}
