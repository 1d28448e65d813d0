package dummy

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// simulator produces a paced, batched fake load.
type simulator struct {
	cfg     *Config
	prod    *bus.Producer
	em      *telemetry.Emitter
	records prometheus.Counter
}

// load simulates records in batches until the configured total (nil error),
// until failAfter records (a *failAfterError), or until work is cancelled
// (its cause is returned after the current batch). It returns the records
// done.
func (s *simulator) load(work context.Context, failAfter int64) (int64, error) {
	limit := s.cfg.Records
	if failAfter > 0 {
		limit = failAfter
	}
	// Batches and events complete even when work is cancelled mid-batch: a
	// stop takes effect between batches.
	unit := context.WithoutCancel(work)
	start := time.Now()
	var done int64
	for done < limit {
		if work.Err() != nil {
			return done, context.Cause(work)
		}
		n := min(s.cfg.BatchSize, limit-done)
		if s.cfg.KafkaTopic != "" {
			if err := s.prod.Send(unit, s.batch(done, n)...); err != nil {
				return done, err
			}
		}
		done += n
		s.records.Add(float64(n))
		if err := s.em.Progress(unit, done, "simulated "+strconv.FormatInt(done, 10)+" of "+strconv.FormatInt(limit, 10)+" records"); err != nil {
			return done, err
		}
		if s.cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(done) / s.cfg.Rate * float64(time.Second)))
			select {
			case <-work.Done():
			case <-time.After(time.Until(due)):
			}
		}
	}
	if failAfter > 0 {
		return done, &failAfterError{records: done}
	}
	return done, nil
}

// batch builds records from..from+n as JSON documents with deterministic
// keys, keyed by symbol like real data topics.
func (s *simulator) batch(from, n int64) []bus.Message {
	symbol := s.cfg.Symbol
	if symbol == "" {
		symbol = "DUMMYUSDT"
	}
	now := time.Now().UnixMilli()
	msgs := make([]bus.Message, n)
	for i := range n {
		seq := from + i
		v := make([]byte, 0, 128)
		v = append(v, `{"_key":"`...)
		v = append(v, symbol...)
		v = append(v, "_dummy_"...)
		v = strconv.AppendInt(v, seq, 10)
		v = append(v, `","symbol":"`...)
		v = append(v, symbol...)
		v = append(v, `","seq":`...)
		v = strconv.AppendInt(v, seq, 10)
		v = append(v, `,"time":`...)
		v = strconv.AppendInt(v, now, 10)
		v = append(v, '}')
		msgs[i] = bus.Message{Topic: s.cfg.KafkaTopic, Key: []byte(symbol), Value: v}
	}
	return msgs
}
