// Package e2e drives the dummy-service and debug-producer binaries as a
// person would, over a Kafka broker: the embedded one in the unit tier
// (embedded_test.go), real Apache Kafka 4.x in the integration tier
// (real_test.go, -tags integration).
package e2e

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
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dummy-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, name := range []string{"dummy-service", "debug-producer"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// kafkaEnv turns client settings into the environment the binaries read.
func kafkaEnv(cfg bus.Config) []string {
	env := []string{
		"KAFKA_BOOTSTRAP_SERVERS=" + cfg.BootstrapServers,
		"KAFKA_SECURITY_PROTOCOL=" + cfg.SecurityProtocol,
	}
	if cfg.Username != "" {
		env = append(env, "KAFKA_SASL_MECHANISM="+cfg.SASLMechanism, "KAFKA_USERNAME="+cfg.Username, "KAFKA_PASSWORD="+cfg.Password)
	}
	return env
}

func newQueueID(t *testing.T) string {
	t.Helper()
	suffix, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	q, err := protocol.NewQueueID("BTCUSDT", "dummy", time.Now(), suffix)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// serviceTopics creates the two service topics.
func serviceTopics(t *testing.T, cfg bus.Config) {
	t.Helper()
	bustest.Topics(t, cfg, 3, protocol.TopicControl, protocol.TopicEvents)
}

// events collects one task's queue-events messages in the background.
type events struct {
	mu   sync.Mutex
	list []protocol.Event
	more chan struct{}
}

func watchEvents(t *testing.T, cfg bus.Config, queueID string) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tail, err := bus.NewTail(ctx, cfg, protocol.TopicEvents, time.Now().Add(-time.Second), nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	e := &events{more: make(chan struct{}, 1)}
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

// waitFor returns the first event with status, failing the test after timeout.
func (e *events) waitFor(t *testing.T, status protocol.Status, timeout time.Duration) protocol.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		for _, ev := range e.list {
			if ev.Status == status {
				e.mu.Unlock()
				return ev
			}
		}
		seen := len(e.list)
		e.mu.Unlock()
		select {
		case <-e.more:
		case <-deadline:
			t.Fatalf("no %s event within %s (saw %d events of this task)", status, timeout, seen)
		}
	}
}

func (e *events) all() []protocol.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]protocol.Event(nil), e.list...)
}

// proc is a running dummy-service.
type proc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startDummy(t *testing.T, cfg bus.Config, queueID string, extraEnv []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "dummy-service"), args...)
	cmd.Env = append(os.Environ(), kafkaEnv(cfg)...)
	cmd.Env = append(cmd.Env, "QUEUE_ID="+queueID, "HTTP_ADDR=127.0.0.1:0", "HEARTBEAT_INTERVAL=1s", "LOG_LEVEL=debug")
	cmd.Env = append(cmd.Env, extraEnv...)
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("dummy-service stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// wait returns the exit code, failing the test if the process runs past timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("dummy-service still running after %s", timeout)
		return -1
	}
}

// httpAddr finds the listener address in the service's JSON log.
func (p *proc) httpAddr(t *testing.T) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		var line struct {
			Message string `json:"message"`
			Addr    string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "http listening" {
			return line.Addr
		}
	}
	t.Fatal("dummy-service did not log its HTTP address")
	return ""
}

func (p *proc) metrics(t *testing.T) string {
	t.Helper()
	res, err := http.Get("http://" + p.httpAddr(t) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// debugProducer runs the CLI and returns its exit code, stdout and stderr.
func debugProducer(t *testing.T, cfg bus.Config, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "debug-producer"), args...)
	cmd.Env = append(os.Environ(), kafkaEnv(cfg)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// pongLatency parses "pong from X for Q in 12ms".
func pongLatency(t *testing.T, out string) time.Duration {
	t.Helper()
	i := strings.LastIndex(out, " in ")
	if i < 0 {
		t.Fatalf("no latency in %q", out)
	}
	d, err := time.ParseDuration(strings.TrimSpace(out[i+4:]))
	if err != nil {
		t.Fatalf("latency in %q: %v", out, err)
	}
	return d
}
