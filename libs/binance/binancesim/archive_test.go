package binancesim

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fetchZip downloads an archive and its CHECKSUM, verifies the sha256 and returns the single CSV inside.
func fetchZip(t *testing.T, base, path string) []byte {
	t.Helper()
	z := get(t, base, path, nil)
	sum := get(t, base, path+".CHECKSUM", nil)
	if z.status != http.StatusOK || sum.status != http.StatusOK {
		t.Fatalf("%s: status %d, checksum status %d", path, z.status, sum.status)
	}
	h := sha256.Sum256(z.body)
	name := path[strings.LastIndex(path, "/")+1:]
	if want := hex.EncodeToString(h[:]) + "  " + name; strings.TrimSpace(string(sum.body)) != want {
		t.Fatalf("CHECKSUM = %q, want %q", sum.body, want)
	}
	zr, err := zip.NewReader(bytes.NewReader(z.body), int64(len(z.body)))
	if err != nil {
		t.Fatalf("open zip: %v", err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != strings.TrimSuffix(name, ".zip")+".csv" {
		t.Fatalf("zip entries = %v, want one %s.csv", zr.File, strings.TrimSuffix(name, ".zip"))
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatalf("open csv: %v", err)
	}
	defer f.Close()
	csv, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read csv: %v", err)
	}
	return csv
}

func candleCSV(c Candle, scale int64) string {
	return fmt.Sprintf("%d,%s,%s,%s,%s,%s,%d,%s,%d,%s,%s,0", c.OpenTime*scale, fixed(c.Open), fixed(c.High),
		fixed(c.Low), fixed(c.Close), fixed(c.Volume), c.CloseTime*scale+scale-1,
		strconv.FormatFloat(c.QuoteVolume, 'f', 8, 64), c.Trades, fixed(c.TakerBuyVolume),
		strconv.FormatFloat(c.TakerBuyQuoteVolume, 'f', 8, 64))
}

func TestKlineArchives(t *testing.T) {
	t.Parallel()
	sim, base, _ := newTestSim(t, Options{})
	tests := []struct {
		path     string
		interval Interval
		from, to time.Time
		scale    int64 // 1000: microseconds from 2025-01-01
	}{
		{"/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-12.zip", "1h",
			time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{"/data/spot/monthly/klines/ETHUSDT/5m/ETHUSDT-5m-2025-01.zip", "5m",
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), 1000},
		{"/data/spot/daily/klines/SOLUSDT/1m/SOLUSDT-1m-2024-12-31.zip", "1m",
			time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{"/data/spot/daily/klines/SOLUSDT/1s/SOLUSDT-1s-2025-02-09.zip", "1s",
			time.Date(2025, 2, 9, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC), 1000},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			csv := fetchZip(t, base, tt.path)
			sym := strings.Split(tt.path, "/")[5]
			want, err := sim.Market().Candles(sym, tt.interval, tt.from, tt.to.Add(-time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			rows := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
			if len(rows) != len(want) {
				t.Fatalf("got %d rows, want %d", len(rows), len(want))
			}
			for i, row := range rows {
				if w := candleCSV(want[i], tt.scale); row != w {
					t.Fatalf("row %d = %s, want %s", i, row, w)
				}
			}
			if first := strings.SplitN(rows[0], ",", 2)[0]; first != strconv.FormatInt(tt.from.UnixMilli()*tt.scale, 10) {
				t.Errorf("first open time %s, want %d", first, tt.from.UnixMilli()*tt.scale)
			}
		})
	}
}

func TestAggTradeArchives(t *testing.T) {
	t.Parallel()
	sim, base, _ := newTestSim(t, Options{})
	tests := []struct {
		path  string
		from  time.Time
		to    time.Time
		scale int64
	}{
		{"/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-12-31.zip",
			time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{"/data/spot/monthly/aggTrades/BNBUSDT/BNBUSDT-aggTrades-2025-01.zip",
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), 1000},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			csv := fetchZip(t, base, tt.path)
			want, err := sim.Market().AggTrades(strings.Split(tt.path, "/")[5], tt.from, tt.to.Add(-time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			rows := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
			if len(rows) != len(want) || len(want) == 0 {
				t.Fatalf("got %d rows, want %d", len(rows), len(want))
			}
			subMs := 0
			for i, a := range want {
				tm := a.Time
				if tt.scale == 1000 {
					// 2025+ spot archives are in microseconds, with a real sub-millisecond part.
					tm = a.Micros
					if a.Micros%1000 != 0 {
						subMs++
					}
					if a.Micros/1000 != a.Time {
						t.Fatalf("trade %d: %d µs is not within millisecond %d", a.ID, a.Micros, a.Time)
					}
				}
				w := fmt.Sprintf("%d,%s,%s,%d,%d,%d,%s,True", a.ID, fixed(a.Price), fixed(a.Qty), a.FirstTradeID,
					a.LastTradeID, tm, map[bool]string{true: "True", false: "False"}[a.BuyerMaker])
				if rows[i] != w {
					t.Fatalf("row %d = %s, want %s", i, rows[i], w)
				}
			}
			if tt.scale == 1000 && subMs < len(want)/2 {
				t.Errorf("only %d of %d microsecond times have a sub-millisecond part", subMs, len(want))
			}
		})
	}
}

func TestArchiveNotFound(t *testing.T) {
	_, base, _ := newTestSim(t, Options{}) // now is 2025-02-10 12:00:30
	for _, p := range []string{
		"/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02.zip",           // current month
		"/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02-10.zip",          // today
		"/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-02-10.zip",   // today
		"/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-11.zip",           // before the market
		"/data/spot/monthly/klines/XRPUSDT/1m/XRPUSDT-1m-2025-01.zip",           // unknown symbol
		"/data/spot/monthly/klines/BTCUSDT/7m/BTCUSDT-7m-2025-01.zip",           // unknown interval
		"/data/spot/monthly/klines/BTCUSDT/1m/ETHUSDT-1m-2025-01.zip",           // name mismatch
		"/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02-10.zip.CHECKSUM", // today
		"/data/spot/monthly/klines/BTCUSDT/1M/BTCUSDT-1M-2025-01.zip",           // months are 1mo in archives
	} {
		if r := get(t, base, p, nil); r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, r.status)
		}
	}
	if r := get(t, base, "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02-09.zip", nil); r.status != http.StatusOK {
		t.Errorf("yesterday: status %d, want 200", r.status)
	}
	// binance-public-data's README: "1mo is used instead of 1M to support
	// non-case sensitive file systems".
	if z := fetchZip(t, base, "/data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2025-01.zip"); len(z) == 0 {
		t.Error("monthly candles archive (1mo): empty")
	}
}

