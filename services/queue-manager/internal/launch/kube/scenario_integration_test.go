//go:build integration

package kube

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// tee records every Spec the engine launches (what the local launcher would
// turn into a child process) and hands it to the Kubernetes launcher.
type tee struct {
	*Launcher
	mu    sync.Mutex
	specs []launch.Spec
}

func (t *tee) Launch(ctx context.Context, s launch.Spec) error {
	t.mu.Lock()
	t.specs = append(t.specs, s)
	t.mu.Unlock()
	return t.Launcher.Launch(ctx, s)
}

func (t *tee) recorded() []launch.Spec {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]launch.Spec(nil), t.specs...)
}

// complete marks the Job finished, as the Job controller would.
func complete(t *testing.T, k *tee, ns string, job *batchv1.Job) {
	t.Helper()
	completeJob(job, metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second)), metav1.NewTime(time.Now().Truncate(time.Second)))
	if _, err := k.client.BatchV1().Jobs(ns).UpdateStatus(t.Context(), job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationScenario1Jobs is the deploy-level check of Scenario 1: the
// request `make demo` submits (BTCUSDT trades and 5-minute candles for a
// month; load, store, graph, train), run by the engine with the Kubernetes
// launcher against the real API server. Every step's Job passes the API
// server's validation and carries exactly the service (as its image), the
// environment and the labels the engine hands the local launcher; the DAG
// advances as the Jobs complete, and the graph and train Jobs get their
// inputs.
func TestIntegrationScenario1Jobs(t *testing.T) {
	client, ns := itClient(t)
	k := &tee{Launcher: itLauncher(t, client, ns)}
	eng := runEngine(t, k, flow.Options{HeartbeatTimeout: time.Hour, MaxAttempts: 1})
	ctx := t.Context()

	w, err := eng.Submit(ctx, flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades", "api_candles_5m"},
		TimeRange: "2026-10-01:2026-11-01", Steps: []string{"load", "store", "graph", "train"}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]*batchv1.Job{}
	// Loaders and connectors first, then the graph, then training: each
	// wave's Jobs appear only when the one before completed.
	for _, wave := range [][]string{{"load", "store"}, {"graph"}, {"train"}} {
		for _, s := range w.Steps {
			if !contains(wave, s.Kind) {
				continue
			}
			jobs[s.ID] = waitJob(t, client, ns, s.ID+".1")
		}
		// As a worker does: its finished event, then its exit. A Job that
		// completes before the event is applied is judged as soon as
		// queue-events is caught up (at once with this engine's log) and,
		// with one attempt, fails the workflow.
		for _, s := range w.Steps {
			if contains(wave, s.Kind) {
				reportFinished(t, eng, s, s.ID+".1")
				complete(t, k, ns, jobs[s.ID])
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := eng.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == flow.Finished {
			break
		}
		if flow.Terminal(got.State) || time.Now().After(deadline) {
			t.Fatalf("workflow %s", got.State)
		}
		time.Sleep(50 * time.Millisecond)
	}

	specs := k.recorded()
	if len(specs) != 6 {
		t.Fatalf("%d launches, want 6 (2 loaders, 2 connectors, graph, train)", len(specs))
	}
	services := map[string]string{"load": "loader-producer", "store": "arango-connector", "graph": "graph-builder", "train": "gnn-trainer"}
	for _, s := range specs {
		step := w.Step(strings.TrimSuffix(s.ID, ".1"))
		job := jobs[step.ID]
		if s.Service != services[step.Kind] {
			t.Errorf("step %s launched %s, want %s", step.ID, s.Service, services[step.Kind])
		}
		c := job.Spec.Template.Spec.Containers[0]
		if want := k.cfg.Image(s.Service); c.Image != want || !strings.HasSuffix(want, "/"+s.Service+":"+k.cfg.ImageTag) {
			t.Errorf("step %s: image %s, want %s", step.ID, c.Image, want)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		for name, v := range s.Env {
			if env[name] != v {
				t.Errorf("step %s: Job env %s=%q, the local run gets %q", step.ID, name, env[name], v)
			}
		}
		for name, v := range s.Labels {
			if job.Labels[name] != v {
				t.Errorf("step %s: Job label %s=%q, the local run gets %q", step.ID, name, job.Labels[name], v)
			}
		}
		switch step.Kind {
		case "graph":
			if env["INPUT_COLLECTIONS"] == "" || strings.Count(env["INPUT_COLLECTIONS"], ",") != 1 {
				t.Errorf("graph Job INPUT_COLLECTIONS=%q, want both store steps' collections", env["INPUT_COLLECTIONS"])
			}
		case "train":
			if env["GRAPH_NAME"] != w.Steps[4].Collection {
				t.Errorf("train Job GRAPH_NAME=%q, want the graph step's %q", env["GRAPH_NAME"], w.Steps[4].Collection)
			}
		}
		for _, name := range []string{"QUEUE_ID", "SYMBOL", "TYPE", "TIME_RANGE", "KAFKA_TOPIC", "COLLECTION_NAME", "TELEMETRY_ID"} {
			if env[name] == "" && !(name == "TIME_RANGE" && step.TimeRange == "") {
				t.Errorf("step %s: Job lacks %s", step.ID, name)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
