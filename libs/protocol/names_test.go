package protocol_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/protocol"
)

func TestExampleNames(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	q, err := protocol.NewQueueID("BTCUSDT", "api_candles_5m", day, "a1b2c3")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"NewQueueID", q, "wf-btcusdt-api_candles_5m-20240801-a1b2c3"},
		{"DataTopic", protocol.DataTopic(q), "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data"},
		{"DLQTopic", protocol.DLQTopic(protocol.DataTopic(q)), "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data-dlq"},
		{"CollectionName", protocol.CollectionName("BTCUSDT", "api_candles_5m", day), "btcusdt_api_candles_5m_2024_08_01"},
		{"GraphName", protocol.GraphName("BTCUSDT", day, "a1b2c3"), "btcusdt_graph_2024_08_01_a1b2c3"},
		{"TelemetryID", protocol.TelemetryID("loader-producer", "a1b2c3"), "loader-producer__a1b2c3"},
		{"TelemetryService", protocol.TelemetryService("arango-connector__a1b2c3"), "arango-connector"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	parsed, err := protocol.ParseQueueID(q)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(protocol.QueueID{Symbol: "BTCUSDT", Type: "api_candles_5m", Day: day, Suffix: "a1b2c3"}, parsed); d != "" {
		t.Errorf("ParseQueueID (-want +got):\n%s", d)
	}
}

func TestNewQueueIDRejects(t *testing.T) {
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ name, symbol, typ, suffix string }{
		{"lower-case symbol", "btcusdt", "api_trades", "a1b2c3"},
		{"hyphen in type", "BTCUSDT", "api-trades", "a1b2c3"},
		{"upper-case suffix", "BTCUSDT", "api_trades", "A1B2C3"},
		{"short suffix", "BTCUSDT", "api_trades", "a1b2"},
		{"no symbol", "", "api_trades", "a1b2c3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if q, err := protocol.NewQueueID(tt.symbol, tt.typ, day, tt.suffix); err == nil {
				t.Errorf("NewQueueID(%q, %q, %q) = %q, want an error", tt.symbol, tt.typ, tt.suffix, q)
			}
		})
	}
	for _, bad := range []string{"wf-btcusdt-api_trades-2024080-a1b2c3", "btcusdt-api_trades-20240801-a1b2c3", "wf-btcusdt-api_trades-20241301-a1b2c3", "wf-BTCUSDT-api_trades-20240801-a1b2c3"} {
		if _, err := protocol.ParseQueueID(bad); err == nil {
			t.Errorf("ParseQueueID(%q) accepted it", bad)
		}
	}
}

