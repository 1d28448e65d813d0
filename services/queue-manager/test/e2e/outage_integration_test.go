//go:build integration

package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
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

// TestRealExitWhileEventsDelayed SIGTERMs a worker while queue-events
// reaches queue-manager 8 s late (a proxy, the address the broker
// advertises, withholds the answers to fetches): the worker sends
// interrupted and exits 0 at once, and queue-manager must not take the exit
// for the end of the job. It judges the run only once it has read
// queue-events up to the end offsets taken after the run ended, finds the
// interrupted event there, and relaunches the step.
func TestRealExitWhileEventsDelayed(t *testing.T) {
	const lag = 8 * time.Second
	p := bustest.NewProxy(t)
	b := bustest.Dedicated(t, bustest.BrokerOptions{AdvertisedPort: p.Port()})
	p.Forward(b.Addr())
	cfg := b.Config()
	cfg.BootstrapServers = p.Addr()
	q := startQM(t, cfg, filepath.Join(t.TempDir(), "qm.db"), "DUMMY_RATE=300", "DUMMY_RECORDS=1500")
	w := q.submit(t, `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`)
	q.waitFor(t, w.ID, time.Minute, "loader progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
	pid := workerPID(t, w.Steps[0].TelemetryID, w.Steps[0].QueueID)
	p.HoldFetches(lag)
	termed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	got := q.waitFor(t, w.ID, 2*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s: %s", got.State, got.Error)
	}
	a := got.Steps[0].Attempts
	if len(a) != 2 || a[0].Outcome != flow.Failed || !strings.Contains(a[0].Message, "interrupted") || a[1].Outcome != flow.Finished {
		t.Fatalf("attempts %+v: want the SIGTERMed run failed by its interrupted event, then a finished one", a)
	}
	// The interrupted event was read late: the proof that the delay was real.
	if seen := a[0].Ended.Sub(termed); seen < lag-time.Second {
		t.Errorf("the first attempt ended %s after SIGTERM: queue-events was not delayed %s", seen.Round(time.Millisecond), lag)
	}
	t.Logf("SIGTERMed run judged %s after SIGTERM: %s", a[0].Ended.Sub(termed).Round(time.Millisecond), a[0].Message)
}

// TestRealStopDuringKafkaOutage asks to stop a workflow while its real
// Kafka broker is down: the stop command cannot be published then, and is
// once the broker is back, within the stop grace. The worker, whose
// queue-control listener waited the outage out, stops on request.
func TestRealStopDuringKafkaOutage(t *testing.T) {
	b := bustest.Dedicated(t, bustest.BrokerOptions{})
	q := startQM(t, b.Config(), filepath.Join(t.TempDir(), "qm.db"), "DUMMY_RATE=50", "STOP_GRACE=2m")
	w := q.submit(t, `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`)
	q.waitFor(t, w.ID, time.Minute, "loader progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
	b.Stop(t)
	resp, err := http.Post(q.base+"/api/v1/workflows/"+w.ID+"/stop", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("stop during the outage: %d", resp.StatusCode)
	}
	time.Sleep(10 * time.Second)
	b.Resume(t)
	got := q.waitFor(t, w.ID, 2*time.Minute, "stopped workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Stopped {
		t.Fatalf("workflow %s: %s", got.State, got.Error)
	}
	if a := got.Steps[0].Attempts; len(a) != 1 || a[0].Outcome != flow.Stopped || !strings.Contains(a[0].Message, "stopped on request") {
		t.Errorf("loader attempts %+v: want one, stopped by its own interrupted event after the stop command", a)
	}
}
