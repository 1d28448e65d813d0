package testkit

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/binance"
)

// Fixtures returns shared/fixtures/binance/<sub>: the recorded real Binance
// data, at $BINANCE_FIXTURES/<sub> when that is set, else found in a parent
// of the working directory (it lies beside the repository, never inside it).
// A missing folder skips the test, and fails it when CI is set: CI must
// exercise the real data.
func Fixtures(t testing.TB, sub string) string {
	t.Helper()
	if root := os.Getenv("BINANCE_FIXTURES"); root != "" {
		dir := filepath.Join(root, sub)
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("BINANCE_FIXTURES: %v", err)
		}
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "fixtures", "binance", sub)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	msg := "fixtures shared/fixtures/binance/" + sub + " not found in any parent of the working directory"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI needs them: lay shared/ beside the repository")
	}
	t.Skip(msg)
	return ""
}

// FixtureCandles reads a recorded kline file as candles of symbol: a spot
// archive CSV (12 columns, no header; microsecond times converted) or the
// multi-asset JSON export [[openTimeMs, open, high, low, close, volume], ...],
// whose candles have no quote volume, trade count or taker volume.
func FixtureCandles(t testing.TB, path, symbol, interval string) []binance.Candle {
	t.Helper()
	iv, err := binance.ParseInterval(interval)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []binance.Candle
	if strings.HasSuffix(path, ".csv") {
		err = binance.ParseKlinesCSV(f, symbol, iv, func(c binance.Candle) error {
			out = append(out, c)
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		return out
	}
	var rows [][6]float64
	if err := json.NewDecoder(f).Decode(&rows); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	step := iv.Duration().Milliseconds()
	for _, r := range rows {
		open := int64(r[0])
		out = append(out, binance.Candle{Symbol: symbol, Interval: interval, Time: open, OpenTime: open, CloseTime: open + step - 1,
			Open: r[1], High: r[2], Low: r[3], Close: r[4], Volume: r[5]})
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no candles", path)
	}
	return out
}
