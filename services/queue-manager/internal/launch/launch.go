// Package launch is how queue-manager runs a workflow step's worker: as a
// Kubernetes Job (package kube) or as a child process (package local). The
// engine sees both the same way: Launch a step, Stop it, and receive its
// state changes — including the ones nobody announced on queue-events, such
// as a Job deleted from outside or a process that died.
package launch

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable wraps a launch error that says nothing about the run: the
// launcher's backend (the API server) could not be reached or answered
// that it is overloaded. The engine waits and launches again, without
// counting an attempt.
var ErrUnavailable = errors.New("launcher unavailable")

// Spec is one run (attempt) of one step's worker.
type Spec struct {
	// ID names this attempt uniquely and deterministically, e.g.
	// "<queue_id>.<step>.<attempt>"; launchers derive object names from it
	// (Kubernetes: a DNS-1123 name with a hash suffix, see
	// protocol.KubeName) and report it back in Status.
	ID string
	// Service is the worker's service, e.g. loader-producer; it picks the
	// image (Kubernetes) or the binary (local).
	Service string
	// Args are the worker's command-line arguments (usually none).
	Args []string
	// Env is the worker's task environment: QUEUE_ID, SYMBOL, TYPE,
	// TIME_RANGE, KAFKA_TOPIC, COLLECTION_NAME, TELEMETRY_ID and any
	// service-specific variables. Shared settings (Kafka, store, Binance
	// endpoints) come from the launcher's own configuration (Kubernetes:
	// envFrom a ConfigMap and a Secret).
	Env map[string]string
	// Secrets are environment variables of the run that must not be in
	// plain sight (its message signing key): the Kubernetes launcher puts
	// them in a Secret of the run, owned by its Job, and refers the
	// container to it; the local launcher adds them to the child's
	// environment.
	Secrets map[string]string
	// Labels identify the run for people and tools: queue_id, step,
	// attempt (Kubernetes labels when valid label values, else
	// annotations).
	Labels map[string]string
	// Deadline bounds the run (Kubernetes activeDeadlineSeconds); zero means
	// none.
	Deadline time.Duration
}

// Phase is where a launched run is.
type Phase string

// The phases a launcher reports.
const (
	Pending   Phase = "pending"   // accepted, not running yet (Job created, Pod not started)
	Running   Phase = "running"   // the worker process runs
	Succeeded Phase = "succeeded" // exited 0 / Job complete
	Failed    Phase = "failed"    // exited non-zero / Job failed (Message says why)
	Vanished  Phase = "vanished"  // the run disappeared without finishing (Job or Pod deleted, process lost)
)

// Terminal reports whether the run is over.
func (p Phase) Terminal() bool { return p == Succeeded || p == Failed || p == Vanished }

// Status is a state change of one run.
type Status struct {
	ID      string
	Phase   Phase
	Message string // e.g. the exit code, the Job condition's reason and message
	At      time.Time
	// Permanent is set on a failed run whose worker refused its
	// configuration (exit code ExitConfig): a relaunch would fail the same
	// way.
	Permanent bool
}

// ExitConfig is the exit code of a worker that refused its flags or
// configuration before it started (libs/service.Main).
const ExitConfig = 2

// Launcher starts and stops runs and reports their state. Implementations
// are safe for concurrent use.
type Launcher interface {
	// Launch starts the run. Launching an ID that already exists is not an
	// error: it returns nil and the run's state is reported again (so a
	// restarted queue-manager can re-adopt what it launched). An error
	// wrapping ErrUnavailable means the run was not started for a reason
	// that may pass by itself.
	Launch(ctx context.Context, s Spec) error
	// Stop removes the run (a Job deleted with its Pods, a process killed
	// after SIGTERM and a grace period). Stopping an unknown ID is not an
	// error.
	Stop(ctx context.Context, id string) error
	// Runs lists the runs the launcher knows, with their current state; the
	// engine reconciles them with its own records at start.
	Runs(ctx context.Context) ([]Status, error)
	// Watch delivers every state change until ctx ends. There is one
	// watcher; Watch is called once.
	Watch(ctx context.Context, fn func(Status)) error
}
