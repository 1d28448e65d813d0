package loader

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/worker"
)

// Config is a loader's environment. The task variables are read here but
// checked by Run, after the loader is on queue-events, so that a bad task
// is reported there and not only in the log.
type Config struct {
	service.Common
	bus.Config

	QueueID        string `envconfig:"QUEUE_ID" desc:"the task's queue id, e.g. wf-btcusdt-api_candles_5m-20240801-a1b2c3"`
	Symbol         string `envconfig:"SYMBOL" desc:"exchange symbol(s), comma-separated, e.g. BTCUSDT or BTCUSDT,ETHUSDT; empty: wait for a start command"`
	Type           string `envconfig:"TYPE" desc:"api_candles_<interval>, api_trades, ws_trades, ws_orderbook, ws_candles_<interval>, ws_book_ticker or ws_depth<levels>; empty: wait for a start command"`
	TimeRange      string `envconfig:"TIME_RANGE" desc:"YYYY-MM-DD:YYYY-MM-DD (end exclusive) or <RFC 3339>/<RFC 3339>; optional for ws_* (run until stopped)"`
	KafkaTopic     string `envconfig:"KAFKA_TOPIC" desc:"the task's data topic (default <queue_id>-data)"`
	CollectionName string `envconfig:"COLLECTION_NAME" desc:"store collection of the task (passed on; the loader does not use it)"`
	TelemetryID    string `envconfig:"TELEMETRY_ID" desc:"this worker's name in queue-events, <service>__<6 hex>"`
	RunID          string `envconfig:"RUN_ID" desc:"the run (attempt) of the task this worker is, carried in every event it sends (set by queue-manager)"`

	RESTURL    string `envconfig:"BINANCE_REST_URL" default:"https://api.binance.com" desc:"Binance REST API (or data-api.binance.vision, or the simulator)"`
	WSURL      string `envconfig:"BINANCE_WS_URL" default:"wss://stream.binance.com:9443" desc:"Binance WebSocket streams"`
	ArchiveURL string `envconfig:"BINANCE_ARCHIVE_URL" default:"https://data.binance.vision" desc:"Binance bulk archives"`

	Archives      bool          `envconfig:"LOADER_ARCHIVES" default:"true" desc:"take whole days and months from the bulk archives (REST for the edges)"`
	CrossCheck    bool          `envconfig:"LOADER_CROSS_CHECK" default:"true" desc:"compare the candle archives of the range's first and last day with REST, hour by hour (count and checksum), and mark the hours that disagree degraded in the coverage ledger (a REST request or two per symbol)"`
	Concurrency   int           `envconfig:"LOADER_CONCURRENCY" default:"4" desc:"chunks downloaded at once"`
	BatchSize     int           `envconfig:"LOADER_BATCH_SIZE" default:"10000" desc:"records per Kafka send (also the read-back window when resuming)"`
	Compression   string        `envconfig:"KAFKA_COMPRESSION" default:"none" desc:"data-topic compression: none, gzip, snappy, lz4 or zstd"`
	ProduceBytes  int64         `envconfig:"KAFKA_BATCH_BYTES" default:"921600" desc:"most bytes of one partition's batch in a produce request (it must stay under the broker's message.max.bytes)"`
	WeightLimit   int           `envconfig:"BINANCE_WEIGHT_LIMIT" default:"0" desc:"request weight per minute to stay under (0: the exchange's REQUEST_WEIGHT limit)"`
	WeightMargin  int           `envconfig:"BINANCE_WEIGHT_MARGIN_PERCENT" default:"10" desc:"percent of the weight budget left unused, for other loaders behind the same IP: each learns the others' use from X-MBX-USED-WEIGHT-1M one answer late, so the margin should cover about loaders x LOADER_CONCURRENCY x 4 (an aggTrades page)"`
	MaxAttempts   int           `envconfig:"BINANCE_MAX_ATTEMPTS" default:"8" desc:"tries per REST request before the loader gives up with an error"`
	BackoffMax    time.Duration `envconfig:"BINANCE_BACKOFF_MAX" default:"30s" desc:"largest wait between retries of a failed request"`
	BookDepth     int           `envconfig:"LOADER_BOOK_DEPTH" default:"0" desc:"levels per side in published order-book snapshots (0: the whole book, so that snapshot plus diffs rebuild exactly the loader's book)"`
	SnapshotLimit int           `envconfig:"LOADER_SNAPSHOT_LIMIT" default:"1000" desc:"levels per side of the REST depth snapshot used to sync the book"`
	SnapshotEvery time.Duration `envconfig:"LOADER_SNAPSHOT_INTERVAL" default:"1m" desc:"how often a synced book is published as a snapshot record"`
	EndGrace      time.Duration `envconfig:"LOADER_END_GRACE" default:"10s" desc:"with a TIME_RANGE, how long ws_trades and ws_candles keep streaming after the range ends (after its last candle closes) for the last events; what is still missing is then fetched over REST"`
	ArchiveMaxMB  int64         `envconfig:"LOADER_ARCHIVE_MAX_MB" default:"2048" desc:"largest bulk archive downloaded, in MiB: a larger one fails the load (0: no limit)"`
	TmpDir        string        `envconfig:"LOADER_TMP_DIR" desc:"where archives are spooled (default: the system's temporary directory)"`
	StartTimeout  time.Duration `envconfig:"LOADER_START_TIMEOUT" default:"5m" desc:"how long to wait for a start command when SYMBOL or TYPE is empty"`

	ProgressInterval  time.Duration `envconfig:"PROGRESS_INTERVAL" default:"2s" desc:"least time between progress events"`
	HeartbeatInterval time.Duration `envconfig:"HEARTBEAT_INTERVAL" default:"10s" desc:"time between heartbeat events"`
	ControlLookback   time.Duration `envconfig:"CONTROL_LOOKBACK" default:"24h" desc:"how far back in queue-control to look for this task's commands"`
	CreateTopics      bool          `envconfig:"KAFKA_CREATE_TOPICS" default:"true" desc:"create the data topic (and queue-control, queue-events) when missing"`
	StartWait         time.Duration `envconfig:"KAFKA_START_WAIT" default:"3m" desc:"how long the start waits for Kafka to answer and its topics to have leaders; wrong credentials, denied access and TLS errors fail at once"`
	TopicPartitions   int           `envconfig:"DATA_TOPIC_PARTITIONS" default:"0" desc:"partitions of a data topic the loader creates (0: broker default)"`
	worker.SigningSettings
}

