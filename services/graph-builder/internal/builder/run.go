package builder

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/telemetry"
	"github.com/streamforge/streamforge/libs/worker"
	"github.com/streamforge/streamforge/services/graph-builder/internal/graph"
)

// Phases of a build and the share of the progress bar each one fills.
const (
	readShare  = 40.0
	buildShare = 10.0
)

// metrics are graph-builder's own.
type metrics struct {
	read    prometheus.Counter
	nodes   prometheus.Gauge
	edges   prometheus.Gauge
	written prometheus.Counter
	phase   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		read: prometheus.NewCounter(prometheus.CounterOpts{Name: "streamforge_graph_input_documents_total",
			Help: "Candle and trade documents read from the store."}),
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "streamforge_graph_nodes", Help: "Vertices of the last graph built."}),
		edges: prometheus.NewGauge(prometheus.GaugeOpts{Name: "streamforge_graph_edges", Help: "Edges of the last graph built."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "streamforge_graph_documents_written_total",
			Help: "Vertex and edge documents written to the store."}),
		phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "streamforge_graph_phase_seconds",
			Help: "Time of each phase of a build: read, build, write.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"phase"}),
	}
	reg.MustRegister(m.read, m.nodes, m.edges, m.written, m.phase)
	return m
}

// Result is the summary in the finished event.
type Result struct {
	Graph            string               `json:"graph"`
	VertexCollection string               `json:"vertex_collection"`
	EdgeCollection   string               `json:"edge_collection"`
	Kind             string               `json:"kind"`
	Method           string               `json:"method,omitempty"`
	Nodes            int                  `json:"nodes"`
	Edges            int                  `json:"edges"`
	Labelled         int                  `json:"labelled"`
	Snapshots        int                  `json:"snapshots,omitempty"`
	SkippedSnapshots int                  `json:"skipped_snapshots,omitempty"` // windows spanning missing bars
	Degree           protocol.GraphDegree `json:"degree"`
	Features         []string             `json:"features"`
	FirstTime        int64                `json:"first_time"`
	LastTime         int64                `json:"last_time"`
	Seconds          float64              `json:"seconds"`
}

