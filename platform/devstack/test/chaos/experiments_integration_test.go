//go:build integration

package chaos

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
)

// TestRealChaos runs the CI subset of the chaos experiments (1, 6, 7 and
// 10 of the suite) and the baseline on one three-node cluster, each on a
// fresh stack, and reports their figures.
func TestRealChaos(t *testing.T) {
	c := bustest.StartCluster(t, 3)
	t.Logf("three-node cluster up in %s on %s", c.StartTime().Round(time.Millisecond), c.Bootstrap())
	var rows []*figures
	all := experiments
	if os.Getenv("CHAOS_FULL") != "" {
		all = append(all[:len(all):len(all)], fullOnly...)
	}
	for _, e := range all {
		t.Run(e.name, func(t *testing.T) {
			f := e.run(t, c)
			f.Verdict = "pass"
			if msg := e.check(f); msg != "" {
				f.Verdict = "FAIL: " + msg
				t.Error(msg)
			} else if t.Failed() {
				f.Verdict = "FAIL"
			}
			rows = append(rows, f)
		})
	}
	report(t, c, rows)
}

// experiment is one fault and its invariant.
type experiment struct {
	name  string
	run   func(*testing.T, *bustest.Cluster) *figures
	check func(*figures) string // "" when the invariant holds
}

// exact is the invariant of a run that must store exactly the source and
// finish, using at most extra attempts beyond one per step.
func exact(extra int) func(*figures) string {
	return func(f *figures) string {
		switch {
		case f.State != "finished":
			return "workflow " + f.State
		case f.Lost != 0 || f.Extra != 0:
			return fmt.Sprintf("%d lost, %d extra", f.Lost, f.Extra)
		case f.FalseFinish != 0:
			return fmt.Sprintf("%d false finishes", f.FalseFinish)
		case f.Attempts > 2+extra:
			return fmt.Sprintf("%d attempts, at most %d allowed", f.Attempts, 2+extra)
		}
		return ""
	}
}

var experiments = []experiment{
	{name: "baseline", run: baseline, check: exact(0)},
	{name: "1-leader-killed", run: leaderKilled, check: exact(1)},
	{name: "6-sigterm-events-delayed", run: sigtermEventsDelayed, check: exact(1)},
	{name: "7-workers-killed", run: workersKilled, check: exact(6)},
	{name: "10-bootstrap-node-down", run: bootstrapNodeDown, check: exact(0)},
	{name: "10-bootstrap-node-resets", run: bootstrapNodeResets, check: exact(0)},
	{name: "11-forged-finished", run: forgedFinished, check: exact(0)},
}

// fullOnly are the experiments make chaos adds to the CI subset (CHAOS_FULL
// set): each holds a fault for a minute or more, or takes a node down.
var fullOnly = []experiment{
	{name: "2-controller-killed", run: controllerKilled, check: exact(1)},
	{name: "3-all-brokers-away-20s", run: allAway(20 * time.Second), check: exact(0)},
	{name: "3-all-brokers-away-90s", run: allAway(90 * time.Second), check: finishedOrLoud},
	{name: "4-latency", run: latency, check: exact(0)},
	{name: "5-queue-manager-partitioned", run: managerPartitioned(60 * time.Second), check: exact(0)},
	{name: "8-queue-manager-killed", run: queueManagerKilled, check: exact(4)},
	{name: "9-store-locked", run: storeLocked, check: exact(2)},
}

// finishedOrLoud is the invariant of a fault the workers may not outlive:
// the workflow finishes with the store equal to the source, or fails (each
// attempt with an error event, bounded by the ride-out); no step is ever
// seen finished while the store differs from the source.
func finishedOrLoud(f *figures) string {
	switch {
	case f.FalseFinish != 0:
		return fmt.Sprintf("%d false finishes", f.FalseFinish)
	case f.State == "failed":
		return ""
	}
	return exact(8)(f)
}

const runLimit = 5 * time.Minute

func baseline(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "baseline: no fault")
	r.submit()
	return r.finish(runLimit)
}

// loading waits until the loader has written records.
func (r *run) loading() *scenario.Workflow {
	return r.waitFor(time.Minute, "loader progress", func(w *scenario.Workflow) bool {
		return r.step(w, protocol.StepLoad).Records > 0
	})
}

