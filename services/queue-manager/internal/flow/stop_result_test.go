package flow

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestStoppedStepKeepsItsResult: a stopped live workflow's steps end
// interrupted with a result (the loader's coverage ledger up to the stop,
// the connector's summary of the ledger it stored): the steps keep it, as
// they keep a finished event's.
func TestStoppedStepKeepsItsResult(t *testing.T) {
	r := newRig(t, "", nil, Options{StopGrace: 10 * time.Second})
	w, err := r.eng.Submit(context.Background(), Request{Symbols: []string{"BTCUSDT"}, Types: []string{"ws_trades"},
		Steps: []string{"load", "store"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	ledger := json.RawMessage(`{"coverage":[{"symbol":"BTCUSDT","type":"ws_trades","from":0,"spans":[]}]}`)
	summary := json.RawMessage(`{"coverage":{"hours":1,"present":1,"complete":true}}`)
	withResult := func(res json.RawMessage) func(*protocol.Event) {
		return func(e *protocol.Event) { e.Message, e.Result = protocol.ReasonStopRequested, res }
	}
	r.event(w.Steps[0], protocol.StatusInterrupted, 10, withResult(ledger))
	r.event(w.Steps[1], protocol.StatusInterrupted, 10, withResult(summary))
	final := r.stored(w.ID)
	if final.State != Stopped || states(final) != "load=stopped store=stopped" {
		t.Fatalf("final: %s %s", final.State, states(final))
	}
	if got := final.Steps[0].Result; string(got) != string(ledger) {
		t.Errorf("load step result %s, want the loader's ledger %s", got, ledger)
	}
	if got := final.Steps[1].Result; string(got) != string(summary) {
		t.Errorf("store step result %s, want the connector's summary %s", got, summary)
	}
}
