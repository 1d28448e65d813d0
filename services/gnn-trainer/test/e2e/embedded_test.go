package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// The unit tier: the embedded broker and the local artifact directory.

func plain(t *testing.T) bus.Config { return bustest.Embedded(t, embedded.Options{}) }

func TestEmbeddedBTCUSDTMonth(t *testing.T) {
	testBTCUSDTMonth(t, newRig(t, plain(t), localObjects(t)))
}

func TestEmbeddedSixAssets(t *testing.T) { testSixAssets(t, newRig(t, plain(t), localObjects(t))) }

func TestEmbeddedStopSavesCheckpoint(t *testing.T) { testStop(t, newRig(t, plain(t), localObjects(t))) }

// testBTCUSDTMonth is Scenario 1's analytical half on real data: a month of
// BTCUSDT 5m candles (August 2024), its visibility graph, a GCN on it.
func testBTCUSDTMonth(t *testing.T, r *rig) {
	path := filepath.Join(testkit.Fixtures(t, "spot-klines-5m"), "BTCUSDT-5m-2024-08.csv")
	coll := "btcusdt_api_candles_5m_2024_08_01"
	r.putCandles(t, coll, testkit.FixtureCandles(t, path, "BTCUSDT", "5m"))
	gr, tr, q := r.pipeline(t, []string{"BTCUSDT"}, []string{coll}, "GNN_EPOCHS=60")
	if gr.Kind != "visibility" || gr.Nodes < 8900 || gr.Degree.Mean < 4 {
		t.Fatalf("graph %+v: want the visibility graph of ~8,916 candles", gr)
	}
	r.checkArtifacts(t, q, gr)
	r.predict(t, q, gr)
	t.Logf("BTCUSDT 2024-08: %d nodes, %d edges; %s; split %+v", gr.Nodes, gr.Edges, tr.Verdict, tr.Split)
}

// testSixAssets: six assets' correlation snapshots (Mantegna MST), GraphSAGE.
func testSixAssets(t *testing.T, r *rig) {
	dir := testkit.Fixtures(t, "multi-asset-5m")
	syms := []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"}
	var inputs []string
	for _, s := range syms {
		coll := strings.ToLower(s) + "_api_candles_5m_2021_01_01"
		r.putCandles(t, coll, testkit.FixtureCandles(t, filepath.Join(dir, s+"-5m.json"), s, "5m"))
		inputs = append(inputs, coll)
	}
	gr, tr, q := r.pipeline(t, syms, inputs, "GNN_MODEL=sage", "GNN_EPOCHS=40")
	if gr.Kind != "correlation" || gr.Nodes%len(syms) != 0 {
		t.Fatalf("graph %+v: want correlation snapshots of six symbols", gr)
	}
	r.checkArtifacts(t, q, gr)
	t.Logf("six assets: %d nodes, %d edges; %s; split %+v", gr.Nodes, gr.Edges, tr.Verdict, tr.Split)
}

// testStop: a stop command during training saves a checkpoint and ends with
// interrupted, exit 0.
func testStop(t *testing.T, r *rig) {
	path := filepath.Join(testkit.Fixtures(t, "spot-klines-5m"), "BTCUSDT-5m-2024-08.csv")
	coll := "btcusdt_api_candles_5m_2024_08_01"
	r.putCandles(t, coll, testkit.FixtureCandles(t, path, "BTCUSDT", "5m"))
	gq := testkit.QueueID(t, "BTCUSDT", "graph")
	parsed, _ := protocol.ParseQueueID(gq)
	graph := protocol.CollectionName("btcusdt", "graph", parsed.Day)
	r.step(t, "graph-builder", gq, "SYMBOL=BTCUSDT", "TYPE=graph", "COLLECTION_NAME="+graph, "INPUT_COLLECTIONS="+coll)

	tq := strings.Replace(gq, "-graph-", "-train-", 1)
	ev := testkit.WatchEvents(t, r.kafka, tq)
	p := testkit.Start(t, filepath.Join(binDir, "gnn-trainer"), append([]string{"QUEUE_ID=" + tq, "SYMBOL=BTCUSDT", "TYPE=train",
		"GRAPH_NAME=" + graph, "GNN_EPOCHS=100000", "GNN_PATIENCE=0"}, r.env...))
	ev.WaitFor(t, protocol.StatusLoading, time.Minute) // an epoch is done
	cmd := protocol.Command{Command: protocol.CommandStop, QueueID: tq, Target: "gnn-trainer", Timestamp: protocol.Timestamp(time.Now())}
	testkit.Publish(t, r.kafka, protocol.TopicControl, tq, cmd)
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("gnn-trainer exited %d after a stop: %s", code, testkit.LastLine(p.Stderr()))
	}
	ev.WaitFor(t, protocol.StatusInterrupted, 10*time.Second)
	ck := filepath.Join(r.obj.ArtifactDir, "models", tq, "checkpoint", "model.json")
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no checkpoint after the stop: %v", err)
	}
}
