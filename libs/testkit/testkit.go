// Package testkit drives service binaries in end-to-end tests: it builds
// them, runs them as child processes with the environment a Job would give
// them, and follows a task's life on queue-events.
package testkit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Build compiles the main packages pkgs (e.g. "./cmd/dummy-service") of the
// module in moduleDir into dir and returns nil, or the build output as an
// error. Use it from TestMain, where no *testing.T exists yet.
func Build(moduleDir, dir string, pkgs ...string) error {
	for _, p := range pkgs {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, filepath.Base(p)), p)
		cmd.Dir = moduleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return &buildError{pkg: p, err: err, out: out}
		}
	}
	return nil
}

// Cmd is one command to build for an end-to-end test package: the main
// package Pkg (e.g. "./cmd/loader-producer") of the module in ModuleDir.
type Cmd struct{ ModuleDir, Pkg string }

// Main is an end-to-end test package's TestMain: it builds cmds into a
// temporary directory, sets *binDir to it, runs the tests and removes it. It
// returns the exit code for os.Exit.
func Main(m *testing.M, binDir *string, cmds ...Cmd) int {
	dir, err := os.MkdirTemp("", "e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	for _, c := range cmds {
		if err := Build(c.ModuleDir, dir, c.Pkg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	*binDir = dir
	return m.Run()
}

type buildError struct {
	pkg string
	err error
	out []byte
}

func (e *buildError) Error() string {
	return "build " + e.pkg + ": " + e.err.Error() + "\n" + string(e.out)
}

// KafkaEnv turns client settings into the environment the binaries read.
func KafkaEnv(cfg bus.Config) []string {
	env := []string{
		"KAFKA_BOOTSTRAP_SERVERS=" + cfg.BootstrapServers,
		"KAFKA_SECURITY_PROTOCOL=" + cfg.SecurityProtocol,
	}
	if cfg.Username != "" {
		env = append(env, "KAFKA_SASL_MECHANISM="+cfg.SASLMechanism, "KAFKA_USERNAME="+cfg.Username, "KAFKA_PASSWORD="+cfg.Password)
	}
	return env
}

// QueueID returns a fresh workflow queue id for symbol and typ.
func QueueID(t testing.TB, symbol, typ string) string {
	t.Helper()
	suffix, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	q, err := protocol.NewQueueID(symbol, typ, time.Now(), suffix)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// Events collects one task's queue-events messages in the background.
type Events struct {
	mu   sync.Mutex
	list []protocol.Event
	more chan struct{}
}

// Publish sends v as JSON to topic under key (a queue id), as
// queue-manager publishes commands and workers publish events.
func Publish(t testing.TB, cfg bus.Config, topic, key string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close() }()
	if err := p.Publish(context.Background(), topic, []byte(key), b); err != nil {
		t.Fatal(err)
	}
}

// WatchEvents starts collecting queueID's events (from a second ago) until
// the test ends. An event that does not validate fails the test.
func WatchEvents(t testing.TB, cfg bus.Config, queueID string) *Events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tail, err := bus.NewTail(ctx, cfg, protocol.TopicEvents, time.Now().Add(-time.Second), nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	e := &Events{more: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tail.Run(ctx, func(_ context.Context, m bus.Message) error {
			ev, err := protocol.DecodeEvent(m.Value)
			if err != nil {
				t.Errorf("invalid event on %s: %v: %s", protocol.TopicEvents, err, m.Value)
				return nil
			}
			if ev.QueueID != queueID {
				return nil
			}
			e.mu.Lock()
			e.list = append(e.list, ev)
			e.mu.Unlock()
			select {
			case e.more <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done; _ = tail.Close() })
	return e
}

// WaitFor returns the first event with status, failing the test after timeout.
func (e *Events) WaitFor(t testing.TB, status protocol.Status, timeout time.Duration) protocol.Event {
	t.Helper()
	return e.WaitForFrom(t, "", status, timeout)
}

// WaitForFrom returns the first event with status sent by a worker of
// service (any worker when service is empty), failing the test after timeout.
func (e *Events) WaitForFrom(t testing.TB, service string, status protocol.Status, timeout time.Duration) protocol.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		for _, ev := range e.list {
			if ev.Status == status && (service == "" || protocol.TelemetryService(ev.Producer) == service) {
				e.mu.Unlock()
				return ev
			}
		}
		seen := len(e.list)
		e.mu.Unlock()
		select {
		case <-e.more:
		case <-deadline:
			t.Fatalf("no %s event from %q within %s (saw %d events of this task)", status, service, timeout, seen)
		}
	}
}

// All returns the events collected so far.
func (e *Events) All() []protocol.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]protocol.Event(nil), e.list...)
}

// Proc is a running service binary.
type Proc struct {
	Cmd    *exec.Cmd
	stderr *Buffer
	done   chan struct{}
}

// Buffer is a bytes.Buffer safe for one writer goroutine and concurrent
// readers: capture a process's or a service's output while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs exe with the process environment plus env and args. The
// process is killed when the test ends, and its stderr is logged if the test
// failed.
func Start(t testing.TB, exe string, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &Proc{Cmd: cmd, stderr: &Buffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(exe), p.Stderr())
		}
	})
	return p
}

// Stderr returns what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Kill ends the process with SIGKILL (if still running) and waits for it.
func (p *Proc) Kill() {
	select {
	case <-p.done:
	default:
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait returns the exit code, failing the test if the process runs past timeout.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.Cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s", filepath.Base(p.Cmd.Path), timeout)
		return -1
	}
}

// HTTPAddr finds the listener address in the service's JSON log, waiting up
// to 10 s for it.
func (p *Proc) HTTPAddr(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := bufio.NewScanner(strings.NewReader(p.Stderr()))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct {
				Message string `json:"message"`
				Addr    string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "http listening" {
				return line.Addr
			}
		}
		select {
		case <-p.done:
			t.Fatal("the service exited before it logged its HTTP address")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the service did not log its HTTP address")
		}
	}
}

// Metrics returns the service's /metrics page.
func (p *Proc) Metrics(t testing.TB) string {
	t.Helper()
	res, err := http.Get("http://" + p.HTTPAddr(t) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Grep returns the lines of s that contain sub.
func Grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// LastLine returns the last non-empty line of s.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
