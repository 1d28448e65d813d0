package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

type fixedTargets []launch.Target

func (f fixedTargets) Targets(context.Context) []launch.Target { return f }

func TestSDTargetsListQueueManagerAndRunningWorkers(t *testing.T) {
	l := fixedTargets{launch.TargetOf("127.0.0.1:4001", launch.Spec{ID: "q1.load.1", Service: "loader-producer",
		Labels: map[string]string{"queue_id": "q1", "step": "load", "workflow": "wf-1"}})}
	for name, tt := range map[string]struct {
		l    targetLister
		want []sdGroup
	}{
		"local launcher": {l, []sdGroup{
			{Targets: []string{"qm.test:8080"}, Labels: map[string]string{"job": "queue-manager"}},
			{Targets: []string{"127.0.0.1:4001"}, Labels: map[string]string{"job": "streamforge-workers", "worker": "loader-producer",
				"workflow": "wf-1", "queue_id": "q1", "step": "load", "run": "q1.load.1"}},
		}},
		"kubernetes (the PodMonitor finds workers)": {nil, []sdGroup{
			{Targets: []string{"qm.test:8080"}, Labels: map[string]string{"job": "queue-manager"}},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "http://qm.test:8080"+SDPath, nil)
			sdTargets(tt.l)(rec, req)
			var got []sdGroup
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
				t.Fatalf("status %d, body %s: %v", rec.Code, rec.Body, err)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("groups (-want +got):\n%s", d)
			}
		})
	}
}
