package loader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/coverage"
)

// history loads a historical job: per symbol, the planned chunks are
// prepared (downloaded) up to concurrency at a time across all symbols and
// published strictly in time order.
type history struct {
	job         Job
	rest        *binance.Client
	arch        *binance.Archive
	out         Sender
	concurrency int
	batchSize   int
	useArchives bool
	checkEdges  bool // compare edge-day candle archives with REST (crosscheck.go)
	now         time.Time
	m           *metrics
	prog        *progress
	log         zerolog.Logger

	covMu sync.Mutex
	cov   []coverage.Ledger // the ledgers of the symbols loaded to the end
}

// ledgers returns the coverage ledgers of the symbols loaded so far, in the
// job's symbol order.
func (h *history) ledgers() []coverage.Ledger {
	h.covMu.Lock()
	defer h.covMu.Unlock()
	out := make([]coverage.Ledger, 0, len(h.cov))
	for _, sym := range h.job.Symbols {
		for _, l := range h.cov {
			if l.Symbol == sym {
				out = append(out, l)
			}
		}
	}
	return out
}

// prepared is a chunk ready to be published in order.
type prepared interface {
	emit(ctx context.Context, w *symbolWriter) error
	close()
}

func (h *history) run(ctx context.Context, resume map[string]int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, h.concurrency)
	var wg sync.WaitGroup
	errs := make([]error, len(h.job.Symbols))
	for i, sym := range h.job.Symbols {
		from := h.job.Start.UnixMilli()
		if r, ok := resume[sym]; ok && r > from {
			from = r
		}
		wg.Go(func() {
			if err := h.symbol(ctx, sym, from, sem); err != nil {
				errs[i] = fmt.Errorf("%s: %w", sym, err)
				cancel(errs[i])
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return errors.Join(errs...)
}

type result struct {
	p   prepared
	err error
}

// symbol loads one symbol from from to the job's end.
func (h *history) symbol(ctx context.Context, sym string, from int64, sem chan struct{}) error {
	start, end := h.job.Start.UnixMilli(), h.job.End.UnixMilli()
	chunks := plan(sym, start, from, end, h.now, h.useArchives, restSpan(h.job.Type))
	h.prog.begin(sym, from)
	h.log.Info().Str("symbol", sym).Time("from", time.UnixMilli(from).UTC()).Int("chunks", len(chunks)).Msg("loading")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make([]chan result, len(chunks))
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	ahead := make(chan struct{}, h.concurrency) // prepared but not yet published
	var prepWG sync.WaitGroup
	defer func() {
		// Close whatever was prepared and not published (temporary files).
		cancel()
		prepWG.Wait()
		for _, s := range slots {
			select {
			case r := <-s:
				if r.p != nil {
					r.p.close()
				}
			default:
			}
		}
	}()
	prepWG.Go(func() {
		for i, c := range chunks {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			prepWG.Go(func() {
				p, err := h.prepare(ctx, c)
				<-sem
				slots[i] <- result{p, err}
			})
		}
	})

	w := newSymbolWriter(context.WithoutCancel(ctx), h.out, h.job.Topic, sym, h.batchSize, func(a ack) {
		h.m.records.WithLabelValues(sym).Add(float64(a.records))
		h.m.sendSeconds.Observe(time.Since(a.sent).Seconds())
		h.prog.acked(sym, a.records, max(a.last, a.upTo))
	})
	defer func() { _ = w.close() }()
	w.cov = newTracker(sym, h.job.Type, from, end)
	for i, c := range chunks {
		var r result
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			h.m.chunks.WithLabelValues(c.src.String(), "failed").Inc()
			return fmt.Errorf("%s %s chunk %s: %w", h.job.Type, c.src, span(c.from, c.to), r.err)
		}
		a, check := r.p.(*archived)
		if check = check && h.crossChecked(c, i, len(chunks)); check {
			a.sums = hourSums{}
		}
		err := r.p.emit(ctx, w)
		r.p.close()
		<-ahead
		if err == nil && check {
			err = h.crossCheck(ctx, w, c, a.sums)
		}
		if err != nil {
			return fmt.Errorf("%s %s chunk %s: %w", h.job.Type, c.src, span(c.from, c.to), err)
		}
		w.complete(c.to)
		h.m.chunks.WithLabelValues(c.src.String(), "ok").Inc()
	}
	if err := w.close(); err != nil {
		return err
	}
	h.covMu.Lock()
	h.cov = append(h.cov, w.cov.Ledger())
	h.covMu.Unlock()
	return nil
}

func span(from, to int64) string {
	return time.UnixMilli(from).UTC().Format(time.RFC3339) + "/" + time.UnixMilli(to).UTC().Format(time.RFC3339)
}

// prepare downloads a chunk. A missing archive falls back to the next finer
// source (a month to its days, a day to REST), fetched while publishing.
func (h *history) prepare(ctx context.Context, c chunk) (prepared, error) {
	switch c.src {
	case fromMonthArchive, fromDayArchive:
		p := binance.Monthly
		if c.src == fromDayArchive {
			p = binance.Daily
		}
		var d *binance.Download
		var err error
		if h.job.Type.Kind == APICandles {
			d, err = h.arch.FetchKlines(ctx, c.symbol, h.job.Type.Interval, p, c.period)
		} else {
			d, err = h.arch.FetchAggTrades(ctx, c.symbol, p, c.period)
		}
		if errors.Is(err, binance.ErrNoArchive) {
			h.m.archiveMissing.Inc()
			h.log.Info().Str("symbol", c.symbol).Str("chunk", span(c.from, c.to)).Msg("no archive; falling back")
			return &fallback{h: h, c: c}, nil
		}
		if err != nil {
			return nil, err
		}
		h.m.archiveBytes.Add(float64(d.Size()))
		return &archived{h: h, c: c, d: d}, nil
	}
	if h.job.Type.Kind == APICandles {
		var rows []binance.Candle
		err := h.rest.Klines(ctx, c.symbol, h.job.Type.Interval, c.from, c.to, func(x binance.Candle) error {
			rows = append(rows, x)
			return nil
		})
		return &fetched[binance.Candle]{rows: rows, emitOne: (*symbolWriter).candle}, err
	}
	var rows []binance.AggTrade
	err := h.restTrades(ctx, c.symbol, c.from, c.to, func(x binance.AggTrade) error {
		rows = append(rows, x)
		return nil
	})
	return &fetched[binance.AggTrade]{rows: rows, emitOne: (*symbolWriter).trade}, err
}

// restTrades calls fn with the aggregate trades of [from, to) over REST.
func (h *history) restTrades(ctx context.Context, sym string, from, to int64, fn func(binance.AggTrade) error) error {
	id, ok, err := h.rest.FirstAggTradeID(ctx, sym, from, to)
	if err != nil || !ok {
		return err
	}
	return h.rest.AggTrades(ctx, sym, id, to, fn)
}

// fetched is a REST chunk held in memory.
type fetched[T any] struct {
	rows    []T
	emitOne func(w *symbolWriter, x *T) error
}

func (f *fetched[T]) emit(ctx context.Context, w *symbolWriter) error {
	w.src = coverage.REST
	for i := range f.rows {
		if err := f.emitOne(w, &f.rows[i]); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (f *fetched[T]) close() { f.rows = nil }

// archived is a downloaded archive, parsed while publishing.
type archived struct {
	h    *history
	c    chunk
	d    *binance.Download
	sums hourSums // when set, every record is summed by hour (crossCheck)
}

func (a *archived) emit(ctx context.Context, w *symbolWriter) error {
	w.src = coverage.Archive
	n := 0
	add := func(t int64, rec []byte) error {
		if t < a.c.from || t >= a.c.to {
			return nil
		}
		if n++; n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if a.sums != nil {
			a.sums.add(t, rec)
		}
		return w.record(t, rec)
	}
	if a.h.job.Type.Kind == APICandles {
		return a.d.KlinesJSON(a.c.symbol, a.h.job.Type.Interval, add)
	}
	return a.d.AggTradesJSON(a.c.symbol, add)
}

func (a *archived) close() {
	if err := a.d.Close(); err != nil {
		a.h.log.Warn().Err(err).Msg("remove archive file")
	}
}

// fallback loads a chunk whose archive does not exist from finer sources,
// streaming: a month day by day, a day over REST.
type fallback struct {
	h *history
	c chunk
}

func (f *fallback) emit(ctx context.Context, w *symbolWriter) error {
	h, c := f.h, f.c
	if c.src == fromMonthArchive {
		for day := c.period; day.UnixMilli() < c.to; day = day.AddDate(0, 0, 1) {
			dc := chunk{symbol: c.symbol, from: max(c.from, day.UnixMilli()), to: min(c.to, day.UnixMilli()+msPerDay),
				src: fromDayArchive, period: day}
			if dc.from >= dc.to {
				continue
			}
			p, err := h.prepare(ctx, dc)
			if err != nil {
				return err
			}
			err = p.emit(ctx, w)
			p.close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	// The day's archive is absent: REST stands in for it.
	noteHours(w.cov, c.from, c.to, coverage.Present, coverage.ReasonArchiveAbsent, "")
	for from := c.from; from < c.to; {
		to := min(from+restSpan(h.job.Type), c.to)
		p, err := h.prepare(ctx, chunk{symbol: c.symbol, from: from, to: to, src: fromREST})
		if err != nil {
			return err
		}
		err = p.emit(ctx, w)
		p.close()
		if err != nil {
			return err
		}
		from = to
	}
	return nil
}

func (f *fallback) close() {}
