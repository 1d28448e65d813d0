package flow

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

var t0 = time.Date(2024, 9, 10, 12, 0, 0, 0, time.UTC)

func TestValidate(t *testing.T) {
	ok := Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_5m", "api_trades"}, TimeRange: "2024-08-01:2024-09-01",
		Steps: []string{"load", "store", "graph", "train"}, Options: map[string]map[string]string{"train": {"GNN_EPOCHS": "10"}}}
	if err := ok.Validate(t0); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	def := Request{Symbols: []string{"ETHUSDT"}, Types: []string{"ws_trades"}}
	if err := def.Validate(t0); err != nil || strings.Join(def.Steps, ",") != "load,store" {
		t.Fatalf("live request without range: %v, steps %v", err, def.Steps)
	}
	cases := []struct {
		r     Request
		field string
	}{
		{Request{Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02"}, "symbols"},
		{Request{Symbols: []string{"btc"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02"}, "symbols[0]"},
		{Request{Symbols: []string{"BTCUSDT", "BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02"}, "symbols[1]"},
		// A name the store would refuse at the first write (its collections
		// must start with a letter).
		{Request{Symbols: []string{"BTCUSDT", "1INCHUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02"}, "symbols[1]"},
		{Request{Symbols: []string{"BTCUSDT"}, TimeRange: "2024-08-01:2024-08-02"}, "types"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_7m"}, TimeRange: "2024-08-01:2024-08-02"}, "types[0]"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}}, "time_range"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-09-01:2024-08-01"}, "time_range"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2030-01-01:2030-01-02"}, "time_range"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"ws_trades"}, TimeRange: "2024-08-01:2024-08-02"}, "time_range"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load", "fly"}}, "steps[1]"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load", "graph"}}, "steps"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"ws_trades"}, Steps: []string{"load", "store", "graph"}}, "steps"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02",
			Options: map[string]map[string]string{"train": {"X": "1"}}}, "options.train"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02",
			Options: map[string]map[string]string{"load": {"QUEUE_ID": "x"}}}, "options.load.QUEUE_ID"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades", "api_candles_1M"}, TimeRange: "2024-08-01:2024-08-02"}, "types[1]"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02",
			Steps: []string{"load", "store", "graph", "train"}, Options: map[string]map[string]string{"train": {"GRAPH_NAME": "x"}}}, "options.train.GRAPH_NAME"},
		{Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02",
			Steps: []string{"load", "store", "graph"}, Options: map[string]map[string]string{"graph": {"INPUT_COLLECTIONS": "x"}}}, "options.graph.INPUT_COLLECTIONS"},
	}
	for i, c := range cases {
		err := c.r.Validate(t0)
		var fe *protocol.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("case %d: %v, want a problem with %s", i, err, c.field)
		}
	}
}

func TestNewDAG(t *testing.T) {
	r := Request{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Types: []string{"api_candles_5m", "api_trades"}, TimeRange: "2024-08-01:2024-09-01",
		Steps: []string{"load", "store", "graph", "train"}}
	w, err := New(r, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Steps) != 2*2*2+2 {
		t.Fatalf("%d steps, want 10", len(w.Steps))
	}
	suffix := w.ID[len(w.ID)-6:]
	var stores, storeColls []string
	var graphColl string
	ids := map[string]bool{}
	for _, s := range w.Steps {
		if ids[s.ID] {
			t.Fatalf("step id %s twice", s.ID)
		}
		ids[s.ID] = true
		if !strings.HasSuffix(s.QueueID, suffix) || s.TelemetryID != Role(s.Kind)+"__"+suffix {
			t.Errorf("step %s: queue id %s / telemetry id %s do not share the workflow's suffix %s", s.ID, s.QueueID, s.TelemetryID, suffix)
		}
		if _, err := protocol.ParseQueueID(s.QueueID); err != nil {
			t.Errorf("step %s: %v", s.ID, err)
		}
		cmd := protocol.Task{QueueID: s.QueueID, Symbol: s.Symbol, Type: s.Type, TimeRange: s.TimeRange, KafkaTopic: s.Topic,
			CollectionName: s.Collection, TelemetryID: s.TelemetryID}.StartCommand(s.TelemetryID, 1)
		if err := cmd.Validate(); err != nil {
			t.Errorf("step %s: its start command is invalid: %v", s.ID, err)
		}
		switch s.Kind {
		case KindStore:
			stores = append(stores, s.ID)
			storeColls = append(storeColls, s.Collection)
			if len(s.After) != 0 {
				t.Errorf("a store step runs beside its loader, got after %v", s.After)
			}
		case KindGraph:
			if strings.Join(s.After, ",") != strings.Join(stores, ",") || s.Symbol != "BTCUSDT,ETHUSDT" {
				t.Errorf("graph step: after %v symbol %s", s.After, s.Symbol)
			}
			if got, want := strings.Join(s.Inputs, ","), strings.Join(storeColls, ","); got != want || len(s.Inputs) != 4 {
				t.Errorf("graph step inputs %q, want the store steps' collections %q", got, want)
			}
			graphColl = s.Collection
		case KindTrain:
			if len(s.After) != 1 || !strings.HasSuffix(s.After[0], ".graph") {
				t.Errorf("train step after %v", s.After)
			}
			if len(s.Inputs) != 1 || s.Inputs[0] != graphColl {
				t.Errorf("train step inputs %v, want the graph %q", s.Inputs, graphColl)
			}
		}
	}
}

