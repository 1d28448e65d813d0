package loader

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// Sender publishes messages and returns once Kafka acknowledged all of them;
// *bus.Producer is one.
type Sender interface {
	Send(ctx context.Context, msgs ...bus.Message) error
}

// batch is up to size records of one symbol, encoded back to back in buf.
type batch struct {
	buf  []byte
	ends []int // end offset in buf of each record
	msgs []bus.Message
	last int64   // time of the last record
	upTo int64   // when acknowledged, the symbol is complete up to here (0: unchanged)
	recv []int64 // live records: when each was received (Unix ns)
}

// ack tells the writer's owner that a batch is in Kafka.
type ack struct {
	records    int
	last, upTo int64
	sent       time.Time
	recv       []int64 // valid during the call only
}

// symbolWriter publishes one symbol's records in order: a batch is sent only
// after the one before it was acknowledged, which is what makes resuming
// from the data topic safe (see resumePoints). Encoding the next batch
// overlaps with sending the current one.
type symbolWriter struct {
	topic  string
	key    []byte
	size   int
	out    Sender
	onAck  func(ack)
	cur    *batch
	queue  chan *batch
	free   chan *batch
	done   chan struct{}
	errMu  sync.Mutex
	err    error
	closed bool
}

func newSymbolWriter(ctx context.Context, out Sender, topic, symbol string, size int, onAck func(ack)) *symbolWriter {
	w := &symbolWriter{
		topic: topic, key: []byte(symbol), size: size, out: out, onAck: onAck,
		queue: make(chan *batch, 1), free: make(chan *batch, 3), done: make(chan struct{}),
	}
	w.free <- &batch{}
	w.free <- &batch{}
	w.cur = &batch{}
	go w.send(ctx)
	return w
}

// send is the one goroutine that talks to Kafka for this symbol.
func (w *symbolWriter) send(ctx context.Context) {
	defer close(w.done)
	for b := range w.queue {
		if w.failed() == nil && len(b.ends) > 0 {
			b.msgs = b.msgs[:0]
			start := 0
			for _, end := range b.ends {
				b.msgs = append(b.msgs, bus.Message{Topic: w.topic, Key: w.key, Value: b.buf[start:end:end]})
				start = end
			}
			began := time.Now()
			if err := w.out.Send(ctx, b.msgs...); err != nil {
				w.fail(fmt.Errorf("publish to %s: %w", w.topic, err))
			} else {
				w.onAck(ack{records: len(b.ends), last: b.last, upTo: b.upTo, sent: began, recv: b.recv})
			}
		} else if w.failed() == nil && b.upTo > 0 {
			w.onAck(ack{upTo: b.upTo, sent: time.Now()})
		}
		clear(b.msgs) // drop references to the old buffer
		b.buf, b.ends, b.msgs, b.recv, b.last, b.upTo = b.buf[:0], b.ends[:0], b.msgs[:0], b.recv[:0], 0, 0
		w.free <- b
	}
}

func (w *symbolWriter) fail(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *symbolWriter) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *symbolWriter) added(t int64) error {
	w.cur.ends = append(w.cur.ends, len(w.cur.buf))
	w.cur.last = t
	if len(w.cur.ends) >= w.size {
		return w.flush()
	}
	return nil
}

func (w *symbolWriter) candle(c *binance.Candle) error {
	w.cur.buf = c.AppendJSON(w.cur.buf)
	return w.added(c.OpenTime)
}

func (w *symbolWriter) trade(a *binance.AggTrade) error {
	w.cur.buf = a.AppendJSON(w.cur.buf)
	return w.added(a.Time)
}

// appender is a record that encodes itself.
type appender interface{ AppendJSON(dst []byte) []byte }

// live adds a record received at recv (a live stream's message).
func (w *symbolWriter) live(r appender, t int64, recv time.Time) error {
	w.cur.buf = r.AppendJSON(w.cur.buf)
	w.cur.recv = append(w.cur.recv, recv.UnixNano())
	return w.added(t)
}

// pending returns how many records wait in the current batch and when the
// first of them was received (live records only).
func (w *symbolWriter) pending() (int, int64) {
	if len(w.cur.recv) == 0 {
		return len(w.cur.ends), 0
	}
	return len(w.cur.ends), w.cur.recv[0]
}

// complete marks that every record before t has been added: once they are
// acknowledged the symbol counts as loaded up to t.
func (w *symbolWriter) complete(t int64) { w.cur.upTo = t }

// flush hands the current batch to the sender and takes a free one, waiting
// while two batches are in flight.
func (w *symbolWriter) flush() error {
	if err := w.failed(); err != nil {
		return err
	}
	w.queue <- w.cur
	w.cur = <-w.free
	return w.failed()
}

// close sends what is left, waits until it is acknowledged and returns the
// first publish error.
func (w *symbolWriter) close() error {
	if w.closed {
		return w.failed()
	}
	w.closed = true
	if len(w.cur.ends) > 0 || w.cur.upTo > 0 {
		w.queue <- w.cur
	}
	close(w.queue)
	<-w.done
	return w.failed()
}