// fixturesDir returns the recorded Binance data, skipping (or failing under CI) when it is missing.
func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BINANCE_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "fixtures", "binance")
	}
	if _, err := os.Stat(filepath.Join(dir, "spot-klines-5m")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Binance fixtures missing at %s (set BINANCE_FIXTURES): %v", dir, err)
		}
		t.Skipf("Binance fixtures missing at %s: %v", dir, err)
	}
	return dir
}

func TestReplayFixtures(t *testing.T) {
	t.Parallel()
	dir := fixturesDir(t)
	tests := []struct {
		month     time.Time
		firstOpen string
		lastOpen  string
	}{
		{time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), "1722470400000", "1725148500000"},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "1735689600000000", "1738367700000000"},
	}
	var replay []ReplayFile
	for _, tt := range tests {
		replay = append(replay, ReplayFile{Symbol: "BTCUSDT", Interval: "5m", Month: tt.month,
			Path: filepath.Join(dir, "spot-klines-5m", "BTCUSDT-5m-"+tt.month.Format("2006-01")+".csv")})
	}
	// The clock is before both months: recorded files are served whatever the clock.
	clk := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, base, _ := newTestSim(t, Options{Replay: replay, Clock: clk.Now})
	for i, tt := range tests {
		name := "BTCUSDT-5m-" + tt.month.Format("2006-01")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(replay[i].Path)
			if err != nil {
				t.Fatal(err)
			}
			got := fetchZip(t, base, "/data/spot/monthly/klines/BTCUSDT/5m/"+name+".zip")
			if !bytes.Equal(got, want) {
				t.Fatalf("served %d bytes, want the %d bytes of %s", len(got), len(want), replay[i].Path)
			}
			rows := strings.Split(strings.TrimSpace(string(got)), "\n")
			first, last := strings.Split(rows[0], ",")[0], strings.Split(rows[len(rows)-1], ",")[0]
			if len(rows) != 8928 || first != tt.firstOpen || last != tt.lastOpen {
				t.Errorf("%d rows from %s to %s, want 8928 from %s to %s", len(rows), first, last, tt.firstOpen, tt.lastOpen)
			}
		})
	}
}
