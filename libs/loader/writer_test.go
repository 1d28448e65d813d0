package loader

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// fakeSender records sends and checks that they never overlap.
type fakeSender struct {
	mu       sync.Mutex
	sends    [][]bus.Message
	inFlight atomic.Int32
	overlap  atomic.Bool
	failAt   int // fail the send with this 1-based number (0: never)
}

func (f *fakeSender) Send(_ context.Context, msgs ...bus.Message) error {
	if f.inFlight.Add(1) > 1 {
		f.overlap.Store(true)
	}
	defer f.inFlight.Add(-1)
	time.Sleep(time.Millisecond) // let the encoder run ahead if it could
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAt == len(f.sends)+1 {
		return errors.New("broker says no")
	}
	cp := make([]bus.Message, len(msgs))
	for i, m := range msgs {
		cp[i] = bus.Message{Topic: m.Topic, Key: m.Key, Value: append([]byte(nil), m.Value...)}
	}
	f.sends = append(f.sends, cp)
	return nil
}

func TestSymbolWriterOrder(t *testing.T) {
	f := &fakeSender{}
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
	if f.overlap.Load() {
		t.Error("two sends of one symbol were in flight at once")
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
	f := &fakeSender{failAt: 2}
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
		t.Errorf("%d sends succeeded; after a failure nothing more may be sent", len(f.sends))
	}
}
