// Package connector is arango-connector: it moves one task's data topic into
// the store in large batches, idempotently (upsert by _key), committing Kafka
// offsets only after the store acknowledged the write. Bad records go to the
// dead-letter topic; a store outage is waited out without loss.
package connector

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
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
	Follow            bool          `envconfig:"CONNECTOR_FOLLOW" default:"false" desc:"never finish on the loader's finished event: keep consuming until stopped (live streams)"`
}

// Validate checks the settings; errors name the variable. It fills the
// defaults derived from QUEUE_ID.
func (c *Config) Validate() error {
	if c.QueueID == "" {
		return errors.New("QUEUE_ID: is required")
	}
	if c.KafkaTopic == "" {
		c.KafkaTopic = protocol.DataTopic(c.QueueID)
	}
	if c.CollectionName == "" {
		q, err := protocol.ParseQueueID(c.QueueID)
		if err != nil {
			return fmt.Errorf("COLLECTION_NAME: is required when QUEUE_ID is not a workflow id (%v)", err)
		}
		c.CollectionName = protocol.CollectionName(q.Symbol, q.Type, q.Day)
	}
	if c.Group == "" {
		c.Group = Name + "-" + c.QueueID
	}
	if c.BatchSize < 1 || c.BatchSize > 100_000 {
		return fmt.Errorf("CONNECTOR_BATCH_SIZE: want 1..100000, got %d", c.BatchSize)
	}
	for name, d := range map[string]time.Duration{
		"CONNECTOR_BATCH_WAIT": c.BatchWait, "STORE_RETRY_MAX": c.RetryMax, "PROGRESS_INTERVAL": c.ProgressInterval,
		"HEARTBEAT_INTERVAL": c.HeartbeatInterval,
	} {
		if d <= 0 {
			return fmt.Errorf("%s: must be positive, got %s", name, d)
		}
	}
	return nil
}
