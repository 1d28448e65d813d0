package scenario

import (
	"testing"
)

// wf builds a workflow in state with one load step per (outcome, message)
// pair.
func wf(state string, attempts ...[2]string) *Workflow {
	w := &Workflow{ID: "wf-1", State: state}
	for i, a := range attempts {
		s := &Step{ID: string(rune('a' + i)), Kind: "load", State: state}
		if a[0] != "" {
			s.Attempts = append(s.Attempts, struct {
				N       int    `json:"n"`
				Outcome string `json:"outcome"`
				Message string `json:"message"`
			}{1, a[0], a[1]})
		}
		w.Steps = append(w.Steps, s)
	}
	return w
}

func TestCheckStopped(t *testing.T) {
	tests := []struct {
		name    string
		w       *Workflow
		wantErr bool
	}{
		{"every loader interrupted", wf("stopped", [2]string{"stopped", "stopped on request"}, [2]string{"stopped", "stopped on request"}), false},
		{"a loader removed after the grace period", wf("stopped", [2]string{"stopped", "stopped on request"}, [2]string{"stopped", "removed after the stop grace period"}), true},
		{"a loader that never ran", wf("stopped", [2]string{"stopped", "stopped on request"}, [2]string{"", ""}), true},
		{"failed", wf("failed", [2]string{"failed", "exit code 1"}), true},
		{"finished", wf("finished", [2]string{"finished", "done"}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckStopped(tt.w); (err != nil) != tt.wantErr {
				t.Errorf("CheckStopped() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestLiveRequest(t *testing.T) {
	r := LiveRequest("ETHUSDT", true)
	if r.TimeRange != "" || len(r.Types) != 2 || r.Types[0] != "ws_trades" || r.Types[1] != "ws_orderbook" ||
		len(r.Steps) != 2 || r.Steps[1] != "store" {
		t.Errorf("LiveRequest() = %+v, want ws_trades + ws_orderbook, load -> store, no time range", r)
	}
}
