package kube

import (
	"testing"

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
	tests := []struct {
		name    string
		job     *batchv1.Job
		pods    []*corev1.Pod
		deleted int
		want    state
	}{
		{"no pod yet", job(0, nil), nil, 0, state{launch.Pending, "job j created, waiting for a pod"}},
		{"active but pods unseen", job(0, func(j *batchv1.Job) { j.Status.Active = 1 }), nil, 0, state{launch.Running, "job j has 1 active pod(s)"}},
		{"unschedulable", job(0, nil), []*corev1.Pod{{
			ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes match",
			}}},
		}}, 0, state{launch.Pending, "pod p pending: Unschedulable: 0/3 nodes match"}},
		{"running pod being deleted", job(0, nil), []*corev1.Pod{pod("p", corev1.PodRunning, true)}, 0,
			state{launch.Vanished, "pod of job j deleted before it finished, no retry left (backoffLimit 0)"}},
		{"failed pod, replacement pending", job(1, nil), []*corev1.Pod{pod("a", corev1.PodFailed, false), pod("b", corev1.PodPending, false)}, 0,
			state{launch.Pending, "pod b pending"}},
		{"failed pod within backoff", job(1, nil), []*corev1.Pod{pod("a", corev1.PodFailed, false)}, 0,
			state{launch.Pending, "job j created, waiting for a pod"}},
		{"failed and deleted beyond backoff", job(1, nil), []*corev1.Pod{pod("a", corev1.PodFailed, false)}, 1,
			state{launch.Failed, "pod a failed"}},
		{"complete wins over pods", job(0, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
		}), []*corev1.Pod{pod("a", corev1.PodRunning, false)}, 0, state{launch.Succeeded, "job complete"}},
		{"condition not true", job(0, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionFalse}}
		}), nil, 0, state{launch.Pending, "job j created, waiting for a pod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runState(tt.job, tt.pods, tt.deleted); got != tt.want {
				t.Errorf("runState = %+v, want %+v", got, tt.want)
			}
		})
	}
}
