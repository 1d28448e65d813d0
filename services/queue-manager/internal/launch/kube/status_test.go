package kube

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

func TestRunState(t *testing.T) {
	now := metav1.Now()
	job := func(backoff int32, mod func(*batchv1.Job)) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j"}, Spec: batchv1.JobSpec{BackoffLimit: new(backoff)}}
		if mod != nil {
			mod(j)
		}
		return j
	}
	pod := func(name string, phase corev1.PodPhase, deleting bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: phase}}
		if deleting {
			p.DeletionTimestamp = &now
		}
		return p
	}
	exited := func(name string, code int32, reason, msg string, after time.Duration) *corev1.Pod {
		p := pod(name, corev1.PodFailed, false)
		at := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(after))
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "worker", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, Message: msg, FinishedAt: at,
		}}}}
		return p
	}
	tests := []struct {
		name    string
		job     *batchv1.Job
		pods    []*corev1.Pod
		deleted int
		want    state
	}{
		{"no pod yet", job(0, nil), nil, 0, state{Phase: launch.Pending, Message: "job j created, waiting for a pod"}},
		{"active but pods unseen", job(0, func(j *batchv1.Job) { j.Status.Active = 1 }), nil, 0, state{Phase: launch.Running, Message: "job j has 1 active pod(s)"}},
		{"unschedulable", job(0, nil), []*corev1.Pod{{
			ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes match",
			}}},
		}}, 0, state{Phase: launch.Pending, Message: "pod p pending: Unschedulable: 0/3 nodes match"}},
		{"running pod being deleted", job(0, nil), []*corev1.Pod{pod("p", corev1.PodRunning, true)}, 0,
			state{Phase: launch.Vanished, Message: "pod of job j deleted before it finished, no retry left (backoffLimit 0)"}},
		{"failed pod, replacement pending", job(1, nil), []*corev1.Pod{pod("a", corev1.PodFailed, false), pod("b", corev1.PodPending, false)}, 0,
			state{Phase: launch.Pending, Message: "pod b pending"}},
		{"failed pod within backoff", job(1, nil), []*corev1.Pod{pod("a", corev1.PodFailed, false)}, 0,
			state{Phase: launch.Pending, Message: "job j created, waiting for a pod"}},
		{"failed and deleted beyond backoff", job(1, nil), []*corev1.Pod{pod("a", corev1.PodFailed, false)}, 1,
			state{Phase: launch.Failed, Message: "pod a failed"}},
		{"complete wins over pods", job(0, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
		}), []*corev1.Pod{pod("a", corev1.PodRunning, false)}, 0, state{Phase: launch.Succeeded, Message: "job complete"}},
		{"failed pod exited 2: permanent", job(0, nil), []*corev1.Pod{exited("a", 2, "Error", "KAFKA_BROKERS: required", time.Minute)}, 0,
			state{Phase: launch.Failed, Message: "pod a failed: container worker exited 2 (configuration refused) (Error): KAFKA_BROKERS: required", Permanent: true}},
		{"failed pod exited 1: not permanent", job(0, nil), []*corev1.Pod{exited("a", 1, "Error", "", time.Minute)}, 0,
			state{Phase: launch.Failed, Message: "pod a failed: container worker exited 1 (Error)"}},
		{"job failed, its pod exited 2", job(0, func(j *batchv1.Job) {
			j.Status.Failed = 1
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}
		}), []*corev1.Pod{exited("a", 2, "Error", "SYMBOL: required", time.Minute)}, 0,
			state{Phase: launch.Failed, Message: "BackoffLimitExceeded: Job has reached the specified backoff limit; pod a failed: container worker exited 2 (configuration refused) (Error): SYMBOL: required", Permanent: true}},
		{"the last failed pod decides", job(1, func(j *batchv1.Job) {
			j.Status.Failed = 2
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}}
		}), []*corev1.Pod{exited("z", 2, "Error", "", time.Minute), exited("b", 1, "Error", "", 2*time.Minute)}, 0,
			state{Phase: launch.Failed, Message: "BackoffLimitExceeded; pod b failed: container worker exited 1 (Error)"}},
		{"condition not true", job(0, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionFalse}}
		}), nil, 0, state{Phase: launch.Pending, Message: "job j created, waiting for a pod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runState(tt.job, tt.pods, tt.deleted); got != tt.want {
				t.Errorf("runState = %+v, want %+v", got, tt.want)
			}
		})
	}
}
