package testkit

import (
	"runtime"
	"strings"
	"testing"
)

// Running returns the stacks of the goroutines, other than the caller's,
// that are inside any of funcs: fully qualified function names or prefixes
// of them, as runtime.Stack prints them (e.g.
// "github.com/streamforge/streamforge/libs/telemetry.(*Emitter).RunHeartbeats").
func Running(funcs ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller's own goroutine comes first
		}
		for _, line := range strings.Split(g, "\n") {
			if matchesFunc(line, funcs) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

func matchesFunc(line string, funcs []string) bool {
	if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "created by ") {
		return false // file:line, or where the goroutine was started
	}
	for _, f := range funcs {
		if strings.HasPrefix(line, f) {
			return true
		}
	}
	return false
}

// NoneRunning fails the test when a goroutine, other than the caller's, is
// inside any of funcs. Call it right after the code that owns those
// goroutines returned: an owner waits for them, so no grace period is given.
func NoneRunning(t testing.TB, funcs ...string) {
	t.Helper()
	if left := Running(funcs...); len(left) > 0 {
		t.Errorf("%d goroutine(s) still running after their owner returned:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}
