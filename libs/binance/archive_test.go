package binance

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustInterval(t testing.TB, s string) Interval {
	t.Helper()
	iv, err := ParseInterval(s)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

func collectCandles(t *testing.T, rel string) []Candle {
	t.Helper()
	var got []Candle
	err := ParseKlinesCSV(openFixture(t, rel), "BTCUSDT", mustInterval(t, "5m"), func(c Candle) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	return got
}

func TestParseKlinesCSVRealArchives(t *testing.T) {
	tests := []struct {
		file        string
		wantFirst   Candle // OHLCV copied from the file's first line
		wantLast    Candle // and from its last line
		wantCount   int
		wantFirstMs int64
	}{
		{
			file:      "spot-klines-5m/BTCUSDT-5m-2024-08.csv",
			wantCount: 8928, // 31 days * 288
			wantFirst: Candle{Symbol: "BTCUSDT", Interval: "5m", Time: 1722470400000, OpenTime: 1722470400000,
				CloseTime: 1722470699999, Open: 64628.01, High: 64705.98, Low: 64601, Close: 64674.01,
				Volume: 134.16525, QuoteVolume: 8674537.0664191, Trades: 11714, TakerBuyBase: 57.8137,
				TakerBuyQuote: 3737985.72872},
			wantLast: Candle{Symbol: "BTCUSDT", Interval: "5m", Time: 1725148500000, OpenTime: 1725148500000,
				CloseTime: 1725148799999, Open: 58975, High: 58976.02, Low: 58973.99, Close: 58973.99,
				Volume: 7.42994, QuoteVolume: 438182.5614248, Trades: 1570, TakerBuyBase: 1.75966,
				TakerBuyQuote: 103776.2928819},
		},
		{
			file:      "spot-klines-5m/BTCUSDT-5m-2024-12.csv",
			wantCount: 8928,
			wantFirst: Candle{Symbol: "BTCUSDT", Interval: "5m", Time: 1733011200000, OpenTime: 1733011200000,
				CloseTime: 1733011499999, Open: 96407.99, High: 96524, Low: 96350.13, Close: 96508.29,
				Volume: 35.87706, QuoteVolume: 3459760.3995379, Trades: 10233, TakerBuyBase: 19.01492,
				TakerBuyQuote: 1833852.075391},
			wantLast: Candle{Symbol: "BTCUSDT", Interval: "5m", Time: 1735689300000, OpenTime: 1735689300000,
				CloseTime: 1735689599999, Open: 93646.97, High: 93676.98, Low: 93576, Close: 93576,
				Volume: 17.03553, QuoteVolume: 1595066.1475893, Trades: 3808, TakerBuyBase: 10.38243,
				TakerBuyQuote: 972157.1206969},
		},
		{
			// Microsecond times in the file: 1735689600000000 and 1735689899999999.
			file:      "spot-klines-5m/BTCUSDT-5m-2025-01.csv",
			wantCount: 8928,
			wantFirst: Candle{Symbol: "BTCUSDT", Interval: "5m", Time: 1735689600000, OpenTime: 1735689600000,
				CloseTime: 1735689899999, Open: 93576, High: 93702.15, Low: 93537.5, Close: 93661.2,
				Volume: 45.9416, QuoteVolume: 4301907.4838205, Trades: 7448, TakerBuyBase: 16.87967,
				TakerBuyQuote: 1580504.0603142},
			wantLast: Candle{Symbol: "BTCUSDT", Interval: "5m", Time: 1738367700000, OpenTime: 1738367700000,
				CloseTime: 1738367999999, Open: 102399.99, High: 102439.31, Low: 102384.36, Close: 102429.56,
				Volume: 29.5322, QuoteVolume: 3024554.6517286, Trades: 5864, TakerBuyBase: 23.32376,
				TakerBuyQuote: 2388706.1109387},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := collectCandles(t, tt.file)
			if len(got) != tt.wantCount {
				t.Fatalf("%d candles, want %d", len(got), tt.wantCount)
			}
			if diff := cmp.Diff(tt.wantFirst, got[0]); diff != "" {
				t.Errorf("first candle (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLast, got[len(got)-1]); diff != "" {
				t.Errorf("last candle (-want +got):\n%s", diff)
			}
			for i := 1; i < len(got); i++ {
				if d := got[i].OpenTime - got[i-1].OpenTime; d != 300_000 {
					t.Fatalf("row %d: open time %d follows %d (step %d ms, want 300000)",
						i+1, got[i].OpenTime, got[i-1].OpenTime, d)
				}
				if got[i].CloseTime != got[i].OpenTime+299_999 {
					t.Fatalf("row %d: close time %d for open %d", i+1, got[i].CloseTime, got[i].OpenTime)
				}
			}
		})
	}
}

func TestParseKlinesCSVHeaderAndErrors(t *testing.T) {
	const row = "1722470400000,64628.01,64705.98,64601.00,64674.01,134.16525,1722470699999,8674537.06,11714,57.81,3737985.72,0"
	tests := []struct {
		name      string
		in        string
		wantCount int
		wantErr   string
	}{
		{name: "header tolerated", in: "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n" + row + "\n", wantCount: 1},
		{name: "crlf and no final newline", in: row + "\r\n" + row, wantCount: 2},
		{name: "header only on line 1", in: row + "\nopen_time,a,b,c,d,e,f,g,h,i,j,k\n", wantErr: "line 2"},
		{name: "too few columns", in: "1722470400000,1,2,3\n", wantErr: "line 1: 4 columns"},
		{name: "bad price", in: strings.Replace(row, "64705.98", "x", 1), wantErr: "column 3"},
		{name: "seconds time", in: strings.Replace(row, "1722470400000", "1722470400", 1), wantErr: "column 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := ParseKlinesCSV(strings.NewReader(tt.in), "BTCUSDT", mustInterval(t, "5m"), func(Candle) error {
				n++
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantCount {
				t.Errorf("%d candles, want %d", n, tt.wantCount)
			}
		})
	}
}

func TestParseKlinesCSVReturnsCallbackError(t *testing.T) {
	stop := errors.New("stop")
	err := ParseKlinesCSV(openFixture(t, "spot-klines-5m/BTCUSDT-5m-2024-08.csv"), "BTCUSDT",
		mustInterval(t, "5m"), func(Candle) error { return stop })
	if err != stop { //nolint:errorlint // the callback's error must come back as it is, not wrapped
		t.Errorf("error = %v, want the callback's, unwrapped", err)
	}
	err = ParseAggTradesCSV(strings.NewReader(aggCSV), "BTCUSDT", func(AggTrade) error { return stop })
	if err != stop { //nolint:errorlint // as above
		t.Errorf("aggTrades error = %v, want the callback's, unwrapped", err)
	}
}

const aggCSV = `3089543210,64628.01000000,0.00012000,3712345678,3712345680,1722470400123,True,True
3089543211,0,0,-1,-1,1722470400124,False,True
3089543212,64628.00000000,0.50000000,3712345681,3712345681,1735689600000456,false,true
`

func TestParseAggTradesCSV(t *testing.T) {
	var got []AggTrade
	err := ParseAggTradesCSV(strings.NewReader(aggCSV), "BTCUSDT", func(a AggTrade) error {
		got = append(got, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []AggTrade{
		{Symbol: "BTCUSDT", Time: 1722470400123, AggID: 3089543210, Price: 64628.01, Qty: 0.00012,
			FirstID: 3712345678, LastID: 3712345680, BuyerMaker: true},
		// 3089543211 is Binance's invalid placeholder row and is skipped.
		{Symbol: "BTCUSDT", Time: 1735689600000, AggID: 3089543212, Price: 64628, Qty: 0.5,
			FirstID: 3712345681, LastID: 3712345681, BuyerMaker: false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trades (-want +got):\n%s", diff)
	}
}

func TestArchivePaths(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct{ name, got, want string }{
		{"monthly klines", KlinesArchivePath("BTCUSDT", mustInterval(t, "5m"), Monthly, day), "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2024-08.zip"},
		{"daily klines", KlinesArchivePath("BTCUSDT", mustInterval(t, "1m"), Daily, day), "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-01.zip"},
		// binance-public-data's README: "1mo is used instead of 1M".
		{"monthly klines of 1M", KlinesArchivePath("BTCUSDT", mustInterval(t, "1M"), Monthly, day), "data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-08.zip"},
		{"monthly aggTrades", AggTradesArchivePath("ETHUSDT", Monthly, day), "data/spot/monthly/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2024-08.zip"},
		{"daily aggTrades", AggTradesArchivePath("ETHUSDT", Daily, day), "data/spot/daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2024-08-01.zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("path = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func buildZip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func checksumOf(data []byte, name string) []byte {
	sum := sha256.Sum256(data)
	return fmt.Appendf(nil, "%s  %s\n", hex.EncodeToString(sum[:]), name)
}

// archiveServer serves files by URL path and 404s the rest.
func archiveServer(t *testing.T, files map[string][]byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestArchiveKlinesRoundTrip(t *testing.T) {
	csv, err := readAll(openFixture(t, "spot-klines-5m/BTCUSDT-5m-2025-01.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const name = "BTCUSDT-5m-2025-01.zip"
	zipData := buildZip(t, map[string][]byte{"BTCUSDT-5m-2025-01.csv": csv})
	dir := "/data/spot/monthly/klines/BTCUSDT/5m/"
	day := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)

	t.Run("verified and parsed", func(t *testing.T) {
		srv := archiveServer(t, map[string][]byte{dir + name: zipData, dir + name + ".CHECKSUM": checksumOf(zipData, name)})
		var n int
		var first, last int64
		err := NewArchive(srv.URL, srv.Client(), t.TempDir()).Klines(context.Background(), "BTCUSDT",
			mustInterval(t, "5m"), Monthly, day, func(c Candle) error {
				if n == 0 {
					first = c.OpenTime
				}
				last = c.OpenTime
				n++
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if n != 8928 || first != 1735689600000 || last != 1738367700000 {
			t.Errorf("got %d candles %d..%d, want 8928 from 1735689600000 to 1738367700000", n, first, last)
		}
	})
	t.Run("corrupted checksum names the file", func(t *testing.T) {
		bad := bytes.Clone(zipData)
		bad[len(bad)/2] ^= 0xff
		srv := archiveServer(t, map[string][]byte{dir + name: bad, dir + name + ".CHECKSUM": checksumOf(zipData, name)})
		called := false
		err := NewArchive(srv.URL, srv.Client(), t.TempDir()).Klines(context.Background(), "BTCUSDT",
			mustInterval(t, "5m"), Monthly, day, func(Candle) error { called = true; return nil })
		var ce *ChecksumError
		if !errors.As(err, &ce) {
			t.Fatalf("error = %v, want a *ChecksumError", err)
		}
		if ce.File != name || !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
		if called {
			t.Error("records were emitted from a corrupt archive")
		}
	})
	t.Run("missing period is ErrNoArchive", func(t *testing.T) {
		srv := archiveServer(t, nil)
		err := NewArchive(srv.URL, srv.Client(), t.TempDir()).Klines(context.Background(), "BTCUSDT",
			mustInterval(t, "5m"), Daily, day, func(Candle) error { return nil })
		if !errors.Is(err, ErrNoArchive) {
			t.Errorf("error = %v, want ErrNoArchive", err)
		}
	})
	t.Run("zip with two files", func(t *testing.T) {
		two := buildZip(t, map[string][]byte{"a.csv": csv[:200], "b.csv": csv[:200]})
		srv := archiveServer(t, map[string][]byte{dir + name: two, dir + name + ".CHECKSUM": checksumOf(two, name)})
		err := NewArchive(srv.URL, srv.Client(), t.TempDir()).Klines(context.Background(), "BTCUSDT",
			mustInterval(t, "5m"), Monthly, day, func(Candle) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "exactly one") {
			t.Errorf("error = %v, want the zip layout rejected", err)
		}
	})
}

func TestVerifyChecksum(t *testing.T) {
	data := []byte("payload")
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	tests := []struct {
		name     string
		checksum string
		wantErr  bool
	}{
		{name: "match", checksum: got + "  f.zip\n"},
		{name: "upper-case digest", checksum: strings.ToUpper(got) + "  f.zip"},
		{name: "other file", checksum: got + "  g.zip", wantErr: true},
		{name: "wrong digest", checksum: strings.Repeat("0", 64) + "  f.zip", wantErr: true},
		{name: "garbage", checksum: "not a checksum", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyChecksum("f.zip", got, []byte(tt.checksum))
			if (err != nil) != tt.wantErr {
				t.Errorf("VerifyChecksum error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestArchiveAggTrades(t *testing.T) {
	const name = "BTCUSDT-aggTrades-2025-01-01.zip"
	zipData := buildZip(t, map[string][]byte{"BTCUSDT-aggTrades-2025-01-01.csv": []byte(aggCSV)})
	dir := "/data/spot/daily/aggTrades/BTCUSDT/"
	srv := archiveServer(t, map[string][]byte{dir + name: zipData, dir + name + ".CHECKSUM": checksumOf(zipData, name)})
	var ids []int64
	err := NewArchive(srv.URL, srv.Client(), t.TempDir()).AggTrades(context.Background(), "BTCUSDT", Daily,
		time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC), func(a AggTrade) error {
			ids = append(ids, a.AggID)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[3089543210 3089543212]" {
		t.Errorf("ids %v, want [3089543210 3089543212] (the invalid row skipped)", ids)
	}
}
