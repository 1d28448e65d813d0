package testkit

import (
	"runtime"
	"testing"
	"time"
)

func parked(release <-chan struct{}) { <-release }

// waitRunning waits up to 5 s for want goroutines to be inside name.
func waitRunning(t *testing.T, name string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(Running(name)) != want {
		if time.Now().After(deadline) {
			t.Fatalf("Running(%s) = %d goroutines, want %d", name, len(Running(name)), want)
		}
		runtime.Gosched()
	}
}

func TestRunningFindsAGoroutineUntilItEnds(t *testing.T) {
	const name = "github.com/streamforge/streamforge/libs/testkit.parked"
	release := make(chan struct{})
	go parked(release)
	waitRunning(t, name, 1)
	if got := Running("github.com/streamforge/streamforge/libs/testkit.absent"); len(got) != 0 {
		t.Errorf("Running of an absent function = %d goroutines, want 0", len(got))
	}
	close(release)
	waitRunning(t, name, 0)
}
