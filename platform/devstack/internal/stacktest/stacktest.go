// Package stacktest is what the local stack's end-to-end tests share: the
// service binaries stack.Up needs, built once per test binary, and a free
// port for queue-manager.
package stacktest

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
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

// CheckStored fails t unless the summary's stored collections are the
// BTCUSDT 5-minute candles and trades of timeRange, each
// holding exactly as many documents as the simulator's s.Market() has. It
// returns the simulator's number of candles.
func CheckStored(t *testing.T, s *stack.Stack, sum *scenario.Summary, timeRange string) (candles int) {
	t.Helper()
	r, err := protocol.ParseTimeRange(timeRange)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Market().Candles("BTCUSDT", "5m", r.Start, r.End.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	trades, err := s.Market().AggTrades("BTCUSDT", r.Start, r.End.Add(-time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Stored) != 2 {
		t.Errorf("stored collections %v, want candles and trades", sum.Stored)
	}
	for coll, n := range sum.Stored {
		want := int64(len(trades))
		if strings.Contains(coll, "candles") {
			want = int64(len(k))
		}
		if n != want {
			t.Errorf("%s holds %d documents, the simulator has %d", coll, n, want)
		}
	}
	return len(k)
}

// Up starts the stack o describes for t, failing t when it does not start.
// When t ends the stack is closed, after the last 6 KiB of its log are
// logged if t failed.
func Up(t *testing.T, ctx context.Context, o stack.Options) *stack.Stack {
	t.Helper()
	s, err := stack.Up(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack log (last 6 KiB):\n%s", s.LogTail(6<<10))
		}
		s.Close()
	})
	return s
}
