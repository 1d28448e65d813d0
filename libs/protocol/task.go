package protocol

import (
	"errors"
	"fmt"
)

// Task is what a worker is asked to do, as passed to a Kubernetes Job in its
// environment. The same fields travel in a start Command.
type Task struct {
	QueueID        string `envconfig:"QUEUE_ID" desc:"the task's queue id, e.g. wf-btcusdt-api_candles_5m-20240801-a1b2c3"`
	Symbol         string `envconfig:"SYMBOL" desc:"exchange symbol, e.g. BTCUSDT; a comma-separated list for steps over several (graph, train)"`
	Type           string `envconfig:"TYPE" desc:"data type, e.g. api_candles_5m"`
	TimeRange      string `envconfig:"TIME_RANGE" desc:"YYYY-MM-DD:YYYY-MM-DD (end exclusive) or <RFC 3339>/<RFC 3339>"`
	KafkaTopic     string `envconfig:"KAFKA_TOPIC" desc:"the task's data topic (default <queue_id>-data)"`
	CollectionName string `envconfig:"COLLECTION_NAME" desc:"store collection for the task's records"`
	TelemetryID    string `envconfig:"TELEMETRY_ID" desc:"this worker's name in queue-events, <service>__<6 hex>"`
	RunID          string `envconfig:"RUN_ID" desc:"the run (attempt) of the task this worker is, carried in every event it sends (set by queue-manager)"`
}

// Validate checks the fields that are set and that QUEUE_ID is. It reports
// every problem (errors.Join), each naming the environment variable.
func (t Task) Validate() error {
	var errs []error
	if err := validateQueueID("queue_id", t.QueueID); err != nil {
		errs = append(errs, fmt.Errorf("QUEUE_ID: %s", err.(*FieldError).Problem))
	}
	checks := []struct {
		name, val string
		fn        func(string) error
	}{
		{"SYMBOL", t.Symbol, ValidateSymbols},
		{"TYPE", t.Type, ValidateType},
		{"KAFKA_TOPIC", t.KafkaTopic, ValidateTopic},
		{"COLLECTION_NAME", t.CollectionName, ValidateCollection},
		{"TELEMETRY_ID", t.TelemetryID, ValidateTelemetryID},
		{"TIME_RANGE", t.TimeRange, func(s string) error { _, err := ParseTimeRange(s); return err }},
	}
	for _, c := range checks {
		if c.val == "" {
			continue
		}
		if err := c.fn(c.val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// StartCommand returns the start command that carries t to target.
func (t Task) StartCommand(target string, ts float64) Command {
	return Command{
		Command: CommandStart, QueueID: t.QueueID, Target: target, Symbol: t.Symbol, Type: t.Type,
		TimeRange: t.TimeRange, KafkaTopic: t.KafkaTopic, CollectionName: t.CollectionName,
		TelemetryID: t.TelemetryID, RunID: t.RunID, Timestamp: ts,
	}
}
