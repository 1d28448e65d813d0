package kube

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

var testNow = time.Date(2024, 8, 1, 12, 0, 0, 0, time.UTC)

func newTestLauncher(t *testing.T, client kubernetes.Interface, change ...func(*Config)) *Launcher {
	t.Helper()
	cfg := defaultConfig(t)
	cfg.Namespace = "stf"
	for _, c := range change {
		c(&cfg)
	}
	k, err := New(client, cfg, WithClock(func() time.Time { return testNow }), WithSyncTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if fc, ok := client.(*fake.Clientset); ok {
		// The fake clientset drops objects created between an informer's
		// list and its watch: startWatch waits until both watches are open.
		ch := make(chan struct{}, 16)
		fc.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
			w, err := fc.Tracker().Watch(a.GetResource(), a.GetNamespace())
			ch <- struct{}{} // the watch is registered: nothing created from now on is missed
			return true, w, err
		})
		watchesOpen.Store(k, ch)
	}
	return k
}

// watchesOpen holds, per launcher on a fake clientset, a channel that gets a
// value each time a watch is opened.
var watchesOpen sync.Map

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.Namespace = ""
	if _, err := New(fake.NewClientset(), cfg); err == nil {
		t.Error("New accepted an empty namespace")
	}
}

func TestLaunchTwiceCreatesOneJob(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	s := testSpec()
	for i := range 2 {
		if err := k.Launch(ctx, s); err != nil {
			t.Fatalf("Launch #%d: %v", i+1, err)
		}
	}
	jobs, err := client.BatchV1().Jobs("stf").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 {
		t.Fatalf("%d jobs after two launches, want 1", len(jobs.Items))
	}
	if got := jobs.Items[0].Name; got != JobName(s.Service, s.ID) {
		t.Errorf("job %q, want %q", got, JobName(s.Service, s.ID))
	}
}

func TestLaunchRefusesNameTakenByAnotherRun(t *testing.T) {
	ctx := t.Context()
	s := testSpec()
	other := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
		Name: JobName(s.Service, s.ID), Namespace: "stf",
		Annotations: map[string]string{AnnotationRunID: "someone-else"},
	}}
	k := newTestLauncher(t, fake.NewClientset(other))
	if err := k.Launch(ctx, s); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("Launch over another run's job = %v, want an error", err)
	}
}

func TestLaunchReportsAPIErrors(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("quota exceeded")
	})
	k := newTestLauncher(t, client)
	if err := k.Launch(t.Context(), testSpec()); err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Errorf("Launch = %v, want the API error", err)
	}
}

// TestLaunchTellsAnUnavailableAPIServer: errors that say nothing about the
// Job (the API server overloaded, timing out, unreachable) wrap
// launch.ErrUnavailable, so that no attempt is counted; the others do not.
func TestLaunchTellsAnUnavailableAPIServer(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"service unavailable", apierrors.NewServiceUnavailable("etcd is down"), true},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), true},
		{"server timeout", apierrors.NewServerTimeout(batchv1.Resource("jobs"), "create", 1), true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"forbidden", apierrors.NewForbidden(batchv1.Resource("jobs"), "x", errors.New("no")), false},
		{"quota", errors.New("quota exceeded"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := fake.NewClientset()
			client.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, c.err
			})
			err := newTestLauncher(t, client).Launch(t.Context(), testSpec())
			if got := errors.Is(err, launch.ErrUnavailable); err == nil || got != c.want {
				t.Errorf("Launch = %v: unavailable %v, want %v", err, got, c.want)
			}
		})
	}
}

func TestStop(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	if err := k.Stop(ctx, "never-launched"); err != nil {
		t.Errorf("Stop of an unknown run = %v, want nil", err)
	}
	s := testSpec()
	if err := k.Launch(ctx, s); err != nil {
		t.Fatal(err)
	}
	var policy *metav1.DeletionPropagation
	client.PrependReactor("delete", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		policy = a.(k8stesting.DeleteActionImpl).DeleteOptions.PropagationPolicy
		return false, nil, nil
	})
	if err := k.Stop(ctx, s.ID); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if policy == nil || *policy != metav1.DeletePropagationBackground {
		t.Errorf("propagation policy %v, want Background (Pods go too)", policy)
	}
	jobs, err := client.BatchV1().Jobs("stf").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 {
		t.Errorf("%d jobs left after Stop", len(jobs.Items))
	}
	if err := k.Stop(ctx, s.ID); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
}

