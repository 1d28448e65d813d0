package trainer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/telemetry"
	"github.com/streamforge/streamforge/libs/worker"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

// metrics are gnn-trainer's own.
type metrics struct {
	epochs   prometheus.Counter
	epochDur prometheus.Histogram
	loss     *prometheus.GaugeVec
	accuracy *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		epochs: prometheus.NewCounter(prometheus.CounterOpts{Name: "streamforge_gnn_epochs_total", Help: "Training epochs run."}),
		epochDur: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "streamforge_gnn_epoch_seconds",
			Help: "Time of one training epoch (forward, backward, update, evaluation).", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		loss: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamforge_gnn_loss",
			Help: "Cross-entropy of the last epoch, by split (train, val)."}, []string{"split"}),
		accuracy: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamforge_gnn_accuracy",
			Help: "Accuracy by model (gnn, majority, logistic_regression) and split, once trained."}, []string{"model", "split"}),
	}
	reg.MustRegister(m.epochs, m.epochDur, m.loss, m.accuracy)
	return m
}

// Result is the summary in the finished event.
type Result struct {
	Model          string            `json:"model"`
	Graph          string            `json:"graph"`
	Epochs         int               `json:"epochs"`
	BestEpoch      int               `json:"best_epoch"`
	Split          SplitInfo         `json:"split"`
	Test           Score             `json:"test"`
	Baselines      map[string]Score  `json:"baselines"`
	BeatsBaselines bool              `json:"beats_baselines"`
	Verdict        string            `json:"verdict"`
	Artifacts      map[string]string `json:"artifacts"`
	Seconds        float64           `json:"seconds"`
	// Curve is the per-epoch history, at most MaxCurvePoints of it.
	Curve []CurvePoint `json:"curve"`
}

// Run trains on cfg's graph, reporting every epoch on queue-events, and ends
// with finished (test metrics beside the baselines', artifact locations in
// Result), interrupted on a stop (after saving a checkpoint), or a fatal
// error event.
func Run(ctx context.Context, rt *service.Runtime, cfg *Config, st store.Store, obj objstore.Store) error {
	w, err := worker.Start(ctx, rt, cfg.Config, cfg.Task, cfg.Settings.Options(Name))
	if err != nil {
		return err
	}
	defer w.Close()
	log := w.Log.With().Str("graph", cfg.GraphName).Str("model", cfg.Model).Logger()
	m := newMetrics(rt.Registry)
	if err := w.Started(ctx, fmt.Sprintf("training %s on graph %s", cfg.Model, cfg.GraphName)); err != nil {
		return err
	}
	start := time.Now()
	work := w.Work()

	ds, err := ReadDataset(work, st, cfg.GraphName, cfg.Causal)
	if err != nil {
		// A graph that does not exist or does not hold together stays so:
		// only a store outage is worth a retry.
		return w.End(ctx, store.Permanent(err), nil)
	}
	g := ds.Graph
	labelled := make([]bool, g.N)
	nLabelled := 0
	for i, y := range g.Y {
		labelled[i] = y >= 0
		if labelled[i] {
			nLabelled++
		}
	}
	split, cuts, err := gnn.ChronologicalSplit(g.Time, labelled, cfg.TrainFrac, cfg.ValFrac)
	if err != nil {
		return w.End(ctx, protocol.Permanent(fmt.Errorf("split graph %s: %w", cfg.GraphName, err)), nil)
	}
	prov := Provenance{QueueID: cfg.QueueID, Graph: cfg.GraphName, GraphKind: ds.Meta.Kind, GraphQueueID: ds.Meta.QueueID,
		Symbols: ds.Meta.Symbols, Interval: ds.Meta.Interval, TimeRange: ds.Meta.TimeRange, Nodes: g.N, Edges: ds.EdgeCount,
		Labelled: nLabelled, Split: SplitInfo{Train: len(split.Train), Val: len(split.Val), Test: len(split.Test),
			ValFrom: msTime(cuts.ValFrom), TestFrom: msTime(cuts.TestFrom)}}
	log.Info().Int("nodes", g.N).Int("edges", prov.Edges).Int("train", prov.Split.Train).Int("val", prov.Split.Val).
		Int("test", prov.Split.Test).Str("val_from", prov.Split.ValFrom).Str("test_from", prov.Split.TestFrom).Msg("graph read")

	progress := func(e gnn.Epoch) error {
		m.epochs.Inc()
		m.epochDur.Observe(e.Duration.Seconds())
		m.loss.WithLabelValues("train").Set(e.TrainLoss)
		m.loss.WithLabelValues("val").Set(e.ValLoss)
		elapsed := time.Since(start).Seconds()
		p := telemetry.ProgressInfo{Records: int64(e.N), Percent: 100 * float64(e.N) / float64(cfg.Epochs),
			Message: fmt.Sprintf("epoch %d/%d: train loss %.4f acc %.3f, val loss %.4f acc %.3f", e.N, cfg.Epochs, e.TrainLoss, e.TrainAcc, e.ValLoss, e.ValAcc),
			Rate:    float64(e.N) / max(elapsed, 1e-9)}
		p.ETASeconds = float64(cfg.Epochs-e.N) / max(p.Rate, 1e-9)
		p.Percent = min(p.Percent, 99)
		if err := w.Events.ProgressWith(work, p); err != nil && work.Err() == nil {
			log.Warn().Err(err).Msg("progress event not sent")
		}
		return nil
	}
	model, hist, err := gnn.Train(work, g, split, cfg.gnnConfig(), progress)
	if err != nil {
		if stopped, _ := w.Stopped(); stopped && model != nil {
			saveCheckpoint(ctx, cfg, obj, ds, prov, model, hist, log)
		}
		return w.End(ctx, computeFailed(work, fmt.Errorf("train %s: %w", cfg.Model, err)), nil)
	}

	rep, err := model.Evaluate(g, split)
	if err != nil {
		return w.End(ctx, computeFailed(work, fmt.Errorf("evaluate: %w", err)), nil)
	}
	maj, err := gnn.Majority(g.Y, split)
	if err != nil {
		return w.End(ctx, computeFailed(work, fmt.Errorf("majority baseline: %w", err)), nil)
	}
	lrModel, _, err := gnn.LogisticRegression(work, g, split, cfg.gnnConfig(), nil)
	if err != nil {
		return w.End(ctx, computeFailed(work, fmt.Errorf("logistic regression baseline: %w", err)), nil)
	}
	lrRep, err := lrModel.Evaluate(g, split)
	if err != nil {
		return w.End(ctx, computeFailed(work, fmt.Errorf("evaluate logistic regression: %w", err)), nil)
	}
	base := map[string]Scores{"majority": scores(maj), "logistic_regression": scores(lrRep)}
	sc := scores(rep)
	beats, why := verdict(cfg.Model, sc, base)
	for name, r := range map[string]gnn.Report{"gnn": rep, "majority": maj, "logistic_regression": lrRep} {
		m.accuracy.WithLabelValues(name, "test").Set(r.Test.Accuracy)
		m.accuracy.WithLabelValues(name, "val").Set(r.Val.Accuracy)
	}

	keys, err := saveArtifacts(work, cfg, obj, ds, prov, model, hist, sc, base, beats, why, "")
	if err != nil {
		return w.End(ctx, err, nil)
	}
	res := Result{Model: cfg.Model, Graph: cfg.GraphName, Epochs: len(hist.Epochs), BestEpoch: hist.Best, Split: prov.Split,
		Test: sc.Test, Baselines: map[string]Score{}, BeatsBaselines: beats, Verdict: why, Artifacts: map[string]string{},
		Seconds: time.Since(start).Seconds(), Curve: curve(hist, MaxCurvePoints)}
	for name, s := range base {
		res.Baselines[name] = s.Test
	}
	for name, key := range keys {
		res.Artifacts[name] = obj.Location(key)
	}
	return w.End(ctx, nil, func(tctx context.Context) error {
		log.Info().Int("epochs", res.Epochs).Int("best_epoch", res.BestEpoch).Str("verdict", why).
			Str("model_at", res.Artifacts["model"]).Float64("seconds", res.Seconds).Msg("finished")
		return w.Events.FinishedWith(tctx, int64(len(hist.Epochs)), why+"; model at "+res.Artifacts["model"], res)
	})
}

