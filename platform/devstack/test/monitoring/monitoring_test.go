//go:build integration

// Package monitoring proves deploy/monitoring against a real Prometheus
// (platform/prometheus/prometheus.sh) scraping the local stack through
// queue-manager's HTTP service discovery: every dashboard panel's queries
// answer after a Scenario 1 workflow, and the alerts — in their test-only
// rendering (deploy/monitoring/tests/it-overrides.yaml: shorter windows and
// `for:`) — fire under faults and clear after recovery, while one stays
// silent throughout.
package monitoring

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the store's driver, to lock it as a fault

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/platform/devstack/internal/promrules"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

const repoRoot = "../../../.."

var binDir string

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m, &binDir)) }

// renderRules writes the alert rules into dir (with the test overrides
// when it is true) and makes Prometheus load them.
func renderRules(t *testing.T, ctx context.Context, p prom, dir string, overrides bool) {
	t.Helper()
	files, err := promrules.Load(filepath.Join(repoRoot, "deploy/monitoring/prometheusrule.yaml"))
	if err == nil && overrides {
		var o []promrules.Override
		if o, err = promrules.LoadOverrides(filepath.Join(repoRoot, "deploy/monitoring/tests/it-overrides.yaml")); err == nil {
			err = promrules.Apply(files, o)
		}
	}
	if err == nil {
		err = promrules.Write(dir, files)
	}
	if err == nil {
		err = p.reload(ctx)
	}
	if err != nil {
		t.Fatalf("alert rules: %v", err)
	}
}

