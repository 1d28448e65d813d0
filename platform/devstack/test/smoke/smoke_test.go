// Package smoke builds every service binary and checks the common runtime in
// each: --help lists the environment, a start serves /healthz and /metrics,
// SIGTERM exits 0, and missing configuration exits 2 naming the variable.
package smoke

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var services = []string{
	"queue-manager", "loader-producer", "loader-api-candles", "loader-api-trades", "loader-ws-orderbook",
	"arango-connector", "graph-builder", "gnn-trainer", "dummy-service",
}

// build compiles every service from its own module directory, so the test
// works with the workspace and without it (GOWORK=off).
// workers are the services that already do their work: they need Kafka
// settings to start. The others carry the runtime only so far.
var workers = map[string]bool{
	"dummy-service": true, "arango-connector": true,
	"loader-producer": true, "loader-api-candles": true, "loader-api-trades": true, "loader-ws-orderbook": true,
	"queue-manager": true,
}

func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join("..", "..", "..", "..")
	for _, s := range services {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, s), "./cmd/"+s)
		cmd.Dir = filepath.Join(root, "services", s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", s, err, out)
		}
	}
	return dir
}

func TestEveryServiceRuntime(t *testing.T) {
	bin := build(t)
	for _, s := range services {
		t.Run(s, func(t *testing.T) {
			exe := filepath.Join(bin, s)
			out, err := exec.Command(exe, "--help").Output()
			if err != nil {
				t.Fatalf("--help: %v", err)
			}
			for _, want := range []string{"HTTP_ADDR", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("--help does not list %s", want)
				}
			}
			if workers[s] {
				checkMissingConfig(t, exe, "KAFKA_BOOTSTRAP_SERVERS")
				return // their lives are covered by each service's test/e2e
			}
			checkLife(t, exe, s)
		})
	}
}

func checkMissingConfig(t *testing.T, exe, variable string) {
	cmd := exec.Command(exe)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("without %s: %v, want exit 2", variable, err)
	}
	if line := strings.TrimSpace(stderr.String()); strings.Contains(line, "\n") || !strings.Contains(line, variable) {
		t.Errorf("stderr %q: want one line naming %s", line, variable)
	}
}

func checkLife(t *testing.T, exe, name string) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "HTTP_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	addr := ""
	sc := bufio.NewScanner(stderr)
	for addr == "" && sc.Scan() {
		var line struct{ Message, Addr, Service string }
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if line.Service != name {
			t.Errorf("log line names service %q, want %q", line.Service, name)
		}
		if line.Message == "http listening" {
			addr = line.Addr
		}
	}
	if addr == "" {
		t.Fatal("never logged its HTTP address")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s = %d", path, res.StatusCode)
		}
		if path == "/metrics" && !bytes.Contains(body, []byte(`streamforge_build_info{service="`+name+`"`)) {
			t.Errorf("/metrics lacks streamforge_build_info for %s", name)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
}
