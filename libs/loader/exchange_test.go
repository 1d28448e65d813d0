package loader_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/loader"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/testkit"
)

// TestUnreachableExchangeIsLoggedAndNamed: with nothing answering at
// BINANCE_REST_URL, every retry is logged with its cause, attempt and wait,
// and the error event names the exchange's URL as unreachable, not SYMBOL.
func TestUnreachableExchangeIsLoggedAndNamed(t *testing.T) {
	kafka := bustest.Embedded(t, embedded.Options{})
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	q := testkit.QueueID(t, "BTCUSDT", "api_candles_1m")
	cfg := &loader.Config{
		Config:  kafka,
		QueueID: q, Symbol: "BTCUSDT", Type: "api_candles_1m", TimeRange: "2024-03-01:2024-03-04",
		RESTURL: url, ArchiveURL: url, WSURL: "ws" + url[len("http"):], Archives: true,
		Concurrency: 2, BatchSize: 500, Compression: "none", ProduceBytes: 921600, MaxAttempts: 3, BackoffMax: time.Millisecond,
		SnapshotLimit: 1000, SnapshotEvery: time.Minute, EndGrace: time.Second, TmpDir: t.TempDir(), StartTimeout: time.Minute,
		ProgressInterval: time.Second, HeartbeatInterval: time.Hour, ControlLookback: time.Minute, CreateTopics: true,
	}
	bustest.Topics(t, kafka, 1, protocol.TopicControl, protocol.TopicEvents)
	ev := testkit.WatchEvents(t, kafka, q)
	var logs testkit.Buffer
	rt := &service.Runtime{Name: "loader-api-candles", Log: zerolog.New(&logs), Registry: prometheus.NewRegistry()}
	if err := loader.Run(context.Background(), rt, cfg, loader.Options{Service: "loader-api-candles", Kinds: []loader.Kind{loader.APICandles}}); err == nil {
		t.Fatal("Run succeeded with no exchange")
	}
	e := ev.WaitFor(t, protocol.StatusError, 10*time.Second)
	if !strings.HasPrefix(e.Error, "BINANCE_REST_URL: ") || !strings.Contains(e.Error, url) || !strings.Contains(e.Error, "cannot be reached") {
		t.Errorf("error event %q, want it to name BINANCE_REST_URL=%s unreachable", e.Error, url)
	}
	retries := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "exchange request failed, retrying") {
			retries++
			for _, key := range []string{`"attempt":`, `"next_wait":`, `"error":`, "refused", `"url":"` + url + `/api/v3/exchangeInfo"`} {
				if !strings.Contains(l, key) {
					t.Errorf("retry log line lacks %s: %s", key, l)
				}
			}
		}
	}
	if retries != 2 {
		t.Errorf("%d retries logged, want 2 (3 attempts):\n%s", retries, logs.String())
	}
}
