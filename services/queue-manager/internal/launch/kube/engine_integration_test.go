//go:build integration

package kube

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, string, []byte, []byte) error { return nil }

// TestIntegrationEngineRetriesOnJobStatus runs the workflow engine with this
// launcher against the real API server: a Job marked failed through the API
// and a Job deleted from outside are both relaunched as new attempts, and a
// completed Job finishes the step.
func TestIntegrationEngineRetriesOnJobStatus(t *testing.T) {
	client, ns := itClient(t)
	k := itLauncher(t, client, ns)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := flow.NewEngine(flow.NewRepo(st), k, nopPublisher{}, flow.Options{
		RetryBase: 100 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		HeartbeatTimeout: time.Hour, MaxAttempts: 5,
	})
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	eng.Flowing()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = eng.Run(ctx, 50*time.Millisecond) }()

	w, err := eng.Submit(ctx, flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"},
		TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load"}})
	if err != nil {
		t.Fatal(err)
	}
	// Attempt 1: the Job fails (as the Job controller would mark it).
	job := waitJob(t, client, ns, w.Steps[0].ID+".1")
	now := metav1.Now()
	job.Status.StartTime = &now
	job.Status.Failed = 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now, LastProbeTime: now},
		{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now, LastProbeTime: now},
	}
	if _, err := client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Attempt 2: someone deletes the Job.
	job = waitJob(t, client, ns, w.Steps[0].ID+".2")
	if err := client.BatchV1().Jobs(ns).Delete(ctx, job.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Attempt 3 completes.
	job = waitJob(t, client, ns, w.Steps[0].ID+".3")
	start := metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	end := metav1.NewTime(time.Now().Truncate(time.Second))
	job.Status.StartTime, job.Status.CompletionTime, job.Status.Succeeded = &start, &end, 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: end, LastProbeTime: end},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods", LastTransitionTime: end, LastProbeTime: end},
	}
	if _, err := client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	reportFinished(t, eng, w.Steps[0], w.Steps[0].ID+".3")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := eng.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if flow.Terminal(got.State) {
			s := got.Steps[0]
			if got.State != flow.Finished || len(s.Attempts) != 3 {
				t.Fatalf("workflow %s with attempts %+v", got.State, s.Attempts)
			}
			if !strings.Contains(s.Attempts[0].Message, "failed") || !strings.Contains(s.Attempts[0].Message, "BackoffLimitExceeded") {
				t.Errorf("attempt 1: %q, want the Job's failure", s.Attempts[0].Message)
			}
			if !strings.Contains(s.Attempts[1].Message, "vanished") {
				t.Errorf("attempt 2: %q, want vanished", s.Attempts[1].Message)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow still %s: %+v", got.State, got.Steps[0].Attempts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reportFinished applies the finished event the worker of run would send:
// a step is finished only when its run reports it.
func reportFinished(t *testing.T, eng *flow.Engine, s *flow.Step, run string) {
	t.Helper()
	if err := eng.OnEvent(t.Context(), protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: protocol.StatusFinished,
		Finished: true, RunID: run, Timestamp: protocol.Timestamp(time.Now())}); err != nil {
		t.Fatal(err)
	}
}

// waitJob waits for the Job of run id.
func waitJob(t *testing.T, client kubernetes.Interface, ns, id string) *batchv1.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := client.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=streamforge"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range jobs.Items {
			if jobs.Items[i].Annotations["streamforge.dev/run-id"] == id && jobs.Items[i].DeletionTimestamp == nil {
				return &jobs.Items[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Job for run %s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
