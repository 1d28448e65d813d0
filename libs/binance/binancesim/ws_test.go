package binancesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// dialWS connects to path ("/stream?streams=..." or "/ws/...") of base.
func dialWS(t *testing.T, base, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, base+path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	c.SetReadLimit(1 << 22)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// readMsg reads one message within a few seconds.
func readMsg(t *testing.T, c *websocket.Conn) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// request sends a JSON request and returns the reply.
func request(t *testing.T, c *websocket.Conn, req string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		t.Fatal(err)
	}
	return string(readMsg(t, c))
}

// strict decodes b into v, rejecting members v does not have.
func strict(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// advance moves the fake clock in steps, giving the connections' ticks time to send what became due.
func advance(clk *fakeClock, total, step time.Duration) {
	for d := time.Duration(0); d < total; d += step {
		clk.Add(step)
		time.Sleep(15 * time.Millisecond)
	}
}

// Binance's payloads (web-socket-streams.md), member for member.
type (
	wsAggTrade struct {
		E    string `json:"e"`
		ET   int64  `json:"E"`
		S    string `json:"s"`
		A    int64  `json:"a"`
		P, Q string
		F    int64 `json:"f"`
		L    int64 `json:"l"`
		T    int64 `json:"T"`
		Ml   bool  `json:"m"`
		Mu   bool  `json:"M"`
	}
	wsTrade struct {
		E    string `json:"e"`
		ET   int64  `json:"E"`
		S    string `json:"s"`
		T    int64  `json:"t"`
		P, Q string
		TT   int64 `json:"T"`
		Ml   bool  `json:"m"`
		Mu   bool  `json:"M"`
	}
	wsKline struct {
		E  string `json:"e"`
		ET int64  `json:"E"`
		S  string `json:"s"`
		K  struct {
			T                  int64  `json:"t"`
			TT                 int64  `json:"T"`
			S                  string `json:"s"`
			I                  string `json:"i"`
			F                  int64  `json:"f"`
			L                  int64  `json:"L"`
			O, C, H, Ll, V     string
			N                  int64 `json:"n"`
			X                  bool  `json:"x"`
			Qq, Vv, QQ, Ignore string
		} `json:"k"`
	}
	wsDepth struct {
		E  string      `json:"e"`
		ET int64       `json:"E"`
		S  string      `json:"s"`
		U  int64       `json:"U"`
		Uu int64       `json:"u"`
		B  [][2]string `json:"b"`
		A  [][2]string `json:"a"`
	}
	wsEnvelope struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	}
)

