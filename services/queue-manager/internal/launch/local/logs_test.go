package local_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/local"
)

// TestEachRunKeepsItsOutput: a run's stdout and stderr are kept in a file
// of its own, read whole or followed until the run ends; another run of the
// same step has its own.
func TestEachRunKeepsItsOutput(t *testing.T) {
	bins := t.TempDir()
	script := "#!/bin/sh\necho \"out $RUN_ID\"\nsleep 0.3\necho \"err $RUN_ID\" >&2\n"
	if err := os.WriteFile(filepath.Join(bins, "worker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l := local.New(local.Options{BinDir: bins, LogDir: filepath.Join(t.TempDir(), "steps")})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, run := range []string{"s.load.1", "s.load.2"} {
		if err := l.Launch(ctx, launch.Spec{ID: run, Service: "worker", Env: map[string]string{"RUN_ID": run}}); err != nil {
			t.Fatal(err)
		}
		// Followed from the start: the reader ends once the run has.
		rc, err := l.Logs(ctx, run, true)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if want := "out " + run + "\nerr " + run + "\n"; err != nil || string(b) != want {
			t.Errorf("followed log of %s: %q (%v), want %q", run, b, err, want)
		}
	}
	rc, err := l.Logs(ctx, "s.load.1", false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	_ = rc.Close()
	if string(b) != "out s.load.1\nerr s.load.1\n" {
		t.Errorf("log of the first run read again: %q", b)
	}
	for _, run := range []string{"s.load.3", "../etc/passwd"} {
		if _, err := l.Logs(ctx, run, false); !errors.Is(err, launch.ErrNoLogs) {
			t.Errorf("logs of %s: %v, want ErrNoLogs", run, err)
		}
	}
}

// TestConfigurationRefusedIsPermanent: a child that exits 2 (a worker
// refusing its configuration) is reported failed, permanent, with its last
// line of output.
func TestConfigurationRefusedIsPermanent(t *testing.T) {
	bins := t.TempDir()
	script := "#!/bin/sh\necho 'starting' >&2\necho 'worker: configuration: GNN_EPOCHS: not a number' >&2\nexit 2\n"
	if err := os.WriteFile(filepath.Join(bins, "worker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l := local.New(local.Options{BinDir: bins})
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
	if err := l.Launch(ctx, launch.Spec{ID: "s.train.1", Service: "worker"}); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-ended:
		if st.Phase != launch.Failed || !st.Permanent || !strings.HasSuffix(st.Message, "GNN_EPOCHS: not a number") {
			t.Errorf("ended %+v, want failed, permanent, with the last line", st)
		}
	case <-ctx.Done():
		t.Fatal("the run did not end")
	}
}