// Run builds the graph cfg describes, reporting on queue-events, and ends
// with finished (the graph's size in Result), interrupted on a stop, or a
// fatal error event.
func Run(ctx context.Context, rt *service.Runtime, cfg *Config, st store.Store) error {
	task := cfg.Task
	w, err := worker.Start(ctx, rt, cfg.Config, task, cfg.Settings.Options(Name))
	if err != nil {
		return err
	}
	defer w.Close()
	log := w.Log.With().Str("graph", cfg.GraphName).Logger()
	m := newMetrics(rt.Registry)
	if err := w.Started(ctx, fmt.Sprintf("building graph %s of %s", cfg.GraphName, cfg.Symbol)); err != nil {
		return err
	}
	start := time.Now()
	work := w.Work()
	progress := throttle(w.Events, cfg.ProgressInterval, func(err error) { log.Warn().Err(err).Msg("progress event not sent") })

	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if cfg.TimeRange != "" {
		tr, _ := protocol.ParseTimeRange(cfg.TimeRange) // checked by Validate
		from, to = tr.Start.UnixMilli(), tr.End.UnixMilli()
	}
	t0 := time.Now()
	// What the read will see, counted by the store from its index: the
	// progress bar's total. The collections may hold other workflows'
	// ranges too; they are not read.
	var expect int64
	for _, in := range cfg.inputs {
		n, err := st.CountRange(work, in.collection, in.symbol, from, to)
		if err != nil {
			// A collection that does not exist will not appear on a retry.
			return w.End(ctx, store.Permanent(fmt.Errorf("INPUT_COLLECTIONS: %w", err)), nil)
		}
		expect += n
	}
	if cfg.TimeRange != "" {
		if err := checkHoles(work, st, cfg.inputs, from, to); err != nil {
			return w.End(ctx, err, nil)
		}
	}
	var read int64
	ss, err := readSeries(work, st, cfg.inputs, from, to, func(n int64) {
		m.read.Add(float64(n - read))
		read = n
		progress(work, telemetry.ProgressInfo{Message: fmt.Sprintf("read %d of %d documents", n, expect),
			Percent: readShare * float64(n) / float64(max(expect, n, 1))})
	})
	m.phase.WithLabelValues("read").Observe(time.Since(t0).Seconds())
	if err != nil {
		// Documents that cannot be read as candles or trades, or no candle
		// in the range, are the data's fault: the same read fails again.
		return w.End(ctx, store.Permanent(err), nil)
	}
	for _, s := range ss {
		if s.outside > 0 {
			log.Warn().Str("symbol", s.symbol).Int64("trades", s.outside).Msg("trades outside every candle were not folded in")
		}
	}

	t0 = time.Now()
	b, err := build(cfg, ss)
	m.phase.WithLabelValues("build").Observe(time.Since(t0).Seconds())
	if err != nil {
		// The build is a function of the data read and the configuration
		// (too few candles for the window, no shared bars): a retry reads
		// the same and fails the same way.
		return w.End(ctx, protocol.Permanent(err), nil)
	}
	stats := graph.DegreeStats(len(b.nodes), toGraphEdges(b.edges))
	m.nodes.Set(float64(len(b.nodes)))
	m.edges.Set(float64(len(b.edges)))
	total := int64(len(b.nodes) + len(b.edges))
	log.Info().Str("kind", b.kind).Int("nodes", len(b.nodes)).Int("edges", len(b.edges)).Float64("read_seconds", time.Since(start).Seconds()).Msg("graph built")
	progress(work, telemetry.ProgressInfo{Message: fmt.Sprintf("%s graph: %d nodes, %d edges", b.kind, len(b.nodes), len(b.edges)),
		Percent: readShare + buildShare})

	t0 = time.Now()
	var prev int64
	wr := newWriter(st, cfg.GraphName, cfg.BatchSize, func(n int64) error {
		m.written.Add(float64(n - prev))
		prev = n
		pct := readShare + buildShare + (100-readShare-buildShare)*float64(n)/float64(total)
		progress(work, telemetry.ProgressInfo{Records: n, Message: fmt.Sprintf("wrote %d of %d documents", n, total), Percent: min(pct, 99)})
		return context.Cause(work)
	})
	err = wr.write(work, b)
	m.phase.WithLabelValues("write").Observe(time.Since(t0).Seconds())
	if err != nil {
		return w.End(ctx, err, nil)
	}
	labelled := 0
	for i := range b.nodes {
		if b.nodes[i].label >= 0 {
			labelled++
		}
	}
	meta := protocol.GraphRecord{Name: cfg.GraphName, VertexCollection: wr.vertices, EdgeCollection: wr.edges, Kind: b.kind, Method: b.method,
		QueueID: cfg.QueueID, Symbols: strings.Split(cfg.Symbol, ","), Interval: ss[0].interval.String(), TimeRange: cfg.TimeRange,
		Features: b.features, Nodes: len(b.nodes), Edges: len(b.edges), Labelled: labelled, Snapshots: b.snapshots,
		FirstTime: b.first, LastTime: b.last, Degree: degree(stats), Params: params(cfg, b.kind)}
	for _, in := range cfg.inputs {
		meta.Inputs = append(meta.Inputs, in.collection)
	}
	for _, s := range ss {
		meta.Trades += s.trades
	}
	if err := saveMeta(work, st, meta); err != nil {
		return w.End(ctx, err, nil)
	}
	res := Result{Graph: cfg.GraphName, VertexCollection: wr.vertices, EdgeCollection: wr.edges, Kind: b.kind, Method: b.method,
		Nodes: len(b.nodes), Edges: len(b.edges), Labelled: labelled, Snapshots: b.snapshots, SkippedSnapshots: b.skipped,
		Degree: degree(stats), Features: b.features, FirstTime: b.first, LastTime: b.last, Seconds: time.Since(start).Seconds()}
	return w.End(ctx, nil, func(tctx context.Context) error {
		log.Info().Int("nodes", res.Nodes).Int("edges", res.Edges).Int("skipped_snapshots", res.SkippedSnapshots).
			Float64("mean_degree", stats.Mean).Float64("seconds", res.Seconds).Msg("finished")
		return w.Events.FinishedWith(tctx, total, fmt.Sprintf("%s graph %s: %d nodes, %d edges, mean degree %.2f",
			b.kind, cfg.GraphName, res.Nodes, res.Edges, stats.Mean), res)
	})
}

func params(cfg *Config, kind string) map[string]any {
	p := map[string]any{"feature_horizons": cfg.horizons, "feature_window": cfg.FeatWin}
	if kind == KindCorrelation {
		p["window"], p["step"], p["edges"] = cfg.Window, cfg.Step, cfg.Edges
		switch cfg.Edges {
		case EdgesThreshold:
			p["threshold"] = cfg.Threshold
		case EdgesTopK:
			p["top_k"] = cfg.TopK
		}
	}
	return p
}

func toGraphEdges(es []edge) []graph.Edge {
	out := make([]graph.Edge, len(es))
	for i, e := range es {
		out[i] = graph.Edge{U: int32(e.from), V: int32(e.to), W: e.w}
	}
	return out
}

// throttle returns a progress reporter that sends at most one event per
// interval. A progress event that cannot be sent is only missing progress,
// not a failed build: onErr logs it.
func throttle(em *telemetry.Emitter, every time.Duration, onErr func(error)) func(context.Context, telemetry.ProgressInfo) {
	var last time.Time
	return func(ctx context.Context, p telemetry.ProgressInfo) {
		if time.Since(last) < every {
			return
		}
		last = time.Now()
		if p.Records == 0 {
			p.Records = em.Records()
		}
		if err := em.ProgressWith(ctx, p); err != nil {
			onErr(err)
		}
	}
}