// Two workflows of the same first symbol created on the same day: their
// market data is named after the data's first day, and each graph (and the
// train step that reads it) belongs to its workflow alone.
func TestNewNamesSeparateWorkflows(t *testing.T) {
	created := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	a := Request{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Types: []string{"api_candles_5m"}, TimeRange: "2026-10-01:2026-11-01",
		Steps: []string{"load", "store", "graph", "train"}}
	b := Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_5m"}, TimeRange: "2026-09-01:2026-10-01",
		Steps: []string{"load", "store", "graph", "train"}}
	names := func(r Request) map[string][]string {
		t.Helper()
		w, err := New(r, created)
		if err != nil {
			t.Fatal(err)
		}
		suffix := w.ID[len(w.ID)-6:]
		out := map[string][]string{}
		for _, s := range w.Steps {
			got := s.Collection
			if s.Kind == KindGraph || s.Kind == KindTrain {
				// The suffix is random: name it so the table can say where
				// it goes.
				got = strings.Replace(got, suffix, "<suffix>", 1)
			}
			out[s.Kind] = append(out[s.Kind], got)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		r    Request
		want map[string][]string
	}{
		{"A", a, map[string][]string{
			KindLoad:  {"btcusdt_api_candles_5m_2026_10_01", "ethusdt_api_candles_5m_2026_10_01"},
			KindStore: {"btcusdt_api_candles_5m_2026_10_01", "ethusdt_api_candles_5m_2026_10_01"},
			KindGraph: {"btcusdt_graph_2026_10_01_<suffix>"},
			KindTrain: {"btcusdt_graph_2026_10_01_<suffix>"},
		}},
		{"B", b, map[string][]string{
			KindLoad:  {"btcusdt_api_candles_5m_2026_09_01"},
			KindStore: {"btcusdt_api_candles_5m_2026_09_01"},
			KindGraph: {"btcusdt_graph_2026_09_01_<suffix>"},
			KindTrain: {"btcusdt_graph_2026_09_01_<suffix>"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(tt.r)); diff != "" {
				t.Errorf("collections by step kind (-want +got):\n%s", diff)
			}
		})
	}
	// The same request twice on one day: the data is shared, the graphs
	// are not.
	w1, err := New(b, created)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := New(b, created)
	if err != nil {
		t.Fatal(err)
	}
	g1, g2 := w1.Steps[2], w2.Steps[2]
	if g1.Kind != KindGraph || g2.Kind != KindGraph {
		t.Fatalf("step 2 is %s and %s, want the graph steps", g1.Kind, g2.Kind)
	}
	if g1.Collection == g2.Collection {
		t.Errorf("two workflows write the same graph %s", g1.Collection)
	}
	if w1.Steps[1].Collection != w2.Steps[1].Collection {
		t.Errorf("the same range is stored in %s and %s, want one shared collection", w1.Steps[1].Collection, w2.Steps[1].Collection)
	}
}

