package scenario

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// isolation is one run of the workflows-do-not-mix scenario: workflow A (four
// symbols over rangeA), then B (BTCUSDT over rangeB, just before A's), then B
// again, then C (BTCUSDT over rangeC: inside A's range and starting on its
// first day, so its candles share A's BTCUSDT collection), on one stack, on
// one day.
type isolation struct {
	rangeA, rangeB, rangeC string
	epochs                 string
}

// testIsolation checks what must hold when workflows share a day and a
// symbol: A's graph is byte for byte what it was before B ran, B's graph and
// model hold only B's range, B's rerun reproduces B's graph and model inputs,
// C, whose data shares a collection with A's, gets exactly its own range, and
// every load and store step's records are its own range's count.
func testIsolation(t *testing.T, o stack.Options, iso isolation) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s, st := up(t, ctx, o)
	c := &scenario.Client{API: s.API}
	steps := []string{"load", "store", "graph", "train"}
	opts := map[string]map[string]string{"train": {"GNN_EPOCHS": iso.epochs}}
	reqA := scenario.Request{Symbols: []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"}, Types: []string{"api_candles_5m"},
		TimeRange: iso.rangeA, Steps: steps, Options: opts}
	reqB := scenario.Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_5m"}, TimeRange: iso.rangeB, Steps: steps, Options: opts}

	run := func(name string, r scenario.Request) *scenario.Summary {
		t.Helper()
		var out bytes.Buffer
		sum, err := scenario.Run(ctx, c, r, &scenario.Board{Out: &out, Every: 5 * time.Second}, st)
		if err != nil {
			t.Fatalf("workflow %s: %v\n%s", name, err, out.String())
		}
		t.Logf("workflow %s (%s): graph %s, %d nodes, %d edges; model %s; took %s", name, sum.Workflow.ID, sum.Graph.Graph,
			sum.Graph.Nodes, sum.Graph.Edges, sum.Train.Artifacts["model"], sum.Took.Round(time.Second))
		checkOwnRecords(t, ctx, s, st, name, sum)
		return sum
	}

	a := run("A", reqA)
	rawA := graphHash(t, st, a.Graph.Graph, false)

	b := run("B", reqB)
	if b.Graph.Graph == a.Graph.Graph {
		t.Errorf("A and B wrote the same graph %s", a.Graph.Graph)
	}
	if got := graphHash(t, st, a.Graph.Graph, false); got != rawA {
		t.Errorf("A's graph %s changed when B ran: hash %s, was %s", a.Graph.Graph, got, rawA)
	}
	provB := checkInRange(t, st, b, iso.rangeB)

	b2 := run("B again", reqB)
	if b2.Graph.Graph == b.Graph.Graph || b2.Train.Artifacts["model"] == b.Train.Artifacts["model"] {
		t.Errorf("B's rerun wrote B's graph or model (%s, %s): each workflow writes its own", b2.Graph.Graph, b2.Train.Artifacts["model"])
	}
	if got, want := graphHash(t, st, b2.Graph.Graph, true), graphHash(t, st, b.Graph.Graph, true); got != want {
		t.Errorf("B's rerun built another graph: hash %s, B's %s", got, want)
	}
	provB2 := checkInRange(t, st, b2, iso.rangeB)
	if diff := cmp.Diff(provB, provB2); diff != "" {
		t.Errorf("B's rerun trained on other inputs (-B +rerun):\n%s", diff)
	}

	reqC := reqB
	reqC.TimeRange = iso.rangeC
	cw := run("C", reqC)
	checkInRange(t, st, cw, iso.rangeC)
	if got := graphHash(t, st, a.Graph.Graph, false); got != rawA {
		t.Errorf("A's graph %s changed when B ran again and C ran", a.Graph.Graph)
	}
}

