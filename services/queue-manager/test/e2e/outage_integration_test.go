//go:build integration

package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TestRealKafkaOutage stops a real Kafka 4.x broker (one of its own: the
// shared one serves the other tests) for 30 s in the middle of a workflow
// and resumes it on its data: queue-manager stays up through the outage,
// and the workflow finishes with every step done in its first attempt.
func TestRealKafkaOutage(t *testing.T) {
	b := bustest.Dedicated(t, bustest.BrokerOptions{})
	q := startQM(t, b.Config(), filepath.Join(t.TempDir(), "qm.db"), "DUMMY_RATE=300", "DUMMY_RECORDS=1500")
	w := q.submit(t, fourSteps)
	q.waitFor(t, w.ID, time.Minute, "both first steps running", func(w flow.Workflow) bool {
		return w.Steps[0].Records > 0 && w.Steps[1].Records > 0
	})
	b.Stop(t)
	select {
	case <-q.p.Done():
		t.Fatalf("queue-manager exited during the Kafka outage: %s", testkit.LastLine(q.p.Stderr()))
	case <-time.After(30 * time.Second):
	}
	b.Resume(t)
	got := q.waitFor(t, w.ID, 3*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s after the outage: %s", got.State, got.Error)
	}
	for _, s := range got.Steps {
		if len(s.Attempts) != 1 || s.Records != 1500 {
			t.Errorf("step %s: %d records, %d attempts %+v; the outage must not use any up", s.Kind, s.Records, len(s.Attempts), s.Attempts)
		}
	}
}
