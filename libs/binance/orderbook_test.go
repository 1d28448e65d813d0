package binance

import (
	"bufio"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

type recordedDiff struct {
	at   float64 // receipt time, unix seconds
	diff BookDiff
}

// nknusdtRecording returns the NKNUSDT depth diffs of the WS recording and the
// REST snapshot with its receipt time.
func nknusdtRecording(t *testing.T) ([]recordedDiff, BookSnapshot, float64) {
	t.Helper()
	var diffs []recordedDiff
	sc := bufio.NewScanner(openFixture(t, "ws-recording/BINANCE.ws.1.0"))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		at, msg, ok := strings.Cut(sc.Text(), ": ")
		if !ok || !strings.Contains(msg, `"stream":"nknusdt@depth@100ms"`) {
			continue // the header line and other streams
		}
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(msg), &env); err != nil {
			t.Fatalf("recording line %q: %v", at, err)
		}
		d, err := ParseDepthUpdate(env.Data)
		if err != nil {
			t.Fatal(err)
		}
		secs, err := strconv.ParseFloat(at, 64)
		if err != nil {
			t.Fatal(err)
		}
		diffs = append(diffs, recordedDiff{at: secs, diff: d})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	sc = bufio.NewScanner(openFixture(t, "ws-recording/BINANCE.http.0.0"))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		url, rest, _ := strings.Cut(sc.Text(), " -> ")
		if !strings.Contains(url, "symbol=NKNUSDT") {
			continue
		}
		at, body, _ := strings.Cut(rest, ": ")
		secs, err := strconv.ParseFloat(at, 64)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := parseDepth("NKNUSDT", []byte(body), int64(secs*1000))
		if err != nil {
			t.Fatal(err)
		}
		return diffs, snap, secs
	}
	t.Fatal("no NKNUSDT snapshot in BINANCE.http.0.0")
	return nil, BookSnapshot{}, 0
}

func TestOrderBookSyncsRecordedNKNUSDT(t *testing.T) {
	diffs, snap, snapAt := nknusdtRecording(t)
	if snap.LastUpdateID != 499869752 {
		t.Fatalf("snapshot lastUpdateId %d, want 499869752", snap.LastUpdateID)
	}
	book := NewOrderBook("NKNUSDT")
	var applied []BookDiff
	i := 0
	for ; i < len(diffs) && diffs[i].at < snapAt; i++ { // received before the snapshot: buffered
		if got, err := book.Push(diffs[i].diff); err != nil || got != nil {
			t.Fatalf("unsynced push returned %v, %v; want it buffered", got, err)
		}
	}
	got, err := book.Sync(snap)
	if err != nil {
		t.Fatal(err)
	}
	applied = append(applied, got...)
	for ; i < len(diffs); i++ {
		got, err := book.Push(diffs[i].diff)
		if err != nil {
			t.Fatalf("diff %d [%d,%d]: %v", i, diffs[i].diff.FirstUpdateID, diffs[i].diff.FinalUpdateID, err)
		}
		applied = append(applied, got...)
	}
	// Binance's rule on the recording: [499869750, 499869752] is in the
	// snapshot and dropped; the first applied diff starts at 499869753.
	if first := diffs[0].diff; first.FirstUpdateID != 499869750 || first.FinalUpdateID != 499869752 {
		t.Fatalf("first recorded diff [%d,%d], want [499869750,499869752]", first.FirstUpdateID, first.FinalUpdateID)
	}
	if len(applied) != len(diffs)-1 {
		t.Errorf("applied %d of %d diffs, want all but the first", len(applied), len(diffs))
	}
	if len(applied) == 0 || applied[0].FirstUpdateID != 499869753 {
		t.Fatalf("first applied diff %+v, want U=499869753", applied[:min(1, len(applied))])
	}
	if got, want := book.LastUpdateID(), diffs[len(diffs)-1].diff.FinalUpdateID; got != want {
		t.Errorf("book at update %d, want the last diff's u %d", got, want)
	}
	top := book.Snapshot(5, 0)
	if len(top.Bids) != 5 || len(top.Asks) != 5 || top.Bids[0][0] >= top.Asks[0][0] {
		t.Errorf("top of book %+v: want 5 levels a side and best bid below best ask", top)
	}
	for k := 1; k < 5; k++ {
		if top.Bids[k][0] >= top.Bids[k-1][0] || top.Asks[k][0] <= top.Asks[k-1][0] {
			t.Fatalf("levels out of order: %+v", top)
		}
	}
}

func TestOrderBookGapResetsAndResyncs(t *testing.T) {
	diffs, snap, snapAt := nknusdtRecording(t)
	book := NewOrderBook("NKNUSDT")
	i := 0
	for ; diffs[i].at < snapAt; i++ {
		_, _ = book.Push(diffs[i].diff)
	}
	if _, err := book.Sync(snap); err != nil {
		t.Fatal(err)
	}
	// Apply up to diff 50, lose diff 51 on the wire.
	for ; i <= 50; i++ {
		if _, err := book.Push(diffs[i].diff); err != nil {
			t.Fatal(err)
		}
	}
	lost := diffs[51].diff
	_, err := book.Push(diffs[52].diff)
	var gap *GapError
	if !errors.As(err, &gap) {
		t.Fatalf("error = %v, want a *GapError", err)
	}
	if gap.Symbol != "NKNUSDT" || gap.From != lost.FirstUpdateID || gap.To != lost.FinalUpdateID {
		t.Errorf("gap %+v, want NKNUSDT %d..%d", gap, lost.FirstUpdateID, lost.FinalUpdateID)
	}
	if rec := gap.Record(1); rec.Key() != "NKNUSDT_gap_"+strconv.FormatInt(lost.FirstUpdateID, 10)+"_"+strconv.FormatInt(lost.FinalUpdateID, 10) {
		t.Errorf("gap record key %q", rec.Key())
	}
	if book.Synced() {
		t.Fatal("book still synced after a gap")
	}
	// Diffs keep arriving while a new snapshot is fetched.
	for i = 53; i <= 60; i++ {
		if got, err := book.Push(diffs[i].diff); err != nil || got != nil {
			t.Fatalf("push while resyncing: %v, %v", got, err)
		}
	}
	stale := BookSnapshot{Symbol: "NKNUSDT", LastUpdateID: lost.FinalUpdateID - 1}
	if _, err := book.Sync(stale); !errors.Is(err, ErrStaleSnapshot) {
		t.Fatalf("sync with a snapshot before the buffer: %v, want ErrStaleSnapshot", err)
	}
	fresh := BookSnapshot{Symbol: "NKNUSDT", LastUpdateID: diffs[55].diff.FinalUpdateID, Bids: []Level{{0.35, 1}}}
	got, err := book.Sync(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0].FirstUpdateID != diffs[56].diff.FirstUpdateID {
		t.Errorf("resync applied %d diffs starting %+v, want diffs 56..60", len(got), got[:min(1, len(got))])
	}
	if !book.Synced() || book.LastUpdateID() != diffs[60].diff.FinalUpdateID {
		t.Errorf("book synced=%v at %d, want synced at %d", book.Synced(), book.LastUpdateID(), diffs[60].diff.FinalUpdateID)
	}
}
