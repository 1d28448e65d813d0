package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// fixturesDir returns the recorded Binance data, skipping (or failing under
// CI) when it is missing.
func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BINANCE_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "..", "shared", "fixtures", "binance")
	}
	if _, err := os.Stat(filepath.Join(dir, "spot-klines-5m")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Binance fixtures missing at %s (set BINANCE_FIXTURES): %v", dir, err)
		}
		t.Skipf("Binance fixtures missing at %s: %v", dir, err)
	}
	return dir
}

// csvRow is one kline row of a recorded archive, read independently of the
// code under test.
type csvRow struct {
	open          int64 // as recorded: ms before 2025, µs from 2025
	o, h, l, c, v string
	trades        int64
}

func readCSV(t *testing.T, path string) []csvRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []csvRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(c) < 12 {
			t.Fatalf("%s: short row %q", path, sc.Text())
		}
		open, err1 := strconv.ParseInt(c[0], 10, 64)
		trades, err2 := strconv.ParseInt(c[8], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad row %q", path, sc.Text())
		}
		rows = append(rows, csvRow{open: open, o: c[1], h: c[2], l: c[3], c: c[4], v: c[5], trades: trades})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// testFixtureArchive serves a real monthly archive through the simulator
// and loads the month with loader-api-candles: the topic must hold exactly
// the recorded candles, times in milliseconds.
func testFixtureArchive(t *testing.T, cfg bus.Config, file string, month time.Time, firstMs, lastMs int64) {
	dir := fixturesDir(t)
	path := filepath.Join(dir, "spot-klines-5m", file)
	rows := readCSV(t, path)
	sim, url := startSim(t, binancesim.Options{Replay: []binancesim.ReplayFile{
		{Symbol: "BTCUSDT", Interval: "5m", Month: month, Path: path},
	}})
	end := month.AddDate(0, 1, 0)
	tk := newTask(t, cfg, "BTCUSDT", "api_candles_5m", month.Format(time.DateOnly)+":"+end.Format(time.DateOnly))
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	p := startBinary(t, "loader-api-candles", cfg, tk, url)
	if code := p.Wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
	}
	if fin := ev.WaitFor(t, protocol.StatusFinished, 10*time.Second); fin.RecordsWritten != int64(len(rows)) {
		t.Errorf("finished event says %d records, the file has %d rows", fin.RecordsWritten, len(rows))
	}
	if n := sim.Stats().Requests["/api/v3/klines"]; n != 0 {
		t.Errorf("%d REST klines requests for a whole archived month, want 0", n)
	}
	got := distinct(t, readTopic(t, cfg, tk.topic))
	if len(got) != len(rows) {
		t.Fatalf("topic holds %d candles, %s has %d rows", len(got), file, len(rows))
	}
	// The first and last open times are the README's, in milliseconds.
	var lo, hi int64 = 1 << 62, 0
	for _, r := range got {
		lo, hi = min(lo, r.OpenTime), max(hi, r.OpenTime)
	}
	if lo != firstMs || hi != lastMs {
		t.Errorf("open times %d..%d, want %d..%d (milliseconds)", lo, hi, firstMs, lastMs)
	}
	scale := int64(1)
	if rows[0].open > 1e14 { // microseconds
		scale = 1000
	}
	for _, i := range []int{0, 1, len(rows) / 2, len(rows) - 1} {
		r := rows[i]
		key := "BTCUSDT_5m_" + strconv.FormatInt(r.open/scale, 10)
		g, ok := got[key]
		if !ok {
			t.Fatalf("row %d (%s) missing from the topic", i, key)
		}
		if g.Open != num(t, r.o) || g.High != num(t, r.h) || g.Low != num(t, r.l) || g.Close != num(t, r.c) ||
			g.Volume != num(t, r.v) || g.Trades != r.trades {
			t.Errorf("row %d: topic has %s, file has %+v", i, g.Raw, r)
		}
	}
}

func testFixtures(t *testing.T, cfg bus.Config) {
	t.Run("2024-08 milliseconds", func(t *testing.T) {
		testFixtureArchive(t, cfg, "BTCUSDT-5m-2024-08.csv", time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), 1722470400000, 1725148500000)
	})
	t.Run("2025-01 microseconds", func(t *testing.T) {
		testFixtureArchive(t, cfg, "BTCUSDT-5m-2025-01.csv", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1735689600000, 1738367700000)
	})
}