// watch records every alert that fires until stop is called.
func watch(ctx context.Context, p prom) (stop func() map[string]bool) {
	var mu sync.Mutex
	fired := map[string]bool{}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			as, _ := p.alerts(ctx)
			mu.Lock()
			for _, a := range as {
				if a.State == "firing" {
					fired[a.Labels["alertname"]] = true
				}
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return func() map[string]bool {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return fired
	}
}

// workerPID returns the pid of the running child of queue-manager whose
// binary is service (the first found).
func workerPID(t *testing.T, s *stack.Stack, service string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pids, err := s.Workers()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err == nil && filepath.Base(strings.SplitN(string(cmd), "\x00", 2)[0]) == service {
				return pid
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s worker running", service)
	return 0
}

// The alerts the faults fire and that must clear again at the end (the
// silence and queue-manager alerts clear within their faults), and the one
// that must stay silent: a broker refusing writes would stop the whole
// stack, so produce errors are not provoked here.
var (
	recovering = []string{"StreamforgeBinanceRateLimited", "StreamforgeBinanceBanned", "StreamforgeConnectorStalled",
		"StreamforgeEngineStoreErrors", "StreamforgeDeadLettersGrowing", "StreamforgeBinanceWeightNearLimit",
		"StreamforgeStepWithoutHeartbeat", "StreamforgeStepFailed", "StreamforgeWorkflowFailureRate", "StreamforgeStepRetries"}
	clearedInFault = []string{"StreamforgeQueueManagerAbsent"}
	silent         = "StreamforgeKafkaProduceErrors"
)

// TestRealPrometheusEveryAlertHasItsFault keeps the lists above equal to the rules: a new
// alert needs a fault here, or a reason to stay silent.
func TestRealPrometheusEveryAlertHasItsFault(t *testing.T) {
	files, err := promrules.Load(filepath.Join(repoRoot, "deploy/monitoring/prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{silent: true}
	for _, a := range append(append([]string{}, recovering...), clearedInFault...) {
		covered[a] = true
	}
	for _, a := range promrules.Alerts(files) {
		if !covered[a] {
			t.Errorf("alert %s has no fault in the monitoring integration test", a)
		}
		delete(covered, a)
	}
	for a := range covered {
		t.Errorf("the monitoring integration test names alert %s, which the rules do not have", a)
	}
}

func TestRealPrometheusDashboardsAndAlerts(t *testing.T) {
	base, sdAddr, rulesDir := os.Getenv("PROMETHEUS_IT_URL"), os.Getenv("PROMETHEUS_IT_SD_ADDR"), os.Getenv("PROMETHEUS_IT_RULES_DIR")
	if base == "" || sdAddr == "" || rulesDir == "" {
		t.Skip(`no Prometheus: platform/prometheus/prometheus.sh start; eval "$(platform/prometheus/prometheus.sh env)"`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	p := prom{base: base}
	renderRules(t, ctx, p, rulesDir, true)
	t.Cleanup(func() { renderRules(t, context.Background(), p, rulesDir, false) })

	// queue-manager listens where Prometheus's discovery asks. Workers
	// report every 2 s, a silent step is relaunched only after 90 s (the
	// silence alert must fire first), failed attempts are retried at once,
	// and the engine lease outlasts the store lock of the faults (a leader
	// that cannot renew its lease stops).
	s := stacktest.Up(t, ctx, stack.Options{BinDir: binDir, DataDir: t.TempDir(), APIAddr: sdAddr, TradeRate: 0.5,
		Env: []string{"HEARTBEAT_INTERVAL=2s", "PROGRESS_INTERVAL=1s", "STEP_HEARTBEAT_TIMEOUT=90s",
			"STEP_RETRY_BASE=200ms", "STEP_RETRY_MAX=500ms", "ENGINE_LEASE_TTL=120s", fmt.Sprintf("EVENTS_GROUP=monitoring-%d", time.Now().UnixNano())}})
	c := &scenario.Client{API: s.API}
	// Before the stack was up queue-manager was absent, rightly.
	p.waitAlert(t, ctx, "StreamforgeQueueManagerAbsent", false, 30*time.Second)

	// A healthy Scenario 1: no alert may fire.
	start := time.Now()
	stop := watch(ctx, p)
	w, err := c.Submit(ctx, scenario.TrainRequest("BTCUSDT", "2026-10-01:2026-11-01", map[string]string{"GNN_EPOCHS": "5"}))
	if err != nil {
		t.Fatal(err)
	}
	final, err := c.Follow(ctx, w.ID, func(*scenario.Workflow) {})
	if err != nil || final.State != "finished" {
		t.Fatalf("Scenario 1 ended %v (%v): %s", final, err, final.Error)
	}
	time.Sleep(3 * time.Second) // the last scrapes and evaluations
	if fired := stop(); len(fired) > 0 {
		t.Errorf("alerts fired during a healthy Scenario 1: %v", fired)
	}
	t.Logf("healthy Scenario 1: %s", time.Since(start).Round(time.Second))
	checkDashboards(t, ctx, p, start, time.Now())
	if t.Failed() {
		return
	}

	// The faults, one after another; produce errors must stay silent.
	stop = watch(ctx, p)
	binanceAndStoreFaults(t, ctx, p, s, c)
	weightAndSilenceFaults(t, ctx, p, s, c)
	failingStep(t, ctx, p, s, c)
	queueManagerFrozen(t, ctx, p, s)
	for _, a := range recovering {
		t.Logf("%s inactive again after %s more", a, p.waitAlert(t, ctx, a, false, 90*time.Second).Round(time.Second))
	}
	if fired := stop(); fired[silent] {
		t.Errorf("%s fired, though no produce failed", silent)
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// binanceAndStoreFaults: the exchange answers 429 and then bans the IP as a
// loader starts; the store is locked while its connector runs (its lag
// stops shrinking, queue-manager cannot write) and a malformed record reaches the
// connector's data topic (a dead letter).
func binanceAndStoreFaults(t *testing.T, ctx context.Context, p prom, s *stack.Stack, c *scenario.Client) {
	sim := s.Simulator()
	sim.Fail429(2, time.Second)
	sim.Ban(4 * time.Second)
	// From REST alone (the 429s and the ban slow it first): the connector
	// is still behind when the store is locked, and its lag stops
	// shrinking whether the loader still produces or is done.
	w, err := c.Submit(ctx, scenario.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2026-09-01:2026-09-15",
		Steps: []string{"load", "store"}, Options: map[string]map[string]string{"load": {"LOADER_ARCHIVES": "false"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StreamforgeBinanceRateLimited firing after %s", p.waitAlert(t, ctx, "StreamforgeBinanceRateLimited", true, 60*time.Second).Round(time.Second))
	t.Logf("StreamforgeBinanceBanned firing after %s more", p.waitAlert(t, ctx, "StreamforgeBinanceBanned", true, 60*time.Second).Round(time.Second))

	// The store's connector has started writing: lock the store.
	storeStep := w.Steps[1]
	for {
		v, err := p.query(ctx, fmt.Sprintf(`streamforge_connector_records_written_total{queue_id=%q}`, storeStep.QueueID), "queue_id")
		if err != nil {
			t.Fatal(err)
		}
		if v[storeStep.QueueID] > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the connector never wrote")
		case <-time.After(200 * time.Millisecond):
		}
	}
	db, err := sql.Open("sqlite", "file://"+s.StorePath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("lock the store: %v", err)
	}
	t.Log("store locked")
	prod, err := bus.NewProducer(s.BusConfig(), bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.Send(ctx, bus.Message{Topic: storeStep.Topic, Key: []byte("BTCUSDT"), Value: []byte("{not json")}); err != nil {
		t.Fatalf("send a malformed record: %v", err)
	}
	t.Logf("StreamforgeConnectorStalled firing after %s", p.waitAlert(t, ctx, "StreamforgeConnectorStalled", true, 60*time.Second).Round(time.Second))
	t.Logf("StreamforgeEngineStoreErrors firing after %s more", p.waitAlert(t, ctx, "StreamforgeEngineStoreErrors", true, 60*time.Second).Round(time.Second))
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatalf("unlock the store: %v", err)
	}
	t.Log("store unlocked")
	t.Logf("StreamforgeDeadLettersGrowing firing after %s", p.waitAlert(t, ctx, "StreamforgeDeadLettersGrowing", true, 60*time.Second).Round(time.Second))
	if final, err := c.Follow(ctx, w.ID, func(*scenario.Workflow) {}); err != nil || final.State != "finished" {
		t.Fatalf("the workflow did not finish after the faults: %+v, %v", final, err)
	}
}

// weightAndSilenceFaults: a loader on REST alone with a weight budget of 60
// per minute uses it up; then it is frozen (SIGSTOP) past the silence
// threshold and thawed.
func weightAndSilenceFaults(t *testing.T, ctx context.Context, p prom, s *stack.Stack, c *scenario.Client) {
	w, err := c.Submit(ctx, scenario.Request{Symbols: []string{"ETHUSDT"}, Types: []string{"api_trades"}, TimeRange: "2026-10-01:2026-10-08",
		Steps: []string{"load"}, Options: map[string]map[string]string{"load": {"LOADER_ARCHIVES": "false", "BINANCE_WEIGHT_LIMIT": "60"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StreamforgeBinanceWeightNearLimit firing after %s", p.waitAlert(t, ctx, "StreamforgeBinanceWeightNearLimit", true, 90*time.Second).Round(time.Second))
	pid := workerPID(t, s, "loader-producer")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took := p.waitAlert(t, ctx, "StreamforgeStepWithoutHeartbeat", true, 60*time.Second)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	t.Logf("StreamforgeStepWithoutHeartbeat firing %s after SIGSTOP; SIGCONT sent", took.Round(time.Second))
	t.Logf("StreamforgeStepWithoutHeartbeat inactive %s after SIGCONT", p.waitAlert(t, ctx, "StreamforgeStepWithoutHeartbeat", false, 30*time.Second).Round(time.Second))
	if err := c.Stop(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
}

// failingStep: a loader killed (SIGKILL) at every attempt, a failure a
// retry could fix, uses up its attempts and the step fails for good. (A bad
// setting would not do: it is refused at POST, or fails once, unretried.)
func failingStep(t *testing.T, ctx context.Context, p prom, s *stack.Stack, c *scenario.Client) {
	w, err := c.Submit(ctx, scenario.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_5m"}, TimeRange: "2026-10-01:2026-10-02",
		Steps: []string{"load"}, Options: map[string]map[string]string{"load": {"LOADER_ARCHIVES": "false", "BINANCE_WEIGHT_LIMIT": "60"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Every exchange answer takes seconds: no attempt can finish between
	// two looks for loaders to kill (a day of 5m candles is one request).
	sim := s.Simulator()
	sim.Slow(1<<30, 3*time.Second)
	defer sim.ClearFaults()
	followed := make(chan error, 1)
	var final *scenario.Workflow
	go func() {
		var err error
		final, err = c.Follow(ctx, w.ID, func(*scenario.Workflow) {})
		followed <- err
	}()
	killed := map[int]bool{}
	for {
		select {
		case err := <-followed:
			if err != nil || final.State != "failed" || len(killed) < 2 {
				t.Fatalf("a loader killed at every attempt (%d kills): %+v, %v; want the workflow failed", len(killed), final, err)
			}
			for _, a := range []string{"StreamforgeStepFailed", "StreamforgeStepRetries", "StreamforgeWorkflowFailureRate"} {
				t.Logf("%s firing after %s", a, p.waitAlert(t, ctx, a, true, 30*time.Second).Round(time.Second))
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		pids, err := s.Workers()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err == nil && !killed[pid] && filepath.Base(strings.SplitN(string(cmd), "\x00", 2)[0]) == "loader-producer" {
				killed[pid] = true
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// queueManagerFrozen: queue-manager cannot be scraped for a while.
func queueManagerFrozen(t *testing.T, ctx context.Context, p prom, s *stack.Stack) {
	pid := s.QueueManagerPID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took := p.waitAlert(t, ctx, "StreamforgeQueueManagerAbsent", true, 30*time.Second)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	t.Logf("StreamforgeQueueManagerAbsent firing %s after SIGSTOP", took.Round(time.Second))
	t.Logf("StreamforgeQueueManagerAbsent inactive %s after SIGCONT", p.waitAlert(t, ctx, "StreamforgeQueueManagerAbsent", false, 30*time.Second).Round(time.Second))
}