// leaderKilled SIGKILLs the node leading the data topic's written partition
// mid-load; it is restarted once the workflow ended.
func leaderKilled(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "1: SIGKILL the data partition's leader mid-load", paced...)
	r.pace(50 * time.Millisecond)
	r.submit()
	w := r.loading()
	if s := r.step(w, protocol.StepLoad); s.State != "running" {
		t.Fatalf("the load step is %s before the fault: not mid-load", s.State)
	}
	topic := r.step(w, protocol.StepLoad).Topic
	p := busiestPartition(t, c, topic)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader, err := c.Leader(ctx, topic, p)
	if err != nil || leader < 1 {
		t.Fatalf("leader of %s/%d: %d %v", topic, p, leader, err)
	}
	t.Logf("killing node %d, leader of %s/%d", leader, topic, p)
	c.Kill(t, leader)
	defer c.Restart(t, leader)
	r.f.faultEndedAt = time.Now()
	return r.finish(runLimit)
}

// paced makes the workers write and store in small batches: with pace's
// latency on every link, a load and a store take long enough for a fault
// to land in their middle (the whole day loads in under a second
// otherwise).
var paced = []string{"LOADER_BATCH_SIZE=500", "CONNECTOR_BATCH_SIZE=500"}

// pace delays every answer of every node by d until the workflow ended:
// the figures are read without it.
func (r *run) pace(d time.Duration) {
	r.t.Helper()
	r.t.Cleanup(r.liftFaults)
	for n := 1; n <= r.c.Nodes(); n++ {
		x := r.c.Link(n).Latency(r.t, d, 0)
		r.lift = append(r.lift, func() { x.Remove(r.t) })
	}
}

// busiestPartition is the partition of topic holding the most messages.
func busiestPartition(t *testing.T, c *bustest.Cluster, topic string) int {
	t.Helper()
	a, err := bus.NewAdmin(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := a.EndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for p, end := range ends {
		if end > ends[best] {
			best = p
		}
	}
	return best
}

// sigtermEventsDelayed delays every answer of every node by 8 s (so
// queue-events reaches queue-manager late), SIGTERMs the connector
// mid-store, and lifts the delay 10 s later. No store step may be seen
// finished while the store differs from the source.
func sigtermEventsDelayed(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "6: SIGTERM the connector, queue-events 8 s late")
	r.submit()
	w := r.waitFor(2*time.Minute, "connector progress", func(w *scenario.Workflow) bool {
		return r.step(w, protocol.StepStore).Records > 0
	})
	store := r.step(w, protocol.StepStore)
	pid := r.waitPID("arango-connector", store.QueueID, 0, 30*time.Second)
	var toxics []*bustest.Toxic
	for n := 1; n <= c.Nodes(); n++ {
		toxics = append(toxics, c.Link(n).Latency(t, 8*time.Second, 0))
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r.watch(10 * time.Second)
	for _, x := range toxics {
		x.Remove(t)
	}
	r.f.faultEndedAt = time.Now()
	return r.finish(runLimit)
}

// workersKilled SIGKILLs the loader and the connector three times each
// while they work, as a pod-delete would.
func workersKilled(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "7: SIGKILL loader and connector 3 times each", append(paced, "STEP_MAX_ATTEMPTS=5")...)
	r.pace(100 * time.Millisecond)
	r.submit()
	w := r.loading()
	qid := r.step(w, protocol.StepLoad).QueueID
	for _, binary := range []string{"loader-producer", "arango-connector"} {
		last := 0
		for i := range 3 {
			pid := r.waitPID(binary, qid, last, time.Minute)
			time.Sleep(time.Duration(500+300*i) * time.Millisecond) // mid-batch, past its start
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Logf("kill %s %d: %v (already gone)", binary, pid, err)
			}
			last = pid
		}
	}
	r.f.faultEndedAt = time.Now()
	return r.finish(runLimit)
}

// bootstrapNodeDown stops node 1, the first of every client's bootstrap
// list, before the workers start, with its address refusing connections as
// a host that is down does, and restarts it once the workflow ended.
func bootstrapNodeDown(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "10: bootstrap b1,b2,b3 with b1 down at the workers' start")
	c.Stop(t, 1)
	c.Link(1).Down()
	defer c.Restart(t, 1)
	defer c.Link(1).Up(t)
	r.submit()
	return r.finish(runLimit)
}

// bootstrapNodeResets stops node 1, the first of every client's bootstrap
// list, before the workers start, leaving its proxy up: its address accepts
// connections and closes them, as a proxy or a load balancer in front of a
// broker that is down does. It is restarted once the workflow ended.
func bootstrapNodeResets(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "10: bootstrap b1,b2,b3 with b1 resetting connections at the workers' start")
	c.Stop(t, 1)
	defer c.Restart(t, 1)
	r.submit()
	return r.finish(runLimit)
}

