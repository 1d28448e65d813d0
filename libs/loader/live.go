package loader

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/telemetry"
	"github.com/streamforge/streamforge/libs/worker"
)

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
	prog    *progress
	syms    map[string]*liveSymbol
	ws      *binance.WSClient
	records atomic.Int64
	start   time.Time
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
	lastID   int64     // last aggregate trade id published
	lastOpen int64     // open time of the last closed candle published
}

// streamName returns the stream a live job subscribes to for sym.
func streamName(d DataType, sym string) string {
	s := strings.ToLower(sym)
	switch d.Kind {
	case WSTrades:
		return s + "@aggTrade"
	case WSCandles:
		return s + "@kline_" + d.Interval.String()
	}
	return s + "@depth@100ms"
}

func runLive(ctx context.Context, w *worker.Worker, cfg *Config, job Job, client *binance.Client, m *metrics, log zerolog.Logger) error {
	work := w.Work()
	if !job.Start.IsZero() && time.Now().Before(job.Start) {
		log.Info().Time("start", job.Start).Msg("waiting for the start of the time range")
		if err := binance.Sleep(work, time.Until(job.Start)); err != nil {
			return w.End(ctx, nil, nil)
		}
	}
	l := &live{job: job, cfg: cfg, rest: client, m: m, log: log, lat: newLatencies(), syms: map[string]*liveSymbol{}, start: time.Now()}
	var streams []string
	for _, sym := range job.Symbols {
		streams = append(streams, streamName(job.Type, sym))
		ls := &liveSymbol{sym: sym}
		if job.Type.Kind == WSOrderbook {
			ls.book = binance.NewOrderBook(sym)
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
		var cancel context.CancelFunc
		run, cancel = context.WithDeadline(work, job.End)
		defer cancel()
	}
	bg, stopBG := context.WithCancel(run)
	var bgWG sync.WaitGroup
	bgWG.Go(func() { l.linger(bg) })
	bgWG.Go(func() { l.report(bg, w) })
	err = ws.Run(run, l.handle)
	stopBG()
	bgWG.Wait()
	var flushErr error
	for _, ls := range l.syms {
		ls.mu.Lock()
		flushErr = errors.Join(flushErr, ls.w.close())
		ls.mu.Unlock()
	}
	w.Events.SetRecords(l.records.Load())
	ended := !job.End.IsZero() && errors.Is(err, context.DeadlineExceeded) && work.Err() == nil
	if ended || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	if err == nil {
		err = flushErr
	}
	var finished func(context.Context) error
	if ended {
		finished = func(tctx context.Context) error {
			total := l.records.Load()
			return w.Events.Finished(tctx, total, fmt.Sprintf("streamed %s %s until %s: %d records%s",
				strings.Join(job.Symbols, ","), job.Type, job.End.Format(time.RFC3339), total, l.latencySummary()))
		}
	}
	log.Info().Int64("records", l.records.Load()).Str("latency", l.latencySummary()).Msg("stream ended")
	return w.End(ctx, err, finished)
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
		return l.trade(a, msg)
	case WSCandles:
		l.m.wsMessages.WithLabelValues("kline").Inc()
		c, closed, err := binance.ParseKlineEvent(msg.Data)
		if err != nil {
			return l.bad(msg, err)
		}
		if !closed {
			return nil
		}
		return l.candle(c, msg)
	}
	l.m.wsMessages.WithLabelValues("depthUpdate").Inc()
	d, err := binance.ParseDepthUpdate(msg.Data)
	if err != nil {
		return l.bad(msg, err)
	}
	return l.depth(d, msg)
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
	if ls.lastID > 0 && a.AggID <= ls.lastID {
		return nil // already published (an overlap the client did not see)
	}
	if ls.lastID > 0 && a.AggID > ls.lastID+1 {
		if err := l.backfillTrades(ls, ls.lastID+1, a, msg.Received); err != nil {
			return err
		}
	}
	ls.lastID = a.AggID
	return ls.w.live(&a, a.Time, msg.Received)
}

func (l *live) backfillTrades(ls *liveSymbol, from int64, next binance.AggTrade, recv time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	err := l.rest.AggTrades(ctx, ls.sym, from, next.Time+1, func(x binance.AggTrade) error {
		if x.AggID >= next.AggID {
			return errStopPaging
		}
		n++
		ls.lastID = x.AggID
		return ls.w.live(&x, x.Time, recv)
	})
	if errors.Is(err, errStopPaging) {
		err = nil
	}
	if err == nil && ls.lastID == next.AggID-1 {
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

// candle publishes a closed candle; candles missed while the connection was
// down are fetched over REST first.
func (l *live) candle(c binance.Candle, msg binance.WSMessage) error {
	ls, err := l.symbol(c.Symbol)
	if err != nil {
		return l.bad(msg, err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if c.OpenTime <= ls.lastOpen {
		return nil
	}
	iv := l.job.Type.Interval
	if ls.lastOpen > 0 && c.OpenTime > iv.NextOpen(ls.lastOpen) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := l.rest.Klines(ctx, ls.sym, iv, iv.NextOpen(ls.lastOpen), c.OpenTime, func(x binance.Candle) error {
			ls.lastOpen = x.OpenTime
			return ls.w.live(&x, x.OpenTime, msg.Received)
		})
		cancel()
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
	// The snapshot the book started from (its top levels), then the diffs
	// applied on top of it: a consumer can follow the same rules.
	ls.lastSnap = recv
	snap.Bids, snap.Asks = snap.Bids[:min(len(snap.Bids), l.cfg.BookDepth)], snap.Asks[:min(len(snap.Asks), l.cfg.BookDepth)]
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

func (l *live) publishSnapshot(ls *liveSymbol, timeMs int64, recv time.Time) error {
	ls.lastSnap = recv
	s := ls.book.Snapshot(l.cfg.BookDepth, timeMs)
	return ls.w.live(&s, s.Time, recv)
}
