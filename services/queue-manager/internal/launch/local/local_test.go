package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/local"
)

// TestRunPastItsDeadlineFails: a child still running at its deadline is
// stopped and reported failed with a reason naming the deadline, even when
// it exits 0 on SIGTERM as a stopped worker does; one that ends in time is
// not touched.
func TestRunPastItsDeadlineFails(t *testing.T) {
	bins := t.TempDir()
	for name, script := range map[string]string{
		"sleeper":  "exec sleep 30",
		"graceful": "trap 'exit 0' TERM; while :; do sleep 0.05; done",
		"quick":    "exit 0",
	} {
		if err := os.WriteFile(filepath.Join(bins, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		service   string
		wantPhase launch.Phase
		wantMsg   string
	}{
		{"sleeper", launch.Failed, "DeadlineExceeded"},
		{"graceful", launch.Failed, "DeadlineExceeded"},
		{"quick", launch.Succeeded, "exit code 0"},
	} {
		t.Run(tt.service, func(t *testing.T) {
			l := local.New(local.Options{BinDir: bins, Grace: 5 * time.Second})
			defer l.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ended := make(chan launch.Status, 1)
			go func() {
				_ = l.Watch(ctx, func(st launch.Status) {
					if st.Phase.Terminal() {
						ended <- st
					}
				})
			}()
			begin := time.Now()
			if err := l.Launch(ctx, launch.Spec{ID: tt.service + ".1", Service: tt.service, Deadline: 500 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			select {
			case st := <-ended:
				if st.Phase != tt.wantPhase || !strings.Contains(st.Message, tt.wantMsg) {
					t.Errorf("ended %s %q, want %s with %q", st.Phase, st.Message, tt.wantPhase, tt.wantMsg)
				}
				if took := time.Since(begin); tt.wantPhase == launch.Failed && took > 5*time.Second {
					t.Errorf("stopped %s after launch, want soon after the 500ms deadline", took)
				}
			case <-ctx.Done():
				t.Fatal("the run did not end")
			}
		})
	}
}
