package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// metricsRig is a rig whose engine's series are registered in reg.
func metricsRig(t *testing.T, o Options) (*rig, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.Metrics = NewMetrics(reg)
	return newRig(t, "", nil, o), reg
}

func TestCountersStartAtZero(t *testing.T) {
	_, reg := metricsRig(t, Options{})
	// Series that first appear at 1 are invisible to increase(): the alerts
	// on the first failed workflow or step need them present at 0.
	want := `
# HELP streamforge_workflows_ended_total Workflows ended, by final state (finished, failed, stopped).
# TYPE streamforge_workflows_ended_total counter
streamforge_workflows_ended_total{state="failed"} 0
streamforge_workflows_ended_total{state="finished"} 0
streamforge_workflows_ended_total{state="stopped"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "streamforge_workflows_ended_total"); err != nil {
		t.Error(err)
	}
	for _, k := range protocol.StepKindNames() {
		for _, name := range []string{"streamforge_step_attempt_failures_total", "streamforge_step_launches_total"} {
			if n := seriesCount(t, reg, name, map[string]string{"kind": k}); n != 1 {
				t.Errorf("%s{kind=%q}: %d series at start, want 1 at 0", name, k, n)
			}
		}
		if n := seriesCount(t, reg, "streamforge_steps_ended_total", map[string]string{"kind": k, "state": Failed}); n != 1 {
			t.Errorf("streamforge_steps_ended_total{kind=%q,state=failed}: %d series at start, want 1", k, n)
		}
	}
}

func TestStepOutcomesRecordsAndDurationsOutliveTheWorker(t *testing.T) {
	r, reg := metricsRig(t, Options{MaxAttempts: 1})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	load, store := w.Steps[0], w.Steps[1]
	r.clk.add(90 * time.Second)
	r.event(load, protocol.StatusLoading, 400)
	r.event(load, protocol.StatusFinished, 8640)
	if got := testutil.ToFloat64(r.eng.o.Metrics.stepRecords.WithLabelValues(KindLoad, "api_candles_5m")); got != 8640 {
		t.Errorf("load records %v, want the finished event's 8640", got)
	}
	if got := testutil.ToFloat64(r.eng.o.Metrics.stepsEnded.WithLabelValues(KindLoad, Finished)); got != 1 {
		t.Errorf("finished load steps %v, want 1", got)
	}
	if n := seriesCount(t, reg, "streamforge_step_duration_seconds", map[string]string{"kind": KindLoad}); n != 1 {
		t.Fatalf("no duration of the finished load step")
	}
	sum := histogramSum(t, reg, "streamforge_step_duration_seconds", KindLoad)
	if sum != 90 {
		t.Errorf("load step duration %v s, want 90 (launch to finished)", sum)
	}
	// The connector's run dies and, with one attempt, fails for good.
	r.eng.OnRun(context.Background(), launch.Status{ID: r.currentRun(store), Phase: launch.Failed, Message: "exit code 1"})
	if got := testutil.ToFloat64(r.eng.o.Metrics.stepsEnded.WithLabelValues(KindStore, Failed)); got != 1 {
		t.Errorf("failed store steps %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.eng.o.Metrics.ended.WithLabelValues(Failed)); got != 1 {
		t.Errorf("failed workflows %v, want 1", got)
	}
}

func TestSilenceOfRunningSteps(t *testing.T) {
	r, reg := metricsRig(t, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	load, store := w.Steps[0], w.Steps[1]
	r.clk.add(20 * time.Second)
	r.event(store, protocol.StatusHeartbeat, 0)
	r.clk.add(5 * time.Second)
	want := `
# HELP streamforge_step_silence_seconds Seconds since the last queue-events message of each running step's current run (its launch when none yet).
# TYPE streamforge_step_silence_seconds gauge
streamforge_step_silence_seconds{kind="load",queue_id="` + load.QueueID + `",workflow="` + w.ID + `"} 25
streamforge_step_silence_seconds{kind="store",queue_id="` + store.QueueID + `",workflow="` + w.ID + `"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "streamforge_step_silence_seconds"); err != nil {
		t.Error(err)
	}
	// A scrape while the engine is busy (its lock held by a store write
	// that waits) does not wait: it reports the last reading, aged.
	r.eng.mu.Lock()
	r.clk.add(10 * time.Second)
	busy := strings.NewReplacer("} 25", "} 35", "} 5\n", "} 15\n").Replace(want)
	err = testutil.GatherAndCompare(reg, strings.NewReader(busy), "streamforge_step_silence_seconds")
	r.eng.mu.Unlock()
	if err != nil {
		t.Errorf("scrape while the engine is busy: %v", err)
	}
	// A finished step is not running: it has no silence.
	r.event(load, protocol.StatusFinished, 1)
	if n := seriesCount(t, reg, "streamforge_step_silence_seconds", map[string]string{"kind": KindLoad}); n != 0 {
		t.Errorf("a finished step still reports silence (%d series)", n)
	}
}

// seriesCount counts the series of name whose labels include want.
func seriesCount(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			n++
		}
	}
	return n
}

// histogramSum returns the sample sum of a histogram's kind series.
func histogramSum(t *testing.T, reg *prometheus.Registry, name, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == name && len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == kind {
				return m.GetHistogram().GetSampleSum()
			}
		}
	}
	t.Fatalf("no %s{kind=%q}", name, kind)
	return 0
}
