package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// testStopIsForOneRun: debug-producer's stop names the run of the worker
// that answered its ping, so the next run of the same task — which reads
// queue-control from before its start — does not see it and keeps going.
func testStopIsForOneRun(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	first := startDummy(t, cfg, q, []string{"RUN_ID=" + q + ".load.1"})
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	code, out, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "stop", "--expect-finish", "--timeout", "15s")
	if code != 0 {
		t.Fatalf("debug-producer exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "run "+q+".load.1") || !strings.Contains(out, "interrupted") {
		t.Errorf("debug-producer said %q, want the stop for run %s.load.1 and its interrupted event", out, q)
	}
	if c := first.Wait(t, 20*time.Second); c != 0 {
		t.Fatalf("first run exit %d after stop, want 0", c)
	}
	in := ev.WaitFor(t, protocol.StatusInterrupted, 5*time.Second)
	if in.Message != protocol.ReasonStopRequested {
		t.Errorf("interrupted message %q, want %q", in.Message, protocol.ReasonStopRequested)
	}

	// The relaunch: it has read queue-control back to before the stop once
	// it answers a ping.
	second := startDummy(t, cfg, q, []string{"RUN_ID=" + q + ".load.2"})
	defer func() { _ = second.Cmd.Process.Kill() }()
	code, out, errOut = debugProducer(t, cfg, "--queue-id", q, "--command", "ping", "--expect-pong", "--timeout", "30s")
	if code != 0 {
		t.Fatalf("the second run does not answer: exit %d: %s%s", code, out, errOut)
	}
	for _, e := range ev.All() {
		if e.RunID == q+".load.2" && e.Status == protocol.StatusInterrupted {
			t.Fatalf("the second run was stopped by the first run's stop: %+v", e)
		}
	}
}
