package loader

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// fakeSender acknowledges sends in order, a millisecond each, on its own
// goroutine, as the producer does; it copies the records only then, so a
// writer that reuses a buffer too early is caught. From the send numbered
// failAt (1-based; 0: never) on, every send fails, as the producer fails
// every record buffered after a lost one.
type fakeSender struct {
	mu          sync.Mutex
	sends       [][]bus.Message // acknowledged, in order
	handed      int
	inFlight    int
	maxInFlight int
	failAt      int
	failed      bool
	queue       chan func()
}

func newFakeSender(t *testing.T, failAt int) *fakeSender {
	f := &fakeSender{failAt: failAt, queue: make(chan func(), 64)}
	go func() {
		for fn := range f.queue {
			time.Sleep(time.Millisecond)
			fn()
		}
	}()
	t.Cleanup(func() { close(f.queue) })
	return f
}

func (f *fakeSender) SendAsync(_ context.Context, msgs []bus.Message, done func(error)) {
	f.mu.Lock()
	f.handed++
	n := f.handed
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	f.queue <- func() {
		f.mu.Lock()
		f.inFlight--
		if n == f.failAt {
			f.failed = true
		}
		failed := f.failed
		if !failed {
			cp := make([]bus.Message, len(msgs))
			for i, m := range msgs {
				cp[i] = bus.Message{Topic: m.Topic, Key: m.Key, Value: append([]byte(nil), m.Value...)}
			}
			f.sends = append(f.sends, cp)
		}
		f.mu.Unlock()
		if failed {
			done(errors.New("broker says no"))
		} else {
			done(nil)
		}
	}
}

func TestSymbolWriterOrder(t *testing.T) {
	f := newFakeSender(t, 0)
	var acked []int64
	var records int
	w := newSymbolWriter(context.Background(), f, "topic-data", "BTCUSDT", 7, func(a ack) {
		records += a.records
		acked = append(acked, max(a.last, a.upTo))
	})
	const n = 100
	for i := range n {
		c := binance.Candle{Symbol: "BTCUSDT", Interval: "1m", OpenTime: int64(i) * 60_000, Time: int64(i) * 60_000, Close: float64(i)}
		if err := w.candle(&c); err != nil {
			t.Fatal(err)
		}
		if i == 49 {
			w.complete(50 * 60_000)
		}
	}
	w.complete(n * 60_000)
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if f.maxInFlight > inFlight || f.maxInFlight < 2 {
		t.Errorf("up to %d sends were in flight at once, want 2 to %d (pipelined, bounded)", f.maxInFlight, inFlight)
	}
	for i := 1; i < len(acked); i++ {
		if acked[i] < acked[i-1] {
			t.Fatalf("progress went back from %d to %d", acked[i-1], acked[i])
		}
	}
	var i int64
	for _, s := range f.sends {
		if len(s) > 7 {
			t.Errorf("a send of %d records, batch size is 7", len(s))
		}
		for _, m := range s {
			var c binance.Candle
			if err := json.Unmarshal(m.Value, &c); err != nil {
				t.Fatalf("record %d: %v: %s", i, err, m.Value)
			}
			if c.OpenTime != i*60_000 || string(m.Key) != "BTCUSDT" || m.Topic != "topic-data" {
				t.Fatalf("record %d out of order or mislabelled: key %s topic %s %s", i, m.Key, m.Topic, m.Value)
			}
			i++
		}
	}
	if i != n || records != n {
		t.Errorf("%d records sent, %d acknowledged, want %d", i, records, n)
	}
	if last := acked[len(acked)-1]; last != n*60_000 {
		t.Errorf("progress ends at %d, want %d", last, n*60_000)
	}
}

func TestSymbolWriterFailure(t *testing.T) {
	f := newFakeSender(t, 2)
	w := newSymbolWriter(context.Background(), f, "t", "BTCUSDT", 5, func(ack) {})
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		a := binance.AggTrade{Symbol: "BTCUSDT", AggID: int64(i), Time: int64(i)}
		err = w.trade(&a)
	}
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err == nil || !strings.Contains(err.Error(), "broker says no") {
		t.Fatalf("error %v, want the send failure", err)
	}
	if len(f.sends) != 1 {
		t.Errorf("%d sends succeeded, want 1: the one before the failure", len(f.sends))
	}
	if f.handed > 2+inFlight {
		t.Errorf("%d sends handed over; once the failure is known nothing more may be", f.handed)
	}
}