// A step's records are its finished event's count, even when a progress
// event counted more (a re-sent batch): the step reports what it stored.
func TestFinishedRecordsAreTheStepsOwn(t *testing.T) {
	r := newRig(t, "", nil, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	store := w.Steps[1]
	r.event(store, protocol.StatusLoading, 17568)
	if got := r.get(w.ID).Steps[1].Records; got != 17568 {
		t.Fatalf("records after progress %d, want 17568", got)
	}
	r.event(store, protocol.StatusFinished, 8640)
	if got := r.stored(w.ID).Steps[1].Records; got != 8640 {
		t.Errorf("records after finished %d, want the finished event's 8640", got)
	}
}

// fakeLauncher records launches and lets the test change runs' states.
type fakeLauncher struct {
	mu       sync.Mutex
	launched []launch.Spec
	stopped  []string
	alive    map[string]launch.Status
	fail     error
}

func (f *fakeLauncher) Launch(_ context.Context, s launch.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.launched = append(f.launched, s)
	if f.alive == nil {
		f.alive = map[string]launch.Status{}
	}
	f.alive[s.ID] = launch.Status{ID: s.ID, Phase: launch.Running}
	return nil
}
func (f *fakeLauncher) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, id)
	delete(f.alive, id)
	return nil
}
func (f *fakeLauncher) Runs(context.Context) ([]launch.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []launch.Status
	for _, s := range f.alive {
		out = append(out, s)
	}
	return out, nil
}
func (f *fakeLauncher) Watch(ctx context.Context, _ func(launch.Status)) error {
	<-ctx.Done()
	return nil
}

func (f *fakeLauncher) specs() []launch.Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]launch.Spec(nil), f.launched...)
}

type fakePub struct {
	mu   sync.Mutex
	cmds []protocol.Command
}

// started returns the run ids of the start commands published, in order.
func (p *fakePub) started() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.cmds {
		if c.Command == protocol.CommandStart {
			out = append(out, c.RunID)
		}
	}
	return out
}

func (p *fakePub) Publish(_ context.Context, topic string, _, value []byte) error {
	var c protocol.Command
	if err := json.Unmarshal(value, &c); err != nil || topic != protocol.TopicControl {
		return errors.New("not a command")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cmds = append(p.cmds, c)
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	t    *testing.T
	eng  *Engine
	l    *fakeLauncher
	pub  *fakePub
	clk  *clock
	repo *Repo
	path string
}

func newRig(t *testing.T, path string, l *fakeLauncher, o Options) *rig {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "qm.db")
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clk := &clock{t: t0}
	o.Now = clk.now
	if l == nil {
		l = &fakeLauncher{}
	}
	r := &rig{t: t, l: l, pub: &fakePub{}, clk: clk, repo: NewRepo(st), path: path}
	r.eng = NewEngine(r.repo, l, r.pub, o)
	if err := r.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.eng.Flowing()
	return r
}

// event sends a queue-events message from the worker of step s's current
// run.
func (r *rig) event(s *Step, status protocol.Status, records int64, extra ...func(*protocol.Event)) {
	ev := protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: status, RecordsWritten: records,
		Finished: status.Terminal(), Timestamp: protocol.Timestamp(r.clk.now()), RunID: r.currentRun(s)}
	for _, f := range extra {
		f(&ev)
	}
	// Whether the change is stored is checked by the tests on the stored
	// workflow (some make the store fail on purpose).
	_ = r.eng.OnEvent(context.Background(), ev)
}

// currentRun returns the run id of s's latest attempt in the engine.
func (r *rig) currentRun(s *Step) string {
	r.eng.mu.Lock()
	defer r.eng.mu.Unlock()
	for _, ref := range r.eng.byQueue[s.QueueID] {
		if a := ref.s.Current(); ref.s.ID == s.ID && a != nil {
			return a.RunID
		}
	}
	return ""
}

