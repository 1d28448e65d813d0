package kube

import (
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// state is a run's phase and message, and whether a failure is permanent:
// what Watch compares to decide whether anything changed.
type state struct {
	Phase   launch.Phase
	Message string
	// Permanent: the worker refused its configuration (its container
	// exited launch.ExitConfig), so a relaunch would fail the same way.
	Permanent bool
}

// runState derives a run's state from its Job, the Job's Pods that still
// exist, and how many of its Pods were deleted before they finished (known
// only to Watch, which saw the deletions).
//
// The rules, first match wins:
//  1. Job condition Complete (or SuccessCriteriaMet) → Succeeded.
//  2. Job condition Failed (or FailureTarget) → Failed, "<reason>: <message>"
//     (BackoffLimitExceeded, DeadlineExceeded, ...), followed by what the
//     last failed Pod's container said when it terminated (exit code,
//     reason, message).
//  3. A Pod is Running → Running.
//  4. A Pod is Pending → Pending, with the container's waiting reason
//     (ImagePullBackOff, CreateContainerConfigError, ...) when there is one.
//  5. More Pods failed or were deleted (or are being deleted) than
//     backoffLimit allows, and none is
//     left to run: Kubernetes will fail the Job, but its Job controller may
//     be slow, down, or (in tests) absent, and the Pod says more than the Job
//     condition will: a failed Pod → Failed with its exit code; a deleted
//     Pod → Vanished.
//
// A failure whose last failed Pod's container exited launch.ExitConfig is
// Permanent (the worker refused its configuration before it started), as
// with the local launcher: the engine does not relaunch it.
//  6. The Job counts active Pods we have not seen yet → Running.
//  7. Otherwise → Pending (the Job exists, no Pod yet or a replacement is
//     coming).
//
// A Job being deleted (deletionTimestamp set, e.g. an orphaning delete
// waiting for the garbage collector) is handled by Watch: it will not finish.
func runState(job *batchv1.Job, pods []*corev1.Pod, deletedPods int) state {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete, batchv1.JobSuccessCriteriaMet:
			return state{Phase: launch.Succeeded, Message: conditionMessage(c, "job complete")}
		}
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			st := state{Phase: launch.Failed, Message: conditionMessage(c, "job failed")}
			if p := lastFailed(pods); p != nil {
				st.Message += "; " + failedPodMessage(p)
				st.Permanent = refusedConfig(p)
			}
			return st
		}
	}

	sorted := append([]*corev1.Pod(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var failed []*corev1.Pod
	var pending *corev1.Pod
	deleting := 0
	for _, p := range sorted {
		if p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			deleting++ // will not finish: counts as deleted already
			continue
		}
		switch p.Status.Phase {
		case corev1.PodRunning:
			return state{Phase: launch.Running, Message: "pod " + p.Name + " running"}
		case corev1.PodPending, "":
			if pending == nil {
				pending = p
			}
		case corev1.PodFailed:
			failed = append(failed, p)
		}
	}
	if pending != nil {
		return state{Phase: launch.Pending, Message: pendingMessage(pending)}
	}

	limit := 6 // Kubernetes' default when backoffLimit is unset
	if job.Spec.BackoffLimit != nil {
		limit = int(*job.Spec.BackoffLimit)
	}
	// job.Status.Failed counts failed and deleted Pods once the controller
	// saw them; without a controller only what Watch saw counts.
	lost := max(int(job.Status.Failed), len(failed)+deleting+deletedPods)
	if lost > limit {
		if p := lastFailed(failed); p != nil {
			return state{Phase: launch.Failed, Message: failedPodMessage(p), Permanent: refusedConfig(p)}
		}
		return state{Phase: launch.Vanished, Message: fmt.Sprintf("pod of job %s deleted before it finished, no retry left (backoffLimit %d)", job.Name, limit)}
	}
	if job.Status.Active > 0 && len(pods) == 0 {
		return state{Phase: launch.Running, Message: fmt.Sprintf("job %s has %d active pod(s)", job.Name, job.Status.Active)}
	}
	return state{Phase: launch.Pending, Message: "job " + job.Name + " created, waiting for a pod"}
}

func conditionMessage(c batchv1.JobCondition, fallback string) string {
	switch {
	case c.Reason != "" && c.Message != "":
		return c.Reason + ": " + c.Message
	case c.Reason != "":
		return c.Reason
	case c.Message != "":
		return c.Message
	}
	return fallback
}

func pendingMessage(p *corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return strings.TrimSuffix(fmt.Sprintf("pod %s pending: %s: %s", p.Name, w.Reason, w.Message), ": ")
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason != "" {
			return strings.TrimSuffix(fmt.Sprintf("pod %s pending: %s: %s", p.Name, c.Reason, c.Message), ": ")
		}
	}
	return "pod " + p.Name + " pending"
}

// lastFailed returns the failed Pod among pods whose container terminated
// last (by name when none says when), nil when none failed.
func lastFailed(pods []*corev1.Pod) *corev1.Pod {
	var last *corev1.Pod
	var lastAt time.Time
	for _, p := range pods {
		if p.Status.Phase != corev1.PodFailed {
			continue
		}
		var at time.Time
		if t := terminated(p); t != nil {
			at = t.FinishedAt.Time
		}
		if last == nil || at.After(lastAt) || (at.Equal(lastAt) && p.Name > last.Name) {
			last, lastAt = p, at
		}
	}
	return last
}

// terminated returns the state of p's first container that exited non-zero.
func terminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return t
		}
	}
	return nil
}

// refusedConfig reports whether p's worker refused its configuration.
func refusedConfig(p *corev1.Pod) bool {
	t := terminated(p)
	return t != nil && t.ExitCode == launch.ExitConfig
}

func failedPodMessage(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			msg := fmt.Sprintf("pod %s failed: container %s exited %d", p.Name, cs.Name, t.ExitCode)
			if t.ExitCode == launch.ExitConfig {
				msg += " (configuration refused)"
			}
			if t.Reason != "" {
				msg += " (" + t.Reason + ")"
			}
			if t.Message != "" {
				msg += ": " + t.Message
			}
			return msg
		}
	}
	msg := "pod " + p.Name + " failed"
	if p.Status.Reason != "" {
		msg += ": " + p.Status.Reason
	}
	if p.Status.Message != "" {
		msg += ": " + p.Status.Message
	}
	return msg
}
