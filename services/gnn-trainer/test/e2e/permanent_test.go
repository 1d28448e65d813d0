package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// failedStep runs one worker that must fail and returns its error event.
func (r *rig) failedStep(t *testing.T, binary, queueID string, env ...string) protocol.Event {
	t.Helper()
	ev := testkit.WatchEvents(t, r.kafka, queueID)
	p := testkit.Start(t, filepath.Join(binDir, binary), append(append([]string{"QUEUE_ID=" + queueID}, r.env...), env...))
	if code := p.Wait(t, 5*time.Minute); code == 0 {
		t.Fatalf("%s exited 0, want a failure", binary)
	}
	return ev.WaitFor(t, protocol.StatusError, 10*time.Second)
}

// TestEmbeddedBadInputIsPermanent: what no retry can fix — an input
// collection that does not exist, too few candles for a graph, a graph that
// does not exist — ends graph-builder and gnn-trainer in an error event
// marked permanent, with a reason that names the problem, so queue-manager
// fails the step at once instead of relaunching it.
func TestEmbeddedBadInputIsPermanent(t *testing.T) {
	r := newRig(t, plain(t), localObjects(t))
	path := filepath.Join(testkit.Fixtures(t, "spot-klines-5m"), "BTCUSDT-5m-2024-08.csv")
	few := "btcusdt_api_candles_5m_2024_08_01"
	r.putCandles(t, few, testkit.FixtureCandles(t, path, "BTCUSDT", "5m")[:10])
	graphStep := func(t *testing.T, inputs string) protocol.Event {
		gq := testkit.QueueID(t, "BTCUSDT", "graph")
		parsed, _ := protocol.ParseQueueID(gq)
		return r.failedStep(t, "graph-builder", gq, "SYMBOL=BTCUSDT", "TYPE=graph",
			"COLLECTION_NAME="+protocol.CollectionName("btcusdt", "graph", parsed.Day), "INPUT_COLLECTIONS="+inputs)
	}
	tests := []struct {
		name string
		run  func(t *testing.T) protocol.Event
		want []string // in the error
	}{
		{"graph: input collection missing", func(t *testing.T) protocol.Event {
			return graphStep(t, "btcusdt_api_candles_5m_2024_07_01")
		}, []string{"INPUT_COLLECTIONS", "btcusdt_api_candles_5m_2024_07_01", "not found"}},
		{"graph: too few candles", func(t *testing.T) protocol.Event { return graphStep(t, few) }, []string{"10 candles, too few"}},
		{"train: graph missing", func(t *testing.T) protocol.Event {
			tq := testkit.QueueID(t, "BTCUSDT", "train")
			return r.failedStep(t, "gnn-trainer", tq, "SYMBOL=BTCUSDT", "TYPE=train", "GRAPH_NAME=btcusdt_graph_2024_08_01_abcdef")
		}, []string{"btcusdt_graph_2024_08_01_abcdef", "no record in graphs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.run(t)
			if !e.Finished || !e.Permanent {
				t.Errorf("error event finished %v permanent %v, want both: a retry cannot fix %q", e.Finished, e.Permanent, e.Error)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Error, w) {
					t.Errorf("error %q does not say %q", e.Error, w)
				}
			}
		})
	}
}