// saveArtifacts stores model.json, metrics.json and the training curve under
// the run's prefix (plus sub, e.g. CheckpointDir) and returns their keys.
func saveArtifacts(ctx context.Context, cfg *Config, obj objstore.Store, ds *Dataset, prov Provenance, model *gnn.Model,
	hist gnn.History, sc Scores, base map[string]Scores, beats bool, why, sub string) (map[string]string, error) {
	raw, err := json.Marshal(model)
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	prefix := cfg.Prefix + sub
	keys := map[string]string{"model": prefix + ModelFile, "metrics": prefix + MetricsFile, "curve": prefix + CurveFile}
	body := ModelFileBody{Format: ModelFormat, Checkpoint: sub != "", Created: time.Now().UTC(), Features: ds.Meta.Features,
		Causal: ds.Graph.Directed, Training: cfg.Training, Provenance: prov, Model: raw}
	if err := putJSON(ctx, obj, keys["model"], body); err != nil {
		return nil, err
	}
	mb := MetricsFileBody{Model: cfg.Model, Epochs: epochs(hist), BestEpoch: hist.Best, StoppedEarly: hist.StoppedEarly,
		Split: prov.Split, Scores: sc, Baselines: base, BeatsBaselines: beats, Verdict: why}
	if err := putJSON(ctx, obj, keys["metrics"], mb); err != nil {
		return nil, err
	}
	if len(hist.Epochs) == 0 {
		delete(keys, "curve")
		return keys, nil
	}
	title := fmt.Sprintf("%s on %s", strings.ToUpper(cfg.Model), cfg.GraphName)
	if err := putCurve(ctx, obj, keys["curve"], hist, title); err != nil {
		return nil, err
	}
	return keys, nil
}

// saveCheckpoint stores what a stopped run had, best effort: the stop is
// reported either way.
func saveCheckpoint(ctx context.Context, cfg *Config, obj objstore.Store, ds *Dataset, prov Provenance, model *gnn.Model,
	hist gnn.History, log zerolog.Logger) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	keys, err := saveArtifacts(cctx, cfg, obj, ds, prov, model, hist, Scores{}, nil, false, "stopped before the end: not evaluated", CheckpointDir)
	if err != nil {
		log.Error().Err(err).Msg("checkpoint not saved")
		return
	}
	log.Info().Str("checkpoint", obj.Location(keys["model"])).Int("epochs", len(hist.Epochs)).Msg("stopped: checkpoint saved")
}

func msTime(ms int64) string {
	if ms == math.MaxInt64 || ms == math.MinInt64 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// computeFailed marks err, a failure of training or evaluation on a graph
// already read, permanent unless work was stopped: the computation is a
// function of the graph and the configuration (seeded), so a retry fails
// the same way.
func computeFailed(work context.Context, err error) error {
	if work.Err() != nil {
		return err
	}
	return protocol.Permanent(err)
}