// checkOwnRecords: every load and store step's records are the simulator's
// candles of its symbol and range, and so is what the store holds of them.
func checkOwnRecords(t *testing.T, ctx context.Context, s *stack.Stack, st store.Store, name string, sum *scenario.Summary) {
	t.Helper()
	for _, step := range sum.Workflow.Steps {
		if step.Kind != "load" && step.Kind != "store" {
			continue
		}
		tr, err := protocol.ParseTimeRange(step.TimeRange)
		if err != nil {
			t.Fatal(err)
		}
		candles, err := s.Market().Candles(step.Symbol, "5m", tr.Start, tr.End.Add(-time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		want := int64(len(candles))
		if step.Records != want {
			t.Errorf("workflow %s: %s step of %s reports %d records, want its range's %d", name, step.Kind, step.Symbol, step.Records, want)
		}
		stored, err := scenario.OwnRecords(ctx, st, step)
		if err != nil || stored != want {
			t.Errorf("workflow %s: the store holds %d candles of %s %s in %s (%v), want %d", name, stored, step.Symbol,
				step.TimeRange, step.Collection, err, want)
		}
	}
}

// provenance is what a model says it was trained on, without the names that
// differ between two runs of one request.
type provenance struct {
	Symbols   []string       `json:"symbols"`
	Interval  string         `json:"interval"`
	TimeRange string         `json:"time_range"`
	Nodes     int            `json:"nodes"`
	Edges     int            `json:"edges"`
	Labelled  int            `json:"labelled"`
	Split     scenario.Split `json:"split"`
	Graph     string         `json:"graph"`
	QueueID   string         `json:"queue_id"`
}

// checkInRange: every node of the workflow's graph is inside timeRange, the
// model was trained on that graph, its split ends inside the range and it is
// stored under the workflow. It returns the model's provenance without the
// workflow's names.
func checkInRange(t *testing.T, st store.Store, sum *scenario.Summary, timeRange string) provenance {
	t.Helper()
	tr, err := protocol.ParseTimeRange(timeRange)
	if err != nil {
		t.Fatal(err)
	}
	from, to := tr.Start.UnixMilli(), tr.End.UnixMilli()
	var nodes, outside int
	err = st.ReadGraph(t.Context(), sum.Graph.Graph, func(doc json.RawMessage) error {
		var v struct {
			Time int64 `json:"time"`
		}
		nodes++
		if err := json.Unmarshal(doc, &v); err != nil {
			return err
		}
		if v.Time < from || v.Time >= to {
			outside++
		}
		return nil
	}, func(json.RawMessage) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if outside > 0 || nodes != sum.Graph.Nodes {
		t.Errorf("graph %s: %d nodes (its step built %d), %d of them outside %s", sum.Graph.Graph, nodes, sum.Graph.Nodes, outside, timeRange)
	}
	b, err := os.ReadFile(sum.Train.Artifacts["model"])
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Provenance provenance `json:"provenance"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		t.Fatal(err)
	}
	p := model.Provenance
	suffix := sum.Workflow.ID[len(sum.Workflow.ID)-6:]
	if p.Graph != sum.Graph.Graph || p.TimeRange != timeRange || p.Nodes != nodes {
		t.Errorf("model trained on graph %s over %s with %d nodes, want %s over %s with %d", p.Graph, p.TimeRange, p.Nodes,
			sum.Graph.Graph, timeRange, nodes)
	}
	if !strings.HasSuffix(p.QueueID, suffix) || !strings.Contains(sum.Train.Artifacts["model"], suffix) {
		t.Errorf("model %s (queue %s) is not stored under workflow %s", sum.Train.Artifacts["model"], p.QueueID, sum.Workflow.ID)
	}
	for _, cut := range []string{p.Split.ValFrom, p.Split.TestFrom} {
		at, err := time.Parse(time.RFC3339, cut)
		if err != nil || at.Before(tr.Start) || !at.Before(tr.End) {
			t.Errorf("model split cuts at %s (%v), outside %s", cut, err, timeRange)
		}
	}
	p.Graph, p.QueueID = "", ""
	return p
}

// graphHash hashes a graph's vertices and edges in the store's order. Raw,
// it hashes the documents byte for byte; otherwise each document's
// canonical JSON with the edges' ends stripped of the vertex collection's
// name, so two workflows' graphs of the same data hash the same.
func graphHash(t *testing.T, st store.Store, name string, canonical bool) string {
	t.Helper()
	h := sha256.New()
	add := func(doc json.RawMessage) error {
		if !canonical {
			h.Write(doc)
			h.Write([]byte{'\n'})
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			return err
		}
		for _, end := range []string{"_from", "_to"} {
			if v, ok := m[end].(string); ok {
				m[end] = v[strings.IndexByte(v, '/')+1:]
			}
		}
		c, err := json.Marshal(m) // maps marshal with sorted keys
		if err != nil {
			return err
		}
		h.Write(c)
		h.Write([]byte{'\n'})
		return nil
	}
	if err := st.ReadGraph(t.Context(), name, add, add); err != nil {
		t.Fatalf("read graph %s: %v", name, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// issue19 is the issue's own case: A over October, B over September; C is
// October's first week. On the simulator's candles the four workflows take
// about ten seconds.
var issue19 = isolation{rangeA: "2026-10-01:2026-11-01", rangeB: "2026-09-01:2026-10-01", rangeC: "2026-10-01:2026-10-08", epochs: "10"}

// The unit tier: on the embedded broker.
func TestEmbeddedWorkflowIsolation(t *testing.T) {
	testIsolation(t, stack.Options{KafkaPort: 0, ExchangeAddr: "127.0.0.1:0"}, issue19)
}
