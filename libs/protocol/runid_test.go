package protocol_test

import (
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

func TestIsRunOf(t *testing.T) {
	const q = "wf-btcusdt-api_trades-20240801-a1b2c3"
	tests := []struct {
		name  string
		runID string
		want  bool
	}{
		{"a load attempt", protocol.RunID(q, protocol.StepLoad, 3), true},
		{"a store attempt", protocol.RunID(q, protocol.StepStore, 1), false},
		{"another task's load", protocol.RunID("wf-ethusdt-api_trades-20240801-a1b2c3", protocol.StepLoad, 1), false},
		{"no run", "", false},
		{"no attempt number", q + ".load.", false},
		{"a forged suffix", q + ".load.1x", false},
		{"attempt zero", q + ".load.0", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := protocol.IsRunOf(tc.runID, q, protocol.StepLoad); got != tc.want {
				t.Errorf("IsRunOf(%q) = %v, want %v", tc.runID, got, tc.want)
			}
		})
	}
}
