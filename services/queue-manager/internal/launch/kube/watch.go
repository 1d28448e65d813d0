package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

const podsByJobIndex = "job"

// Watch reports the state of every run whose Job is in the namespace: once
// for each existing Job when it starts (so a restarted queue-manager learns
// where its runs are), then on every change of phase or message, until ctx
// ends. fn is called from one goroutine at a time.
//
// What it reports, besides the Job's own conditions (see runState):
//   - a Job deleted before it finished → Vanished ("job deleted"; "stopped"
//     when Stop deleted it). A Job deleted after it finished (TTL, cleanup) is
//     not reported again.
//   - a Pod of the Job deleted before it finished, with no retry left and no
//     replacement Pod → Vanished; a Pod that failed → Failed with its exit
//     code. With backoffLimit > 0 these count against the limit first.
//   - a failure whose worker exited launch.ExitConfig (it refused its
//     configuration) → Permanent, as with the local launcher.
//
// Each run reports at most one terminal status, except when Launch re-adopts
// it, which reports the current state again. Watch returns nil when ctx ends,
// and an error when it is already running or cannot list Jobs and Pods within
// the sync timeout (usually RBAC: queue-manager needs get, list and watch on
// jobs and pods in the namespace).
func (k *Launcher) Watch(ctx context.Context, fn func(launch.Status)) error {
	w := &watcher{
		k:           k,
		fn:          fn,
		queue:       workqueue.NewTyped[string](),
		ids:         map[string]string{},
		last:        map[string]state{},
		deletedPods: map[string]map[types.UID]bool{},
		force:       map[string]bool{},
	}
	k.mu.Lock()
	if k.watcher != nil {
		k.mu.Unlock()
		return errors.New("watch: already running")
	}
	k.watcher = w
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.watcher = nil
		k.mu.Unlock()
	}()

	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0,
		informers.WithNamespace(k.cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = labels.Set{LabelApp: appName}.String()
		}))
	jobs := factory.Batch().V1().Jobs()
	pods := factory.Core().V1().Pods()
	w.jobs = jobs.Lister()
	w.pods = pods.Informer().GetIndexer()
	if err := pods.Informer().AddIndexers(cache.Indexers{podsByJobIndex: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok {
			if name := jobOfPod(p); name != "" {
				return []string{name}, nil
			}
		}
		return nil, nil
	}}); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	var lastErr lastError
	for name, inf := range map[string]cache.SharedIndexInformer{"jobs": jobs.Informer(), "pods": pods.Informer()} {
		if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			lastErr.set(fmt.Errorf("%s: %w", name, err))
			k.log.Warn().Err(err).Str("resource", name).Str("namespace", k.cfg.Namespace).Msg("list/watch failed, retrying")
		}); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
	}
	if _, err := jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.jobChanged,
		UpdateFunc: func(_, obj any) { w.jobChanged(obj) },
		DeleteFunc: w.jobChanged,
	}); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.podChanged,
		UpdateFunc: func(_, obj any) { w.podChanged(obj) },
		DeleteFunc: w.podDeleted,
	}); err != nil {
		return fmt.Errorf("watch: %w", err)
	}

	// The informers stop when Watch returns, whether ctx ended or not.
	informerCtx, stopInformers := context.WithCancel(ctx)
	factory.Start(informerCtx.Done())
	defer factory.Shutdown() // runs last: waits for the informers to stop
	defer stopInformers()
	defer w.queue.ShutDown()

	syncCtx, cancel := context.WithTimeout(ctx, k.syncTimeout)
	synced := factory.WaitForCacheSync(syncCtx.Done())
	cancel()
	for typ, ok := range synced {
		if ok {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		err := lastErr.get()
		if err == nil {
			err = errors.New("no answer")
		}
		return fmt.Errorf("watch: %v in namespace %s not listed within %s (queue-manager needs get, list, watch on jobs and pods): %w",
			typ, k.cfg.Namespace, k.syncTimeout, err)
	}
	k.log.Info().Str("namespace", k.cfg.Namespace).Int("jobs", len(jobs.Informer().GetStore().ListKeys())).Msg("watching jobs")

	done := make(chan struct{})
	go func() {
		defer close(done)
		for w.processNext() {
		}
	}()
	<-ctx.Done()
	w.queue.ShutDown()
	<-done
	return nil
}

