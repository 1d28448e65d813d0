package loader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/worker"
)

// Options describe the service running the engine.
type Options struct {
	Service string // e.g. loader-producer
	Kinds   []Kind // the data kinds the service loads
}

// Run loads the task cfg describes (or the start command it waits for) into
// its data topic. It ends with one terminal event: finished when the range
// is loaded, interrupted on a stop command or a signal (after publishing
// what was fetched), error — and a non-nil result, so the process exits
// non-zero — when the task is invalid or Binance or Kafka fail for good.
func Run(ctx context.Context, rt *service.Runtime, cfg *Config, o Options) error {
	task := cfg.task()
	topic := task.KafkaTopic
	if topic == "" {
		topic = protocol.DataTopic(task.QueueID)
	}
	w, err := worker.Start(ctx, rt, cfg.Config, task, cfg.SigningSettings.Apply(worker.Options{
		Service: o.Service, HeartbeatInterval: cfg.HeartbeatInterval, ControlLookback: cfg.ControlLookback,
		CreateTopics: cfg.CreateTopics, Topics: dataTopics(cfg, topic), StartWait: cfg.StartWait,
		Producer: bus.ProducerOptions{BatchBytes: cfg.ProduceBytes, Compression: cfg.Compression},
	}))
	if err != nil {
		return err
	}
	defer w.Close()

	if task.Symbol == "" || task.Type == "" {
		if task, err = awaitStart(w, cfg, task); err != nil {
			return w.End(ctx, err, nil)
		}
		w.Events.SetSubject(task.Symbol, task.Type)
	}
	job, err := ParseJob(task, o.Kinds, time.Now())
	if err != nil {
		return w.End(ctx, protocol.Permanent(err), nil) // the task itself is wrong
	}
	if cfg.CreateTopics && job.Topic != topic {
		if err := w.Admin.EnsureTopics(ctx, dataTopics(cfg, job.Topic)...); err != nil {
			return w.End(ctx, err, nil)
		}
	}
	log := w.Log.With().Str("type", job.Type.String()).Strs("symbols", job.Symbols).Str("topic", job.Topic).Logger()
	m := newMetrics(rt.Registry)
	client := newClient(cfg, m, log)
	info, err := client.ExchangeInfo(w.Work(), job.Symbols...)
	if err == nil {
		err = protocol.Permanent(info.Validate(job.Symbols...)) // the exchange said so: retrying will not change it
	}
	if err != nil {
		if apiErr, ok := errors.AsType[*binance.APIError](err); ok && apiErr.Code == -1121 {
			err = protocol.Permanent(fmt.Errorf("SYMBOL: %s: not a symbol on the exchange (%s)", strings.Join(job.Symbols, ","), apiErr.Msg))
		} else if !errors.Is(err, context.Canceled) {
			err = exchangeError(cfg.RESTURL, err)
		}
		return w.End(ctx, err, nil)
	}
	if info.ServerTime > 0 {
		// What is final is decided by the exchange's clock; a local clock
		// ahead of it would let the open candle in.
		now := time.Now()
		if server := time.UnixMilli(info.ServerTime); server.Before(now) {
			now = server
		}
		job.ClampTo(now)
	}
	budget := info.WeightPerMinute()
	if cfg.WeightLimit > 0 && (budget == 0 || cfg.WeightLimit < budget) {
		budget = cfg.WeightLimit
	}
	if budget > 0 {
		client.Limiter().SetBudget(budget)
	}
	// Other loaders may share the IP's budget (one egress address on a
	// cluster): leave them a margin.
	client.Limiter().SetMargin(client.Limiter().Budget() * cfg.WeightMargin / 100)
	m.weightBudget.Set(float64(client.Limiter().Budget()))

	if job.Type.Kind.Live() {
		return runLive(ctx, w, cfg, job, client, m, log)
	}
	return runHistory(ctx, w, cfg, job, client, m, log)
}

func dataTopics(cfg *Config, topic string) []bus.TopicSpec {
	return []bus.TopicSpec{{Name: topic, Partitions: cfg.TopicPartitions}}
}

// awaitStart waits for the start command of the task and completes task
// with it.
func awaitStart(w *worker.Worker, cfg *Config, task protocol.Task) (protocol.Task, error) {
	w.Log.Info().Dur("timeout", cfg.StartTimeout).Msg("SYMBOL or TYPE empty: waiting for a start command on " + protocol.TopicControl)
	t := time.NewTimer(cfg.StartTimeout)
	defer t.Stop()
	select {
	case cmd := <-w.Control.Starts():
		task.Symbol, task.Type, task.TimeRange = cmd.Symbol, cmd.Type, cmd.TimeRange
		if cmd.KafkaTopic != "" {
			task.KafkaTopic = cmd.KafkaTopic
		}
		if cmd.CollectionName != "" {
			task.CollectionName = cmd.CollectionName
		}
		if task.RunID == "" && cmd.RunID != "" {
			task.RunID = cmd.RunID
			w.SetRunID(cmd.RunID)
		}
		return task, nil
	case <-t.C:
		return task, fmt.Errorf("no start command for %s within LOADER_START_TIMEOUT=%s, and SYMBOL or TYPE is empty", task.QueueID, cfg.StartTimeout)
	case <-w.Work().Done():
		return task, w.Work().Err()
	}
}

