// Package scenario runs Scenario 1 end to end, the way `make demo` does: the
// local stack (queue-manager with the local launcher, the real worker
// binaries, the exchange simulator, the SQLite store, the local artifact
// directory), "train a GNN on trades and 5-minute candles for BTCUSDT"
// submitted through queue-manager's REST API and followed over Server-Sent
// Events, then the store, the graph and the model checked against the
// simulator. The unit tier runs a week on the embedded broker; with -tags
// integration a month runs on real Apache Kafka 4.x.
package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

var binDir string

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m, &binDir)) }

// up brings up the stack o describes for the test, with the store it
// writes opened for reading; both close when the test ends, and a failed
// test logs the end of the stack's log.
func up(t *testing.T, ctx context.Context, o stack.Options) (*stack.Stack, *sqlite.Store) {
	t.Helper()
	o.BinDir, o.DataDir, o.APIAddr, o.TradeRate = binDir, t.TempDir(), stacktest.FreeAddr(t), 0.5
	// A group of its own, unless the test names one (the one its Kafka
	// user may join).
	o.Env = append([]string{fmt.Sprintf("EVENTS_GROUP=scenario-%d", time.Now().UnixNano()), "STEP_HEARTBEAT_TIMEOUT=60s"}, o.Env...)
	s := stacktest.Up(t, ctx, o)
	st, err := sqlite.Open(ctx, s.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return s, st
}

// testScenario1 runs Scenario 1 over timeRange on the stack o describes and
// checks everything it made.
func testScenario1(t *testing.T, o stack.Options, timeRange string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s, st := up(t, ctx, o)

	var out bytes.Buffer
	req := scenario.TrainRequest("BTCUSDT", timeRange, map[string]string{"GNN_EPOCHS": "40"})
	sum, err := scenario.Run(ctx, &scenario.Client{API: s.API}, req, &scenario.Board{Out: &out, Every: time.Second}, st)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "running") {
		t.Errorf("the progress board never showed a running step:\n%s", out.String())
	}
	sum.Print(&out)
	t.Logf("\n%s", out.String())

	// The store holds exactly the simulator's candles and trades.
	candles := stacktest.CheckStored(t, s, sum, timeRange)
	r, err := protocol.ParseTimeRange(timeRange)
	if err != nil {
		t.Fatal(err)
	}
	checkCoverage(t, sum, r.Start, r.End, out.String())
	// The graph: a node per candle after the features' warm-up, with the
	// trade aggregates among the features.
	g := sum.Graph
	if g.Kind != "visibility" || g.Nodes < candles-13 || g.Nodes > candles || g.Edges < g.Nodes {
		t.Errorf("graph %+v for %d candles", g, candles)
	}
	if !strings.Contains(strings.Join(g.Features, ","), "trade_imbalance") {
		t.Errorf("graph features %v lack the agg-trade aggregates", g.Features)
	}
	// The model, its baselines and artifacts.
	tr := sum.Train
	if tr.Test.Accuracy == nil || tr.Test.N == 0 || len(tr.Baselines) != 2 || tr.Verdict == "" {
		t.Fatalf("train result %+v", tr)
	}
	var model struct {
		Format     string `json:"format"`
		Provenance struct {
			Symbols   []string `json:"symbols"`
			TimeRange string   `json:"time_range"`
		} `json:"provenance"`
	}
	b, err := os.ReadFile(tr.Artifacts["model"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &model); err != nil || model.Format != "streamforge-gnn/1" || model.Provenance.TimeRange != timeRange {
		t.Errorf("model.json: %v %+v", err, model)
	}
	f, err := os.Open(tr.Artifacts["curve"])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("training curve: %v", err)
	}
	operatorPath(ctx, t, s, sum)
}

// The unit tier: a week, on the embedded broker.
func TestEmbeddedScenario1(t *testing.T) {
	testScenario1(t, stack.Options{KafkaPort: 0, ExchangeAddr: "127.0.0.1:0"}, "2026-10-01:2026-10-08")
}
