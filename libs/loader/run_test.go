package loader_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
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

// TestRunLiveResumesAndEndsWithTheRange: a relaunched ws_trades loader
// whose data topic already holds part of its range continues after the
// topic's last trade, fetches what it missed over REST, and finishes at the
// range's end with every trade of the range exactly once.
func TestRunLiveResumesAndEndsWithTheRange(t *testing.T) {
	kafka := bustest.Embedded(t, embedded.Options{})
	sim := binancesim.New(binancesim.Options{})
	url, stop := sim.Start()
	t.Cleanup(stop)
	now := time.Now().UTC()
	start, end := now.Add(-20*time.Second).Truncate(time.Second), now.Add(3*time.Second).Truncate(time.Second)
	before, err := sim.Market().AggTrades("BTCUSDT", start, now)
	if err != nil || len(before) < 4 {
		t.Fatalf("%d trades in the range so far (%v), want 4 or more", len(before), err)
	}
	last := before[len(before)/2] // where the previous run stopped

	q := testkit.QueueID(t, "BTCUSDT", "ws_trades")
	topic := protocol.DataTopic(q)
	bustest.Topics(t, kafka, 1, protocol.TopicControl, protocol.TopicEvents, topic)
	prev := binance.AggTrade{Symbol: "BTCUSDT", Time: last.Time, AggID: last.ID, Price: float64(last.Price) / 1e8,
		Qty: float64(last.Qty) / 1e8, FirstID: last.FirstTradeID, LastID: last.LastTradeID, BuyerMaker: last.BuyerMaker}
	testkit.Publish(t, kafka, topic, "BTCUSDT", json.RawMessage(prev.AppendJSON(nil)))

	cfg := &loader.Config{
		Config:  kafka,
		QueueID: q, Symbol: "BTCUSDT", Type: "ws_trades", TimeRange: start.Format(time.RFC3339) + "/" + end.Format(time.RFC3339),
		RESTURL: url, ArchiveURL: url, WSURL: "ws" + url[len("http"):], Archives: true,
		Concurrency: 2, BatchSize: 500, Compression: "none", ProduceBytes: 921600, MaxAttempts: 3, BackoffMax: time.Second,
		SnapshotLimit: 1000, SnapshotEvery: time.Minute, EndGrace: time.Second, TmpDir: t.TempDir(), StartTimeout: time.Minute,
		ProgressInterval: time.Second, HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true,
	}
	ev := testkit.WatchEvents(t, kafka, q)
	rt := &service.Runtime{Name: "loader-producer", Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
	if err := loader.Run(context.Background(), rt, cfg, loader.Options{Service: "loader-producer", Kinds: []loader.Kind{loader.WSTrades}}); err != nil {
		t.Fatalf("Run = %v", err)
	}
	ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)

	inRange, err := sim.Market().AggTrades("BTCUSDT", start, end)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, a := range inRange {
		if a.ID >= last.ID && a.Time < end.UnixMilli() {
			want = append(want, a.ID)
		}
	}
	var got []int64
	for _, rec := range topicRecords(t, kafka, topic) {
		var a binance.AggTrade
		if err := json.Unmarshal(rec, &a); err != nil || a.AggID == 0 {
			t.Fatalf("not a trade: %s (%v)", rec, err)
		}
		got = append(got, a.AggID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("trade ids in the topic\n got %v\nwant %v (from the topic's last before the run to the range's end)", got, want)
	}
}

// topicRecords returns the values in partition 0 of topic, in order.
func topicRecords(t *testing.T, cfg bus.Config, topic string) []json.RawMessage {
	t.Helper()
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := a.EndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	if err := bus.ReadRange(context.Background(), cfg, topic, 0, 0, ends[0], func(m bus.Message) error {
		out = append(out, append(json.RawMessage(nil), m.Value...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
