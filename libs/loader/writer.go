package loader

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/coverage"
)

// Sender hands messages to Kafka and calls done once, when all of them were
// acknowledged or some failed; done must not block. The records of one key
// must be written in the order they were handed over, none after one that
// failed, and the done calls of one key's sends must come in that order too:
// *bus.Producer (idempotent, ordered per partition) is one.
type Sender interface {
	SendAsync(ctx context.Context, msgs []bus.Message, done func(error))
}

// inFlight is how many batches of one symbol may be on their way to Kafka
// at once, enough to keep the producer's five requests per broker busy. It
// is also how many batches a symbol has: one is filled while the others are
// on their way.
const inFlight = 4

// batch is up to size records of one symbol, encoded back to back in buf.
type batch struct {
	buf  []byte
	ends []int // end offset in buf of each record
	msgs []bus.Message
	last int64   // time of the last record
	upTo int64   // when acknowledged, the symbol is complete up to here (0: unchanged)
	recv []int64 // live records: when each was received (Unix ns)
	sent time.Time
}

// ack tells the writer's owner that a batch is in Kafka.
type ack struct {
	records    int
	last, upTo int64
	sent       time.Time
	recv       []int64 // valid during the call only
}

// symbolWriter publishes one symbol's records in order. Batches are
// pipelined: while up to inFlight of them are on their way, the next is
// filled. Resuming from the data topic stays safe (see resumePoints)
// because the Sender writes one key's records in order and none after a
// lost one, so the topic never holds a record after a hole. Acks arrive in
// order; after a failure nothing more is sent.
type symbolWriter struct {
	ctx    context.Context
	topic  string
	key    []byte
	size   int
	out    Sender
	onAck  func(ack)
	cur    *batch
	free   chan *batch // batches neither in flight nor cur
	errMu  sync.Mutex
	err    error
	closed bool
	// cov, when set, counts every record in its hour as coming from src.
	cov *coverage.Tracker
	src coverage.Source
}

func newSymbolWriter(ctx context.Context, out Sender, topic, symbol string, size int, onAck func(ack)) *symbolWriter {
	w := &symbolWriter{
		ctx: ctx, topic: topic, key: []byte(symbol), size: size, out: out, onAck: onAck,
		free: make(chan *batch, inFlight),
	}
	for range inFlight {
		w.free <- &batch{}
	}
	w.cur = <-w.free
	return w
}

// send hands b to Kafka; its acknowledgement returns it to the free list.
func (w *symbolWriter) send(b *batch) {
	b.msgs = b.msgs[:0]
	start := 0
	for _, end := range b.ends {
		b.msgs = append(b.msgs, bus.Message{Topic: w.topic, Key: w.key, Value: b.buf[start:end:end]})
		start = end
	}
	b.sent = time.Now()
	w.out.SendAsync(w.ctx, b.msgs, func(err error) {
		if err != nil {
			w.fail(fmt.Errorf("publish to %s: %w", w.topic, err))
		} else if w.failed() == nil {
			w.onAck(ack{records: len(b.ends), last: b.last, upTo: b.upTo, sent: b.sent, recv: b.recv})
		}
		w.recycle(b)
	})
}

func (w *symbolWriter) recycle(b *batch) {
	clear(b.msgs) // drop references to the old buffer
	b.buf, b.ends, b.msgs, b.recv, b.last, b.upTo = b.buf[:0], b.ends[:0], b.msgs[:0], b.recv[:0], 0, 0
	w.free <- b
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
	if w.cov != nil {
		w.cov.Count(t, w.src)
	}
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

// record adds a record already encoded as JSON.
func (w *symbolWriter) record(t int64, rec []byte) error {
	w.cur.buf = append(w.cur.buf, rec...)
	return w.added(t)
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

// flush hands the current batch to Kafka and takes a free one, waiting
// while all the others are on their way.
func (w *symbolWriter) flush() error {
	if err := w.failed(); err != nil {
		return err
	}
	switch b := w.cur; {
	case len(b.ends) > 0:
		w.send(b)
	case b.upTo > 0:
		// Nothing to send, but everything before upTo was: that counts
		// once the batches on their way are acknowledged.
		held := w.idle()
		if w.failed() == nil {
			w.onAck(ack{upTo: b.upTo, sent: time.Now()})
		}
		b.upTo = 0
		for _, h := range held {
			w.free <- h
		}
		return w.failed()
	default:
		return nil
	}
	w.cur = <-w.free
	return w.failed()
}

// idle waits until no batch is on its way and returns the others than cur,
// which the caller then holds.
func (w *symbolWriter) idle() []*batch {
	held := make([]*batch, 0, inFlight-1)
	for range inFlight - 1 {
		held = append(held, <-w.free)
	}
	return held
}

// close sends what is left, waits until everything is acknowledged and
// returns the first publish error.
func (w *symbolWriter) close() error {
	if w.closed {
		return w.failed()
	}
	w.closed = true
	err := w.flush()
	w.idle()
	if err != nil {
		return err
	}
	return w.failed()
}
