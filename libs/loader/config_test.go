package loader

import (
	"strings"
	"testing"
)

// TestConfigValidateReportsEveryProblem: four bad variables are all named,
// not only the first.
func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Config{QueueID: "wf-btcusdt-api_candles_5m-20240801-a1b2c3", Concurrency: 0, BatchSize: 0, MaxAttempts: 8,
		SnapshotLimit: 1000, BookDepth: -1, WeightMargin: 95}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error naming four variables")
	}
	for _, name := range []string{"LOADER_CONCURRENCY: ", "LOADER_BATCH_SIZE: must be at least 1", "LOADER_BOOK_DEPTH: ", "BINANCE_WEIGHT_MARGIN_PERCENT: "} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Validate() = %q, want it to name %s", err, name)
		}
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != 4 {
		t.Errorf("Validate() reports %d problems, want 4:\n%v", got, err)
	}
}
