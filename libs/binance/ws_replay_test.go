package binance

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// updateRange is a depth diff's [U, u].
type updateRange [2]int64

// recordedBook is what the recording implies for one symbol, worked out here with encoding/json and the rules of
// "how to manage a local order book correctly", independently of OrderBook and the simulator.
type recordedBook struct {
	lastUpdateID int64
	bids, asks   map[string]string // the snapshot with the applied diffs: price -> qty, as recorded
	dropped      []updateRange     // u <= lastUpdateId
	applied      []updateRange
}

func readRecording(t *testing.T, dir string) map[string]*recordedBook {
	t.Helper()
	type event struct {
		Symbol string      `json:"s"`
		First  int64       `json:"U"`
		Final  int64       `json:"u"`
		Bids   [][2]string `json:"b"`
		Asks   [][2]string `json:"a"`
	}
	var events []event
	lines(t, filepath.Join(dir, "BINANCE.ws.1.0"), func(n int, line string) {
		if n == 1 {
			return // wss://... <-> time: the connection the recorder opened
		}
		_, msg, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("BINANCE.ws.1.0 line %d: no message", n)
		}
		var env struct {
			Stream string          `json:"stream"`
			Data   json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(msg), &env); err != nil {
			t.Fatalf("BINANCE.ws.1.0 line %d: %v", n, err)
		}
		if !strings.HasSuffix(env.Stream, "@depth@100ms") {
			return // bookTicker, kline and aggTrade
		}
		var e event
		if err := json.Unmarshal(env.Data, &e); err != nil {
			t.Fatalf("BINANCE.ws.1.0 line %d: %v", n, err)
		}
		events = append(events, e)
	})
	books := map[string]*recordedBook{}
	lines(t, filepath.Join(dir, "BINANCE.http.0.0"), func(n int, line string) {
		u, rest, _ := strings.Cut(line, " -> ")
		_, body, _ := strings.Cut(rest, ": ")
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		var snap struct {
			LastUpdateID int64       `json:"lastUpdateId"`
			Bids         [][2]string `json:"bids"`
			Asks         [][2]string `json:"asks"`
		}
		if err := json.Unmarshal([]byte(body), &snap); err != nil {
			t.Fatalf("BINANCE.http.0.0 line %d: %v", n, err)
		}
		b := &recordedBook{lastUpdateID: snap.LastUpdateID, bids: map[string]string{}, asks: map[string]string{}}
		for _, l := range snap.Bids {
			b.bids[l[0]] = l[1]
		}
		for _, l := range snap.Asks {
			b.asks[l[0]] = l[1]
		}
		books[pu.Query().Get("symbol")] = b
	})
	for _, e := range events {
		b := books[e.Symbol]
		if b == nil {
			t.Fatalf("no snapshot of %s in the recording", e.Symbol)
		}
		r := updateRange{e.First, e.Final}
		if e.Final <= b.lastUpdateID {
			b.dropped = append(b.dropped, r)
			continue
		}
		prev := b.lastUpdateID
		if n := len(b.applied); n > 0 {
			prev = b.applied[n-1][1]
		}
		if e.First > prev+1 || e.Final < prev+1 {
			t.Fatalf("%s: the recording itself breaks the sequence at %v after %d", e.Symbol, r, prev)
		}
		b.applied = append(b.applied, r)
		for _, l := range e.Bids {
			setRecorded(b.bids, l)
		}
		for _, l := range e.Asks {
			setRecorded(b.asks, l)
		}
	}
	return books
}

func setRecorded(side map[string]string, l [2]string) {
	if q, err := strconv.ParseFloat(l[1], 64); err == nil && q == 0 {
		delete(side, l[0])
		return
	}
	side[l[0]] = l[1]
}

