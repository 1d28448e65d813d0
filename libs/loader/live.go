package loader

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/telemetry"
	"github.com/streamforge/streamforge/libs/worker"
)

// streamLead is how long before its time range a live stream subscribes.
const streamLead = 2 * time.Second

// liveLinger is the longest a received record waits for more before its
// batch is sent.
const liveLinger = 5 * time.Millisecond

// live streams one live job into the data topic.
type live struct {
	job     Job
	cfg     *Config
	rest    *binance.Client
	m       *metrics
	log     zerolog.Logger
	lat     *latencies
	syms    map[string]*liveSymbol
	ws      *binance.WSClient
	records atomic.Int64
	start   time.Time
	pending atomic.Int64 // symbols not done with the time range
	allDone func()       // called when the last symbol is done
}

// errRangeEnd ends a stream whose time range is over.
var errRangeEnd = errors.New("the time range is over")

// lastOpenInRange returns the open time of the last candle that opens
// before the range's end.
func (l *live) lastOpenInRange() int64 {
	return l.job.Type.Interval.Floor(l.job.End.UnixMilli() - 1)
}

// streamEnd is when a stream with a time range stops: at its end for the
// order book; for trades and candles a grace period later (after the last
// candle of the range closes), for the events of the range's last moments,
// which Binance sends after them.
func (l *live) streamEnd() time.Time {
	switch l.job.Type.Kind {
	case WSTrades:
		return l.job.End.Add(l.cfg.EndGrace)
	case WSCandles:
		closes := time.UnixMilli(l.job.Type.Interval.NextOpen(l.lastOpenInRange())).UTC()
		return closes.Add(l.cfg.EndGrace)
	}
	return l.job.End
}

// finish marks ls done with the time range; the stream ends when every
// symbol is. ls.mu is held.
func (l *live) finish(ls *liveSymbol) {
	if ls.done || l.job.End.IsZero() {
		return
	}
	ls.done = true
	if l.pending.Add(-1) == 0 && l.allDone != nil {
		l.allDone()
	}
}

// liveSymbol is one symbol's state: its writer (guarded by mu, shared by the
// stream callback and the linger ticker) and what it has seen.
type liveSymbol struct {
	mu       sync.Mutex
	sym      string
	w        *symbolWriter
	book     *binance.OrderBook
	lastTry  time.Time // last snapshot attempt while unsynced
	lastSnap time.Time // last published snapshot
	// lastSnapID is the last update id of the last published snapshot.
	lastSnapID int64
	lastID     int64 // last aggregate trade id published (or read back from the topic)
	lastOpen   int64 // open time of the last closed candle published (or read back)
	lastTime   int64 // time of the last aggregate trade streamed
	streamed   bool  // a trade was streamed (not only fetched)
	bookFrom   int64 // the last book update id read back from the topic, until the book syncs
	// lastState is the update id of the last book ticker or partial book
	// published (or read back from the topic).
	lastState int64
	done      bool // everything of the time range has arrived
}

// newSymbol returns the state of sym at the start of a run that resumes
// after h, the last record its data topic holds (zero: none). Its writer is
// set by the caller.
func (l *live) newSymbol(sym string, h recordHead) *liveSymbol {
	ls := &liveSymbol{sym: sym, lastID: h.AggID, lastOpen: h.OpenTime, bookFrom: h.FinalUpdateID}
	if l.job.Type.Kind == WSCandles && ls.lastOpen == 0 && !l.job.Start.IsZero() {
		// As if the candle before the range's first had been published:
		// a first streamed candle after that one is backfilled.
		iv := l.job.Type.Interval
		first := iv.Floor(l.job.Start.UnixMilli())
		if first < l.job.Start.UnixMilli() {
			first = iv.NextOpen(first)
		}
		ls.lastOpen = iv.Floor(first - 1)
	}
	switch l.job.Type.Kind {
	case WSOrderbook:
		ls.book = binance.NewOrderBook(sym)
	case WSBookTicker, WSDepth:
		ls.lastState = h.FinalUpdateID
	}
	return ls
}

// errUnhandled ends a live job whose kind the live loader has no handler
// for: its messages are never guessed to be of another kind.
var errUnhandled = errors.New("not streamed by the live loader")

// liveKinds are the kinds handle has a case for.
var liveKinds = []Kind{WSTrades, WSCandles, WSOrderbook, WSBookTicker, WSDepth}

