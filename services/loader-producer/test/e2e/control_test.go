package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// command publishes a queue-control command for the task's loader.
func command(t testing.TB, cfg bus.Config, cmd protocol.Command) {
	t.Helper()
	cmd.Timestamp = protocol.Timestamp(time.Now())
	testkit.Publish(t, cfg, protocol.TopicControl, cmd.QueueID, cmd)
}

// testBadInput: every bad task ends in an error event naming the variable
// and a non-zero exit, before anything is downloaded.
func testBadInput(t *testing.T, cfg bus.Config) {
	cases := []struct {
		name, binary, symbol, typ, timeRange, want string
	}{
		{"unknown symbol", "loader-producer", "NOPEUSDT", "api_candles_1m", "2024-08-01:2024-08-02", "SYMBOL: NOPEUSDT: not a symbol on the exchange (Invalid symbol.)"},
		{"malformed symbol", "loader-producer", "BTC-USDT", "api_candles_1m", "2024-08-01:2024-08-02", "SYMBOL:"},
		{"unknown interval", "loader-producer", "BTCUSDT", "api_candles_7m", "2024-08-01:2024-08-02", `TYPE: "api_candles_7m": unknown kline interval "7m"`},
		{"unknown type", "loader-producer", "BTCUSDT", "api_bananas", "2024-08-01:2024-08-02", `TYPE: unknown data type "api_bananas"`},
		{"type of another service", "loader-api-candles", "BTCUSDT", "api_trades", "2024-08-01:2024-08-02", "TYPE: api_trades is not loaded by this service"},
		{"empty range", "loader-producer", "BTCUSDT", "api_candles_1m", "2024-08-01:2024-08-01", "TIME_RANGE:"},
		{"inverted range", "loader-producer", "BTCUSDT", "api_candles_1m", "2024-09-01:2024-08-01", "TIME_RANGE:"},
		{"future range", "loader-producer", "BTCUSDT", "api_trades", "2099-01-01:2099-01-02", "TIME_RANGE: 2099-01-01:2099-01-02 starts in the future"},
		{"malformed range", "loader-producer", "BTCUSDT", "api_trades", "last month", `TIME_RANGE: "last month" is not a time range`},
		{"missing range", "loader-producer", "BTCUSDT", "api_trades", "", "TIME_RANGE: is required for api_trades"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, url := startSim(t, binancesim.Options{})
			tk := newTask(t, cfg, "BTCUSDT", "api_trades", c.timeRange)
			tk.symbol, tk.typ = c.symbol, c.typ
			ev := testkit.WatchEvents(t, cfg, tk.queueID)
			p := startBinary(t, c.binary, cfg, tk, url)
			if code := p.Wait(t, time.Minute); code == 0 {
				t.Fatal("exit code 0, want non-zero")
			}
			e := ev.WaitFor(t, protocol.StatusError, 10*time.Second)
			if !strings.Contains(e.Error, c.want) {
				t.Errorf("error event says %q, want it to contain %q", e.Error, c.want)
			}
			if !e.Finished {
				t.Error("the error event is not terminal (finished=false)")
			}
			if line := testkit.LastLine(p.Stderr()); !strings.Contains(line, c.want) {
				t.Errorf("last log line %q does not name the problem %q", line, c.want)
			}
			st := sim.Stats()
			if n := st.Requests["/api/v3/klines"] + st.Requests["/api/v3/aggTrades"] + st.Requests["archive"]; n != 0 {
				t.Errorf("%d data requests before the task was rejected: %v", n, st.Requests)
			}
		})
	}
}

// testStop: a stop command ends a running load with an interrupted event
// and exit 0, after publishing what was fetched: the topic holds a
// gap-free prefix of the range. (A stop is final for the task: a loader
// started later with the same queue_id sees it on queue-control and stops
// too.)
func testStop(t *testing.T, cfg bus.Config, from, to string) {
	sim, url := startSim(t, binancesim.Options{})
	tk := newTask(t, cfg, "BTCUSDT", "api_trades", from+"/"+to)
	want := expectedTrades(t, sim, tk.symbol, from, to)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	env := []string{"LOADER_BATCH_SIZE=2000", "LOADER_CONCURRENCY=1"}
	p := startLoader(t, cfg, tk, url, env...)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, a, tk.topic, p, 2000)
	command(t, cfg, protocol.Command{Command: protocol.CommandStop, QueueID: tk.queueID, Target: "loader-producer"})
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("stopped loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	in := ev.WaitFor(t, protocol.StatusInterrupted, 10*time.Second)
	for _, e := range ev.All() {
		if e.Status == protocol.StatusFinished {
			t.Fatalf("finished event after a stop: %+v", e)
		}
	}
	got := readTopic(t, cfg, tk.topic)
	if len(got) == 0 || len(got) >= len(want) {
		t.Fatalf("after the stop the topic holds %d of %d trades; want a part", len(got), len(want))
	}
	if in.RecordsWritten != int64(len(got)) {
		t.Errorf("interrupted event says %d records, the topic holds %d", in.RecordsWritten, len(got))
	}
	// What is there is a gap-free prefix: consecutive ids from the first.
	ids := make(map[int64]bool, len(got))
	for _, r := range got {
		ids[r.AggID] = true
	}
	for i := range got {
		if !ids[want[i].ID] {
			t.Fatalf("trade %d missing from the stopped run's %d records: not a prefix", want[i].ID, len(got))
		}
	}
}

// testStartCommand: with SYMBOL and TYPE empty the loader takes its task
// from the start command on queue-control.
func testStartCommand(t *testing.T, cfg bus.Config) {
	sim, url := startSim(t, binancesim.Options{})
	from, to := "2024-08-30T10:00:00Z", "2024-08-30T20:00:00Z"
	tk := newTask(t, cfg, "BTCUSDT", "api_candles_1m", from+"/"+to)
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	command(t, cfg, protocol.Task{QueueID: tk.queueID, Symbol: tk.symbol, Type: tk.typ, TimeRange: tk.timeRange,
		KafkaTopic: tk.topic}.StartCommand("loader-producer", 0))
	tk.symbol, tk.typ, tk.timeRange = "", "", ""
	p := startLoader(t, cfg, tk, url)
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	fin := ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
	if fin.Symbol != "BTCUSDT" || fin.Type != "api_candles_1m" || fin.RecordsWritten != 600 {
		t.Errorf("finished event %+v, want BTCUSDT api_candles_1m with 600 records", fin)
	}
	if got := distinct(t, readTopic(t, cfg, tk.topic)); len(got) != 600 {
		t.Errorf("topic holds %d candles, want 600", len(got))
	}
	_ = sim
}
