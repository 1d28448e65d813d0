//go:build integration

// Integration tests against a real kube-apiserver (platform/kube/kube.sh):
//
//	platform/kube/kube.sh start && eval "$(platform/kube/kube.sh env)"
//	go test -tags integration -race ./internal/launch/kube/
//
// They skip unless KUBE_IT=1. There is no kubelet and, by default, no Job
// controller: the tests create Pods and set Job and Pod status through the API
// themselves, as those would.
package kube

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube/kubetest"
)

// itClient connects to the API server in KUBECONFIG and creates a fresh
// namespace for the test.
func itClient(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	return kubetest.Namespace(t, "stf-it")
}

func itLauncher(t *testing.T, client kubernetes.Interface, ns string) *Launcher {
	t.Helper()
	cfg := defaultConfig(t)
	cfg.Namespace = ns
	cfg.CPULimit = "1"
	k, err := New(client, cfg, WithSyncTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func itSpec(service, id string) launch.Spec {
	s := testSpec()
	s.ID = "wf-btcusdt-api_candles_5m-20240801-" + id
	s.Service = service
	s.Labels["step"] = service
	return s
}

// TestIntegrationJobsPassValidation creates one Job per worker kind and reads
// it back: the real API server accepts the shape (names, labels, security
// context, envFrom, resources, deadline) and defaults it as expected.
func TestIntegrationJobsPassValidation(t *testing.T) {
	client, ns := itClient(t)
	k := itLauncher(t, client, ns)
	ctx := t.Context()
	for _, svc := range []string{"loader-producer", "arango-connector", "dummy-service"} {
		t.Run(svc, func(t *testing.T) {
			s := itSpec(svc, "a1b2c3."+svc+".1")
			if err := k.Launch(ctx, s); err != nil {
				t.Fatalf("Launch: %v", err)
			}
			if err := k.Launch(ctx, s); err != nil {
				t.Fatalf("second Launch: %v", err)
			}
			job, err := client.BatchV1().Jobs(ns).Get(ctx, JobName(svc, s.ID), metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get job: %v", err)
			}
			if got := job.Annotations[AnnotationRunID]; got != s.ID {
				t.Errorf("run-id annotation %q, want %q", got, s.ID)
			}
			if job.Spec.Selector == nil {
				t.Error("API server did not generate a selector")
			}
			c := job.Spec.Template.Spec.Containers[0]
			if c.Image != "registry.dmz.home/streamforge/"+svc+":0.1.0" {
				t.Errorf("image %q", c.Image)
			}
			if *job.Spec.BackoffLimit != 0 || *job.Spec.TTLSecondsAfterFinished != 3600 || *job.Spec.ActiveDeadlineSeconds != 5401 {
				t.Errorf("backoff %d ttl %d deadline %d", *job.Spec.BackoffLimit, *job.Spec.TTLSecondsAfterFinished, *job.Spec.ActiveDeadlineSeconds)
			}
		})
	}
	runs, err := k.Runs(ctx)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	if len(runs) != 3 {
		t.Errorf("Runs gave %d runs, want 3: %+v", len(runs), runs)
	}
	for _, r := range runs {
		if r.Phase != launch.Pending {
			t.Errorf("run %s is %s, want pending (no Job controller, no Pod)", r.ID, r.Phase)
		}
	}
}

// itPod creates a Pod for job the way the Job controller would.
func itPod(t *testing.T, client kubernetes.Interface, job *batchv1.Job) *corev1.Pod {
	t.Helper()
	pod := podFor(job, "p0")
	pod.UID = ""
	pod.Status = corev1.PodStatus{}
	pod, err := client.CoreV1().Pods(job.Namespace).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	return pod
}

func setPodStatus(t *testing.T, client kubernetes.Interface, pod *corev1.Pod, st corev1.PodStatus) *corev1.Pod {
	t.Helper()
	pod.Status = st
	pod, err := client.CoreV1().Pods(pod.Namespace).UpdateStatus(t.Context(), pod, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update pod status: %v", err)
	}
	return pod
}

// TestIntegrationWatch drives Watch with status changes made through the
// real API: a Job marked Failed, a Job deleted from outside, a Job stopped,
// Pods that run, fail or are deleted.
func TestIntegrationWatch(t *testing.T) {
	client, ns := itClient(t)
	k := itLauncher(t, client, ns)
	ctx := t.Context()
	rec := startWatch(t, k)
	getJob := func(s launch.Spec) *batchv1.Job {
		t.Helper()
		j, err := client.BatchV1().Jobs(ns).Get(ctx, JobName(s.Service, s.ID), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	launchPending := func(s launch.Spec) *batchv1.Job {
		t.Helper()
		if err := k.Launch(ctx, s); err != nil {
			t.Fatalf("Launch %s: %v", s.ID, err)
		}
		rec.expect(t, s.ID, launch.Pending, "waiting for a pod")
		return getJob(s)
	}

	t.Run("job failed", func(t *testing.T) {
		s := itSpec("loader-producer", "a00001.load.1")
		job := launchPending(s)
		failJob(job, metav1.Now())
		if _, err := client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update job status: %v", err)
		}
		rec.expect(t, s.ID, launch.Failed, "BackoffLimitExceeded: Job has reached the specified backoff limit")
	})

	t.Run("job complete", func(t *testing.T) {
		s := itSpec("arango-connector", "a00002.store.1")
		job := launchPending(s)
		start := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
		completeJob(job, start, metav1.NewTime(time.Now().Truncate(time.Second)))
		if _, err := client.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update job status: %v", err)
		}
		rec.expect(t, s.ID, launch.Succeeded, "CompletionsReached")
	})

	t.Run("job deleted from outside", func(t *testing.T) {
		s := itSpec("dummy-service", "a00003.load.1")
		job := launchPending(s)
		if err := client.BatchV1().Jobs(ns).Delete(ctx, job.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		rec.expect(t, s.ID, launch.Vanished, "deleted before it finished")
	})

	t.Run("stop", func(t *testing.T) {
		s := itSpec("dummy-service", "a00004.load.1")
		launchPending(s)
		if err := k.Stop(ctx, s.ID); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		rec.expect(t, s.ID, launch.Vanished, "deleted by stop")
		if err := k.Stop(ctx, s.ID); err != nil {
			t.Errorf("second Stop: %v", err)
		}
	})

	t.Run("pod runs then fails", func(t *testing.T) {
		s := itSpec("loader-producer", "a00005.load.1")
		job := launchPending(s)
		pod := itPod(t, client, job)
		rec.expect(t, s.ID, launch.Pending, "pod "+pod.Name+" pending")
		pod = setPodStatus(t, client, pod, corev1.PodStatus{Phase: corev1.PodRunning})
		rec.expect(t, s.ID, launch.Running, "pod "+pod.Name+" running")
		now := metav1.Now()
		setPodStatus(t, client, pod, corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "worker", Image: pod.Spec.Containers[0].Image, ImageID: "sha256:0",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error", Message: "kafka unreachable", StartedAt: now, FinishedAt: now,
			}},
		}}})
		if st := rec.expect(t, s.ID, launch.Failed, "container worker exited 1 (Error): kafka unreachable"); st.Permanent {
			t.Error("exit code 1 reported permanent: the engine would not retry it")
		}
	})

	t.Run("pod refused its configuration", func(t *testing.T) {
		s := itSpec("loader-producer", "a00007.load.1")
		job := launchPending(s)
		pod := itPod(t, client, job)
		rec.expect(t, s.ID, launch.Pending, "pod "+pod.Name+" pending")
		now := metav1.Now()
		setPodStatus(t, client, pod, corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "worker", Image: pod.Spec.Containers[0].Image, ImageID: "sha256:0",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: launch.ExitConfig, Reason: "Error", Message: "SYMBOL: required", StartedAt: now, FinishedAt: now,
			}},
		}}})
		st := rec.expect(t, s.ID, launch.Failed, "container worker exited 2 (configuration refused) (Error): SYMBOL: required")
		if !st.Permanent {
			t.Error("exit code 2 not reported permanent: the engine would retry a refused configuration")
		}
	})

	t.Run("pod deleted", func(t *testing.T) {
		s := itSpec("arango-connector", "a00006.store.1")
		job := launchPending(s)
		pod := itPod(t, client, job)
		rec.expect(t, s.ID, launch.Pending, "pending")
		pod = setPodStatus(t, client, pod, corev1.PodStatus{Phase: corev1.PodRunning})
		rec.expect(t, s.ID, launch.Running, "running")
		if err := client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}); err != nil {
			t.Fatal(err)
		}
		rec.expect(t, s.ID, launch.Vanished, "deleted before it finished")
	})

	rec.quiet(t)
}
