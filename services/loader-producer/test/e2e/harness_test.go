// Package e2e runs the loader binaries against the exchange simulator and a
// Kafka broker (the embedded one in the unit tier, real Apache Kafka 4.x
// with -tags integration) and checks the data topic against the simulator's
// own market: every record there, none twice, no hole.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

var binDir string

func TestMain(m *testing.M) {
	services := filepath.Join("..", "..", "..")
	os.Exit(testkit.Main(m, &binDir,
		testkit.Cmd{ModuleDir: filepath.Join(services, "loader-producer"), Pkg: "./cmd/loader-producer"},
		testkit.Cmd{ModuleDir: filepath.Join(services, "loader-api-candles"), Pkg: "./cmd/loader-api-candles"},
		testkit.Cmd{ModuleDir: filepath.Join(services, "loader-ws-orderbook"), Pkg: "./cmd/loader-ws-orderbook"}))
}

// task is one loader run's names.
type task struct {
	queueID, symbol, typ, timeRange, topic string
}

func newTask(t testing.TB, cfg bus.Config, symbol, typ, timeRange string) task {
	t.Helper()
	q := testkit.QueueID(t, symbol, typ)
	tk := task{queueID: q, symbol: symbol, typ: typ, timeRange: timeRange, topic: protocol.DataTopic(q)}
	bustest.Topics(t, cfg, 3, protocol.TopicControl, protocol.TopicEvents)
	bustest.Topics(t, cfg, 3, tk.topic)
	return tk
}

// startSim serves a simulator for the test and returns it with its URL.
func startSim(t testing.TB, o binancesim.Options) (*binancesim.Sim, string) {
	t.Helper()
	sim := binancesim.New(o)
	url, stop := sim.Start()
	t.Cleanup(stop)
	return sim, url
}

func startLoader(t testing.TB, cfg bus.Config, tk task, simURL string, extraEnv ...string) *testkit.Proc {
	t.Helper()
	return startBinary(t, "loader-producer", cfg, tk, simURL, extraEnv...)
}

func startBinary(t testing.TB, name string, cfg bus.Config, tk task, simURL string, extraEnv ...string) *testkit.Proc {
	t.Helper()
	env := append(testkit.KafkaEnv(cfg), "QUEUE_ID="+tk.queueID, "SYMBOL="+tk.symbol, "TYPE="+tk.typ,
		"TIME_RANGE="+tk.timeRange, "HTTP_ADDR=127.0.0.1:0", "HEARTBEAT_INTERVAL=1s", "PROGRESS_INTERVAL=200ms",
		"BINANCE_REST_URL="+simURL, "BINANCE_ARCHIVE_URL="+simURL, "BINANCE_WS_URL="+wsURL(simURL),
		"BINANCE_BACKOFF_MAX=1s", "LOADER_TMP_DIR="+t.TempDir())
	return testkit.Start(t, filepath.Join(binDir, name), append(env, extraEnv...))
}

func wsURL(httpURL string) string { return "ws" + httpURL[len("http"):] }

// record is what the checks read from a data-topic message.
type record struct {
	Key      string `json:"_key"`
	Symbol   string `json:"symbol"`
	Time     int64  `json:"time"`
	OpenTime int64  `json:"open_time"`
	AggID    int64  `json:"agg_id"`

	Open, High, Low, Close, Volume float64
	Trades                         int64
	Raw                            []byte `json:"-"`
	MsgKey                         string `json:"-"`
}

// readTopic returns every message of topic, partition by partition.
func readTopic(t testing.TB, cfg bus.Config, topic string) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := a.EndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	for p, end := range ends {
		err := bus.ReadRange(ctx, cfg, topic, p, 0, end, func(m bus.Message) error {
			var r record
			if err := json.Unmarshal(m.Value, &r); err != nil {
				return fmt.Errorf("offset %d: %w: %s", m.Offset, err, m.Value)
			}
			r.Raw, r.MsgKey = m.Value, string(m.Key)
			out = append(out, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// distinct returns the records by _key, failing on a message keyed by
// anything but its symbol or a key whose content differs between copies.
func distinct(t testing.TB, recs []record) map[string]record {
	t.Helper()
	m := make(map[string]record, len(recs))
	for _, r := range recs {
		if r.MsgKey != r.Symbol {
			t.Fatalf("record %s has message key %q, want its symbol", r.Key, r.MsgKey)
		}
		if prev, ok := m[r.Key]; ok && string(prev.Raw) != string(r.Raw) {
			t.Fatalf("two different records with _key %s:\n%s\n%s", r.Key, prev.Raw, r.Raw)
		}
		m[r.Key] = r
	}
	return m
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
