// Package e2e runs the queue-manager binary with the local launcher and
// dummy-service as every worker over a Kafka broker (embedded in the unit
// tier, real Apache Kafka 4.x with -tags integration): workflows finish,
// killed workers are relaunched, stop stops everything, and a restarted
// queue-manager picks its work up again.
package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

var binDir string

func TestMain(m *testing.M) {
	services := filepath.Join("..", "..", "..")
	os.Exit(testkit.Main(m, &binDir,
		testkit.Cmd{ModuleDir: filepath.Join(services, "queue-manager"), Pkg: "./cmd/queue-manager"},
		testkit.Cmd{ModuleDir: filepath.Join(services, "dummy-service"), Pkg: "./cmd/dummy-service"}))
}

// qm is a running queue-manager.
type qm struct {
	p    *testkit.Proc
	base string
}

// startQM starts queue-manager on the store at dbPath. Its consumer group on
// queue-events is derived from dbPath, so each test has its own group and a
// restart on the same store rejoins the same one.
func startQM(t testing.TB, cfg bus.Config, dbPath string, extraEnv ...string) *qm {
	t.Helper()
	group := fmt.Sprintf("qm-e2e-%x", sha256.Sum256([]byte(dbPath)))[:24]
	bustest.Topics(t, cfg, 3, protocol.TopicControl, protocol.TopicEvents)
	all := "load=dummy-service,store=dummy-service,graph=dummy-service,train=dummy-service"
	args := "load=--simulate-loading,store=--simulate-loading,graph=--simulate-loading,train=--simulate-loading"
	env := append(testkit.KafkaEnv(cfg), "HTTP_ADDR=127.0.0.1:0", "STORE_PATH="+dbPath, "STEP_LOG_DIR="+filepath.Join(filepath.Dir(dbPath), "steps"), "LAUNCHER=local", "LOCAL_BIN_DIR="+binDir,
		"STEP_SERVICES="+all, "STEP_ARGS="+args, "STEP_HEARTBEAT_TIMEOUT=30s", "EVENTS_GROUP="+group, "STEP_RETRY_BASE=500ms", "STEP_RETRY_MAX=2s",
		"STOP_GRACE=5s", "ENGINE_TICK=200ms",
		// inherited by the workers
		"DUMMY_RECORDS=3000", "DUMMY_RATE=1500", "DUMMY_BATCH_SIZE=300", "HEARTBEAT_INTERVAL=1s", "KAFKA_CREATE_TOPICS=true")
	p := testkit.Start(t, filepath.Join(binDir, "queue-manager"), append(env, extraEnv...))
	q := &qm{p: p, base: "http://" + p.HTTPAddr(t)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(q.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return q
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue-manager not ready after 30 s: %s", testkit.LastLine(p.Stderr()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (q *qm) submit(t testing.TB, body string) flow.Workflow {
	t.Helper()
	resp, err := http.Post(q.base+"/api/v1/workflows", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %s", resp.StatusCode, b)
	}
	var w flow.Workflow
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func (q *qm) get(t testing.TB, id string) flow.Workflow {
	t.Helper()
	resp, err := http.Get(q.base + "/api/v1/workflows/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var w flow.Workflow
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		t.Fatal(err)
	}
	return w
}

// waitFor polls the workflow until ok, failing after timeout.
func (q *qm) waitFor(t testing.TB, id string, timeout time.Duration, what string, ok func(flow.Workflow) bool) flow.Workflow {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w := q.get(t, id)
		if ok(w) {
			return w
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(w, "", " ")
			t.Fatalf("no %s within %s:\n%s", what, timeout, b)
		}
		select {
		case <-q.p.Done():
			t.Fatalf("queue-manager exited: %s", testkit.LastLine(q.p.Stderr()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

const fourSteps = `{"symbols":["BTCUSDT"],"types":["api_candles_5m"],"time_range":"2024-08-01:2024-09-01","steps":["load","store","graph","train"]}`

func testWorkflowFinishes(t *testing.T, cfg bus.Config) {
	q := startQM(t, cfg, filepath.Join(t.TempDir(), "qm.db"))
	w := q.submit(t, fourSteps)
	got := q.waitFor(t, w.ID, 2*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s: %s", got.State, got.Error)
	}
	for _, s := range got.Steps {
		if s.State != flow.Finished || len(s.Attempts) != 1 || s.Records != 3000 || s.LastEvent == nil || s.LastEvent.Status != "finished" {
			t.Errorf("step %s: state %s, attempts %+v, %d records, last event %+v", s.ID, s.State, s.Attempts, s.Records, s.LastEvent)
		}
	}
	// The graph started only after the store step finished.
	if !got.Steps[2].Attempts[0].Started.After(got.Steps[1].Attempts[0].Ended.Add(-time.Millisecond)) {
		t.Errorf("graph started at %s, before the store step ended at %s", got.Steps[2].Attempts[0].Started, got.Steps[1].Attempts[0].Ended)
	}
}

// workerPID finds the process of a step's worker by its environment.
func workerPID(t testing.TB, telemetryID, queueID string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			if err != nil {
				continue
			}
			if bytes.Contains(env, []byte("\x00TELEMETRY_ID="+telemetryID+"\x00")) && bytes.Contains(env, []byte("\x00QUEUE_ID="+queueID+"\x00")) {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no worker process for %s", telemetryID)
	return 0
}

func testKilledWorkerRelaunched(t *testing.T, cfg bus.Config) {
	q := startQM(t, cfg, filepath.Join(t.TempDir(), "qm.db"))
	w := q.submit(t, `{"symbols":["ETHUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load","store"]}`)
	load := w.Steps[0]
	q.waitFor(t, w.ID, time.Minute, "loader progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
	pid := workerPID(t, load.TelemetryID, load.QueueID)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := q.waitFor(t, w.ID, 2*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s: %s", got.State, got.Error)
	}
	s := got.Steps[0]
	if len(s.Attempts) != 2 || s.Attempts[0].Outcome != flow.Failed || !strings.Contains(s.Attempts[0].Message, "killed") {
		t.Errorf("loader attempts %+v, want a failed (killed) attempt then a finished one", s.Attempts)
	}
	t.Logf("worker killed: %s; relaunched %s later", s.Attempts[0].Message, s.Attempts[1].Started.Sub(s.Attempts[0].Ended).Round(time.Millisecond))
}

func testStop(t *testing.T, cfg bus.Config) {
	q := startQM(t, cfg, filepath.Join(t.TempDir(), "qm.db"), "DUMMY_RATE=300")
	w := q.submit(t, fourSteps)
	q.waitFor(t, w.ID, time.Minute, "both first steps running", func(w flow.Workflow) bool {
		return w.Steps[0].Records > 0 && w.Steps[1].Records > 0
	})
	resp, err := http.Post(q.base+"/api/v1/workflows/"+w.ID+"/stop", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := q.waitFor(t, w.ID, time.Minute, "stopped workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Stopped {
		t.Fatalf("workflow %s", got.State)
	}
	for _, s := range got.Steps {
		if s.State != flow.Stopped {
			t.Errorf("step %s: %s", s.ID, s.State)
		}
	}
	if a := got.Steps[0].Attempts[0]; a.Outcome != flow.Stopped || !strings.Contains(a.Message, "stopped on request") {
		t.Errorf("loader attempt %+v: want stopped by its own interrupted event", a)
	}
}

func testRestart(t *testing.T, cfg bus.Config) {
	db := filepath.Join(t.TempDir(), "qm.db")
	q := startQM(t, cfg, db, "DUMMY_RATE=1000")
	w := q.submit(t, fourSteps)
	q.waitFor(t, w.ID, time.Minute, "loader progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
	q.p.Kill() // SIGKILL: its workers die with it
	q2 := startQM(t, cfg, db, "DUMMY_RATE=1000")
	got := q2.waitFor(t, w.ID, 2*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s: %s", got.State, got.Error)
	}
	if a := got.Steps[0].Attempts; len(a) < 2 || !strings.Contains(a[0].Message, "lost while queue-manager was down") {
		t.Errorf("loader attempts %+v: want the lost run relaunched", a)
	}
}

// testOneEngine runs two queue-managers on one store: the second stands by
// (reads served, changes refused with 503 and Retry-After) while the first
// runs the workflow, each step launched once; when the first is killed, the
// second takes the engine lease once it lapsed and finishes the workflow.
func testOneEngine(t *testing.T, cfg bus.Config) {
	db := filepath.Join(t.TempDir(), "qm.db")
	q1 := startQM(t, cfg, db, "DUMMY_RATE=1000", "ENGINE_LEASE_TTL=3s")
	q2 := startQM(t, cfg, db, "DUMMY_RATE=1000", "ENGINE_LEASE_TTL=3s")
	resp, err := http.Post(q2.base+"/api/v1/workflows", "application/json", strings.NewReader(fourSteps))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a change on the standby: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	w := q1.submit(t, fourSteps)
	q2.waitFor(t, w.ID, time.Minute, "loader progress read on the standby", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
	q1.p.Kill()
	got := q2.waitFor(t, w.ID, 2*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s: %s", got.State, got.Error)
	}
	for _, s := range got.Steps {
		for _, a := range s.Attempts {
			if a.Outcome == flow.Failed && !strings.Contains(a.Message, "lost while queue-manager was down") {
				t.Errorf("step %s: attempt %+v failed other than by the leader's death", s.Kind, a)
			}
		}
	}
}

// testKafkaOutage stops the broker for 8 s in the middle of a workflow and
// starts it again on the same address and data: queue-manager stays up
// through the outage, and the workflow finishes with no attempt used up.
func testKafkaOutage(t *testing.T) {
	b, err := embedded.Start(embedded.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { b.Close() }()
	cfg := b.Config()
	db := filepath.Join(t.TempDir(), "qm.db")
	q := startQM(t, cfg, db, "DUMMY_RATE=1000")
	w := q.submit(t, fourSteps)
	q.waitFor(t, w.ID, time.Minute, "loader progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
	b.Close()
	select {
	case <-q.p.Done():
		t.Fatalf("queue-manager exited during the Kafka outage: %s", testkit.LastLine(q.p.Stderr()))
	case <-time.After(8 * time.Second):
	}
	if b, err = b.Restart(); err != nil {
		t.Fatal(err)
	}
	got := q.waitFor(t, w.ID, 3*time.Minute, "finished workflow", func(w flow.Workflow) bool { return flow.Terminal(w.State) })
	if got.State != flow.Finished {
		t.Fatalf("workflow %s after the outage: %s", got.State, got.Error)
	}
	for _, s := range got.Steps {
		if len(s.Attempts) != 1 {
			t.Errorf("step %s: %d attempts %+v; the outage must not use any up", s.Kind, len(s.Attempts), s.Attempts)
		}
	}
}
