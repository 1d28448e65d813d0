//go:build integration

package chaos

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
)

// managerPartitioned cuts queue-manager alone off from Kafka for d
// mid-load: queue-manager reaches the nodes only through their side
// proxies (its bootstrap is the side listeners', which advertise those
// proxies), its workers through the usual ones, and a timeout toxic on
// every side proxy swallows what queue-manager sends, as a network that
// drops its packets does, while the workers go on. The workers must finish
// and no healthy step be relaunched: queue-manager's own outage is not the
// workers' silence. The heartbeat timeout is a third of d, so that a
// queue-manager taking the silence it cannot hear for the workers' would
// relaunch them while they still run.
func managerPartitioned(d time.Duration) func(*testing.T, *bustest.Cluster) *figures {
	return func(t *testing.T, c *bustest.Cluster) *figures {
		env := append(append([]string{"STEP_HEARTBEAT_TIMEOUT=" + (d / 3).String()}, paced...), sidePath(t, c)...)
		r := newRun(t, c, "5: queue-manager (only) partitioned from Kafka for "+d.String()+" mid-load", env...)
		r.pace(50 * time.Millisecond)
		r.submit()
		qid := r.step(r.loading(), protocol.StepLoad).QueueID
		var cut []*bustest.Toxic
		cutAt := time.Now()
		for n := 1; n <= c.Nodes(); n++ {
			x := c.SideLink(n).Timeout(t, 0)
			cut = append(cut, x)
		}
		lift := func() {
			for _, x := range cut {
				x.Remove(t)
			}
			cut = nil
		}
		r.lift = append(r.lift, lift)
		r.watch(d)
		t.Logf("at the partition's end: loader running %t, connector running %t",
			workerPID("loader-producer", qid) != 0, workerPID("arango-connector", qid) != 0)
		lift()
		r.f.faultEndedAt = time.Now()
		f := r.finish(runLimit)
		t.Logf("queue-manager: queue-events unreadable %s after the cut, readable again %s after its end",
			logged(t, r.s.LogPath, "queue-events cannot be read", cutAt), logged(t, r.s.LogPath, "queue-events can be read again", r.f.faultEndedAt))
		return f
	}
}

// logged is when the stack log first has a message starting with msg after
// since, as a time from since; "never" when it does not.
func logged(t *testing.T, path, msg string, since time.Time) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		var l struct {
			Time    time.Time `json:"time"`
			Message string    `json:"message"`
		}
		if json.Unmarshal(line, &l) == nil && strings.HasPrefix(l.Message, msg) && !l.Time.Before(since) {
			return l.Time.Sub(since).Round(100 * time.Millisecond).String()
		}
	}
	return "never"
}

// sidePath is the environment that puts queue-manager on the cluster's side
// listeners and keeps its workers on the usual ones: queue-manager's
// bootstrap is the side proxies', and a <service>.env file per worker
// (LOCAL_SERVICE_ENV_DIR) gives each worker the usual bootstrap back.
func sidePath(t *testing.T, c *bustest.Cluster) []string {
	t.Helper()
	dir := t.TempDir()
	for _, kind := range []string{protocol.StepLoad, protocol.StepStore} {
		k, ok := protocol.LookupStepKind(kind)
		if !ok {
			t.Fatalf("no step kind %s", kind)
		}
		line := "KAFKA_BOOTSTRAP_SERVERS=" + c.Bootstrap() + "\n"
		if err := os.WriteFile(filepath.Join(dir, k.Service+".env"), []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"KAFKA_BOOTSTRAP_SERVERS=" + c.SideBootstrap(), "LOCAL_SERVICE_ENV_DIR=" + dir}
}
