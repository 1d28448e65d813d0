//go:build integration

package e2e

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// BenchmarkRelaunch kills a running worker (SIGKILL) and measures, from the
// kill: when queue-manager recorded the attempt as failed (detect-ms) and
// when it launched the next one (relaunch-ms, which includes the first
// retry delay, STEP_RETRY_BASE at its default of 2 s). ns/op is a whole
// round (start, workflow, kill, relaunch) and says little.
func BenchmarkRelaunch(b *testing.B) {
	cfg := bustest.Real(b, false)
	var detect, relaunch time.Duration
	for b.Loop() {
		q := startQM(b, cfg, filepath.Join(b.TempDir(), "qm.db"), "STEP_RETRY_BASE=2s", "DUMMY_RATE=200")
		w := q.submit(b, `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`)
		q.waitFor(b, w.ID, time.Minute, "progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
		pid := workerPID(b, w.Steps[0].TelemetryID, w.Steps[0].QueueID)
		killed := time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		got := q.waitFor(b, w.ID, time.Minute, "relaunch", func(w flow.Workflow) bool { return len(w.Steps[0].Attempts) == 2 })
		detect += got.Steps[0].Attempts[0].Ended.Sub(killed)
		relaunch += got.Steps[0].Attempts[1].Started.Sub(killed)
	}
	b.ReportMetric(float64(detect.Microseconds())/1000/float64(b.N), "detect-ms")
	b.ReportMetric(float64(relaunch.Microseconds())/1000/float64(b.N), "relaunch-ms")
}