func (r *rig) get(id string) *Workflow {
	r.t.Helper()
	w, err := r.eng.Get(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func (r *rig) stored(id string) *Workflow {
	r.t.Helper()
	w, err := r.repo.Get(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func states(w *Workflow) string {
	var b strings.Builder
	for i, s := range w.Steps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.Kind + "=" + s.State)
	}
	return b.String()
}

// oneLoad is a workflow of one loader.
func oneLoad() Request {
	return Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02", Steps: []string{KindLoad}}
}

func fourSteps() Request {
	return Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_candles_5m"}, TimeRange: "2024-08-01:2024-09-01",
		Steps: []string{"load", "store", "graph", "train"}}
}

func TestWorkflowRunsTheDAG(t *testing.T) {
	r := newRig(t, "", nil, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	if got := states(r.get(w.ID)); got != "load=running store=running graph=pending train=pending" {
		t.Fatalf("after submit: %s", got)
	}
	if n := len(r.l.specs()); n != 2 {
		t.Fatalf("%d launches, want loader and connector", n)
	}
	load, store := w.Steps[0], w.Steps[1]
	spec := r.l.specs()[0]
	if spec.Service != "loader-producer" || spec.Env["QUEUE_ID"] != load.QueueID || spec.Env["TELEMETRY_ID"] != load.TelemetryID ||
		spec.Env["TIME_RANGE"] != "2024-08-01:2024-09-01" || spec.Env["KAFKA_TOPIC"] != load.QueueID+"-data" {
		t.Errorf("loader spec %+v", spec)
	}
	if c := r.pub.cmds[0]; c.Command != protocol.CommandStart || c.QueueID != load.QueueID || c.Target != load.TelemetryID {
		t.Errorf("start command %+v", c)
	}
	r.event(load, protocol.StatusLoading, 500, func(e *protocol.Event) { e.Percent, e.Rate, e.ETASeconds = 40, 1000, 12 })
	got := r.get(w.ID).Steps[0]
	if got.Records != 500 || got.Percent != 40 || got.Rate != 1000 || got.ETASeconds != 12 || got.LastEvent.Status != "loading" {
		t.Errorf("progress not applied: %+v", got)
	}
	if s := r.stored(w.ID).Steps[0]; s.Records != 0 {
		t.Errorf("progress stored at once (%d records); it waits for the next tick", s.Records)
	}
	r.eng.Tick(context.Background())
	if s := r.stored(w.ID).Steps[0]; s.Records != 500 {
		t.Errorf("progress not stored by the tick: %+v", s)
	}
	r.event(load, protocol.StatusFinished, 1000)
	if got := states(r.get(w.ID)); got != "load=finished store=running graph=pending train=pending" {
		t.Fatalf("graph must wait for the store step: %s", got)
	}
	r.event(store, protocol.StatusFinished, 1000)
	graph := w.Steps[2]
	if got := states(r.get(w.ID)); got != "load=finished store=finished graph=running train=pending" {
		t.Fatalf("after store: %s", got)
	}
	if spec := r.l.specs()[2]; spec.Service != "graph-builder" || spec.Env["INPUT_COLLECTIONS"] != store.Collection {
		t.Errorf("graph-builder spec %+v: INPUT_COLLECTIONS must name the store step's collection %s", spec, store.Collection)
	}
	r.event(graph, protocol.StatusFinished, 10, func(e *protocol.Event) { e.Result = json.RawMessage(`{"nodes":8928}`) })
	if got := r.get(w.ID).Steps[2].Result; string(got) != `{"nodes":8928}` {
		t.Errorf("graph step result %s, want the finished event's", got)
	}
	if spec := r.l.specs()[3]; spec.Service != "gnn-trainer" || spec.Env["GRAPH_NAME"] != graph.Collection {
		t.Errorf("gnn-trainer spec %+v: GRAPH_NAME must name the graph step's collection %s", spec, graph.Collection)
	}
	r.event(w.Steps[3], protocol.StatusFinished, 1)
	final := r.stored(w.ID)
	if final.State != Finished || states(final) != "load=finished store=finished graph=finished train=finished" {
		t.Fatalf("final: %s %s", final.State, states(final))
	}
}

func TestFailedAttemptIsRelaunchedWithBackoff(t *testing.T) {
	r := newRig(t, "", nil, Options{MaxAttempts: 3, RetryBase: 2 * time.Second, RetryMax: 3 * time.Second})
	w, err := r.eng.Submit(context.Background(), Request{Symbols: []string{"BTCUSDT"}, Types: []string{"api_trades"},
		TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load"}})
	if err != nil {
		t.Fatal(err)
	}
	load := w.Steps[0]
	run1 := r.get(w.ID).Steps[0].Current().RunID
	// The process dies without a word.
	r.eng.OnRun(context.Background(), launch.Status{ID: run1, Phase: launch.Failed, Message: "exit code 137"})
	s := r.get(w.ID).Steps[0]
	if s.State != Pending || !s.RetryAt.Equal(t0.Add(2*time.Second)) || s.Attempts[0].Outcome != Failed ||
		!strings.Contains(s.Attempts[0].Message, "exit code 137") {
		t.Fatalf("after the first failure: %+v", s)
	}
	r.eng.Tick(context.Background())
	if n := len(r.l.specs()); n != 1 {
		t.Fatalf("relaunched before the backoff: %d launches", n)
	}
	r.clk.add(2100 * time.Millisecond)
	r.eng.Tick(context.Background())
	if n := len(r.l.specs()); n != 2 {
		t.Fatalf("%d launches after the backoff, want 2", n)
	}
	// Second attempt: a fatal error event.
	r.event(load, protocol.StatusError, 0, func(e *protocol.Event) { e.Error, e.Finished = "binance said no", true })
	s = r.get(w.ID).Steps[0]
	if !s.RetryAt.Equal(r.clk.now().Add(3 * time.Second)) { // 4 s capped at RetryMax
		t.Errorf("second delay: retry at %s, want now+3s", s.RetryAt)
	}
	r.clk.add(3 * time.Second)
	r.eng.Tick(context.Background())
	// Third attempt: silence.
	r.clk.add(46 * time.Second)
	r.eng.Tick(context.Background())
	final := r.stored(w.ID)
	if final.State != Failed || final.Steps[0].State != Failed || len(final.Steps[0].Attempts) != 3 {
		t.Fatalf("after three failed attempts: %s %+v", final.State, final.Steps[0])
	}
	if !strings.Contains(final.Error, "heartbeat timeout") || !strings.Contains(final.Steps[0].Attempts[1].Message, "binance said no") {
		t.Errorf("errors not kept: %q / %+v", final.Error, final.Steps[0].Attempts)
	}
}

func TestStop(t *testing.T) {
	r := newRig(t, "", nil, Options{StopGrace: 10 * time.Second})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Stop(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	got := r.get(w.ID)
	if got.State != Stopping || states(got) != "load=stopping store=stopping graph=stopped train=stopped" {
		t.Fatalf("after stop: %s %s", got.State, states(got))
	}
	stops := 0
	for _, c := range r.pub.cmds {
		if c.Command == protocol.CommandStop {
			stops++
		}
	}
	if stops != 2 {
		t.Errorf("%d stop commands, want one per running step", stops)
	}
	r.event(w.Steps[0], protocol.StatusInterrupted, 10)
	r.clk.add(11 * time.Second) // the connector never answers
	r.eng.Tick(context.Background())
	final := r.stored(w.ID)
	if final.State != Stopped || states(final) != "load=stopped store=stopped graph=stopped train=stopped" {
		t.Fatalf("final: %s %s", final.State, states(final))
	}
	if len(r.l.stopped) != 1 || r.l.stopped[0] != final.Steps[1].Current().RunID {
		t.Errorf("launcher removed %v, want the connector's run", r.l.stopped)
	}
	if err := r.eng.Delete(context.Background(), w.ID); err != nil {
		t.Errorf("delete a stopped workflow: %v", err)
	}
}

func TestRestartReconciles(t *testing.T) {
	l := &fakeLauncher{}
	r := newRig(t, "", l, Options{})
	w, err := r.eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	load, store := w.Steps[0], w.Steps[1]
	// queue-manager goes down; meanwhile the connector's run disappears.
	l.mu.Lock()
	delete(l.alive, r.get(w.ID).Steps[1].Current().RunID)
	l.mu.Unlock()
	r2 := newRig(t, r.path, l, Options{})
	got := r2.get(w.ID)
	if got.Steps[0].State != Running || len(got.Steps[0].Attempts) != 1 {
		t.Errorf("the loader still runs and must be re-adopted: %+v", got.Steps[0])
	}
	if got.Steps[1].State != Pending || got.Steps[1].Attempts[0].Outcome != Failed {
		t.Errorf("the lost connector must be a failed attempt waiting to relaunch: %+v", got.Steps[1])
	}
	r2.clk.add(3 * time.Second)
	r2.eng.Tick(context.Background())
	r2.event(load, protocol.StatusFinished, 10)
	r2.event(store, protocol.StatusFinished, 10)
	if s := r2.get(w.ID).Steps[1]; s.State != Finished || len(s.Attempts) != 2 {
		t.Errorf("connector after relaunch: %+v", s)
	}
}

func TestNoHeartbeatTimeoutBeforeEventsFlow(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: t0}
	log := &fakeLog{end: 10} // ten events the consumer has not read yet
	eng := NewEngine(NewRepo(st), &fakeLauncher{}, &fakePub{}, Options{Now: clk.now, HeartbeatTimeout: 10 * time.Second, Events: log})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, err := eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	clk.add(time.Minute) // the consumer is still joining its group
	eng.Tick(context.Background())
	if got, _ := eng.Get(context.Background(), w.ID); got.Steps[0].State != Running {
		t.Fatalf("a step timed out before queue-events delivered anything: %+v", got.Steps[0])
	}
	eng.Flowing()
	clk.add(11 * time.Second)
	eng.Tick(context.Background())
	if got, _ := eng.Get(context.Background(), w.ID); got.Steps[0].State != Pending || len(got.Steps[0].Attempts) != 1 {
		t.Fatalf("silence after events flow must count: %+v", got.Steps[0])
	}
}

// TestSilenceCountsOnceQueueEventsIsReadToItsEnd: a queue-events the
// consumer has read to its end delivers nothing more, and no step ever
// reports (its Pods refused, its workers dead while queue-manager was
// down): silence counts from then all the same, or the steps would stay
// running for ever.
func TestSilenceCountsOnceQueueEventsIsReadToItsEnd(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: t0}
	log := &fakeLog{end: 10}
	eng := NewEngine(NewRepo(st), &fakeLauncher{}, &fakePub{}, Options{Now: clk.now, HeartbeatTimeout: 10 * time.Second, Events: log})
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, err := eng.Submit(context.Background(), fourSteps())
	if err != nil {
		t.Fatal(err)
	}
	clk.add(time.Minute)
	eng.Tick(context.Background())
	if got, _ := eng.Get(context.Background(), w.ID); got.Steps[0].State != Running {
		t.Fatalf("a step timed out while queue-events was still being read: %+v", got.Steps[0])
	}
	log.set(10, 10) // read to its end; nothing more comes
	eng.Tick(context.Background())
	clk.add(9 * time.Second)
	eng.Tick(context.Background())
	if got, _ := eng.Get(context.Background(), w.ID); got.Steps[0].State != Running {
		t.Fatalf("silence counted before a whole heartbeat timeout after the catch-up: %+v", got.Steps[0])
	}
	clk.add(2 * time.Second)
	eng.Tick(context.Background())
	if got, _ := eng.Get(context.Background(), w.ID); got.Steps[0].State != Pending || len(got.Steps[0].Attempts) != 1 {
		t.Fatalf("a step that never reported is still %s once queue-events was read to its end and a heartbeat timeout passed", got.Steps[0].State)
	}
}

func TestLimitsQueue(t *testing.T) {
	r := newRig(t, "", nil, Options{Limits: map[string]int{KindLoad: 1}})
	req := Request{Symbols: []string{"BTCUSDT", "ETHUSDT", "BNBUSDT"}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load"}}
	w, err := r.eng.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := r.get(w.ID)
	if got.Steps[0].State != Running || got.Steps[1].QueuePosition != 1 || got.Steps[2].QueuePosition != 2 {
		t.Fatalf("queue: %s, positions %d %d", states(got), got.Steps[1].QueuePosition, got.Steps[2].QueuePosition)
	}
	r.event(w.Steps[0], protocol.StatusFinished, 1)
	got = r.get(w.ID)
	if got.Steps[1].State != Running || got.Steps[2].QueuePosition != 1 {
		t.Fatalf("after the first: %s, position %d", states(got), got.Steps[2].QueuePosition)
	}
}
