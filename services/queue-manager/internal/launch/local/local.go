// Package local launches workflow steps as child processes: the same
// binaries and environment as the Kubernetes Jobs, for the local stack and
// the tests. A child that dies is reported like a failed Job; children die
// with queue-manager (Linux parent-death signal), so a restarted
// queue-manager relaunches instead of finding orphans.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// Options configure the launcher.
type Options struct {
	// BinDir holds one binary per service name.
	BinDir string
	// Pass names the variables of queue-manager's own environment a child
	// inherits: names, or prefixes ending in "*" (KAFKA_*). Nothing else
	// reaches a child, so queue-manager's other credentials stay its own.
	// Empty passes nothing.
	Pass []string
	// Env is added to every child's environment after the inherited
	// variables.
	Env []string
	// ServiceEnvDir, when set, holds <service>.env files (NAME=value
	// lines) added to the environment of that service's children after
	// Env: the local counterpart of each Job's per-service Secret, e.g.
	// every service's own Kafka user.
	ServiceEnvDir string
	// Grace is how long a stopped child has after SIGTERM before SIGKILL
	// (default 10 s).
	Grace time.Duration
	// Output receives the children's stderr, each line as the child wrote
	// it; nil discards it.
	Output io.Writer
	// LogDir, when set, also keeps each run's stdout and stderr in a file
	// of its own, <LogDir>/<run id>.log, served by Logs.
	LogDir string
}

// Launcher runs steps as child processes.
type Launcher struct {
	o       Options
	mu      sync.Mutex
	procs   map[string]*proc
	changes chan launch.Status
}

type proc struct {
	cmd      *exec.Cmd
	target   launch.Target
	status   launch.Status
	done     chan struct{}
	overtime atomic.Bool // the run outlasted its deadline and was stopped
}

// New returns a launcher.
func New(o Options) *Launcher {
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	return &Launcher{o: o, procs: map[string]*proc{}, changes: make(chan launch.Status, 1024)}
}

var _ launch.Launcher = (*Launcher)(nil)

// Launch starts the child for s; an ID already running is left alone. A
// child still running when s.Deadline has passed is stopped (SIGTERM, then
// SIGKILL after the grace period) and reported failed with reason
// DeadlineExceeded, like a Job past its activeDeadlineSeconds, however it
// exits.
func (l *Launcher) Launch(_ context.Context, s launch.Spec) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.procs[s.ID]; ok {
		return nil
	}
	exe := filepath.Join(l.o.BinDir, s.Service)
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("no binary for %s in %s: %w", s.Service, l.o.BinDir, err)
	}
	cmd := exec.Command(exe, s.Args...)
	env := append(Inherit(os.Environ(), l.o.Pass), l.o.Env...)
	own, err := serviceEnv(l.o.ServiceEnvDir, s.Service)
	if err != nil {
		return err
	}
	env = append(env, own...)
	// A port of its own, known before the child starts, so that
	// Prometheus can be told where the child serves /metrics (Targets).
	addr, err := freeAddr()
	if err != nil {
		return fmt.Errorf("metrics port for %s: %w", s.Service, err)
	}
	env = append(env, "HTTP_ADDR="+addr, "METRICS_ADDR=") // METRICS_ADDR: /metrics on the child's own HTTP_ADDR
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+s.Env[k])
	}
	for k, v := range s.Secrets {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	out, closeOut, err := l.output(s.ID)
	if err != nil {
		return err
	}
	last := &lastLine{}
	out = io.MultiWriter(out, last)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		closeOut()
		return fmt.Errorf("start %s: %w", s.Service, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), status: launch.Status{ID: s.ID, Phase: launch.Running, At: time.Now()},
		target: launch.TargetOf(addr, s)}
	l.procs[s.ID] = p
	l.emit(p.status)
	if s.Deadline > 0 {
		deadline := time.AfterFunc(s.Deadline, func() {
			p.overtime.Store(true)
			l.terminate(context.Background(), p)
		})
		go func() { <-p.done; deadline.Stop() }()
	}
	go func() {
		err := cmd.Wait()
		closeOut()
		st := launch.Status{ID: s.ID, Phase: launch.Succeeded, Message: "exit code 0", At: time.Now()}
		var ee *exec.ExitError
		switch {
		case p.overtime.Load():
			st.Phase, st.Message = launch.Failed, fmt.Sprintf("DeadlineExceeded: ran longer than its deadline of %s", s.Deadline)
		case errors.As(err, &ee) && ee.ExitCode() == launch.ExitConfig:
			// What it refused is the last thing it wrote.
			st.Phase, st.Message, st.Permanent = launch.Failed, fmt.Sprintf("exit code %d (configuration refused): %s", ee.ExitCode(), last), true
		case errors.As(err, &ee) && ee.ExitCode() >= 0:
			st.Phase, st.Message = launch.Failed, fmt.Sprintf("exit code %d", ee.ExitCode())
		case errors.As(err, &ee):
			st.Phase, st.Message = launch.Failed, "killed by "+ee.String()
		case err != nil:
			st.Phase, st.Message = launch.Vanished, err.Error()
		}
		l.mu.Lock()
		p.status = st
		l.mu.Unlock()
		close(p.done)
		l.emit(st)
	}()
	return nil
}

func (l *Launcher) emit(st launch.Status) {
	select {
	case l.changes <- st:
	default: // nobody watching fast enough; Runs still tells
	}
}

// Stop sends SIGTERM to the child's process group, SIGKILL after the grace
// period, and forgets it.
func (l *Launcher) Stop(ctx context.Context, id string) error {
	l.mu.Lock()
	p, ok := l.procs[id]
	delete(l.procs, id)
	l.mu.Unlock()
	if !ok {
		return nil
	}
	l.terminate(ctx, p)
	return nil
}

// terminate sends SIGTERM to p's process group and SIGKILL after the grace
// period or when ctx ends, unless p has ended.
func (l *Launcher) terminate(ctx context.Context, p *proc) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	t := time.NewTimer(l.o.Grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	case <-ctx.Done():
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Runs lists the children started by this process and their state.
func (l *Launcher) Runs(context.Context) ([]launch.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]launch.Status, 0, len(l.procs))
	for _, p := range l.procs {
		out = append(out, p.status)
	}
	return out, nil
}

// Watch delivers state changes until ctx ends.
func (l *Launcher) Watch(ctx context.Context, fn func(launch.Status)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case st := <-l.changes:
			fn(st)
		}
	}
}

// Kill ends a child at once without forgetting it, as a crash would (for
// tests and chaos drills): the engine sees it fail.
func (l *Launcher) Kill(id string) bool {
	l.mu.Lock()
	p, ok := l.procs[id]
	l.mu.Unlock()
	if !ok {
		return false
	}
	return p.cmd.Process.Kill() == nil
}

// Close kills every child.
func (l *Launcher) Close() {
	l.mu.Lock()
	procs := l.procs
	l.procs = map[string]*proc{}
	l.mu.Unlock()
	for _, p := range procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}
