package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

func TestWSURLFromEnv(t *testing.T) {
	t.Setenv("BINANCE_WS_URL", "")
	if got := WSURLFromEnv(); got != DefaultWSURL {
		t.Errorf("unset: got %q, want %q", got, DefaultWSURL)
	}
	t.Setenv("BINANCE_WS_URL", "ws://127.0.0.1:9")
	if got := WSURLFromEnv(); got != "ws://127.0.0.1:9" {
		t.Errorf("set: got %q", got)
	}
}

func TestNewWSClientValidates(t *testing.T) {
	tests := []struct {
		name    string
		opts    WSOptions
		wantErr string // a fragment of the error; empty for success
	}{
		{"all kinds", WSOptions{Streams: []string{"btcusdt@aggTrade", "btcusdt@trade", "btcusdt@kline_1M", "btcusdt@depth", "1000satsusdt@depth@100ms"}}, ""},
		{"no streams", WSOptions{}, "no streams"},
		{"upper-case symbol", WSOptions{Streams: []string{"BTCUSDT@aggTrade"}}, `"BTCUSDT@aggTrade": the symbol must be lower-case`},
		{"no kind", WSOptions{Streams: []string{"btcusdt"}}, "want <symbol>@<kind>"},
		// web-socket-streams.md: "Individual Symbol Book Ticker Streams", "Partial Book Depth Streams" (5, 10 or 20
		// levels, 1000 or 100 ms) and "Diff. Depth Stream" (1000 or 100 ms).
		{"book streams", WSOptions{Streams: []string{"btcusdt@bookTicker", "btcusdt@depth5", "ethusdt@depth10@100ms",
			"bnbusdt@depth20@1000ms", "solusdt@depth@1000ms"}}, ""},
		{"unknown kind", WSOptions{Streams: []string{"btcusdt@bookticker"}}, `unknown kind "bookticker"`},
		{"partial depth of 15 levels", WSOptions{Streams: []string{"btcusdt@depth15"}}, `unknown kind "depth15"`},
		{"partial depth at 500 ms", WSOptions{Streams: []string{"btcusdt@depth5@500ms"}}, `unknown kind "depth5@500ms"`},
		{"lower-case kind", WSOptions{Streams: []string{"btcusdt@aggtrade"}}, `unknown kind "aggtrade"`},
		{"bad interval", WSOptions{Streams: []string{"btcusdt@kline_7m"}}, `unknown kline interval "7m"`},
		{"twice", WSOptions{Streams: []string{"btcusdt@trade", "btcusdt@trade"}}, "listed twice"},
		{"bad scheme", WSOptions{URL: "ftp://x", Streams: []string{"btcusdt@trade"}}, "scheme must be"},
		{"query in url", WSOptions{URL: "ws://x/stream?streams=a", Streams: []string{"btcusdt@trade"}}, "without a query"},
		{"overlap too long", WSOptions{Streams: []string{"btcusdt@trade"}, RotateAfter: time.Second, RotateOverlap: time.Second}, "must be shorter"},
		{"negative", WSOptions{Streams: []string{"btcusdt@trade"}, BackoffFirst: -1}, "negative duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWSClient(tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestWSClientSplitsStreams(t *testing.T) {
	var streams []string
	for i := range 2500 {
		streams = append(streams, fmt.Sprintf("s%04dusdt@aggTrade", i))
	}
	c, err := NewWSClient(WSOptions{URL: "ws://127.0.0.1:1", Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Connections(); got != 3 {
		t.Fatalf("connections = %d, want 3 for 2500 streams", got)
	}
	var all []string
	for i, p := range c.shards {
		if len(p.streams) > MaxStreamsPerConn {
			t.Errorf("connection %d carries %d streams, more than %d", i, len(p.streams), MaxStreamsPerConn)
		}
		_, inURL, _ := strings.Cut(p.url, "?streams=")
		if len(inURL) > urlStreamBytes {
			t.Errorf("connection %d: %d bytes of streams in the URL, more than %d", i, len(inURL), urlStreamBytes)
		}
		got := strings.Split(inURL, "/")
		for _, b := range p.batches {
			if len(b) > subscribeBatch {
				t.Errorf("connection %d: SUBSCRIBE of %d streams, more than %d", i, len(b), subscribeBatch)
			}
			got = append(got, b...)
		}
		if diff := cmp.Diff(p.streams, got); diff != "" {
			t.Errorf("connection %d: URL and batches differ from its streams (-want +got):\n%s", i, diff)
		}
		all = append(all, got...)
	}
	if diff := cmp.Diff(streams, all); diff != "" {
		t.Errorf("streams over all connections (-want +got):\n%s", diff)
	}
	if got := []int{len(c.shards[0].streams), len(c.shards[1].streams), len(c.shards[2].streams)}; !slices.Equal(got, []int{1024, 1024, 452}) {
		t.Errorf("group sizes %v, want [1024 1024 452]", got)
	}
}

func TestSendLimiterKeepsFivePerSecond(t *testing.T) {
	clk := newAutoClock()
	lim := newSendLimiter(MaxMessagesPerSecond, time.Second, clk.Now, clk.Sleep)
	var sent []time.Time
	for range 23 {
		if err := lim.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, clk.Now())
	}
	// No window of one second holds more than five sends.
	for i := range sent {
		n := 0
		for _, s := range sent[i:] {
			if s.Sub(sent[i]) < time.Second {
				n++
			}
		}
		if n > MaxMessagesPerSecond {
			t.Fatalf("%d sends within a second from %v", n, sent[i].Sub(testEpoch))
		}
	}
	// And it does not wait more than needed: 23 sends take four seconds.
	if got := sent[len(sent)-1].Sub(sent[0]); got != 4*time.Second {
		t.Errorf("23 sends took %v, want 4s", got)
	}
	if controlPerSecond+1 > MaxMessagesPerSecond {
		t.Errorf("requests (%d/s) and a pong exceed Binance's %d messages per second", controlPerSecond, MaxMessagesPerSecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lim.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestParseAggTradeEvent(t *testing.T) {
	// The documented example (web-socket-streams.md), with a millisecond time.
	data := `{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`
	got, err := ParseAggTradeEvent([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := AggTrade{Symbol: "BNBBTC", Time: 1672515782136, AggID: 12345, Price: 0.001, Qty: 100, FirstID: 100, LastID: 105, BuyerMaker: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for name, bad := range map[string]string{
		"missing a":   `{"e":"aggTrade","E":1,"s":"X","p":"1","q":"1","f":1,"l":1,"T":1672515782136,"m":true}`,
		"wrong event": `{"e":"trade","E":1,"s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":1672515782136,"m":true}`,
		"bad price":   `{"e":"aggTrade","E":1,"s":"X","a":1,"p":"one","q":"1","f":1,"l":1,"T":1672515782136,"m":true}`,
		"bad time":    `{"e":"aggTrade","E":1,"s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":16725,"m":true}`,
		"not json":    `{"e":"aggTrade",`,
		"array":       `[1,2]`,
	} {
		if _, err := ParseAggTradeEvent([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err = ParseAggTradeEvent([]byte(`{"e":"aggTrade","E":1,"s":"X","p":"1","q":"1","f":1,"l":1,"T":1672515782136,"m":true}`))
	if err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("missing a: error %v does not name the member", err)
	}
}

func TestParseTradeEvent(t *testing.T) {
	data := `{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","b":88,"a":50,"T":1672515782136,"m":true,"M":true}`
	got, err := ParseTradeEvent([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := AggTrade{Symbol: "BNBBTC", Time: 1672515782136, AggID: 12345, Price: 0.001, Qty: 100, FirstID: 12345, LastID: 12345, BuyerMaker: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseTradeEvent([]byte(`{"e":"aggTrade","E":1,"s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":1672515782136,"m":true}`)); err == nil {
		t.Error("an aggTrade event parsed as a trade")
	}
}

func TestParseKlineEvent(t *testing.T) {
	data := `{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m",` +
		`"f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000",` +
		`"V":"500","Q":"0.500","B":"123456"}}`
	got, closed, err := ParseKlineEvent([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := Candle{Symbol: "BNBBTC", Interval: "1m", Time: 1672515780000, OpenTime: 1672515780000, CloseTime: 1672515839999,
		Open: 0.001, High: 0.0025, Low: 0.0015, Close: 0.002, Volume: 1000, QuoteVolume: 1, Trades: 100,
		TakerBuyBase: 500, TakerBuyQuote: 0.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if closed {
		t.Error("closed = true, want false")
	}
	_, closed, err = ParseKlineEvent([]byte(strings.Replace(data, `"x":false`, `"x":true`, 1)))
	if err != nil || !closed {
		t.Errorf("x=true: closed %v, err %v", closed, err)
	}
	for name, bad := range map[string]string{
		"no k":         `{"e":"kline","E":1,"s":"X"}`,
		"bad interval": strings.Replace(data, `"i":"1m"`, `"i":"7m"`, 1),
		"missing n":    strings.Replace(data, `"n":100,`, ``, 1),
	} {
		if _, _, err := ParseKlineEvent([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Escapes are valid JSON, if not what Binance sends.
	got, _, err = ParseKlineEvent([]byte(strings.Replace(data, `"s":"BNBBTC","i"`, `"s":"BNB\u0042TC","i"`, 1)))
	if err != nil || got.Symbol != "BNBBTC" {
		t.Errorf("escaped symbol: got %q, %v", got.Symbol, err)
	}
}

// The scanner agrees with encoding/json on what Binance sends and on layouts it does not.
func TestSplitEnvelope(t *testing.T) {
	tests := []struct {
		name, msg    string
		stream, data string
		ok           bool
	}{
		{"binance layout", `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","a":1}}`, "btcusdt@aggTrade", `{"e":"aggTrade","a":1}`, true},
		{"spaces", `{ "stream" : "x@trade" , "data" : {"t":[1,"}"]} }`, "x@trade", `{"t":[1,"}"]}`, true},
		{"data first", `{"data":{"u":2},"stream":"x@depth"}`, "x@depth", `{"u":2}`, true},
		{"subscription answer", `{"result":null,"id":1}`, "", "", false},
		{"garbage", `{"stream":"x@depth","data":{`, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream, data, ok := splitEnvelope([]byte(tc.msg))
			if ok != tc.ok || string(stream) != tc.stream || string(data) != tc.data {
				t.Errorf("got %q, %q, %v; want %q, %q, %v", stream, data, ok, tc.stream, tc.data, tc.ok)
			}
			if tc.ok && !json.Valid(data) {
				t.Errorf("data %q is not valid JSON", data)
			}
		})
	}
}

func TestStreamStateDropsWhatWasPassed(t *testing.T) {
	run := func(kind streamKind, msgs []string) []int {
		st := &streamState{kind: kind}
		var passed []int
		for i, m := range msgs {
			if st.accept([]byte(m)) {
				passed = append(passed, i)
			}
		}
		return passed
	}
	agg := func(a int) string { return fmt.Sprintf(`{"e":"aggTrade","E":1,"s":"X","a":%d,"p":"1"}`, a) }
	depth := func(first, final int) string {
		return fmt.Sprintf(`{"e":"depthUpdate","E":1,"s":"X","U":%d,"u":%d}`, first, final)
	}
	kline := func(open, e int, x bool) string {
		return fmt.Sprintf(`{"e":"kline","E":%d,"s":"X","k":{"t":%d,"T":1,"x":%v}}`, e, open, x)
	}
	tests := []struct {
		name string
		kind streamKind
		msgs []string
		want []int
	}{
		{"agg trades", kindAggTrade, []string{agg(1), agg(2), agg(2), agg(1), agg(3), agg(5), agg(4)}, []int{0, 1, 4, 5}},
		{"trades", kindTrade, []string{`{"t":7}`, `{"t":7}`, `{"t":8}`}, []int{0, 2}},
		{"depth by u", kindDepth, []string{depth(1, 3), depth(1, 3), depth(2, 5), depth(4, 5), depth(6, 6)}, []int{0, 2, 4}},
		{"klines", kindKline, []string{
			kline(0, 1, false), kline(0, 1, false), kline(0, 3, false), kline(0, 2, false), // in order, once
			kline(0, 4, true), kline(0, 4, true), kline(0, 5, false), // closed once, nothing after
			kline(60, 6, false), kline(0, 7, true), kline(60, 8, true),
		}, []int{0, 2, 4, 7, 9}},
		{"book tickers by u", kindBookTicker, []string{`{"u":4,"s":"X"}`, `{"u":4,"s":"X"}`, `{"u":3,"s":"X"}`, `{"u":6,"s":"X"}`}, []int{0, 3}},
		{"partial books by lastUpdateId", kindPartialDepth, []string{`{"lastUpdateId":9,"bids":[]}`, `{"lastUpdateId":9,"bids":[]}`,
			`{"lastUpdateId":10,"bids":[]}`}, []int{0, 2}},
		{"unreadable ids pass", kindAggTrade, []string{`{"a":"x"}`, `{}`}, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, run(tc.kind, tc.msgs)); diff != "" {
				t.Errorf("passed messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWSBackoffIsCappedAndJittered(t *testing.T) {
	c, err := NewWSClient(WSOptions{URL: "ws://x", Streams: []string{"x@trade"}, BackoffFirst: 100 * time.Millisecond,
		BackoffMax: time.Second, Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for attempt := 1; attempt <= 6; attempt++ {
		got = append(got, c.backoff(attempt))
	}
	want := []time.Duration{75 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond,
		750 * time.Millisecond, 750 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff by attempt (-want +got):\n%s", diff)
	}
}

func BenchmarkParseAggTradeEvent(b *testing.B) {
	data := []byte(`{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.00100000","q":"100.00000000","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAggTradeEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWSDispatchHandsOverInOrder feeds the dispatcher a rotation whose new
// connection is ahead of the old one: its messages arrive before the old
// one has delivered the ids in between. Every id must reach fn once, in
// order; a new connection's messages wait until the switch.
func TestWSDispatchHandsOverInOrder(t *testing.T) {
	c, err := NewWSClient(WSOptions{URL: "ws://127.0.0.1:1", Streams: []string{"btcusdt@aggTrade"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &wsRun{c: c, ctx: ctx, q: make(chan wsItem, 64)}
	msg := func(gen int, id int64) wsItem {
		bp := c.bufs.Get().(*[]byte)
		*bp = fmt.Appendf((*bp)[:0], `btcusdt@aggTrade{"e":"aggTrade","a":%d}`, id)
		stream := (*bp)[:len("btcusdt@aggTrade")]
		return wsItem{buf: bp, stream: stream, data: (*bp)[len(stream):], gen: gen}
	}
	for _, it := range []wsItem{
		msg(1, 1), msg(1, 2), msg(1, 3), // the old connection
		msg(2, 5), msg(2, 6), // the new one, ahead: 4 is still on its way over the old one
		msg(1, 4), msg(1, 5),
		{switchTo: true, gen: 2},
		msg(1, 6), msg(2, 7), msg(1, 7), msg(2, 8), // the old one's last messages while it closes
	} {
		r.q <- it
	}
	st := &streamState{name: "btcusdt@aggTrade", kind: c.kinds["btcusdt@aggTrade"]}
	var got []int64
	err = r.dispatch(map[string]*streamState{st.name: st}, [][]*streamState{{st}}, func(m WSMessage) error {
		v, _ := exactjson.Member(m.Data, "a")
		id, err := rawInt(v)
		if err != nil {
			return err
		}
		got = append(got, id)
		if id == 8 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("dispatch: %v; got %v", err, got)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("ids passed %v, want %v", got, want)
	}
}