func newClient(cfg *Config, m *metrics, log zerolog.Logger) *binance.Client {
	return binance.NewClient(cfg.RESTURL, binance.ClientOptions{
		MaxAttempts:  cfg.MaxAttempts,
		BackoffFirst: 500 * time.Millisecond,
		BackoffMax:   cfg.BackoffMax,
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
		OnRetry:      func(r binance.RetryInfo) { logRetry(log, cfg.RESTURL, r) },
		Observer: func(r binance.RequestInfo) {
			m.requests.WithLabelValues(r.Endpoint, strconv.Itoa(r.Status)).Inc()
			if r.UsedWeight >= 0 {
				m.weightUsed.Set(float64(r.UsedWeight))
			}
			if r.Status == http.StatusTooManyRequests || r.Status == http.StatusTeapot {
				m.rateLimited.WithLabelValues(strconv.Itoa(r.Status)).Inc()
			}
		},
	})
}

// runHistory loads a historical job, resuming after what its data topic
// already holds.
func runHistory(ctx context.Context, w *worker.Worker, cfg *Config, job Job, client *binance.Client, m *metrics, log zerolog.Logger) error {
	work := w.Work()
	rs, err := resumePoints(work, w.Kafka, w.Admin, job.Topic, job.Symbols, cfg.BatchSize)
	if err != nil {
		return w.End(ctx, fmt.Errorf("read back %s to resume: %w", job.Topic, err), nil)
	}
	prog := newProgress(job.Start, job.End, rs.records)
	w.Events.SetRecords(rs.records)
	msg := fmt.Sprintf("loading %s %s %s into %s", strings.Join(job.Symbols, ","), job.Type, span(job.Start.UnixMilli(), job.End.UnixMilli()), job.Topic)
	if len(rs.from) > 0 {
		msg += fmt.Sprintf(", resuming after %d records already there", rs.records)
	}
	if job.Clamped {
		msg += " (range cut at now)"
	}
	if err := w.Started(ctx, msg); err != nil {
		return err
	}
	for sym, from := range rs.from {
		log.Info().Str("symbol", sym).Time("resume_from", time.UnixMilli(from).UTC()).Int64("records_in_topic", rs.records).Msg("resuming")
	}
	h := &history{
		job: job, rest: client, arch: binance.NewArchive(cfg.ArchiveURL, &http.Client{Timeout: 30 * time.Minute}, cfg.TmpDir).WithMaxBytes(cfg.ArchiveMaxMB << 20),
		out: w.Producer, concurrency: cfg.Concurrency, batchSize: cfg.BatchSize, useArchives: cfg.Archives, checkEdges: cfg.CrossCheck,
		now: time.Now(), m: m, prog: prog, log: log,
	}
	// The reporter is stopped and waited for before the terminal event, so
	// that no progress event follows it.
	reportCtx, stopReports := context.WithCancel(work)
	var reports sync.WaitGroup
	defer func() { stopReports(); reports.Wait() }()
	reports.Go(func() { reportProgress(reportCtx, w, prog, len(job.Symbols), cfg.ProgressInterval, m) })
	began := time.Now()
	err = h.run(work, rs.from)
	stopReports()
	reports.Wait()
	w.Events.SetRecords(prog.total())
	return w.End(ctx, err, func(tctx context.Context) error {
		info := prog.report(time.Now(), len(job.Symbols))
		info.Percent, info.ETASeconds = 100, 0
		if err := w.Events.ProgressWith(tctx, info); err != nil {
			log.Warn().Err(err).Msg("progress event not sent")
		}
		total := prog.total()
		d := time.Since(began)
		log.Info().Int64("records", total).Int64("this_run", prog.records).Dur("took", d).Msg("finished")
		m.percent.Set(100)
		return w.Events.FinishedWith(tctx, total, fmt.Sprintf("loaded %s %s %s: %d records (%d in this run, %.0f/s)",
			strings.Join(job.Symbols, ","), job.Type, span(job.Start.UnixMilli(), job.End.UnixMilli()), total, prog.records,
			float64(prog.records)/max(d.Seconds(), 1e-3)), coverageResult(h.ledgers()))
	})
}

// reportProgress sends a progress event every interval while something
// changed.
func reportProgress(ctx context.Context, w *worker.Worker, p *progress, nsyms int, every time.Duration, m *metrics) {
	t := time.NewTicker(every)
	defer t.Stop()
	last := p.total() // nothing new yet: no event
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			info := p.report(now, nsyms)
			m.percent.Set(info.Percent)
			if info.Records == last {
				continue
			}
			last = info.Records
			if err := w.Events.ProgressWith(ctx, info); err != nil && ctx.Err() == nil {
				w.Log.Warn().Err(err).Msg("progress event not sent")
			}
		}
	}
}
