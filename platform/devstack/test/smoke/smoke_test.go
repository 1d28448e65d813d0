// Package smoke builds every service binary, each from its own module, and
// checks the common runtime in each: --help lists the environment, missing
// configuration exits 2 with one line naming the variable, and
// docs/configuration.md is what their --help says. Health, metrics and
// signals are covered by each service's end-to-end tests.
package smoke

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// services are the services with a module (and image) of their own, as
// the services table lists them.
var services = protocol.ServiceNames(protocol.HasModule)

// binDir holds every service, each built from its own module directory, so
// the test works with the workspace and without it (GOWORK=off).
var binDir string

func TestMain(m *testing.M) {
	var cmds []testkit.Cmd
	for _, s := range services {
		cmds = append(cmds, testkit.Cmd{ModuleDir: filepath.Join("..", "..", "..", "..", "services", s), Pkg: "./cmd/" + s})
	}
	os.Exit(testkit.Main(m, &binDir, cmds...))
}

func TestEveryServiceRuntime(t *testing.T) {
	for _, s := range services {
		t.Run(s, func(t *testing.T) {
			exe := filepath.Join(binDir, s)
			out, err := exec.Command(exe, "--help").Output()
			if err != nil {
				t.Fatalf("--help: %v", err)
			}
			for _, want := range []string{"HTTP_ADDR", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("--help does not list %s", want)
				}
			}
			// Every service needs Kafka to start; their lives (health,
			// metrics, signals) are covered by each service's test/e2e.
			checkMissingConfig(t, exe, "KAFKA_BOOTSTRAP_SERVERS")
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