func TestRuns(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	a, b := testSpec(), testSpec()
	b.ID = "wf-ethusdt-api_trades-20240801-d4e5f6.load.1"
	for _, s := range []launch.Spec{a, b} {
		if err := k.Launch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// A Job not launched by queue-manager is not a run.
	if _, err := client.BatchV1().Jobs("stf").Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "stf"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	jb := jobFor(t, client, b)
	jb.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if _, err := client.BatchV1().Jobs("stf").UpdateStatus(ctx, jb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	runs, err := k.Runs(ctx)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	got := map[string]launch.Phase{}
	for _, r := range runs {
		got[r.ID] = r.Phase
	}
	want := map[string]launch.Phase{a.ID: launch.Pending, b.ID: launch.Succeeded}
	if len(got) != len(want) || got[a.ID] != want[a.ID] || got[b.ID] != want[b.ID] {
		t.Errorf("Runs = %v, want %v", got, want)
	}
}

func jobFor(t *testing.T, client kubernetes.Interface, s launch.Spec) *batchv1.Job {
	t.Helper()
	j, err := client.BatchV1().Jobs("stf").Get(t.Context(), JobName(s.Service, s.ID), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get job: %v", err)
	}
	return j
}

// recorder collects what Watch reports.
type recorder struct {
	mu  sync.Mutex
	got []launch.Status
	ch  chan launch.Status
}

func newRecorder() *recorder { return &recorder{ch: make(chan launch.Status, 100)} }

func (r *recorder) fn(s launch.Status) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
	r.ch <- s
}

// next waits for the next status.
func (r *recorder) next(t *testing.T) launch.Status {
	t.Helper()
	select {
	case s := <-r.ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no status within 10s")
		return launch.Status{}
	}
}

// expect waits for the next status and checks its ID and phase, and that its
// message contains msg.
func (r *recorder) expect(t *testing.T, id string, phase launch.Phase, msg string) launch.Status {
	t.Helper()
	s := r.next(t)
	if s.ID != id || s.Phase != phase || !strings.Contains(s.Message, msg) {
		t.Fatalf("got status %+v, want %s %s with message containing %q", s, id, phase, msg)
	}
	return s
}

// quiet checks that nothing more is reported for a moment.
func (r *recorder) quiet(t *testing.T) {
	t.Helper()
	select {
	case s := <-r.ch:
		t.Fatalf("unexpected status %+v", s)
	case <-time.After(300 * time.Millisecond):
	}
}

// startWatch runs Watch until the test ends and returns its recorder.
func startWatch(t *testing.T, k *Launcher) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rec := newRecorder()
	done := make(chan error, 1)
	go func() { done <- k.Watch(ctx, rec.fn) }()
	if ch, ok := watchesOpen.Load(k); ok {
		for range 2 { // jobs and pods
			select {
			case <-ch.(chan struct{}):
			case <-time.After(10 * time.Second):
				t.Fatal("the informers did not open their watches within 10s")
			}
		}
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return within 10s of cancel")
		}
	})
	return rec
}

// podFor makes a Pod the way the Job controller would for job.
func podFor(job *batchv1.Job, suffix string) *corev1.Pod {
	lbl := copyMap(job.Spec.Template.Labels)
	lbl[labelJobName] = job.Name
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: podName(job.Name, suffix), Namespace: job.Namespace, Labels: lbl,
			UID: types.UID(job.Name + "-" + suffix),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: new(true),
			}},
		},
		Spec:   *job.Spec.Template.Spec.DeepCopy(),
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}

// podName fits a Pod name into a DNS label, as generateName does.
func podName(job, suffix string) string {
	if max := 63 - len(suffix) - 1; len(job) > max {
		job = job[:max]
	}
	return job + "-" + suffix
}

func TestWatchPendingRunningSucceeded(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	rec := startWatch(t, k)
	s := testSpec()
	if err := k.Launch(ctx, s); err != nil {
		t.Fatal(err)
	}
	first := rec.expect(t, s.ID, launch.Pending, "waiting for a pod")
	if !first.At.Equal(testNow) {
		t.Errorf("At = %v, want the injected clock's %v", first.At, testNow)
	}
	job := jobFor(t, client, s)

	pod := podFor(job, "abcde")
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "worker", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "back-off pulling image"},
	}}}
	pod, err := client.CoreV1().Pods("stf").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec.expect(t, s.ID, launch.Pending, "ImagePullBackOff")

	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning}
	if _, err = client.CoreV1().Pods("stf").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, s.ID, launch.Running, "running")

	// A change that does not move phase or message is not reported.
	job.Status.Active = 1
	if job, err = client.BatchV1().Jobs("stf").UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.quiet(t)

	job.Status.Active = 0
	job.Status.Succeeded = 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached"},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods"},
	}
	if _, err = client.BatchV1().Jobs("stf").UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, s.ID, launch.Succeeded, "CompletionsReached")

	// Deleting a finished Job (TTL, Stop after the end) reports nothing more.
	if err := k.Stop(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	rec.quiet(t)
}

func TestWatchJobFailed(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	rec := startWatch(t, k)
	s := testSpec()
	if err := k.Launch(ctx, s); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, s.ID, launch.Pending, "")
	job := jobFor(t, client, s)
	job.Status.Failed = 1
	job.Status.Conditions = []batchv1.JobCondition{{
		Type: batchv1.JobFailed, Status: corev1.ConditionTrue,
		Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline",
	}}
	if _, err := client.BatchV1().Jobs("stf").UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	st := rec.expect(t, s.ID, launch.Failed, "DeadlineExceeded")
	if want := "DeadlineExceeded: Job was active longer than specified deadline"; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	// A run reports one terminal status: the Job's later deletion is not news.
	if err := client.BatchV1().Jobs("stf").Delete(ctx, job.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.quiet(t)
}