func TestNewSuffixIsSixHex(t *testing.T) {
	r := rand.NewChaCha8([32]byte{1})
	seen := map[string]bool{}
	for range 100 {
		s, err := protocol.NewSuffix(r)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9a-f]{6}$`).MatchString(s) {
			t.Fatalf("suffix %q is not six hex digits", s)
		}
		seen[s] = true
	}
	if len(seen) < 99 {
		t.Errorf("only %d distinct suffixes in 100", len(seen))
	}
}

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestKubeName(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string // "" means: only check validity
	}{
		{"already valid", []string{"job", "arango", "candles", "btcusdt", "abc123"}, "job-arango-candles-btcusdt-abc123"},
		{"underscores", []string{"job", "wf-btcusdt-api_candles_5m-20240801-a1b2c3"}, ""},
		{"upper case", []string{"Job", "BTCUSDT"}, ""},
		{"very long", []string{strings.Repeat("loader-producer-", 10)}, ""},
		{"only symbols", []string{"___"}, ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := protocol.KubeName(tt.parts...)
			if tt.want != "" && got != tt.want {
				t.Errorf("KubeName = %q, want %q", got, tt.want)
			}
			if len(got) > 63 || !dns1123.MatchString(got) {
				t.Errorf("KubeName = %q is not a DNS-1123 label", got)
			}
		})
	}
	if a, b := protocol.KubeName("job", "a_b"), protocol.KubeName("job", "a-b"); a == b {
		t.Errorf("different inputs share the name %q", a)
	}
	long := strings.Repeat("x", 80)
	if a, b := protocol.KubeName(long+"1"), protocol.KubeName(long+"2"); a == b {
		t.Errorf("inputs differing after the cut share the name %q", a)
	}
}

func TestKubeNameAlwaysValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ019_-.: /éß")
	for range 2000 {
		n := r.IntN(100)
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		got := protocol.KubeName(string(rs))
		if len(got) > 63 || !dns1123.MatchString(got) {
			t.Fatalf("KubeName(%q) = %q is not a DNS-1123 label", string(rs), got)
		}
	}
}

func TestIsLabelValue(t *testing.T) {
	for s, want := range map[string]bool{
		"wf-btcusdt-api_candles_5m-20240801-a1b2c3": true,
		"":                      true,
		"-leading":              false,
		strings.Repeat("a", 64): false,
		"has space":             false,
	} {
		if got := protocol.IsLabelValue(s); got != want {
			t.Errorf("IsLabelValue(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseTimeRange(t *testing.T) {
	d := func(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		in      string
		want    protocol.TimeRange
		wantErr bool
	}{
		{name: "days", in: "2024-08-01:2024-08-02", want: protocol.TimeRange{Start: d(2024, 8, 1), End: d(2024, 8, 2)}},
		{name: "RFC 3339 with zones", in: "2024-08-01T10:00:00Z/2024-08-01T12:30:00+02:00", want: protocol.TimeRange{Start: d(2024, 8, 1).Add(10 * time.Hour), End: d(2024, 8, 1).Add(10*time.Hour + 30*time.Minute)}},
		{name: "end before start", in: "2024-08-02:2024-08-01", wantErr: true},
		{name: "empty", in: "2024-08-01:2024-08-01", wantErr: true},
		{name: "no such month", in: "2024-13-01:2024-08-01", wantErr: true},
		{name: "not a range", in: "yesterday", wantErr: true},
		{name: "end not a time", in: "2024-08-01T10:00:00Z/soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.ParseTimeRange(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTimeRange(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr {
				if !got.Start.Equal(tt.want.Start) || !got.End.Equal(tt.want.End) {
					t.Errorf("ParseTimeRange(%q) = %v, want %v", tt.in, got, tt.want)
				}
				back, err := protocol.ParseTimeRange(got.String())
				if err != nil || !back.Start.Equal(got.Start) || !back.End.Equal(got.End) {
					t.Errorf("String() %q does not parse back: %v", got.String(), err)
				}
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2024, 8, 1, 8, 13, 20, 123_456_789, time.UTC)
	ts := protocol.Timestamp(at)
	if ts != 1722500000.123 {
		t.Errorf("Timestamp = %v, want 1722500000.123", ts)
	}
	if got, want := protocol.TimeOf(ts), at.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("TimeOf = %v, want %v", got, want)
	}
}

func TestTaskValidateNamesVariable(t *testing.T) {
	good := protocol.Task{QueueID: "wf-btcusdt-api_trades-20240801-a1b2c3", Symbol: "BTCUSDT", Type: "api_trades", TelemetryID: "loader-api-trades__a1b2c3", TimeRange: "2024-08-01:2024-08-02"}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	several := good
	several.Symbol = "BTCUSDT,ETHUSDT,BNBUSDT"
	if err := several.Validate(); err != nil {
		t.Fatalf("Validate of a symbol list: %v", err)
	}
	for name, edit := range map[string]func(*protocol.Task){
		"QUEUE_ID":     func(t *protocol.Task) { t.QueueID = "" },
		"SYMBOL":       func(t *protocol.Task) { t.Symbol = "btc" },
		"SYMBOL ":      func(t *protocol.Task) { t.Symbol = "BTCUSDT,ETHUSDT,BTCUSDT" },
		"SYMBOL  ":     func(t *protocol.Task) { t.Symbol = "BTCUSDT," },
		"TELEMETRY_ID": func(t *protocol.Task) { t.TelemetryID = "x" },
		"TIME_RANGE":   func(t *protocol.Task) { t.TimeRange = "2024" },
		"KAFKA_TOPIC":  func(t *protocol.Task) { t.KafkaTopic = "a b" },
	} {
		task := good
		edit(&task)
		err := task.Validate()
		if name = strings.TrimSpace(name); err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("bad %s: got %v, want an error naming it", name, err)
		}
	}
}

func TestDataDay(t *testing.T) {
	created := time.Date(2026, 12, 6, 14, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, timeRange string
		want            time.Time
	}{
		{"whole days", "2026-09-01:2026-10-01", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)},
		{"instants", "2026-10-01T06:00:00Z/2026-10-02T00:00:00Z", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{"another zone", "2026-10-01T01:00:00+02:00/2026-10-02T00:00:00Z", time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)},
		{"live, no range", "", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.DataDay(tt.timeRange, created)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("DataDay(%q) = %s, want %s", tt.timeRange, got, tt.want)
			}
		})
	}
	if _, err := protocol.DataDay("2026-10-01", created); err == nil {
		t.Error("DataDay of a malformed range: no error")
	}
}
