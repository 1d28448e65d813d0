package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/testkit"
)

func TestExchangeServesBinanceKlines(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out testkit.Buffer
	code := make(chan int, 1)
	go func() { code <- Exchange(ctx, []string{"--addr", "127.0.0.1:0", "--seed", "7"}, &out, io.Discard) }()
	re := regexp.MustCompile(`exchange simulator on (http://[0-9.:]+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no address printed: %q", out.String())
	}
	res, err := http.Get(url + "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=3")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rows [][]any
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || len(rows) != 3 {
		t.Fatalf("klines: status %d, %d rows; want 200 and 3 rows", res.StatusCode, len(rows))
	}
	if len(rows[0]) != 12 {
		t.Errorf("a kline row has %d columns, want Binance's 12", len(rows[0]))
	}
	if res.Header.Get("X-MBX-USED-WEIGHT-1M") == "" {
		t.Error("no X-MBX-USED-WEIGHT-1M header")
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("exit %d after cancel, want 0", c)
	}
}
