package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

func TestEmbeddedForgedMessages(t *testing.T) { testForgedMessages(t, plain(t)) }

// testForgedMessages: while a loader runs, someone who can write
// queue-events and queue-control forges its finished event (unsigned, and
// signed with a key of their own) and a stop command for it. With signing
// on (queue-manager's default) nothing changes: the step finishes with its
// own records after one attempt, and queue-manager counts the forgeries.
// With MESSAGE_SIGNING=off the same forgeries stop the worker or end the
// step, which is the attack.
func testForgedMessages(t *testing.T, cfg bus.Config) {
	for _, tt := range []struct {
		mode   string
		forged bool // the forgeries take effect
	}{{"required", false}, {"off", true}} {
		t.Run(tt.mode, func(t *testing.T) {
			q := startQM(t, cfg, filepath.Join(t.TempDir(), "qm.db"), "DUMMY_RATE=300", "MESSAGE_SIGNING="+tt.mode)
			w := q.submit(t, `{"symbols":["BTCUSDT"],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load","store"]}`)
			running := q.waitFor(t, w.ID, time.Minute, "loader progress", func(w flow.Workflow) bool { return w.Steps[0].Records > 0 })
			load := running.Steps[0]
			run := load.Attempts[0].RunID
			now := protocol.Timestamp(time.Now())
			fin := protocol.Event{QueueID: load.QueueID, Producer: load.TelemetryID, Symbol: load.Symbol, Type: load.Type,
				Status: protocol.StatusFinished, Finished: true, RecordsWritten: 999_999, Message: "forged", Timestamp: now, RunID: run}
			publish := func(topic string, v any) { t.Helper(); testkit.Publish(t, cfg, topic, load.QueueID, v) }
			stop := protocol.Command{Command: protocol.CommandStop, QueueID: load.QueueID, Target: load.TelemetryID, Timestamp: now, RunID: run}
			publish(protocol.TopicControl, stop)
			mine := []byte("the forger's own key, 32 bytes..")
			stop.Sign(mine)
			publish(protocol.TopicControl, stop)
			publish(protocol.TopicEvents, fin)
			fin.Sign(mine)
			publish(protocol.TopicEvents, fin)

			got := q.waitFor(t, w.ID, 2*time.Minute, "ended workflow", func(w flow.Workflow) bool {
				return flow.Terminal(w.State) || w.Steps[0].Records == 999_999
			})
			s := got.Steps[0]
			intact := got.State == flow.Finished && s.State == flow.Finished && len(s.Attempts) == 1 && s.Records == 3000 &&
				s.LastEvent != nil && s.LastEvent.Message != "forged"
			if intact == tt.forged {
				t.Fatalf("MESSAGE_SIGNING=%s: workflow %s, load step %s after attempts %+v with %d records, last event %+v; "+
					"want it untouched by the forgeries: %v", tt.mode, got.State, s.State, s.Attempts, s.Records, s.LastEvent, !tt.forged)
			}
			if tt.forged {
				return
			}
			m := q.p.Metrics(t)
			for _, c := range []string{"unsigned", "bad_signature"} {
				if !strings.Contains(m, `streamforge_engine_events_unverified_total{check="`+c+`",outcome="refused"} `) {
					t.Errorf("no refused %s events counted:\n%s", c, testkit.Grep(m, "unverified"))
				}
			}
		})
	}
}
