package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// Header names on dead-letter messages.
const (
	HeaderReason    = "dlq.reason"
	HeaderTopic     = "dlq.source.topic"
	HeaderPartition = "dlq.source.partition"
	HeaderOffset    = "dlq.source.offset"
)

// sender sends messages; *bus.Producer satisfies it.
type sender interface {
	Send(ctx context.Context, msgs ...bus.Message) error
}

// sink writes batches of records to the store. It is called by one consumer
// goroutine at a time.
type sink struct {
	st         store.Store
	collection string
	dlq        sender
	dlqTopic   string
	em         *telemetry.Emitter
	m          *metrics
	log        zerolog.Logger
	retryMax   time.Duration
	progress   time.Duration

	written      atomic.Int64 // records this run stored
	outage       bool
	lastProgress time.Time
	docs         []json.RawMessage
}

// handle stores one batch and dead-letters the records the store rejected.
// It returns nil only when every record of the batch is either stored or in
// the dead-letter topic, so the consumer may commit the batch.
func (s *sink) handle(ctx context.Context, batch []bus.Message) error {
	s.docs = s.docs[:0]
	for _, m := range batch {
		s.docs = append(s.docs, m.Value)
	}
	start := time.Now()
	results, err := s.upsert(ctx, s.docs)
	if err != nil {
		return err
	}
	if len(results) != len(batch) {
		return fmt.Errorf("store answered %d results for %d documents", len(results), len(batch))
	}
	s.m.batchSeconds.Observe(time.Since(start).Seconds())
	s.m.batchSize.Observe(float64(len(batch)))

	var dead []bus.Message
	for i, r := range results {
		if r.Err != nil {
			dead = append(dead, s.deadLetter(batch[i], r.Err))
		}
	}
	if len(dead) > 0 {
		// The batch's offsets are committed after this returns nil, so the
		// rejected records must be in the dead-letter topic first.
		if err := s.dlq.Send(context.WithoutCancel(ctx), dead...); err != nil {
			return fmt.Errorf("dead-letter %d records: %w", len(dead), err)
		}
		s.m.rejected.Add(float64(len(dead)))
		s.log.Warn().Int("records", len(dead)).Str("first_reason", string(dead[0].Headers[0].Value)).Msg("records dead-lettered")
	}
	stored := int64(len(batch) - len(dead))
	s.m.written.Add(float64(stored))
	total := s.written.Add(stored)
	s.em.SetRecords(total)
	if now := time.Now(); now.Sub(s.lastProgress) >= s.progress {
		s.lastProgress = now
		if err := s.em.Progress(context.WithoutCancel(ctx), total, "stored "+strconv.FormatInt(total, 10)+" records"); err != nil {
			s.log.Warn().Err(err).Msg("progress event not sent")
		}
	}
	return nil
}

// upsert writes docs, retrying without end while the store is unavailable
// (capped, jittered exponential backoff) and reporting the outage once on
// queue-events. The write itself is not cancelled by ctx, so a stop lets the
// batch in flight finish; the waits between retries are.
func (s *sink) upsert(ctx context.Context, docs []json.RawMessage) ([]store.Result, error) {
	backoff := retry.Backoff{Base: 200 * time.Millisecond, Max: s.retryMax}
	for n := 0; ; n++ {
		res, err := s.st.Upsert(context.WithoutCancel(ctx), s.collection, docs)
		if err == nil {
			if s.outage {
				s.outage = false
				s.m.available.Set(1)
				s.log.Info().Msg("store is back")
			}
			return res, nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			// Not an outage: by the store's contract the same batch fails
			// the same way again, so the run ends for good.
			return nil, protocol.Permanent(fmt.Errorf("write %d documents to %s: %w", len(docs), s.collection, err))
		}
		s.m.retries.Inc()
		if !s.outage {
			s.outage = true
			s.m.available.Set(0)
			s.log.Error().Err(err).Msg("store unavailable: retrying until it is back")
			if eerr := s.em.Error(context.WithoutCancel(ctx), fmt.Errorf("store unavailable, retrying: %w", err), false); eerr != nil {
				s.log.Warn().Err(eerr).Msg("error event not sent")
			}
		}
		if !retry.Sleep(ctx, backoff.Delay(n)) {
			return nil, fmt.Errorf("store unavailable when stopped: %w", err)
		}
	}
}

func (s *sink) deadLetter(m bus.Message, reason error) bus.Message {
	return bus.Message{
		Topic: s.dlqTopic,
		Key:   m.Key,
		Value: m.Value,
		Headers: []bus.Header{
			{Key: HeaderReason, Value: []byte(reason.Error())},
			{Key: HeaderTopic, Value: []byte(m.Topic)},
			{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
			{Key: HeaderOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		},
	}
}

// metrics are the connector's own Prometheus metrics.
type metrics struct {
	written      prometheus.Counter
	rejected     prometheus.Counter
	retries      prometheus.Counter
	batchSize    prometheus.Histogram
	batchSeconds prometheus.Histogram
	lag          prometheus.Gauge
	available    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_connector_records_written_total", Help: "Records stored (upserted) in the store.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_connector_records_dead_lettered_total", Help: "Records the store rejected, sent to the dead-letter topic.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_connector_store_retries_total", Help: "Store writes retried because the store was unavailable.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamforge_connector_batch_size", Help: "Records per store write.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamforge_connector_batch_duration_seconds", Help: "Time for one store write.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_connector_consumer_lag", Help: "Records in the data topic not yet committed by the connector's group.",
		}),
		available: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_connector_store_available", Help: "1 while store writes succeed, 0 during an outage.",
		}),
	}
	m.available.Set(1)
	reg.MustRegister(m.written, m.rejected, m.retries, m.batchSize, m.batchSeconds, m.lag, m.available)
	return m
}