// streamName returns the stream a live job subscribes to for sym, as
// protocol.DataTypes names it. It returns an error for a kind handle does
// not take.
func streamName(d DataType, sym string) (string, error) {
	info, _ := d.Kind.info()
	if !slices.Contains(liveKinds, d.Kind) || info.StreamName(sym, d.suffix()) == "" {
		return "", fmt.Errorf("TYPE: %s: %w", d, errUnhandled)
	}
	return info.StreamName(sym, d.suffix()), nil
}

func runLive(ctx context.Context, w *worker.Worker, cfg *Config, job Job, client *binance.Client, m *metrics, log zerolog.Logger) error {
	work := w.Work()
	// A relaunched loader continues after what its data topic holds: the
	// first stream message of a symbol then backfills the hole over REST,
	// or publishes a gap record.
	rs, err := resumePoints(work, w.Kafka, w.Admin, job.Topic, job.Symbols, 1)
	if err != nil {
		return w.End(ctx, fmt.Errorf("read back %s to resume: %w", job.Topic, err), nil)
	}
	if !job.Start.IsZero() && time.Now().Before(job.Start.Add(-streamLead)) {
		// Subscribed a little ahead, the stream delivers the range's first
		// records as they happen; earlier ones are dropped.
		log.Info().Time("start", job.Start).Msg("waiting for the start of the time range")
		if err := binance.Sleep(work, time.Until(job.Start.Add(-streamLead))); err != nil {
			return w.End(ctx, nil, nil)
		}
	}
	l := &live{job: job, cfg: cfg, rest: client, m: m, log: log, lat: newLatencies(), syms: map[string]*liveSymbol{}, start: time.Now()}
	var streams []string
	for _, sym := range job.Symbols {
		stream, err := streamName(job.Type, sym)
		if err != nil {
			return w.End(ctx, err, nil)
		}
		streams = append(streams, stream)
		h := rs.last[sym]
		ls := l.newSymbol(sym, h)
		if _, ok := rs.last[sym]; ok {
			log.Info().Str("symbol", sym).Int64("agg_id", h.AggID).Int64("open_time", h.OpenTime).
				Int64("update_id", h.FinalUpdateID).Int64("records_in_topic", rs.records).Msg("resuming after the data topic's last record")
		}
		ls.w = newSymbolWriter(context.WithoutCancel(ctx), w.Producer, job.Topic, sym, cfg.BatchSize, func(a ack) {
			m.records.WithLabelValues(sym).Add(float64(a.records))
			now := time.Now()
			for _, r := range a.recv {
				d := now.Sub(time.Unix(0, r))
				m.wsLatency.Observe(d.Seconds())
				l.lat.add(d)
			}
			l.records.Add(int64(a.records))
		})
		l.track(ls)
		l.syms[sym] = ls
	}
	ws, err := binance.NewWSClient(binance.WSOptions{
		URL: cfg.WSURL, Streams: streams, BackoffMax: cfg.BackoffMax,
		OnState: func(s binance.WSState) {
			ev := log.Info()
			if s.Err != nil {
				ev = log.Warn().Err(s.Err)
			}
			if s.Kind == binance.WSReconnecting {
				m.wsReconnects.Inc()
			}
			ev.Str("state", s.Kind.String()).Int("shard", s.Shard).Int("conn", s.Conn).Dur("delay", s.Delay).Msg("websocket")
		},
	})
	if err != nil {
		return w.End(ctx, err, nil)
	}
	l.ws = ws
	until := "until stopped"
	if !job.End.IsZero() {
		until = "until " + job.End.Format(time.RFC3339)
	}
	if err := w.Started(ctx, fmt.Sprintf("streaming %s %s into %s %s", strings.Join(job.Symbols, ","), job.Type, job.Topic, until)); err != nil {
		return err
	}

	run := work
	if !job.End.IsZero() {
		var cancel context.CancelCauseFunc
		run, cancel = context.WithCancelCause(work)
		defer cancel(nil)
		l.pending.Store(int64(len(job.Symbols)))
		l.allDone = func() { cancel(errRangeEnd) }
		stop := time.AfterFunc(time.Until(l.streamEnd()), func() { cancel(errRangeEnd) })
		defer stop.Stop()
	}
	bg, stopBG := context.WithCancel(run)
	var bgWG sync.WaitGroup
	bgWG.Go(func() { l.linger(bg) })
	bgWG.Go(func() { l.report(bg, w) })
	err = ws.Run(run, l.handle)
	stopBG()
	bgWG.Wait()
	ended := !job.End.IsZero() && errors.Is(context.Cause(run), errRangeEnd) && work.Err() == nil
	var flushErr error
	if ended {
		flushErr = l.complete(work)
	}
	for _, ls := range l.syms {
		ls.mu.Lock()
		flushErr = errors.Join(flushErr, ls.w.close())
		ls.mu.Unlock()
	}
	w.Events.SetRecords(rs.records + l.records.Load())
	if ended || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	if err == nil {
		err = flushErr
	}
	var finished func(context.Context) error
	if ended {
		finished = func(tctx context.Context) error {
			total := rs.records + l.records.Load()
			return w.Events.FinishedWith(tctx, total, fmt.Sprintf("streamed %s %s until %s: %d records (%d in this run)%s",
				strings.Join(job.Symbols, ","), job.Type, job.End.Format(time.RFC3339), total, l.records.Load(), l.latencySummary()),
				coverageResult(l.ledgers()))
		}
	}
	log.Info().Int64("records", l.records.Load()).Str("latency", l.latencySummary()).Msg("stream ended")
	// A stream stopped before its range's end (or without one) reports its
	// ledger too, up to the stop: its holes are recorded like a finished
	// one's.
	var interrupted any
	if !ended {
		interrupted = coverageResult(l.stoppedLedgers(time.Now()))
	}
	return w.EndWith(ctx, err, finished, interrupted)
}

