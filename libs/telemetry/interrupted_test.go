package telemetry_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// TestInterruptedWithResult: an interrupted event carries a result object
// (what the worker made before the stop) that decodes back as sent, with
// the stop's reason as its message and the records so far; a result that
// is not an object is refused before anything is sent.
func TestInterruptedWithResult(t *testing.T) {
	rec := &recorder{}
	e := telemetry.New(rec, task, "loader-producer__a1b2c3", telemetry.Options{Now: fixedClock()})
	ctx := context.Background()
	if err := e.InterruptedWith(ctx, protocol.ReasonStopRequested, "ledger"); err == nil {
		t.Fatal("InterruptedWith accepted a string as result")
	}
	if len(rec.events) != 0 {
		t.Fatalf("a rejected result was sent: %+v", rec.events)
	}
	e.SetRecords(7)
	if err := e.InterruptedWith(ctx, protocol.ReasonStopRequested, map[string]any{"coverage": []int{}}); err != nil {
		t.Fatal(err)
	}
	got := rec.events[0]
	if got.Status != protocol.StatusInterrupted || !got.Finished || got.RecordsWritten != 7 || got.Message != protocol.ReasonStopRequested ||
		string(got.Result) != `{"coverage":[]}` {
		t.Fatalf("interrupted event %+v result %s", got, got.Result)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	back, err := protocol.DecodeEvent(b)
	if err != nil || string(back.Result) != `{"coverage":[]}` {
		t.Fatalf("round trip: %v %s", err, back.Result)
	}
	if !e.Done() {
		t.Error("Done() = false after interrupted")
	}
}