// The lower-case twins of the upper-case members need explicit names; encoding/json matches case-insensitively
// otherwise, so these wrappers keep the strict decoding honest.
func (k *wsKline) UnmarshalJSON(b []byte) error {
	var raw struct {
		E  string                     `json:"e"`
		ET int64                      `json:"E"`
		S  string                     `json:"s"`
		K  map[string]json.RawMessage `json:"k"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	want := []string{"t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}
	if len(raw.K) != len(want) {
		return fmt.Errorf("kline has %d members, want %d", len(raw.K), len(want))
	}
	for _, m := range want {
		if _, ok := raw.K[m]; !ok {
			return fmt.Errorf("kline member %q missing", m)
		}
	}
	k.E, k.ET, k.S = raw.E, raw.ET, raw.S
	dec := func(name string, v any) error { return json.Unmarshal(raw.K[name], v) }
	return errors.Join(dec("t", &k.K.T), dec("T", &k.K.TT), dec("s", &k.K.S), dec("i", &k.K.I), dec("f", &k.K.F),
		dec("L", &k.K.L), dec("o", &k.K.O), dec("c", &k.K.C), dec("h", &k.K.H), dec("l", &k.K.Ll), dec("v", &k.K.V),
		dec("n", &k.K.N), dec("x", &k.K.X), dec("q", &k.K.Qq), dec("V", &k.K.Vv), dec("Q", &k.K.QQ), dec("B", &k.K.Ignore))
}

func TestWSPayloadShapes(t *testing.T) {
	// The test reads after moving the clock by minutes: pings would go unanswered meanwhile.
	sim, base, clk := newTestSim(t, Options{WS: WSOptions{PingInterval: time.Hour}})
	streams := "btcusdt@aggTrade/btcusdt@trade/btcusdt@kline_1m/btcusdt@depth@100ms/ethusdt@depth"
	c := dialWS(t, base, "/stream?streams="+streams)
	raw := dialWS(t, base, "/ws/btcusdt@depth@100ms")
	advance(clk, 3*time.Minute, 5*time.Second)

	seen := map[string]int{}
	closedKlines := 0
	for len(seen) < 5 || closedKlines < 2 {
		var env wsEnvelope
		strict(t, readMsg(t, c), &env)
		seen[env.Stream]++
		switch env.Stream {
		case "btcusdt@aggTrade":
			var a wsAggTrade
			strict(t, env.Data, &a)
			if a.E != "aggTrade" || a.S != "BTCUSDT" || a.A <= 0 || a.F > a.L || !a.Mu || a.ET < a.T {
				t.Errorf("aggTrade %s", env.Data)
			}
		case "btcusdt@trade":
			var tr wsTrade
			strict(t, env.Data, &tr)
			if tr.E != "trade" || tr.S != "BTCUSDT" || tr.T <= 0 || tr.P == "" {
				t.Errorf("trade %s", env.Data)
			}
			// The quantity is on BTCUSDT's LOT_SIZE step (0.00001), like every trade on the exchange.
			if q, _ := strconv.ParseFloat(tr.Q, 64); q <= 0 || math.Abs(q*1e5-math.Round(q*1e5)) > 1e-6 {
				t.Errorf("trade quantity %s is not a positive multiple of the step 0.00001", tr.Q)
			}
		case "btcusdt@kline_1m":
			var k wsKline
			if err := json.Unmarshal(env.Data, &k); err != nil {
				t.Fatalf("kline %s: %v", env.Data, err)
			}
			if k.E != "kline" || k.K.I != "1m" || k.K.TT != k.K.T+59_999 || k.K.S != "BTCUSDT" {
				t.Errorf("kline %s", env.Data)
			}
			if k.K.X {
				closedKlines++
				candles, err := sim.Market().Candles("BTCUSDT", "1m", time.UnixMilli(k.K.T), time.UnixMilli(k.K.T))
				if err != nil || len(candles) != 1 {
					t.Fatal(err)
				}
				want := candles[0]
				if k.K.O != fixed(want.Open) || k.K.C != fixed(want.Close) || k.K.V != fixed(want.Volume) || k.K.N != want.Trades ||
					(want.Trades > 0 && k.K.L-k.K.F+1 != want.Trades) {
					t.Errorf("closed kline %s, want %+v", env.Data, want)
				}
			}
		case "btcusdt@depth@100ms", "ethusdt@depth":
			var d wsDepth
			strict(t, env.Data, &d)
			if d.E != "depthUpdate" || d.U > d.Uu || len(d.B)+len(d.A) == 0 {
				t.Errorf("depthUpdate %s", env.Data)
			}
		default:
			t.Fatalf("message of unsubscribed stream %q", env.Stream)
		}
	}
	// A raw stream sends the bare event.
	var d wsDepth
	strict(t, readMsg(t, raw), &d)
	if d.S != "BTCUSDT" {
		t.Errorf("raw depth for %q", d.S)
	}
	if st := sim.Stats().WS; st.Opened != 2 || st.MessagesSent == 0 {
		t.Errorf("stats %+v", st)
	}
}

// The diffs streamed after a REST snapshot turn it into the next REST snapshot, level for level.
func TestWSDepthStreamRebuildsRESTBook(t *testing.T) {
	_, base, clk := newTestSim(t, Options{})
	type book struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	first := decode[book](t, get(t, base, "/api/v3/depth", vals("symbol", "ETHUSDT", "limit", "5000")))
	c := dialWS(t, base, "/ws/ethusdt@depth@100ms")
	advance(clk, 3*time.Second, 100*time.Millisecond)
	last := decode[book](t, get(t, base, "/api/v3/depth", vals("symbol", "ETHUSDT", "limit", "5000")))
	if last.LastUpdateID <= first.LastUpdateID {
		t.Fatalf("the book did not move: %d then %d", first.LastUpdateID, last.LastUpdateID)
	}
	bids, asks := map[string]string{}, map[string]string{}
	for _, l := range first.Bids {
		bids[l[0]] = l[1]
	}
	for _, l := range first.Asks {
		asks[l[0]] = l[1]
	}
	apply := func(side map[string]string, levels [][2]string) {
		for _, l := range levels {
			if q, _ := strconv.ParseFloat(l[1], 64); q == 0 {
				delete(side, l[0])
			} else {
				side[l[0]] = l[1]
			}
		}
	}
	for id := first.LastUpdateID; id < last.LastUpdateID; {
		var d wsDepth
		strict(t, readMsg(t, c), &d)
		if d.U != id+1 {
			t.Fatalf("diff [%d, %d] after update %d", d.U, d.Uu, id)
		}
		apply(bids, d.B)
		apply(asks, d.A)
		id = d.Uu
	}
	want := func(levels [][2]string) map[string]string {
		m := map[string]string{}
		for _, l := range levels {
			m[l[0]] = l[1]
		}
		return m
	}
	if diff := cmp.Diff(want(last.Bids), bids); diff != "" {
		t.Errorf("bids (-REST +snapshot with diffs):\n%s", diff)
	}
	if diff := cmp.Diff(want(last.Asks), asks); diff != "" {
		t.Errorf("asks (-REST +snapshot with diffs):\n%s", diff)
	}
	best := func(levels [][2]string) float64 { p, _ := strconv.ParseFloat(levels[0][0], 64); return p }
	if best(last.Bids) >= best(last.Asks) {
		t.Errorf("crossed book: bid %v, ask %v", best(last.Bids), best(last.Asks))
	}
}

func TestWSInjectDepthGap(t *testing.T) {
	sim, base, clk := newTestSim(t, Options{})
	c := dialWS(t, base, "/ws/btcusdt@depth@100ms")
	advance(clk, time.Second, 100*time.Millisecond)
	var d wsDepth
	strict(t, readMsg(t, c), &d)
	if err := sim.InjectDepthGap("BTCUSDT", 4); err != nil {
		t.Fatal(err)
	}
	// Drain what was sent before the gap, then the first diff after it starts 4 ids late.
	prev := d.Uu
	advance(clk, time.Second, 100*time.Millisecond)
	for {
		strict(t, readMsg(t, c), &d)
		if d.U != prev+1 {
			break
		}
		prev = d.Uu
	}
	if d.U != prev+1+4 {
		t.Errorf("diff after the gap starts at %d, want %d (previous u %d + 1 + 4)", d.U, prev+5, prev)
	}
	if got := sim.Stats().WS.GapsInjected; got != 1 {
		t.Errorf("GapsInjected = %d, want 1", got)
	}
	for _, tc := range []struct {
		symbol string
		n      int
	}{{"XRPUSDT", 1}, {"btcusdt", 1}, {"BTCUSDT", 0}} {
		if err := sim.InjectDepthGap(tc.symbol, tc.n); err == nil {
			t.Errorf("InjectDepthGap(%q, %d): no error", tc.symbol, tc.n)
		}
	}
}

// Synthetic trades are a function of time: every connection sends the same ids for the same period.
func TestWSSyntheticRate(t *testing.T) {
	_, base, clk := newTestSim(t, Options{WS: WSOptions{Rate: 500}})
	a := dialWS(t, base, "/ws/btcusdt@aggTrade")
	b := dialWS(t, base, "/stream?streams=btcusdt@aggTrade")
	advance(clk, time.Second, 100*time.Millisecond)
	ids := func(c *websocket.Conn, combined bool) []int64 {
		var out []int64
		for range 500 {
			msg := readMsg(t, c)
			if combined {
				var env wsEnvelope
				strict(t, msg, &env)
				msg = env.Data
			}
			var tr wsAggTrade
			strict(t, msg, &tr)
			out = append(out, tr.A)
		}
		return out
	}
	got := ids(a, false)
	for i, id := range got {
		if id != got[0]+int64(i) {
			t.Fatalf("id %d at %d after %d", id, i, got[0])
		}
	}
	if diff := cmp.Diff(got, ids(b, true)); diff != "" {
		t.Errorf("two connections got different trades (-raw +combined):\n%s", diff)
	}
}

func TestWSRequests(t *testing.T) {
	_, base, clk := newTestSim(t, Options{})
	// Streams of symbols the market does not have carry nothing, so only replies arrive.
	c := dialWS(t, base, "/stream?streams=aaausdt@aggTrade")
	tests := []struct{ req, want string }{
		{`{"method":"SUBSCRIBE","params":["bbbusdt@depth@100ms","aaausdt@aggTrade"],"id":1}`, `{"result":null,"id":1}`},
		{`{"method":"LIST_SUBSCRIPTIONS","id":"two"}`, `{"result":["aaausdt@aggTrade","bbbusdt@depth@100ms"],"id":"two"}`},
		{`{"method":"UNSUBSCRIBE","params":["aaausdt@aggTrade"],"id":3}`, `{"result":null,"id":3}`},
		{`{"method":"LIST_SUBSCRIPTIONS","id":4}`, `{"result":["bbbusdt@depth@100ms"],"id":4}`},
		{`{"method":"SUBSCRIBE","params":["BTCUSDT@aggTrade"],"id":5}`, `"code":2`},
		{`{"method":"SUBSCRIBE","params":["btcusdt@depth7"],"id":6}`, `"code":2`}, // partial books have 5, 10 or 20 levels
		{`{"method":"FLY","id":7}`, `"code":2`},
		{`{"method":`, `"code":3`},
	}
	var names, quoted []string
	for i := range wsMaxStreams {
		names = append(names, fmt.Sprintf("x%04dusdt@trade", i))
		quoted = append(quoted, strconv.Quote(names[i]))
	}
	tests = append(tests, struct{ req, want string }{
		`{"method":"SUBSCRIBE","params":[` + strings.Join(quoted, ",") + `],"id":9}`, "too many streams"})
	for _, tc := range tests {
		if got := request(t, c, tc.req); !strings.Contains(got, tc.want) {
			t.Errorf("%.80s: got %.200s, want %s", tc.req, got, tc.want)
		}
		clk.Add(time.Second) // within the five messages a second
	}
	// Handshakes that cannot be served are refused with a reason.
	for path, want := range map[string]string{
		"/stream?streams=" + strings.Join(names, "/") + "/btcusdt@trade": "Too many streams",
		"/stream?streams=btcusdt@aggtrade":                               "unknown stream type",
		"/ws/BTCUSDT@trade":                                              "lower case",
	} {
		r := get(t, base, path, nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), want) {
			t.Errorf("GET %.60s: %d %s, want 400 with %q", path, r.status, r.body, want)
		}
	}
}

func TestWSIncomingLimitClosesTheConnection(t *testing.T) {
	sim, base, _ := newTestSim(t, Options{Clock: time.Now})
	c := dialWS(t, base, "/ws")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Eleven requests at once: however they fall on the clock's seconds, one second holds six.
	for i := range 11 {
		if err := c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"method":"LIST_SUBSCRIPTIONS","id":%d}`, i)); err != nil {
			break // closed already
		}
	}
	var err error
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
		t.Errorf("read %v, want a policy violation close", err)
	}
	if st := sim.Stats().WS; st.RateCuts != 1 || st.MaxIncomingPerSecond < 6 {
		t.Errorf("RateCuts %d, MaxIncomingPerSecond %d; want 1 and at least 6", st.RateCuts, st.MaxIncomingPerSecond)
	}
}