// latencySummary describes the receipt-to-acknowledgement times.
func (l *live) latencySummary() string {
	q := l.lat.quantiles(0.5, 0.99)
	if q == nil {
		return ""
	}
	return fmt.Sprintf("; receipt to Kafka ack p50 %s p99 %s", q[0].Round(10*time.Microsecond), q[1].Round(10*time.Microsecond))
}

// linger sends batches whose first record has waited liveLinger.
func (l *live) linger(ctx context.Context) {
	t := time.NewTicker(liveLinger / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, ls := range l.syms {
				ls.mu.Lock()
				if n, first := ls.w.pending(); n > 0 && now.UnixNano()-first >= int64(liveLinger) {
					if err := ls.w.flush(); err != nil {
						l.log.Error().Err(err).Str("symbol", ls.sym).Msg("publish")
					}
				}
				ls.mu.Unlock()
			}
		}
	}
}

// report sends progress events: records, rate and, with an end, the share
// of the time range streamed.
func (l *live) report(ctx context.Context, w *worker.Worker) {
	t := time.NewTicker(l.cfg.ProgressInterval)
	defer t.Stop()
	last, lastAt := int64(0), l.start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := l.records.Load()
			info := telemetry.ProgressInfo{Records: n, Rate: float64(n-last) / now.Sub(lastAt).Seconds()}
			last, lastAt = n, now
			if !l.job.End.IsZero() {
				info.Percent = min(100, 100*float64(now.Sub(l.start))/float64(l.job.End.Sub(l.start)))
				info.ETASeconds = max(0, l.job.End.Sub(now).Seconds())
			}
			l.m.percent.Set(info.Percent)
			info.Message = fmt.Sprintf("%d records streamed, %.0f/s%s", n, info.Rate, l.latencySummary())
			if err := w.Events.ProgressWith(ctx, info); err != nil && ctx.Err() == nil {
				l.log.Warn().Err(err).Msg("progress event not sent")
			}
		}
	}
}

