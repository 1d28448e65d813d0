// Package e2e drives the dummy-service and debug-producer binaries as a
// person would, over a Kafka broker: the embedded one in the unit tier
// (embedded_test.go), real Apache Kafka 4.x in the integration tier
// (real_test.go, -tags integration).
package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

var binDir string

func TestMain(m *testing.M) {
	here := filepath.Join("..", "..")
	os.Exit(testkit.Main(m, &binDir, testkit.Cmd{ModuleDir: here, Pkg: "./cmd/dummy-service"},
		testkit.Cmd{ModuleDir: here, Pkg: "./cmd/debug-producer"}))
}

func newQueueID(t *testing.T) string { return testkit.QueueID(t, "BTCUSDT", "dummy") }

// serviceTopics creates the two service topics.
func serviceTopics(t *testing.T, cfg bus.Config) {
	t.Helper()
	bustest.Topics(t, cfg, 3, protocol.TopicControl, protocol.TopicEvents)
}

func startDummy(t *testing.T, cfg bus.Config, queueID string, extraEnv []string, args ...string) *testkit.Proc {
	t.Helper()
	env := append(testkit.KafkaEnv(cfg), "QUEUE_ID="+queueID, "HTTP_ADDR=127.0.0.1:0", "HEARTBEAT_INTERVAL=1s", "LOG_LEVEL=debug")
	return testkit.Start(t, filepath.Join(binDir, "dummy-service"), append(env, extraEnv...), args...)
}

// debugProducer runs the CLI and returns its exit code, stdout and stderr.
func debugProducer(t *testing.T, cfg bus.Config, args ...string) (int, string, string) {
	t.Helper()
	return debugProducerEnv(t, cfg, nil, args...)
}

// debugProducerEnv runs debug-producer with env added to its environment.
func debugProducerEnv(t *testing.T, cfg bus.Config, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "debug-producer"), args...)
	cmd.Env = append(append(os.Environ(), testkit.KafkaEnv(cfg)...), env...)
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
