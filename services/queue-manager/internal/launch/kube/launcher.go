// Package kube launches workflow steps as Kubernetes Jobs with client-go and
// reports their state from shared informers on Jobs and Pods.
//
// One run (launch.Spec) is one Job with backoffLimit 0 by default: retries
// are queue-manager's, as new runs with new IDs. A Job is found again from its
// run ID through the streamforge.dev/run label and the exact ID in the
// streamforge.dev/run-id annotation, so a restarted queue-manager re-adopts
// the Jobs it launched before.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

var _ launch.Launcher = (*Launcher)(nil)

// Launcher runs steps as Kubernetes Jobs. It is safe for concurrent use.
type Launcher struct {
	client kubernetes.Interface
	cfg    Config
	log    zerolog.Logger
	now    func() time.Time
	// syncTimeout bounds Watch's wait for its first list of Jobs and Pods.
	syncTimeout time.Duration

	mu      sync.Mutex
	watcher *watcher // set while Watch runs
	stopped map[string]bool
}

// Option configures a Launcher.
type Option func(*Launcher)

// WithLogger logs through l (default: nothing).
func WithLogger(l zerolog.Logger) Option { return func(k *Launcher) { k.log = l } }

// WithClock stamps statuses with now (default time.Now).
func WithClock(now func() time.Time) Option { return func(k *Launcher) { k.now = now } }

// WithSyncTimeout bounds how long Watch waits for its first list of Jobs and
// Pods before it gives up (default one minute).
func WithSyncTimeout(d time.Duration) Option { return func(k *Launcher) { k.syncTimeout = d } }

// New returns a Launcher that creates Jobs through client as cfg says. It
// returns cfg.Validate's error when the configuration is unusable.
func New(client kubernetes.Interface, cfg Config, opts ...Option) (*Launcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := &Launcher{
		client:      client,
		cfg:         cfg,
		log:         zerolog.Nop(),
		now:         time.Now,
		syncTimeout: time.Minute,
		stopped:     map[string]bool{},
	}
	for _, o := range opts {
		o(k)
	}
	return k, nil
}

// Job returns the Job that Launch would create for s, for inspection and
// dry runs.
func (k *Launcher) Job(s launch.Spec) (*batchv1.Job, error) { return buildJob(&k.cfg, s) }

// Launch creates the run's Job. A Job that already exists for the same run
// is re-adopted: Launch returns nil and Watch reports its state again. It
// returns the API server's error otherwise (invalid Job, forbidden, quota).
func (k *Launcher) Launch(ctx context.Context, s launch.Spec) error {
	job, err := buildJob(&k.cfg, s)
	if err != nil {
		return fmt.Errorf("launch %s: %w", s.ID, err)
	}
	created, err := k.client.BatchV1().Jobs(k.cfg.Namespace).Create(ctx, job, metav1.CreateOptions{})
	switch {
	case err == nil:
		k.log.Info().Str("run_id", s.ID).Str("job", job.Name).Str("service", s.Service).Msg("job created")
		return k.createRunSecret(ctx, created, s)
	case apierrors.IsAlreadyExists(err):
		existing, getErr := k.client.BatchV1().Jobs(k.cfg.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("launch %s: job %s exists: %w", s.ID, job.Name, getErr)
		}
		if got := existing.Annotations[AnnotationRunID]; got != s.ID {
			return fmt.Errorf("launch %s: job %s exists for another run %q", s.ID, job.Name, got)
		}
		if err := k.createRunSecret(ctx, existing, s); err != nil {
			return err
		}
		k.log.Info().Str("run_id", s.ID).Str("job", job.Name).Msg("job exists, re-adopted")
		k.mu.Lock()
		w := k.watcher
		k.mu.Unlock()
		if w != nil {
			w.resend(existing)
		}
		return nil
	case unavailable(err):
		return fmt.Errorf("launch %s: create job %s: %w", s.ID, job.Name, errors.Join(launch.ErrUnavailable, err))
	default:
		return fmt.Errorf("launch %s: create job %s: %w", s.ID, job.Name, err)
	}
}

// unavailable reports an API server error that says nothing about the Job:
// the server could not be reached, timed out, or is overloaded.
func unavailable(err error) bool {
	if apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded)
}

// Stop deletes the run's Job and, in the background, its Pods. Stopping an
// unknown run, or one already gone, returns nil.
func (k *Launcher) Stop(ctx context.Context, id string) error {
	jobs, err := k.client.BatchV1().Jobs(k.cfg.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{LabelApp: appName, LabelRun: runLabel(id)}.String(),
	})
	if err != nil {
		return fmt.Errorf("stop %s: list jobs: %w", id, err)
	}
	policy := metav1.DeletePropagationBackground
	for i := range jobs.Items {
		j := &jobs.Items[i]
		if j.Annotations[AnnotationRunID] != id {
			continue // another run whose label value collided
		}
		k.mu.Lock()
		k.stopped[id] = true
		k.mu.Unlock()
		err := k.client.BatchV1().Jobs(k.cfg.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{
			PropagationPolicy: &policy,
			Preconditions:     &metav1.Preconditions{UID: &j.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("stop %s: delete job %s: %w", id, j.Name, err)
		}
		k.log.Info().Str("run_id", id).Str("job", j.Name).Msg("job deleted")
	}
	return nil
}

// Runs lists the runs whose Jobs exist in the namespace, with their state as
// the Jobs and Pods show it now. It returns the API server's error when it
// cannot list them.
func (k *Launcher) Runs(ctx context.Context) ([]launch.Status, error) {
	sel := labels.Set{LabelApp: appName}.String()
	jobs, err := k.client.BatchV1().Jobs(k.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	pods, err := k.client.CoreV1().Pods(k.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	byJob := map[string][]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if name := jobOfPod(p); name != "" {
			byJob[name] = append(byJob[name], p)
		}
	}
	now := k.now()
	out := make([]launch.Status, 0, len(jobs.Items))
	for i := range jobs.Items {
		j := &jobs.Items[i]
		id, ok := j.Annotations[AnnotationRunID]
		if !ok {
			continue
		}
		st := runState(j, byJob[j.Name], 0)
		out = append(out, launch.Status{ID: id, Phase: st.Phase, Message: st.Message, Permanent: st.Permanent, At: now})
	}
	return out, nil
}

// jobOfPod names the Job that owns p: its controller reference, else the
// labels the Job controller sets.
func jobOfPod(p *corev1.Pod) string {
	if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "Job" {
		return ref.Name
	}
	if n := p.Labels[labelJobName]; n != "" {
		return n
	}
	return p.Labels[labelLegacyJobName]
}
