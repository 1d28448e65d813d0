package connector

import (
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

func TestLoaderStopped(t *testing.T) {
	const q = "wf-btcusdt-ws_trades-20240801-a1b2c3"
	stopped := protocol.Event{QueueID: q, Producer: "loader-producer__a1b2c3", Status: protocol.StatusInterrupted, Finished: true,
		Message: protocol.ReasonStopRequested, RunID: protocol.RunID(q, protocol.StepLoad, 1)}
	store := protocol.RunID(q, protocol.StepStore, 1)
	tests := []struct {
		name  string
		edit  func(e *protocol.Event)
		runID string
		want  bool
	}{
		{"a load run stopped by a stop command", func(*protocol.Event) {}, store, true},
		{"interrupted by a signal: relaunched, not stopped", func(e *protocol.Event) { e.Message = protocol.ReasonSignal }, store, false},
		{"a connector's own", func(e *protocol.Event) { e.Producer = Name + "__d4e5f6" }, store, false},
		{"forged with a store run", func(e *protocol.Event) { e.RunID = store }, store, false},
		{"another task's", func(e *protocol.Event) { e.QueueID = "wf-ethusdt-ws_trades-20240801-a1b2c3" }, store, false},
		{"finished, not interrupted", func(e *protocol.Event) { e.Status = protocol.StatusFinished }, store, false},
		{"no run, outside a workflow", func(e *protocol.Event) { e.RunID = "" }, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := stopped
			tc.edit(&e)
			if got := loaderStopped(e, q, tc.runID); got != tc.want {
				t.Errorf("loaderStopped(%+v) = %v, want %v", e, got, tc.want)
			}
		})
	}
}
