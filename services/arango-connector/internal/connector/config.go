// Package connector is arango-connector: it moves one task's data topic into
// the store in large batches, idempotently (upsert by _key), committing Kafka
// offsets only after the store acknowledged the write. Bad records go to the
// dead-letter topic; a store outage is waited out without loss.
package connector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/worker"
)

// Name is the service name: the default target and telemetry_id prefix.
const Name = "arango-connector"

// StoreConfig names the store settings so they can be embedded beside
// bus.Config.
type StoreConfig = store.Config

// Config is arango-connector's environment.
type Config struct {
	service.Common
	bus.Config
	protocol.Task
	StoreConfig

	BatchSize         int           `envconfig:"CONNECTOR_BATCH_SIZE" default:"5000" desc:"most documents per store write"`
	BatchWait         time.Duration `envconfig:"CONNECTOR_BATCH_WAIT" default:"200ms" desc:"longest wait to fill a batch after its first record"`
	Group             string        `envconfig:"CONNECTOR_GROUP" desc:"consumer group (default arango-connector-<queue_id>)"`
	RetryMax          time.Duration `envconfig:"STORE_RETRY_MAX" default:"30s" desc:"longest wait between retries while the store is unavailable (retries never stop)"`
	ProgressInterval  time.Duration `envconfig:"PROGRESS_INTERVAL" default:"2s" desc:"least time between progress events"`
	HeartbeatInterval time.Duration `envconfig:"HEARTBEAT_INTERVAL" default:"10s" desc:"time between heartbeat events"`
	ControlLookback   time.Duration `envconfig:"CONTROL_LOOKBACK" default:"24h" desc:"how far back in queue-control and queue-events to look at start"`
	CreateTopics      bool          `envconfig:"KAFKA_CREATE_TOPICS" default:"false" desc:"create the dead-letter topic (and the data topic) when missing"`
	StartWait         time.Duration `envconfig:"KAFKA_START_WAIT" default:"3m" desc:"how long the start waits for Kafka to answer and its topics to have leaders; wrong credentials, denied access and TLS errors fail at once"`
	StopDrain         time.Duration `envconfig:"CONNECTOR_STOP_DRAIN" default:"20s" desc:"on a stop command, longest wait for the loader's end (finished, or stopped with its coverage ledger), for everything it wrote to be stored and for its ledger to be written before the interrupted event; 0 ends at once (a signal always does)"`
	Follow            bool          `envconfig:"CONNECTOR_FOLLOW" default:"false" desc:"never finish on the loader's finished event: keep consuming until stopped (live streams)"`
	worker.SigningSettings

	from, to int64 // TIME_RANGE in epoch ms; the whole time line without one
}

// ownRecords counts the task's own records in the store: its symbols' documents
// in its time range. The collection may hold other ranges too (market data is
// shared by every workflow whose data starts on the same day): they are not
// this task's.
func (c *Config) ownRecords(ctx context.Context, st store.Store) (int64, error) {
	var n int64
	for sym := range strings.SplitSeq(c.Symbol, ",") {
		k, err := st.CountRange(ctx, c.CollectionName, sym, c.from, c.to)
		if err != nil {
			return 0, fmt.Errorf("count %s of %s: %w", c.CollectionName, sym, err)
		}
		n += k
	}
	return n, nil
}

// Validate checks the settings and reports every problem (errors.Join),
// each naming its variable. It fills the defaults derived from QUEUE_ID.
func (c *Config) Validate() error {
	if c.QueueID == "" {
		return errors.New("QUEUE_ID: is required") // every default derives from it
	}
	var errs []error
	if c.KafkaTopic == "" {
		c.KafkaTopic = protocol.DataTopic(c.QueueID)
	}
	q, qerr := protocol.ParseQueueID(c.QueueID)
	if c.TimeRange != "" {
		tr, err := protocol.ParseTimeRange(c.TimeRange)
		if err != nil {
			errs = append(errs, fmt.Errorf("TIME_RANGE: %w", err))
		}
		c.from, c.to = tr.Start.UnixMilli(), tr.End.UnixMilli()
	} else {
		c.from, c.to = math.MinInt64, math.MaxInt64
	}
	if c.Symbol == "" && qerr == nil {
		c.Symbol = q.Symbol
	}
	if err := protocol.ValidateSymbols(c.Symbol); err != nil {
		errs = append(errs, fmt.Errorf("SYMBOL: %w (the symbols whose records the task stores)", err))
	}
	if c.CollectionName == "" {
		if qerr != nil {
			errs = append(errs, fmt.Errorf("COLLECTION_NAME: is required when QUEUE_ID is not a workflow id (%v)", qerr))
		} else {
			// The data's first day: TIME_RANGE's start, else the queue id's
			// day (when TIME_RANGE does not parse, reported above).
			day, _ := protocol.DataDay(c.TimeRange, q.Day)
			c.CollectionName = protocol.CollectionName(q.Symbol, q.Type, day)
		}
	}
	if c.Group == "" {
		c.Group = Name + "-" + c.QueueID
	}
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		errs = append(errs, fmt.Errorf("CONNECTOR_BATCH_SIZE: want 1..100000, got %d", c.BatchSize))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"CONNECTOR_BATCH_WAIT", c.BatchWait}, {"STORE_RETRY_MAX", c.RetryMax}, {"PROGRESS_INTERVAL", c.ProgressInterval},
		{"HEARTBEAT_INTERVAL", c.HeartbeatInterval},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", d.name, d.v))
		}
	}
	if c.StartWait < 0 {
		errs = append(errs, fmt.Errorf("KAFKA_START_WAIT: must not be negative, got %s", c.StartWait))
	}
	if c.StopDrain < 0 {
		errs = append(errs, fmt.Errorf("CONNECTOR_STOP_DRAIN: must not be negative, got %s", c.StopDrain))
	}
	errs = append(errs, c.SigningSettings.Validate())
	return errors.Join(errs...)
}

// rangeText is TIME_RANGE for messages.
func (c *Config) rangeText() string {
	if c.TimeRange == "" {
		return "over all time"
	}
	return "in " + c.TimeRange
}
