//go:build integration

package node

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

// runningPod waits for a Running first-attempt Pod of step and returns its
// name and queue_id label; it fails at once when the workflow ended first.
func runningPod(ctx context.Context, t *testing.T, step string, ended *atomic.Bool) (name, queueID string) {
	t.Helper()
	for ctx.Err() == nil {
		if ended.Load() {
			t.Fatalf("the workflow ended before a first-attempt %s Pod was seen running", step)
		}
		out := kubectl(ctx, t, nil, "-n", namespace, "get", "pods", "-l", "step="+step+",attempt=1",
			"--field-selector=status.phase=Running",
			"-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.queue_id}{"\n"}{end}`)
		for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			if n, q, ok := strings.Cut(line, " "); ok {
				return n, q
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no running %s Pod: %v", step, ctx.Err())
	return "", ""
}

// relaunched waits until the second attempt of queueID's step has a Pod
// that runs or ran, and returns how long after since that was.
func relaunched(ctx context.Context, t *testing.T, queueID, step string, since time.Time) time.Duration {
	t.Helper()
	for ctx.Err() == nil {
		out := kubectl(ctx, t, nil, "-n", namespace, "get", "pods", "-l", "step="+step+",attempt=2,queue_id="+queueID,
			"-o", "jsonpath={.items[*].status.phase}")
		if strings.Contains(out, "Running") || strings.Contains(out, "Succeeded") {
			return time.Since(since)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the %s step of %s was not relaunched: %v", step, queueID, ctx.Err())
	return 0
}

// The seed's chaos experiment on Kubernetes: a running loader Pod and a
// running connector Pod are deleted mid-workflow; queue-manager notices
// through its informers and relaunches both steps, and the store ends
// exact (no record lost, none twice).
func TestNodePodDelete(t *testing.T) {
	e := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	s, st := up(ctx, t, e)

	// Two weeks, and the exchange answers each request in a second until
	// both Pods were deleted: the loaders (and the connectors, which wait
	// for them) run long enough to be caught. Without the delay a loader
	// with its data at hand finished within the seconds a relaunch and a
	// kubectl take, and the connector Pod was gone before it was looked
	// for.
	const timeRange = "2026-09-10:2026-09-24"
	s.Simulator().Slow(1<<30, time.Second)
	type result struct {
		sum *scenario.Summary
		err error
	}
	done := make(chan result, 1)
	var ended atomic.Bool
	var out bytes.Buffer
	go func() {
		req := scenario.TrainRequest("BTCUSDT", timeRange, map[string]string{"GNN_EPOCHS": "5"})
		sum, err := scenario.Run(ctx, &scenario.Client{API: s.API}, req, &scenario.Board{Out: &out, Every: time.Second}, st)
		ended.Store(true)
		done <- result{sum, err}
	}()

	var report []string
	for _, step := range []string{protocol.StepLoad, protocol.StepStore} {
		pod, queueID := runningPod(ctx, t, step, &ended)
		deleted := time.Now()
		kubectl(ctx, t, nil, "-n", namespace, "delete", "pod", pod, "--wait=false")
		took := relaunched(ctx, t, queueID, step, deleted)
		report = append(report, fmt.Sprintf("%s Pod %s deleted: attempt 2 running after %s", step, pod, took.Round(time.Millisecond)))
	}
	s.Simulator().ClearFaults()
	r := <-done
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, out.String())
	}
	r.sum.Print(&out)
	t.Logf("pod-delete on Pods (%s): %s\n%s\n%s", timeRange, r.sum.Took.Round(time.Millisecond), strings.Join(report, "\n"), out.String())
	stacktest.CheckStored(t, s, r.sum, timeRange)
	retried := map[string]bool{}
	for _, step := range r.sum.Workflow.Steps {
		if len(step.Attempts) > 1 {
			retried[step.Kind] = true
		}
	}
	if !retried[protocol.StepLoad] || !retried[protocol.StepStore] {
		t.Errorf("steps with more than one attempt: %v, want a load and a store step", retried)
	}
}