// Validate checks what the loader needs before it can report anything. It
// reports every problem (errors.Join), each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if c.QueueID == "" {
		errs = append(errs, errors.New("QUEUE_ID: is required"))
	} else if err := (protocol.Task{QueueID: c.QueueID}).Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"LOADER_CONCURRENCY", c.Concurrency}, {"LOADER_BATCH_SIZE", c.BatchSize}, {"BINANCE_MAX_ATTEMPTS", c.MaxAttempts},
		{"LOADER_SNAPSHOT_LIMIT", c.SnapshotLimit}} {
		if v.n < 1 {
			errs = append(errs, fmt.Errorf("%s: must be at least 1, got %d", v.name, v.n))
		}
	}
	errs = append(errs, c.SigningSettings.Validate())
	if c.ArchiveMaxMB < 0 {
		errs = append(errs, fmt.Errorf("LOADER_ARCHIVE_MAX_MB: must not be negative, got %d", c.ArchiveMaxMB))
	}
	if c.BookDepth < 0 {
		errs = append(errs, fmt.Errorf("LOADER_BOOK_DEPTH: must not be negative, got %d", c.BookDepth))
	}
	if c.EndGrace < 0 {
		errs = append(errs, fmt.Errorf("LOADER_END_GRACE: must not be negative, got %s", c.EndGrace))
	}
	if c.StartWait < 0 {
		errs = append(errs, fmt.Errorf("KAFKA_START_WAIT: must not be negative, got %s", c.StartWait))
	}
	if c.WeightLimit < 0 {
		errs = append(errs, fmt.Errorf("BINANCE_WEIGHT_LIMIT: must not be negative, got %d", c.WeightLimit))
	}
	if c.WeightMargin < 0 || c.WeightMargin > 90 {
		errs = append(errs, fmt.Errorf("BINANCE_WEIGHT_MARGIN_PERCENT: must be within 0..90, got %d", c.WeightMargin))
	}
	if c.SnapshotLimit > 5000 {
		errs = append(errs, fmt.Errorf("LOADER_SNAPSHOT_LIMIT: Binance serves at most 5000 levels, got %d", c.SnapshotLimit))
	}
	return errors.Join(errs...)
}

// task returns the task the environment describes.
func (c *Config) task() protocol.Task {
	return protocol.Task{QueueID: c.QueueID, Symbol: c.Symbol, Type: c.Type, TimeRange: c.TimeRange,
		KafkaTopic: c.KafkaTopic, CollectionName: c.CollectionName, TelemetryID: c.TelemetryID, RunID: c.RunID}
}
