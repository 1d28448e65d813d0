package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

// syncBuffer collects a terminal's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var submittedRE = regexp.MustCompile(`submitted (wf-[a-z0-9-]+)`)

// TestCtrlCInTerminal runs `devstack stream` and `devstack demo` on a
// pseudo-terminal, as a person does, and presses Ctrl-C once the loaders
// run: the terminal sends SIGINT to its whole foreground process group, so
// every server and worker devstack started must be out of that group for
// devstack to complete the stop through the API. After a restart on the
// same data directory the workflow is stopped.
func TestCtrlCInTerminal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		exit0 bool // a stream's end is a stop; a demo's is a finished model
	}{
		{"stream", []string{"stream"}, true},
		{"demo", []string{"demo", "--trade-rate", "0.5", "--time-range", "2026-09-01:2026-11-01"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) { testCtrlC(t, tc.args, tc.exit0) })
	}
}

func testCtrlC(t *testing.T, args []string, exit0 bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	data := t.TempDir()
	args = append(args, "--bin-dir", binDir, "--data-dir", data, "--api-addr", stacktest.FreeAddr(t), "--kafka-port", "0",
		"--exchange-addr", "127.0.0.1:0")
	cmd := exec.Command(filepath.Join(binDir, "devstack"), args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out syncBuffer
	copied := make(chan struct{})
	go func() { defer close(copied); _, _ = io.Copy(&out, tty) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		t.Logf("devstack %s on a terminal:\n%s", args[0], out.String())
	}()

	// Wait until the loaders run, then press Ctrl-C.
	var id string
	for id == "" || !loadsRunning(ctx, apiOf(t, out.String()), id) {
		select {
		case err := <-exited:
			t.Fatalf("devstack exited before Ctrl-C: %v", err)
		case <-ctx.Done():
			t.Fatal("the workflow never ran its loaders")
		case <-time.After(250 * time.Millisecond):
		}
		if m := submittedRE.FindStringSubmatch(out.String()); m != nil {
			id = m[1]
		}
	}
	intr := []byte{3} // the terminal's intr character (^C, the default)
	if _, err := tty.Write(intr); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if exit0 && err != nil {
			t.Errorf("devstack %s after Ctrl-C: %v, want exit 0", args[0], err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("devstack still running 2 minutes after Ctrl-C")
	}
	<-copied

	// The stack again, on the same data directory: the workflow is stopped.
	s, err := stack.Up(ctx, stack.Options{BinDir: binDir, DataDir: data, APIAddr: stacktest.FreeAddr(t), KafkaPort: 0,
		ExchangeAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := (&scenario.Client{API: s.API}).Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := scenario.CheckStopped(w); err != nil {
		t.Errorf("after Ctrl-C and a restart: %v", err)
	}
	// stack.log is one JSON object per line, whatever a process printed.
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if !json.Valid(line) || line[0] != '{' {
			t.Errorf("stack.log line %d is not a JSON object: %s", i+1, line)
		}
	}
}

var apiRE = regexp.MustCompile(`queue-manager (http://[0-9.:]+)`)

// apiOf finds queue-manager's URL in devstack's banner.
func apiOf(t *testing.T, out string) *scenario.Client {
	t.Helper()
	m := apiRE.FindStringSubmatch(out)
	if m == nil {
		return nil
	}
	return &scenario.Client{API: m[1]}
}

// loadsRunning reports whether every load step of workflow id is running.
func loadsRunning(ctx context.Context, c *scenario.Client, id string) bool {
	if c == nil || id == "" {
		return false
	}
	w, err := c.Get(ctx, id)
	if err != nil {
		return false
	}
	n := 0
	for _, s := range w.Steps {
		if s.Kind == "load" {
			if s.State != "running" {
				return false
			}
			n++
		}
	}
	return n > 0
}
