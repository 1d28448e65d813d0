//go:build integration

package chaos

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the driver the store uses, to hold its lock from outside

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
)

// storeLocked holds the store's write lock (BEGIN EXCLUSIVE, from this
// process: the connector and queue-manager are others) for 60 s while the
// connector stores. Nothing may be lost, and the workflow queue-manager
// persisted must be the one its engine showed: after the workflow ended,
// queue-manager is restarted (it then reads the workflow from the store)
// and the two are compared.
func storeLocked(t *testing.T, c *bustest.Cluster) *figures {
	r := newRun(t, c, "9: the store locked for 60 s (BEGIN EXCLUSIVE held by another process) mid-store", paced...)
	r.pace(20 * time.Millisecond)
	r.submit()
	r.waitFor(2*time.Minute, "connector progress", func(w *scenario.Workflow) bool {
		return r.step(w, protocol.StepStore).Records > 0
	})
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+r.s.StorePath+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("lock the store: %v", err)
	}
	t.Log("store locked")
	// queue-manager holds its leader lease in the store: when the lease
	// cannot be renewed it steps down and exits 1, for its Deployment to
	// start it again. The experiment supervises it the same way.
	restarts := 0
	supervise := func() {
		if r.s.QueueManagerRunning() {
			return
		}
		restarts++
		t.Logf("queue-manager exited (restart %d, as its Deployment would)", restarts)
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := r.s.StartQueueManager(sctx); err != nil {
			t.Logf("start queue-manager: %v", err)
		}
	}
	for until := time.Now().Add(60 * time.Second); time.Now().Before(until); time.Sleep(500 * time.Millisecond) {
		supervise()
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatalf("unlock the store: %v", err)
	}
	_ = conn.Close()
	supervise()
	r.f.faultEndedAt = time.Now()
	r.f.Name += fmt.Sprintf(" (queue-manager restarted %d times)", restarts)
	f := r.finish(runLimit)

	engine := r.snapshot()
	if err := r.s.KillQueueManager(); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := r.s.StartQueueManager(sctx); err != nil {
		t.Fatal(err)
	}
	if persisted := r.snapshot(); persisted != engine {
		t.Errorf("persisted workflow differs from the engine's:\nengine:    %s\npersisted: %s", engine, persisted)
	}
	return f
}

// snapshot is what a workflow's persisted state must keep: its state and
// each step's state, records and attempts.
func (r *run) snapshot() string {
	r.t.Helper()
	w, err := r.client.Get(context.Background(), r.w.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	type step struct {
		ID, State string
		Records   int64
		Attempts  int
	}
	out := struct {
		State string
		Steps []step
	}{State: w.State}
	for _, s := range w.Steps {
		out.Steps = append(out.Steps, step{ID: s.ID, State: s.State, Records: s.Records, Attempts: len(s.Attempts)})
	}
	b, err := json.Marshal(out)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}
