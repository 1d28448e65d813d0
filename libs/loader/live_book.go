package loader

import (
	"fmt"

	"github.com/streamforge/streamforge/libs/binance"
)

// bookState publishes one message of a stream that carries the state of the
// book rather than its changes: the best bid and ask (ws_book_ticker,
// <symbol>@bookTicker) or the top levels of each side (ws_depth<levels>,
// <symbol>@depth<levels>). Neither payload has an event time, so a record's
// time is its receipt; its key is the symbol and the book's update id, and
// a message whose update id is not past the last one published (a partial
// book repeated while the book did not change, the first message after a
// relaunch) is skipped. What happened while the connection was down is not
// fetched: a state stream is a series of samples, and REST can only tell
// the state of now.
func (l *live) bookState(msg binance.WSMessage) error {
	recv := msg.Received.UnixMilli()
	var (
		sym string
		id  int64
		rec appender
	)
	switch l.job.Type.Kind {
	case WSBookTicker:
		l.m.wsMessages.WithLabelValues("bookTicker").Inc()
		t, err := binance.ParseBookTicker(msg.Data)
		if err != nil {
			return l.bad(msg, err)
		}
		t.Time = recv
		sym, id, rec = t.Symbol, t.UpdateID, &t
	case WSDepth:
		l.m.wsMessages.WithLabelValues("partialDepth").Inc()
		s, err := binance.ParsePartialDepth(binance.StreamSymbol(msg.Stream), msg.Data, recv)
		if err != nil {
			return l.bad(msg, err)
		}
		if len(s.Bids) > l.job.Type.Levels || len(s.Asks) > l.job.Type.Levels {
			return l.bad(msg, fmt.Errorf("partial depth %s: %d bids and %d asks, more than the %d levels subscribed",
				s.Symbol, len(s.Bids), len(s.Asks), l.job.Type.Levels))
		}
		sym, id, rec = s.Symbol, s.LastUpdateID, &s
	default:
		return fmt.Errorf("TYPE: %s from stream %s: %w", l.job.Type, msg.Stream, errUnhandled)
	}
	if !l.job.Start.IsZero() && recv < l.job.Start.UnixMilli() {
		return nil
	}
	ls, err := l.symbol(sym)
	if err != nil {
		return l.bad(msg, err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if !l.job.End.IsZero() && recv >= l.job.End.UnixMilli() {
		l.finish(ls)
		return nil
	}
	if id <= ls.lastState {
		return nil
	}
	ls.lastState = id
	return ls.w.live(rec, recv, msg.Received)
}
