package loader_test

import (
	"context"
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

// TestRunEndsItsGoroutinesBeforeTheTerminalEvent: a history load reports
// progress often; when Run returns, its progress reporter has ended, and
// no progress event follows the finished one.
func TestRunEndsItsGoroutinesBeforeTheTerminalEvent(t *testing.T) {
	kafka := bustest.Embedded(t, embedded.Options{})
	sim := binancesim.New(binancesim.Options{})
	url, stop := sim.Start()
	t.Cleanup(stop)
	q := testkit.QueueID(t, "BTCUSDT", "api_candles_1m")
	cfg := &loader.Config{
		Config:  kafka,
		QueueID: q, Symbol: "BTCUSDT", Type: "api_candles_1m", TimeRange: "2024-03-01:2024-03-04",
		RESTURL: url, ArchiveURL: url, WSURL: "ws" + url[len("http"):], Archives: true,
		Concurrency: 2, BatchSize: 500, Compression: "none", ProduceBytes: 921600, MaxAttempts: 3, BackoffMax: time.Second,
		SnapshotLimit: 1000, SnapshotEvery: time.Minute, EndGrace: time.Second, TmpDir: t.TempDir(), StartTimeout: time.Minute,
		ProgressInterval: time.Millisecond, HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true,
	}
	bustest.Topics(t, kafka, 1, protocol.TopicControl, protocol.TopicEvents)
	ev := testkit.WatchEvents(t, kafka, q)
	rt := &service.Runtime{Name: "loader-api-candles", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	if err := loader.Run(context.Background(), rt, cfg, loader.Options{Service: "loader-api-candles", Kinds: []loader.Kind{loader.APICandles}}); err != nil {
		t.Fatalf("Run = %v", err)
	}
	testkit.NoneRunning(t,
		"github.com/streamforge/streamforge/libs/loader.reportProgress",
		"github.com/streamforge/streamforge/libs/telemetry.(*Emitter).RunHeartbeats",
		"github.com/streamforge/streamforge/libs/control.(*Listener).Run",
	)
	ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // room for a late progress event to arrive
	var seenFinished bool
	for _, e := range ev.All() {
		switch {
		case e.Status == protocol.StatusFinished:
			seenFinished = true
		case seenFinished:
			t.Errorf("%s event after finished: %+v", e.Status, e)
		}
	}
}
