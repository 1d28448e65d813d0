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
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
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
	eng := runEngine(t, k, flow.Options{
		RetryBase: 100 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		HeartbeatTimeout: time.Hour, MaxAttempts: 5,
	})
	ctx := t.Context()

	w, err := eng.Submit(ctx, flow.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"},
		TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load"}})
	if err != nil {
		t.Fatal(err)
	}
	// Attempt 1: the Job fails (as the Job controller would mark it).
	job := waitJob(t, client, ns, w.Steps[0].ID+".1")
	failJob(job, metav1.Now())
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
	completeJob(job, metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second)), metav1.NewTime(time.Now().Truncate(time.Second)))
	if _, err := client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	reportFinished(t, eng, w.Steps[0], w.Steps[0].ID+".3")
	got := waitEnded(t, eng, w.ID)
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
}

// runEngine runs the workflow engine with launcher l on a temporary SQLite
// store, ticking every 50 ms, until the test ends.
func runEngine(t *testing.T, l launch.Launcher, o flow.Options) *flow.Engine {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	eng := flow.NewEngine(flow.NewRepo(st), l, nopPublisher{}, o)
	if err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	eng.Flowing()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx, 50*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done }) // before the store closes
	return eng
}

// failJob sets job's status to what the Job controller writes when the
// backoff limit is reached.
func failJob(job *batchv1.Job, now metav1.Time) {
	job.Status.StartTime = &now
	job.Status.Failed = 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now, LastProbeTime: now},
		{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now, LastProbeTime: now},
	}
}

// completeJob sets job's status to what the Job controller writes when its
// Pod succeeded.
func completeJob(job *batchv1.Job, start, end metav1.Time) {
	job.Status.StartTime, job.Status.CompletionTime, job.Status.Succeeded = &start, &end, 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: end, LastProbeTime: end},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods", LastTransitionTime: end, LastProbeTime: end},
	}
}

// waitEnded waits up to 30 s for workflow id to end and returns it.
func waitEnded(t *testing.T, eng *flow.Engine, id string) *flow.Workflow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := eng.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if flow.Terminal(got.State) {
			return got
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