// handle takes one stream message.
func (l *live) handle(msg binance.WSMessage) error {
	switch l.job.Type.Kind {
	case WSTrades:
		l.m.wsMessages.WithLabelValues("aggTrade").Inc()
		a, err := binance.ParseAggTradeEvent(msg.Data)
		if err != nil {
			return l.bad(msg, err)
		}
		if !l.job.Start.IsZero() && a.Time < l.job.Start.UnixMilli() {
			return nil
		}
		return l.trade(a, msg)
	case WSCandles:
		l.m.wsMessages.WithLabelValues("kline").Inc()
		c, closed, err := binance.ParseKlineEvent(msg.Data)
		if err != nil {
			return l.bad(msg, err)
		}
		if !l.job.Start.IsZero() && c.OpenTime < l.job.Start.UnixMilli() {
			return nil // only candles that open inside the range
		}
		if !l.job.End.IsZero() && c.OpenTime > l.lastOpenInRange() {
			// The range's last candle closed before this one opened: what
			// did not arrive is fetched over REST at the end.
			return l.finishSymbol(c.Symbol, msg)
		}
		if !closed {
			return nil
		}
		return l.candle(c, msg)
	case WSOrderbook:
		l.m.wsMessages.WithLabelValues("depthUpdate").Inc()
		d, err := binance.ParseDepthUpdate(msg.Data)
		if err != nil {
			return l.bad(msg, err)
		}
		return l.depth(d, msg)
	case WSBookTicker, WSDepth:
		return l.bookState(msg)
	}
	// Ends the stream: a kind without a case here is a programming error,
	// reported as the run's error event, not data to guess at.
	return fmt.Errorf("TYPE: %s from stream %s: %w", l.job.Type, msg.Stream, errUnhandled)
}

