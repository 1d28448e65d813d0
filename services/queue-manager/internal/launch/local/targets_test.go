package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/local"
)

// TestTargetsNameEachChildsMetricsAddress: each child gets an HTTP_ADDR of
// its own, Targets lists it with the step's labels while the child runs,
// and forgets it once it is stopped.
func TestTargetsNameEachChildsMetricsAddress(t *testing.T) {
	bins, out := t.TempDir(), t.TempDir()
	script := "#!/bin/sh\necho \"$HTTP_ADDR\" > \"" + out + "/$RUN\"\nexec sleep 30\n"
	if err := os.WriteFile(filepath.Join(bins, "loader-producer"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l := local.New(local.Options{BinDir: bins, Grace: time.Second})
	defer l.Close()
	ctx := context.Background()
	for _, run := range []string{"q1.load.1", "q2.load.1"} {
		q, _, _ := strings.Cut(run, ".")
		spec := launch.Spec{ID: run, Service: "loader-producer", Env: map[string]string{"RUN": run},
			Labels: map[string]string{"queue_id": q, "step": "load", "attempt": "1", "workflow": "wf-1"}}
		if err := l.Launch(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	addrOf := func(run string) string {
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, err := os.ReadFile(filepath.Join(out, run))
			if err == nil && strings.HasSuffix(string(b), "\n") {
				return strings.TrimSpace(string(b))
			}
			if time.Now().After(deadline) {
				t.Fatalf("child %s never wrote its HTTP_ADDR", run)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a1, a2 := addrOf("q1.load.1"), addrOf("q2.load.1")
	if a1 == a2 || strings.HasSuffix(a1, ":0") || !strings.HasPrefix(a1, "127.0.0.1:") {
		t.Fatalf("children's HTTP_ADDR %q and %q: want two distinct fixed loopback ports", a1, a2)
	}
	want := map[string]launch.Target{
		a1: {Addr: a1, Labels: map[string]string{"worker": "loader-producer", "workflow": "wf-1", "queue_id": "q1", "step": "load", "run": "q1.load.1"}},
		a2: {Addr: a2, Labels: map[string]string{"worker": "loader-producer", "workflow": "wf-1", "queue_id": "q2", "step": "load", "run": "q2.load.1"}},
	}
	got := map[string]launch.Target{}
	for _, tg := range l.Targets(ctx) {
		got[tg.Addr] = tg
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Targets (-want +got):\n%s", d)
	}
	if err := l.Stop(ctx, "q1.load.1"); err != nil {
		t.Fatal(err)
	}
	if got := l.Targets(ctx); len(got) != 1 || got[0].Addr != a2 {
		t.Errorf("after stopping q1: Targets %+v, want only %s", got, a2)
	}
}