func lines(t testing.TB, path string, fn func(n int, line string)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			fn(n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestWSReplayThroughOrderBook streams the recorded depth diffs from the simulator to a WSClient and syncs an
// OrderBook per symbol with the recorded REST snapshots, as the order-book loader does.
func TestWSReplayThroughOrderBook(t *testing.T) {
	dir := filepath.Join(fixturesDir(t), "ws-recording")
	want := readRecording(t, dir)
	nkn := want["NKNUSDT"]
	if nkn == nil || nkn.lastUpdateID != 499869752 || len(nkn.dropped) == 0 || nkn.dropped[0] != (updateRange{499869750, 499869752}) ||
		len(nkn.applied) == 0 || nkn.applied[0][0] != 499869753 {
		t.Fatalf("the NKNUSDT facts of the fixtures README do not hold: %+v", nkn)
	}

	sim := binancesim.New(binancesim.Options{WS: binancesim.WSOptions{Replay: dir}})
	base, stop := sim.Start()
	t.Cleanup(stop)
	rest := NewClient(base, ClientOptions{})
	var streams []string
	expected := 0
	for symbol, b := range want {
		streams = append(streams, strings.ToLower(symbol)+"@depth@100ms")
		expected += len(b.dropped) + len(b.applied)
	}
	slices.Sort(streams)
	c, err := NewWSClient(WSOptions{URL: base, Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		book              *OrderBook
		received, applied []updateRange
	}
	got := map[string]*result{}
	total := 0
	ctx := t.Context()
	runUntil(t, c, 15*time.Second, func(m WSMessage) error {
		d, err := ParseDepthUpdate(m.Data)
		if err != nil {
			return err
		}
		r := got[d.Symbol]
		if r == nil {
			r = &result{book: NewOrderBook(d.Symbol)}
			got[d.Symbol] = r
		}
		r.received = append(r.received, updateRange{d.FirstUpdateID, d.FinalUpdateID})
		applied, err := r.book.Push(d)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Symbol, err)
		}
		if !r.book.Synced() {
			snap, err := rest.Depth(ctx, d.Symbol, 1000)
			if err != nil {
				return err
			}
			if applied, err = r.book.Sync(snap); err != nil {
				return fmt.Errorf("%s: %w", d.Symbol, err)
			}
		}
		for _, a := range applied {
			r.applied = append(r.applied, updateRange{a.FirstUpdateID, a.FinalUpdateID})
		}
		if total++; total == expected {
			return errEnough
		}
		return nil
	})

	for symbol, w := range want {
		r := got[symbol]
		if r == nil {
			t.Errorf("%s: no diffs streamed", symbol)
			continue
		}
		var dropped []updateRange
		for _, u := range r.received {
			if !slices.Contains(r.applied, u) {
				dropped = append(dropped, u)
			}
		}
		if diff := cmp.Diff(w.dropped, dropped); diff != "" {
			t.Errorf("%s: dropped diffs (-want +got):\n%s", symbol, diff)
		}
		if diff := cmp.Diff(w.applied, r.applied); diff != "" {
			t.Errorf("%s: applied diffs (-want +got):\n%s", symbol, diff)
		}
		if r.book.LastUpdateID() != w.applied[len(w.applied)-1][1] {
			t.Errorf("%s: book at update %d, want %d", symbol, r.book.LastUpdateID(), w.applied[len(w.applied)-1][1])
		}
		snap := r.book.Snapshot(0, 0)
		if diff := cmp.Diff(levelsOf(t, w.bids, true), snap.Bids); diff != "" {
			t.Errorf("%s: bids (-want +got):\n%s", symbol, diff)
		}
		if diff := cmp.Diff(levelsOf(t, w.asks, false), snap.Asks); diff != "" {
			t.Errorf("%s: asks (-want +got):\n%s", symbol, diff)
		}
	}
	if got := c.Stats(); got.Duplicates != 0 || got.Reconnects != 0 {
		t.Errorf("client stats %+v: the replay went over one connection without repeats", got)
	}
}

// levelsOf turns recorded price -> qty strings into levels, best first: bids high to low, asks low to high.
func levelsOf(t *testing.T, side map[string]string, bids bool) []Level {
	t.Helper()
	out := make([]Level, 0, len(side))
	for p, q := range side {
		pf, err1 := strconv.ParseFloat(p, 64)
		qf, err2 := strconv.ParseFloat(q, 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		out = append(out, Level{pf, qf})
	}
	slices.SortFunc(out, func(a, b Level) int {
		if bids {
			return cmpFloat(b[0], a[0])
		}
		return cmpFloat(a[0], b[0])
	})
	return out
}