// forgedFinished publishes, mid-load, finished events for the load step
// from another client: one naming no run, one naming the store step's run.
// The connector must keep waiting for the real loader's finished: a store
// step seen finished while the store differs from the source is a false
// finish.
func forgedFinished(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "11: forged finished for the load step from another client", paced...)
	r.pace(50 * time.Millisecond)
	r.submit()
	w := r.loading()
	load := r.step(w, protocol.StepLoad)
	q, err := protocol.ParseQueueID(load.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	kind, _ := protocol.LookupStepKind(protocol.StepLoad)
	for _, run := range []string{"", protocol.RunID(load.QueueID, protocol.StepStore, 1)} {
		testkit.Publish(t, c.Config(), protocol.TopicEvents, load.QueueID, protocol.Event{QueueID: load.QueueID,
			Producer: protocol.TelemetryID(kind.Service, q.Suffix), RunID: run, Status: protocol.StatusFinished, Finished: true,
			RecordsWritten: load.Records, Message: "forged", Timestamp: protocol.Timestamp(time.Now())})
	}
	t.Logf("forged two finished events for %s at %d records", load.ID, load.Records)
	r.f.faultEndedAt = time.Now()
	r.watch(5 * time.Second)
	return r.finish(runLimit)
}

// controllerKilled SIGKILLs the active KRaft controller as the workflow is
// submitted, so that the workers create their topics while the remaining
// nodes elect a new controller; it is restarted once the workflow ended.
func controllerKilled(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "2: SIGKILL the active controller at the workflow's start")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := c.Controller(ctx)
	if err != nil || n < 1 {
		t.Fatalf("active controller: %d %v", n, err)
	}
	r.submit()
	t.Logf("killing node %d, the active controller", n)
	c.Kill(t, n)
	defer c.Restart(t, n)
	r.f.faultEndedAt = time.Now()
	return r.finish(runLimit)
}

// allAway makes all three nodes unreachable (their proxies refuse
// connections) for d mid-load, then reachable again.
func allAway(d time.Duration) func(*testing.T, *bustest.Cluster) *figures {
	return func(t *testing.T, c *bustest.Cluster) *figures {
		r := newRun(t, c, fmt.Sprintf("3: all brokers unreachable for %s mid-load", d), paced...)
		r.pace(20 * time.Millisecond)
		r.submit()
		r.loading()
		for n := 1; n <= c.Nodes(); n++ {
			c.Link(n).Down()
			r.lift = append(r.lift, func() { c.Link(n).Up(t) })
		}
		r.watch(d)
		r.liftFaults()
		r.pace(20 * time.Millisecond)
		r.f.faultEndedAt = time.Now()
		return r.finish(runLimit)
	}
}

// latency delays every answer of every node by 200 ± 100 ms for the whole
// workflow, and by 2 s for 20 s mid-load. No healthy worker may be
// relaunched.
func latency(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "4: 200 ± 100 ms of latency, 2 s for 20 s mid-load", paced...)
	var base []*bustest.Toxic
	for n := 1; n <= c.Nodes(); n++ {
		base = append(base, c.Link(n).Latency(t, 200*time.Millisecond, 100*time.Millisecond))
	}
	lift := func() {
		for _, x := range base {
			x.Remove(t)
		}
		base = nil
	}
	r.lift = append(r.lift, lift)
	r.submit()
	r.loading()
	var slow []*bustest.Toxic
	for n := 1; n <= c.Nodes(); n++ {
		slow = append(slow, c.Link(n).Latency(t, 2*time.Second, 0))
	}
	r.watch(20 * time.Second)
	for _, x := range slow {
		x.Remove(t)
	}
	r.f.faultEndedAt = time.Now()
	return r.finish(runLimit)
}

// queueManagerKilled submits with an Idempotency-Key, SIGKILLs
// queue-manager mid-load (its workers end with it: the local launcher ties
// them to it), starts it again and retries the POST with the same key: the
// answer must be the same workflow, which finishes exact with its steps'
// attempts within their limits.
func queueManagerKilled(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "8: SIGKILL queue-manager mid-load, restart, POST again with its Idempotency-Key", paced...)
	r.pace(50 * time.Millisecond)
	const key = "chaos-8"
	r.start = time.Now()
	r.w = r.postKeyed(key)
	r.loading()
	if err := r.s.KillQueueManager(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.s.StartQueueManager(ctx); err != nil {
		t.Fatal(err)
	}
	if again := r.postKeyed(key); again.ID != r.w.ID {
		t.Errorf("the retried POST made workflow %s, want the first one, %s", again.ID, r.w.ID)
	}
	r.f.faultEndedAt = time.Now()
	return r.finish(runLimit)
}