func TestWSLifetimeCut(t *testing.T) {
	sim, base, _ := newTestSim(t, Options{Clock: time.Now, WS: WSOptions{MaxLifetime: 300 * time.Millisecond}})
	start := time.Now()
	c := dialWS(t, base, "/stream?streams=btcusdt@depth@100ms")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway || time.Since(start) < 300*time.Millisecond {
		t.Errorf("after %v: %v, want a going-away close after 300ms", time.Since(start), err)
	}
	if st := sim.Stats().WS; st.LifetimeCuts != 1 {
		t.Errorf("LifetimeCuts = %d, want 1", st.LifetimeCuts)
	}
}

func TestWSDropWS(t *testing.T) {
	sim, base, _ := newTestSim(t, Options{})
	a := dialWS(t, base, "/ws/btcusdt@trade")
	b := dialWS(t, base, "/stream?streams=ethusdt@depth")
	waitOpen := func(n int) {
		for deadline := time.Now().Add(5 * time.Second); sim.Stats().WS.Open != n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections open, want %d", sim.Stats().WS.Open, n)
			}
		}
	}
	waitOpen(2)
	if n := sim.DropWS(); n != 2 {
		t.Errorf("DropWS dropped %d, want 2", n)
	}
	for _, c := range []*websocket.Conn{a, b} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("read after DropWS: %v, want the connection gone", err)
		}
	}
	waitOpen(0)
	if st := sim.Stats().WS; st.Dropped != 2 || st.Opened != 2 {
		t.Errorf("Dropped %d, Opened %d; want 2 and 2", st.Dropped, st.Opened)
	}
}