// bad logs a message that does not parse; it never stops the stream.
func (l *live) bad(msg binance.WSMessage, err error) error {
	l.m.wsMessages.WithLabelValues("malformed").Inc()
	l.log.Warn().Err(err).Str("stream", msg.Stream).Str("payload", truncate(msg.Data, 200)).Msg("stream message skipped")
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func (l *live) symbol(sym string) (*liveSymbol, error) {
	ls := l.syms[sym]
	if ls == nil {
		return nil, fmt.Errorf("stream message for %s, which this task does not load", sym)
	}
	return ls, nil
}

// trade publishes an aggregate trade; trades missed while the connection
// was down are fetched by id over REST first, or reported as a gap.
func (l *live) trade(a binance.AggTrade, msg binance.WSMessage) error {
	ls, err := l.symbol(a.Symbol)
	if err != nil {
		return l.bad(msg, err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.done {
		return nil
	}
	if !l.job.End.IsZero() && a.Time >= l.job.End.UnixMilli() {
		// Trades come in id and time order: nothing of the range comes
		// after this one; a hole before it is filled by complete.
		l.finish(ls)
		return nil
	}
	// What is fetched before the first streamed trade is the range's
	// catch-up (no hole), or what a relaunched loader missed while it was
	// not running; later, what a WebSocket gap lost.
	why := coverage.ReasonWSGap
	if !ls.streamed {
		why = ""
		if ls.lastID > 0 {
			why = coverage.ReasonLoaderStopped
		}
	}
	if ls.lastID == 0 && !l.job.Start.IsZero() {
		if err := l.firstTrade(ls, a, msg.Received); err != nil {
			return err
		}
	}
	if ls.lastID > 0 && a.AggID <= ls.lastID {
		return nil // already published (an overlap the client did not see)
	}
	if ls.lastID > 0 && a.AggID > ls.lastID+1 {
		if err := l.backfillTrades(ls, ls.lastID+1, a, msg.Received, why); err != nil {
			return err
		}
	}
	ls.lastID, ls.lastTime, ls.streamed = a.AggID, a.Time, true
	return ls.w.live(&a, a.Time, msg.Received)
}

// firstTrade prepares the first streamed trade of a range that started
// before the stream did: the trades from the range's start up to it are
// fetched over REST (by backfillTrades), or a gap record says they could
// not be.
func (l *live) firstTrade(ls *liveSymbol, a binance.AggTrade, recv time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, ok, err := l.rest.FirstAggTradeID(ctx, ls.sym, l.job.Start.UnixMilli(), a.Time+1)
	switch {
	case err != nil:
		l.m.gaps.WithLabelValues(ls.sym).Inc()
		g := binance.Gap{Symbol: ls.sym, Time: time.Now().UnixMilli(), From: -1, To: a.AggID - 1,
			Reason: "trades between the range's start and the first streamed trade not available over REST: " + err.Error()}
		l.log.Warn().Err(err).Str("symbol", ls.sym).Msg("gap at the start of the range")
		noteHours(ls.w.cov, l.job.Start.UnixMilli(), a.Time+1, coverage.Degraded, coverage.ReasonWSGap, coverage.BackfillFailed)
		return ls.w.live(&g, g.Time, recv)
	case ok && id < a.AggID:
		ls.lastID = id - 1 // the trade before the range's first
	}
	return nil
}

// backfillTrades fetches the trades from id from up to next over REST;
// why is the hole's reason for the coverage ledger ("": none, the range's
// catch-up).
func (l *live) backfillTrades(ls *liveSymbol, from int64, next binance.AggTrade, recv time.Time, why string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	ls.w.src = coverage.REST
	err := l.rest.AggTrades(ctx, ls.sym, from, next.Time+1, func(x binance.AggTrade) error {
		if x.AggID >= next.AggID {
			return errStopPaging
		}
		n++
		ls.lastID = x.AggID
		noteGap(ls.w.cov, x.Time, why, true)
		return ls.w.live(&x, x.Time, recv)
	})
	ls.w.src = coverage.Live
	if errors.Is(err, errStopPaging) {
		err = nil
	}
	closed := err == nil && ls.lastID == next.AggID-1
	if !closed && why == "" {
		why = coverage.ReasonWSGap
	}
	noteGap(ls.w.cov, next.Time, why, closed)
	if closed {
		l.log.Info().Str("symbol", ls.sym).Int64("from", from).Int("trades", n).Msg("missed trades fetched over REST")
		return nil
	}
	l.m.gaps.WithLabelValues(ls.sym).Inc()
	g := binance.Gap{Symbol: ls.sym, Time: time.Now().UnixMilli(), From: ls.lastID + 1, To: next.AggID - 1,
		Reason: "aggregate trades missed while reconnecting and not available over REST"}
	l.log.Warn().Err(err).Str("symbol", ls.sym).Int64("from", g.From).Int64("to", g.To).Msg("gap in trades")
	return ls.w.live(&g, g.Time, recv)
}

var errStopPaging = errors.New("stop paging")

// finishSymbol marks sym done with the time range.
func (l *live) finishSymbol(sym string, msg binance.WSMessage) error {
	ls, err := l.symbol(sym)
	if err != nil {
		return l.bad(msg, err)
	}
	ls.mu.Lock()
	l.finish(ls)
	ls.mu.Unlock()
	return nil
}

// complete fetches over REST what the stream of a time range did not
// deliver before it stopped: trades from the last id published to the
// range's end, candles that open in the range and closed. What REST cannot
// give is published as a gap record, so a range never ends with a silent
// hole.
func (l *live) complete(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start, end := l.job.Start.UnixMilli(), l.job.End.UnixMilli()
	var errs []error
	for _, sym := range l.job.Symbols {
		ls := l.syms[sym]
		ls.mu.Lock()
		var err error
		switch l.job.Type.Kind {
		case WSTrades:
			err = l.completeTrades(ctx, ls, start, end)
		case WSCandles:
			err = l.completeCandles(ctx, ls)
		}
		ls.mu.Unlock()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (l *live) completeTrades(ctx context.Context, ls *liveSymbol, start, end int64) error {
	from, n := ls.lastID+1, 0
	err := func() error {
		if ls.lastID == 0 {
			id, ok, err := l.rest.FirstAggTradeID(ctx, ls.sym, start, end)
			if err != nil || !ok {
				return err
			}
			from = id
		}
		ls.w.src = coverage.REST
		defer func() { ls.w.src = coverage.Live }()
		return l.rest.AggTrades(ctx, ls.sym, from, end, func(x binance.AggTrade) error {
			if x.Time < start {
				return nil
			}
			n++
			ls.lastID = x.AggID
			return ls.w.live(&x, x.Time, time.Now())
		})
	}()
	if err == nil {
		if n > 0 {
			l.log.Info().Str("symbol", ls.sym).Int64("from", from).Int("trades", n).Msg("the range's last trades fetched over REST")
		}
		return nil
	}
	l.m.gaps.WithLabelValues(ls.sym).Inc()
	g := binance.Gap{Symbol: ls.sym, Time: time.Now().UnixMilli(), From: ls.lastID + 1, To: -1,
		Reason: "aggregate trades from this id to the end of the time range not available over REST: " + err.Error()}
	l.log.Warn().Err(err).Str("symbol", ls.sym).Int64("from", g.From).Msg("gap at the end of the range")
	noteHours(ls.w.cov, max(ls.lastTime, start), end, coverage.Degraded, coverage.ReasonWSGap, coverage.BackfillFailed)
	return ls.w.live(&g, g.Time, time.Now())
}

func (l *live) completeCandles(ctx context.Context, ls *liveSymbol) error {
	iv, last := l.job.Type.Interval, l.lastOpenInRange()
	from := iv.NextOpen(ls.lastOpen) // runLive set lastOpen before the range's first candle
	if from > last {
		return nil
	}
	now := time.Now().UnixMilli()
	ls.w.src = coverage.REST
	defer func() { ls.w.src = coverage.Live }()
	err := l.rest.Klines(ctx, ls.sym, iv, from, last+1, func(x binance.Candle) error {
		if x.CloseTime >= now {
			return errStopPaging // still open: not final
		}
		ls.lastOpen = x.OpenTime
		return ls.w.live(&x, x.OpenTime, time.Now())
	})
	if errors.Is(err, errStopPaging) {
		err = nil
	}
	if err == nil && ls.lastOpen >= last {
		return nil
	}
	l.m.gaps.WithLabelValues(ls.sym).Inc()
	gapFrom := iv.NextOpen(ls.lastOpen)
	reason := "candles of the time range not closed within LOADER_END_GRACE"
	if err != nil {
		reason = "candles of the time range not available over REST: " + err.Error()
	}
	g := binance.Gap{Symbol: ls.sym, Time: now, From: gapFrom, To: l.job.End.UnixMilli() - 1, Reason: reason}
	noteHours(ls.w.cov, gapFrom, l.job.End.UnixMilli(), coverage.Degraded, coverage.ReasonWSGap, coverage.BackfillFailed)
	l.log.Warn().Err(err).Str("symbol", ls.sym).Int64("from", g.From).Msg("gap at the end of the range")
	return ls.w.live(&g, g.Time, time.Now())
}

// candle publishes a closed candle; candles missed while the connection was
// down are fetched over REST first.
func (l *live) candle(c binance.Candle, msg binance.WSMessage) error {
	ls, err := l.symbol(c.Symbol)
	if err != nil {
		return l.bad(msg, err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.done || c.OpenTime <= ls.lastOpen {
		return nil
	}
	if !l.job.End.IsZero() && c.OpenTime == l.lastOpenInRange() {
		defer l.finish(ls)
	}
	iv := l.job.Type.Interval
	if ls.lastOpen > 0 && c.OpenTime > iv.NextOpen(ls.lastOpen) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		gapFrom := iv.NextOpen(ls.lastOpen)
		ls.w.src = coverage.REST
		err := l.rest.Klines(ctx, ls.sym, iv, gapFrom, c.OpenTime, func(x binance.Candle) error {
			ls.lastOpen = x.OpenTime
			return ls.w.live(&x, x.OpenTime, msg.Received)
		})
		ls.w.src = coverage.Live
		cancel()
		noteHours(ls.w.cov, gapFrom, c.OpenTime, coverage.Degraded, coverage.ReasonWSGap, backfillOutcome(err == nil))
		if err != nil {
			l.m.gaps.WithLabelValues(ls.sym).Inc()
			g := binance.Gap{Symbol: ls.sym, Time: time.Now().UnixMilli(), From: iv.NextOpen(ls.lastOpen), To: c.OpenTime - 1,
				Reason: "candles missed while reconnecting and not available over REST"}
			l.log.Warn().Err(err).Str("symbol", ls.sym).Msg("gap in candles")
			if err := ls.w.live(&g, g.Time, msg.Received); err != nil {
				return err
			}
		}
	}
	ls.lastOpen = c.OpenTime
	return ls.w.live(&c, c.OpenTime, msg.Received)
}

// depth keeps the symbol's local book as Binance documents and publishes
// every applied diff, a snapshot when the book (re)syncs and every
// LOADER_SNAPSHOT_INTERVAL, and a gap record when updates were missed.
func (l *live) depth(d binance.BookDiff, msg binance.WSMessage) error {
	ls, err := l.symbol(d.Symbol)
	if err != nil {
		return l.bad(msg, err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	applied, err := ls.book.Push(d)
	if gap, ok := errors.AsType[*binance.GapError](err); ok {
		l.m.gaps.WithLabelValues(ls.sym).Inc()
		l.log.Warn().Str("symbol", ls.sym).Int64("from", gap.From).Int64("to", gap.To).Bool("reconnected", msg.Reconnected).
			Msg("depth updates missed: resyncing this symbol")
		g := gap.Record(d.Time)
		if ls.w.cov != nil {
			ls.w.cov.Note(d.Time, coverage.Degraded, coverage.ReasonDepthGap, "")
		}
		if err := ls.w.live(&g, g.Time, msg.Received); err != nil {
			return err
		}
		ls.lastTry = time.Time{}
	} else if err != nil {
		return err
	}
	for i := range applied {
		if err := ls.w.live(&applied[i], applied[i].Time, msg.Received); err != nil {
			return err
		}
	}
	if !ls.book.Synced() {
		return l.sync(ls, msg.Received)
	}
	if l.cfg.SnapshotEvery > 0 && msg.Received.Sub(ls.lastSnap) >= l.cfg.SnapshotEvery {
		return l.publishSnapshot(ls, d.Time, msg.Received)
	}
	return nil
}

// sync fetches a REST snapshot for an unsynced book, at most every 250 ms:
// a snapshot older than the buffered diffs is fetched again after more
// diffs have arrived.
func (l *live) sync(ls *liveSymbol, recv time.Time) error {
	if recv.Sub(ls.lastTry) < 250*time.Millisecond {
		return nil
	}
	ls.lastTry = recv
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	snap, err := l.rest.Depth(ctx, ls.sym, l.cfg.SnapshotLimit)
	cancel()
	if err != nil {
		return fmt.Errorf("order book %s: snapshot: %w", ls.sym, err)
	}
	applied, err := ls.book.Sync(snap)
	switch {
	case errors.Is(err, binance.ErrStaleSnapshot):
		l.log.Info().Str("symbol", ls.sym).Int64("last_update_id", snap.LastUpdateID).Msg("snapshot older than the diffs; fetching again")
		return nil
	case err != nil:
		if gap, ok := errors.AsType[*binance.GapError](err); ok {
			l.m.gaps.WithLabelValues(ls.sym).Inc()
			g := gap.Record(snap.Time)
			return ls.w.live(&g, g.Time, recv)
		}
		return err
	}
	l.log.Info().Str("symbol", ls.sym).Int64("last_update_id", snap.LastUpdateID).Int("applied", len(applied)).Msg("order book synced")
	if ls.bookFrom > 0 {
		// A relaunch: the updates between the topic's last one and this
		// snapshot were never seen.
		l.m.gaps.WithLabelValues(ls.sym).Inc()
		g := binance.Gap{Symbol: ls.sym, Time: snap.Time, From: ls.bookFrom + 1, To: snap.LastUpdateID,
			Reason: "depth updates missed while the loader was not running; the snapshot that follows restarts the book"}
		if err := ls.w.live(&g, g.Time, recv); err != nil {
			return err
		}
		ls.bookFrom = 0
	}
	// The snapshot the book started from, then the diffs applied on top of
	// it: a consumer following the same rules rebuilds the loader's book
	// exactly. (With LOADER_BOOK_DEPTH > 0 the snapshot is cut, and levels
	// below the cut are known to a consumer only once a diff touches them.)
	ls.lastSnap, ls.lastSnapID = recv, snap.LastUpdateID
	if d := l.cfg.BookDepth; d > 0 {
		snap.Bids, snap.Asks = snap.Bids[:min(len(snap.Bids), d)], snap.Asks[:min(len(snap.Asks), d)]
	}
	if err := ls.w.live(&snap, snap.Time, recv); err != nil {
		return err
	}
	for i := range applied {
		if err := ls.w.live(&applied[i], applied[i].Time, recv); err != nil {
			return err
		}
	}
	return nil
}

// publishSnapshot publishes the book, unless it has not moved since the
// last snapshot: a snapshot's key is its last update id, and the same key
// again would be one record published twice and stored once (the ledger
// would count it as lost).
func (l *live) publishSnapshot(ls *liveSymbol, timeMs int64, recv time.Time) error {
	s := ls.book.Snapshot(l.cfg.BookDepth, timeMs)
	if s.LastUpdateID == ls.lastSnapID {
		return nil
	}
	ls.lastSnap, ls.lastSnapID = recv, s.LastUpdateID
	return ls.w.live(&s, s.Time, recv)
}
