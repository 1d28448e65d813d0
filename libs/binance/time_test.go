package binance

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/protocol"
)

func TestNormalizeMillis(t *testing.T) {
	tests := []struct {
		name    string
		in      int64
		want    int64
		wantErr bool
	}{
		{name: "milliseconds unchanged", in: 1722470400000, want: 1722470400000},
		{name: "microseconds of 2025 archives", in: 1735689600000000, want: 1735689600000},
		{name: "microsecond close time truncates", in: 1735689899999999, want: 1735689899999},
		{name: "seconds rejected", in: 1735689600, wantErr: true},
		{name: "nanoseconds rejected", in: 1735689600000000000, wantErr: true},
		{name: "zero rejected", in: 0, wantErr: true},
		{name: "negative rejected", in: -1722470400000, wantErr: true},
		{name: "between ms and µs rejected", in: 17356896000000, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeMillis(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NormalizeMillis(%d) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("NormalizeMillis(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseIntervalAll(t *testing.T) {
	tests := []struct {
		name string
		want time.Duration
	}{
		{"1s", time.Second}, {"1m", time.Minute}, {"3m", 3 * time.Minute}, {"5m", 5 * time.Minute},
		{"15m", 15 * time.Minute}, {"30m", 30 * time.Minute}, {"1h", time.Hour}, {"2h", 2 * time.Hour},
		{"4h", 4 * time.Hour}, {"6h", 6 * time.Hour}, {"8h", 8 * time.Hour}, {"12h", 12 * time.Hour},
		{"1d", 24 * time.Hour}, {"3d", 72 * time.Hour}, {"1w", 168 * time.Hour}, {"1M", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := ParseInterval(tt.name)
			if err != nil {
				t.Fatalf("ParseInterval(%q): %v", tt.name, err)
			}
			if got := iv.Duration(); got != tt.want {
				t.Errorf("%s duration = %v, want %v", tt.name, got, tt.want)
			}
			if got := iv.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
		})
	}
	for _, bad := range []string{"", "2m", "1H", "1y", "5 m", "1mo"} {
		if _, err := ParseInterval(bad); err == nil {
			t.Errorf("ParseInterval(%q) accepted", bad)
		}
	}
}

func TestNextOpen(t *testing.T) {
	ms := func(s string) int64 {
		t.Helper()
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		iv, from, want string
	}{
		{"5m", "2024-08-01T00:00:00Z", "2024-08-01T00:05:00Z"},
		{"1d", "2024-02-28T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"1w", "2024-12-30T00:00:00Z", "2025-01-06T00:00:00Z"},
		{"1M", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"},
		{"1M", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"1M", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		iv, err := ParseInterval(tt.iv)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := iv.NextOpen(ms(tt.from)), ms(tt.want); got != want {
			t.Errorf("%s NextOpen(%s) = %s, want %s", tt.iv, tt.from,
				time.UnixMilli(got).UTC().Format(time.RFC3339), tt.want)
		}
	}
}

// TestIntervalFloorMatchesSimulator checks Floor against the simulator's own
// rule for every interval over random times, and that a candle's open time
// is its own floor.
func TestIntervalFloorMatchesSimulator(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name := range intervals {
		iv := intervals[name]
		for range 2000 {
			ms := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + r.Int64N(10*365*24*3600*1000)
			got, want := iv.Floor(ms), binancesim.Interval(name).Floor(ms)
			if got != want {
				t.Fatalf("%s: Floor(%d) = %d, simulator %d", name, ms, got, want)
			}
			if got > ms || iv.NextOpen(got) <= ms || iv.Floor(got) != got {
				t.Fatalf("%s: Floor(%d) = %d does not open the candle holding it", name, ms, got)
			}
		}
	}
	if got, want := intervals["1w"].Floor(time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC).UnixMilli()),
		time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).UnixMilli(); got != want {
		t.Errorf("1w: %s, want Monday %s", time.UnixMilli(got).UTC(), time.UnixMilli(want).UTC())
	}
}

// TestIntervalsMatchProtocol keeps the intervals this client parses and
// the ones protocol.KlineIntervals lists for TYPE names the same.
func TestIntervalsMatchProtocol(t *testing.T) {
	for _, iv := range protocol.KlineIntervals {
		if _, err := ParseInterval(iv.Name); err != nil {
			t.Errorf("protocol lists %s: %v", iv.Name, err)
		}
	}
	if len(intervals) != len(protocol.KlineIntervals) {
		t.Errorf("%d intervals here, %d in protocol.KlineIntervals", len(intervals), len(protocol.KlineIntervals))
	}
}