func TestWatchJobDeletedIsVanished(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	rec := startWatch(t, k)
	a, b := testSpec(), testSpec()
	b.ID += "-b"
	for _, s := range []launch.Spec{a, b} {
		if err := k.Launch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{rec.next(t).ID: true, rec.next(t).ID: true}
	if !got[a.ID] || !got[b.ID] {
		t.Fatalf("first reports for %v, want both runs", got)
	}
	// Deleted from outside (kubectl delete job).
	if err := client.BatchV1().Jobs("stf").Delete(ctx, JobName(a.Service, a.ID), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, a.ID, launch.Vanished, "deleted before it finished")
	// Deleted by Stop.
	if err := k.Stop(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, b.ID, launch.Vanished, "deleted by stop")
}

func TestWatchPodFailedOrDeleted(t *testing.T) {
	tests := []struct {
		name    string
		backoff int32
		act     func(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod)
		want    launch.Phase
		msg     string
		// permanent: the run must not be retried (the worker refused its
		// configuration, exit code 2).
		permanent bool
	}{
		{
			name: "pod refused its configuration",
			act: func(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) {
				pod.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
					Name: "worker", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
						ExitCode: launch.ExitConfig, Reason: "Error", Message: "SYMBOL: required"}},
				}}}
				if _, err := client.CoreV1().Pods("stf").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			want: launch.Failed, msg: "container worker exited 2 (configuration refused) (Error): SYMBOL: required", permanent: true,
		},
		{
			name: "pod failed",
			act: func(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) {
				pod.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
					Name: "worker", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}},
				}}}
				if _, err := client.CoreV1().Pods("stf").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			want: launch.Failed, msg: "container worker exited 3 (Error)",
		},
		{
			name: "pod deleted",
			act: func(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) {
				if err := client.CoreV1().Pods("stf").Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			want: launch.Vanished, msg: "deleted before it finished",
		},
		{
			name:    "pod deleted with a retry left",
			backoff: 1,
			act: func(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) {
				if err := client.CoreV1().Pods("stf").Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			want: launch.Pending, msg: "waiting for a pod", // the Job controller makes a new Pod
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			client := fake.NewClientset()
			k := newTestLauncher(t, client, func(c *Config) { c.BackoffLimit = tt.backoff })
			rec := startWatch(t, k)
			s := testSpec()
			if err := k.Launch(ctx, s); err != nil {
				t.Fatal(err)
			}
			rec.expect(t, s.ID, launch.Pending, "waiting for a pod")
			pod := podFor(jobFor(t, client, s), "x1")
			pod.Status.Phase = corev1.PodRunning
			pod, err := client.CoreV1().Pods("stf").Create(ctx, pod, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rec.expect(t, s.ID, launch.Running, pod.Name)
			tt.act(ctx, t, client, pod)
			if st := rec.expect(t, s.ID, tt.want, tt.msg); st.Permanent != tt.permanent {
				t.Errorf("permanent %v, want %v", st.Permanent, tt.permanent)
			}
			runs, err := k.Runs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if r.ID == s.ID && r.Permanent != tt.permanent {
					t.Errorf("Runs: permanent %v, want %v", r.Permanent, tt.permanent)
				}
			}
			rec.quiet(t)
		})
	}
}

func TestWatchReportsExistingJobsAndReadoption(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	s := testSpec()
	// Launched before this queue-manager started watching (a restart).
	if err := k.Launch(ctx, s); err != nil {
		t.Fatal(err)
	}
	rec := startWatch(t, k)
	rec.expect(t, s.ID, launch.Pending, "")
	rec.quiet(t)
	// Launch of the same run re-adopts it and reports its state again.
	if err := k.Launch(ctx, s); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, s.ID, launch.Pending, "")
}

func TestWatchOnce(t *testing.T) {
	k := newTestLauncher(t, fake.NewClientset())
	_ = startWatch(t, k)
	deadline := time.Now().Add(5 * time.Second)
	for {
		k.mu.Lock()
		running := k.watcher != nil
		k.mu.Unlock()
		if running || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := k.Watch(t.Context(), func(launch.Status) {}); err == nil {
		t.Error("second Watch returned nil, want an error")
	}
}

func TestWatchListForbidden(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(`pods is forbidden: User "system:serviceaccount:stf:queue-manager" cannot list resource "pods"`)
	})
	cfg := defaultConfig(t)
	k, err := New(client, cfg, WithSyncTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // a bug here must fail, not hang
	defer cancel()
	err = k.Watch(ctx, func(launch.Status) {})
	if err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("Watch = %v, want an error that says the list was forbidden", err)
	}
}
