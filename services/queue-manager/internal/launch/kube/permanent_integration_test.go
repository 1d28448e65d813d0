//go:build integration

package kube

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// TestIntegrationEngineDoesNotRetryARefusedConfiguration runs the workflow
// engine with this launcher against the real API server: the step's Pod
// exits 2 (the worker refused its configuration) and the Job is marked
// failed through the API, as the Job controller would; the step ends failed
// after that one attempt, with the container's message, and no second Job
// is created.
func TestIntegrationEngineDoesNotRetryARefusedConfiguration(t *testing.T) {
	client, ns := itClient(t)
	k := itLauncher(t, client, ns)
	eng := runEngine(t, k, flow.Options{
		RetryBase: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		HeartbeatTimeout: time.Hour, MaxAttempts: 5,
	})
	ctx := t.Context()

	w, err := eng.Submit(ctx, flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"},
		TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load"}})
	if err != nil {
		t.Fatal(err)
	}
	run := w.Steps[0].ID + ".1"
	job := waitJob(t, client, ns, run)
	pod := itPod(t, client, job)
	now := metav1.Now()
	setPodStatus(t, client, pod, corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "worker", Image: pod.Spec.Containers[0].Image, ImageID: "sha256:0",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: launch.ExitConfig, Reason: "Error", Message: "TIME_RANGE: end before start", StartedAt: now, FinishedAt: now,
		}},
	}}})
	failJob(job, now)
	// The failed Pod alone may already have ended the step, and the engine
	// removed its Job: the Job controller's verdict then comes too late.
	if _, err := client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	got := waitEnded(t, eng, w.ID)
	if s := got.Steps[0]; got.State != flow.Failed || len(s.Attempts) != 1 {
		t.Fatalf("workflow %s with attempts %+v, want failed after one attempt", got.State, s.Attempts)
	} else if !strings.Contains(s.Attempts[0].Message, "configuration refused") || !strings.Contains(s.Attempts[0].Message, "TIME_RANGE: end before start") {
		t.Errorf("attempt 1: %q, want the refused configuration and the container's message", s.Attempts[0].Message)
	}
	jobs, err := client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=streamforge"})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		if id := j.Annotations[AnnotationRunID]; strings.HasPrefix(id, w.Steps[0].ID+".") && id != run {
			t.Errorf("run %s launched after a refused configuration", id)
		}
	}
}
