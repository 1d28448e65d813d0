package lead

import (
	"context"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Lease elects the engine with a coordination.k8s.io Lease (client-go's
// leaderelection), for queue-managers that launch Kubernetes Jobs: the API
// server is then the one place every replica agrees on.
type Lease struct {
	client                kubernetes.Interface
	namespace, name, hold string
	o                     Options
}

// NewLease returns an elector on the Lease namespace/name; holder names
// this process.
func NewLease(client kubernetes.Interface, namespace, name, holder string, o Options) *Lease {
	if o.TTL <= 0 {
		o.TTL = 15 * time.Second
	}
	return &Lease{client: client, namespace: namespace, name: name, hold: holder, o: o}
}

// Run has Lock.Run's contract: it campaigns until ctx ends, calls lead
// while this process holds the Lease (renewed within TTL·2/3, tried every
// TTL/6), waits for lead to return before the Lease is released or
// campaigned for again, and returns lead's error.
func (l *Lease) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	for {
		err, led := l.term(ctx, lead)
		if err != nil || ctx.Err() != nil {
			return err
		}
		if led {
			l.o.Log.Warn().Str("holder", l.hold).Msg("lease lost: standing by")
		}
	}
}

// term campaigns once: it returns when ctx ended or a term of leading
// ended, with lead's error and whether this process led.
func (l *Lease) term(ctx context.Context, lead func(ctx context.Context) error) (error, bool) {
	// The election is stopped by us, not by ctx: the Lease is released
	// only once lead has returned.
	elect, stopElect := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElect()
	var leading atomic.Bool
	stopWaiting := context.AfterFunc(ctx, func() {
		if !leading.Load() {
			stopElect()
		}
	})
	defer stopWaiting()
	done := make(chan error, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: l.namespace, Name: l.name},
			Client:     l.client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: l.hold},
		},
		LeaseDuration:   l.o.TTL,
		RenewDeadline:   l.o.TTL * 2 / 3,
		RetryPeriod:     l.o.TTL / 6,
		ReleaseOnCancel: true,
		Name:            l.name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(term context.Context) {
				leading.Store(true)
				l.o.Log.Info().Str("holder", l.hold).Msg("leading: this queue-manager runs the engine")
				t, cancel := context.WithCancel(term)
				defer cancel()
				stop := context.AfterFunc(ctx, cancel)
				defer stop()
				done <- lead(t)
				stopElect()
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != l.hold && l.o.Standby != nil {
					l.o.Standby()
				}
			},
		},
	})
	if err != nil {
		return err, false
	}
	le.Run(elect)
	if !leading.Load() {
		return nil, false
	}
	return <-done, true
}
