package loader

import (
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/coverage"
)

// The loader keeps one coverage.Tracker per symbol in its symbolWriter:
// every record the writer takes is counted in its hour with the source the
// writer is set to (w.src), and the places that find a hole note it. The
// ledgers go into the finished event's result (coverageResult), and, for a
// live stream stopped before its range's end or without one, into the
// interrupted event's, ending at the stop (stoppedLedgers); the connector
// checks them against the store and writes them (libs/coverage).

// newTracker returns the tracker of sym over [from, to) (epoch ms; to 0: an
// unbounded stream). Candles have an expected count per hour: the candles
// that open in it.
func newTracker(sym string, d DataType, from, to int64) *coverage.Tracker {
	var expect coverage.Expect
	if d.Kind == APICandles || d.Kind == WSCandles {
		iv := d.Interval
		expect = func(a, b int64) int64 { return opensIn(iv, a, b) }
	}
	return coverage.NewTracker(sym, d.String(), from, to, expect)
}

// opensIn counts the candles of iv that open in [a, b).
func opensIn(iv binance.Interval, a, b int64) int64 {
	t := iv.Floor(a)
	if t < a {
		t = iv.NextOpen(t)
	}
	var n int64
	for ; t < b; t = iv.NextOpen(t) {
		n++
	}
	return n
}

// noteHours notes every hour of [from, to) (epoch ms).
func noteHours(cov *coverage.Tracker, from, to int64, st coverage.State, reason, backfill string) {
	if cov == nil {
		return
	}
	for h := coverage.Floor(from); h < to; h += coverage.HourMs {
		cov.Note(max(h, from), st, reason, backfill)
	}
}

// coverageResult is the finished (or a stopped stream's interrupted)
// event's result: the symbols' ledgers.
func coverageResult(ledgers []coverage.Ledger) coverage.Result {
	return coverage.Result{Coverage: ledgers}
}

// noteGap notes a hole in the hour of t for reason (none when empty) with
// the backfill's outcome.
func noteGap(cov *coverage.Tracker, t int64, reason string, closed bool) {
	if cov == nil || reason == "" {
		return
	}
	cov.Note(t, coverage.Degraded, reason, backfillOutcome(closed))
}

// nowMs is the wall clock in epoch ms, for hours of a stream noted as it runs.
func nowMs() int64 { return time.Now().UnixMilli() }

func backfillOutcome(closed bool) string {
	if closed {
		return coverage.BackfillClosed
	}
	return coverage.BackfillFailed
}

// track gives ls's writer its coverage tracker: over the job's range, or
// from now on for a stream without one; records come from the stream
// unless a backfill says otherwise.
func (l *live) track(ls *liveSymbol) {
	from, to := l.job.Start.UnixMilli(), int64(0)
	if l.job.Start.IsZero() {
		from = nowMs()
	}
	if !l.job.End.IsZero() {
		to = l.job.End.UnixMilli()
	}
	ls.w.cov, ls.w.src = newTracker(ls.sym, l.job.Type, from, to), coverage.Live
}

// ledgers returns the symbols' ledgers in the job's symbol order.
func (l *live) ledgers() []coverage.Ledger {
	out := make([]coverage.Ledger, 0, len(l.job.Symbols))
	for _, sym := range l.job.Symbols {
		ls := l.syms[sym]
		ls.mu.Lock()
		out = append(out, ls.w.cov.Ledger())
		ls.mu.Unlock()
	}
	return out
}

// stoppedLedgers returns the symbols' ledgers of a stream stopped at now,
// each ending at the stop: the stop's hour partial, none after it (a
// range's later hours are not missing, they were never streamed). Candles
// end at the open of the candle open at the stop, which is not final.
func (l *live) stoppedLedgers(now time.Time) []coverage.Ledger {
	stop := now.UnixMilli()
	if l.job.Type.Kind == WSCandles {
		stop = l.job.Type.Interval.Floor(stop)
	}
	for _, sym := range l.job.Symbols {
		ls := l.syms[sym]
		ls.mu.Lock()
		ls.w.cov.Stop(stop)
		ls.mu.Unlock()
	}
	return l.ledgers()
}