// watcher is the state of one Watch call. Informer handlers (two goroutines)
// record what they saw and queue the Job's name; one worker goroutine turns a
// name into a status from the listers and reports it when it changed.
type watcher struct {
	k     *Launcher
	fn    func(launch.Status)
	queue *workqueue.Typed[string]
	jobs  batchlisters.JobLister
	pods  cache.Indexer

	mu          sync.Mutex
	ids         map[string]string             // job name → run ID, kept until the deletion is reported
	last        map[string]state              // job name → state last reported
	deletedPods map[string]map[types.UID]bool // job name → Pods deleted before they finished
	force       map[string]bool               // job name → report even if unchanged (re-adopted)
}

func (w *watcher) jobChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	id, ok := job.Annotations[AnnotationRunID]
	if !ok {
		return // not launched by queue-manager
	}
	w.mu.Lock()
	w.ids[job.Name] = id
	w.mu.Unlock()
	w.queue.Add(job.Name)
}

func (w *watcher) podChanged(obj any) {
	if p, ok := obj.(*corev1.Pod); ok {
		if name := jobOfPod(p); name != "" {
			w.queue.Add(name)
		}
	}
}

func (w *watcher) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	name := jobOfPod(p)
	if name == "" {
		return
	}
	if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		w.mu.Lock()
		if w.deletedPods[name] == nil {
			w.deletedPods[name] = map[types.UID]bool{}
		}
		w.deletedPods[name][p.UID] = true
		w.mu.Unlock()
	}
	w.queue.Add(name)
}

// resend makes the next report of job unconditional (Launch re-adopted it).
func (w *watcher) resend(job *batchv1.Job) {
	w.mu.Lock()
	w.force[job.Name] = true
	if id, ok := job.Annotations[AnnotationRunID]; ok {
		w.ids[job.Name] = id
	}
	w.mu.Unlock()
	w.queue.Add(job.Name)
}

func (w *watcher) processNext() bool {
	name, quit := w.queue.Get()
	if quit {
		return false
	}
	defer w.queue.Done(name)
	if st, ok := w.evaluate(name); ok {
		w.fn(st)
	}
	return true
}

// evaluate returns the status to report for the Job name, if any.
func (w *watcher) evaluate(name string) (launch.Status, bool) {
	job, err := w.jobs.Jobs(w.k.cfg.Namespace).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		w.k.log.Error().Err(err).Str("job", name).Msg("read job from cache")
		return launch.Status{}, false
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if job == nil {
		id, known := w.ids[name]
		prev, reported := w.last[name]
		delete(w.ids, name)
		delete(w.last, name)
		delete(w.deletedPods, name)
		delete(w.force, name)
		if !known || (reported && prev.Phase.Terminal()) {
			return launch.Status{}, false
		}
		return launch.Status{ID: id, Phase: launch.Vanished, Message: w.deletedMessage(id, name), At: w.k.now()}, true
	}
	id, ok := job.Annotations[AnnotationRunID]
	if !ok {
		return launch.Status{}, false
	}
	objs, err := w.pods.ByIndex(podsByJobIndex, name)
	if err != nil {
		w.k.log.Error().Err(err).Str("job", name).Msg("read pods from cache")
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Namespace == job.Namespace {
			pods = append(pods, p)
		}
	}
	st := runState(job, pods, len(w.deletedPods[name]))
	if job.DeletionTimestamp != nil && !st.Phase.Terminal() {
		// Being deleted (an orphaning delete waits for the garbage
		// collector): it will not finish.
		st = state{Phase: launch.Vanished, Message: w.deletedMessage(id, name)}
	}
	prev, reported := w.last[name]
	if w.force[name] {
		delete(w.force, name)
		reported = false
	}
	if reported && (prev == st || prev.Phase.Terminal()) {
		return launch.Status{}, false
	}
	w.last[name] = st
	return launch.Status{ID: id, Phase: st.Phase, Message: st.Message, Permanent: st.Permanent, At: w.k.now()}, true
}

// deletedMessage says who deleted the run's Job; w.mu is held.
func (w *watcher) deletedMessage(id, name string) string {
	w.k.mu.Lock()
	defer w.k.mu.Unlock()
	if w.k.stopped[id] {
		delete(w.k.stopped, id)
		return "job " + name + " deleted by stop"
	}
	return "job " + name + " deleted before it finished"
}

// lastError keeps the most recent list/watch error for Watch's sync-timeout
// message.
type lastError struct {
	mu  sync.Mutex
	err error
}

func (l *lastError) set(err error) { l.mu.Lock(); l.err = err; l.mu.Unlock() }

func (l *lastError) get() error { l.mu.Lock(); defer l.mu.Unlock(); return l.err }
