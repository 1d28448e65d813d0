package loader_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/loader"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/testkit"
)

// TestUnknownSymbolIsPermanent: a symbol the exchange does not list ends
// the loader with an error event marked permanent, naming the symbol; a
// relaunch could not fix it.
func TestUnknownSymbolIsPermanent(t *testing.T) {
	kafka := bustest.Embedded(t, embedded.Options{})
	sim := binancesim.New(binancesim.Options{})
	url, stop := sim.Start()
	t.Cleanup(stop)
	q := testkit.QueueID(t, "XRPUSDT", "api_candles_1m")
	cfg := &loader.Config{
		Config:  kafka,
		QueueID: q, Symbol: "XRPUSDT", Type: "api_candles_1m", TimeRange: "2024-03-01:2024-03-02",
		RESTURL: url, ArchiveURL: url, WSURL: "ws" + url[len("http"):],
		Concurrency: 1, BatchSize: 500, Compression: "none", ProduceBytes: 921600, MaxAttempts: 1, BackoffMax: time.Second,
		SnapshotLimit: 1000, SnapshotEvery: time.Minute, EndGrace: time.Second, TmpDir: t.TempDir(), StartTimeout: time.Minute,
		ProgressInterval: time.Second, HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true,
	}
	bustest.Topics(t, kafka, 1, protocol.TopicControl, protocol.TopicEvents)
	ev := testkit.WatchEvents(t, kafka, q)
	rt := &service.Runtime{Name: "loader-api-candles", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	err := loader.Run(context.Background(), rt, cfg, loader.Options{Service: "loader-api-candles", Kinds: []loader.Kind{loader.APICandles}})
	if err == nil {
		t.Fatal("Run = nil for a symbol the exchange does not list")
	}
	e := ev.WaitFor(t, protocol.StatusError, 10*time.Second)
	if !e.Permanent || !e.Finished || !strings.Contains(e.Error, "XRPUSDT") {
		t.Errorf("error event %+v, want a terminal, permanent error naming XRPUSDT", e)
	}
}
