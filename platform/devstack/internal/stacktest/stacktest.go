// Package stacktest is what the local stack's end-to-end tests share: the
// service binaries stack.Up needs, built once per test binary, and a free
// port for queue-manager.
package stacktest

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// Services are the binaries stack.Up checks for.
var Services = stack.Binaries()

// Main builds Services and devstack itself into a temporary directory, sets
// *binDir to it and runs the tests (for TestMain: os.Exit(stacktest.Main(m, &binDir))). The
// test package must sit two levels under platform/devstack (test/<name>).
func Main(m *testing.M, binDir *string) int {
	root := filepath.Join("..", "..", "..", "..", "services")
	cmds := make([]testkit.Cmd, 0, len(Services))
	for _, s := range Services {
		cmds = append(cmds, testkit.Cmd{ModuleDir: filepath.Join(root, s), Pkg: "./cmd/" + s})
	}
	cmds = append(cmds, testkit.Cmd{ModuleDir: filepath.Join("..", ".."), Pkg: "./cmd/devstack"})
	return testkit.Main(m, binDir, cmds...)
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
