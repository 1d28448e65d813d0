package market

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
)

// Live is what streams a symbol now: a running workflow and its live load
// steps' data topics. The zero Live is no stream.
type Live struct {
	Workflow string
	Topics   map[string]Stream
}

func (l Live) same(o Live) bool { return l.Workflow == o.Workflow && maps.Equal(l.Topics, o.Topics) }

// Finder returns what streams symbol now (the zero Live when nothing does).
type Finder func(ctx context.Context, symbol string) (Live, error)

// Feed follows a symbol's live topics and sends frames.
type Feed struct {
	// Bus reaches the data topics.
	Bus bus.Config
	// Find says which topics stream a symbol; it is asked again every
	// Resolve, so a stream started or stopped meanwhile is followed.
	Find Finder
	// Every is the time between frames (default 250 ms: four a second,
	// whatever the topics' rate); Resolve between Find calls (default 2 s).
	Every, Resolve time.Duration
	// Depth is the book levels a side (DefaultDepth when not positive).
	Depth int
	Log   zerolog.Logger
}

// Lookbacks: how far back a feed starts reading. The book needs its last
// snapshot (the loaders publish one every LOADER_SNAPSHOT_INTERVAL, 1 m by
// default); the trades fill the first candles.
const (
	bookLookback  = 70 * time.Second
	tradeLookback = 10 * time.Second
	// quiet is the longest a feed goes without a frame: the rates still
	// change when nothing arrives.
	quiet = 2 * time.Second
)

// Stream sends symbol's frames to send while a workflow streams it, until
// ctx ends (nil) or send fails (its error). A frame goes out when something
// changed, at most every Every, and at least every 2 s. When nothing
// streams the symbol, at the start or once its stream ended, one frame with
// Live false is sent and Stream returns nil: a client asks again later.
func (f *Feed) Stream(ctx context.Context, symbol string, send func(Frame) error) error {
	every, resolve := f.Every, f.Resolve
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	if resolve <= 0 {
		resolve = 2 * time.Second
	}
	var (
		mu    sync.Mutex
		model = NewModel(symbol, f.Depth)
		cur   Live
		stop  = func() {}
	)
	defer func() { stop() }()
	follow := func(l Live) {
		stop()
		mu.Lock()
		model, cur = NewModel(symbol, f.Depth), l
		m := model
		mu.Unlock()
		tctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for topic, s := range l.Topics {
			wg.Go(func() {
				f.tail(tctx, topic, s, func(r binance.LiveRecord) {
					mu.Lock()
					if m == model { // records of a stream no longer followed are dropped
						m.Apply(s, r, time.Now())
					}
					mu.Unlock()
				})
			})
		}
		stop = func() { cancel(); wg.Wait() }
	}
	// find follows what streams symbol now; false when nothing does.
	find := func() bool {
		l, err := f.Find(ctx, symbol)
		if err != nil {
			f.Log.Warn().Err(err).Str("symbol", symbol).Msg("live streams of the symbol not found out")
			return true // asked again at the next lookup
		}
		if l.Workflow == "" {
			return false
		}
		if !l.same(cur) {
			follow(l)
		}
		return true
	}
	idle := func() error {
		return send(Frame{Symbol: symbol, At: time.Now().UnixMilli(), Bids: []Level{}, Asks: []Level{}, Trades: []Trade{}, Candles: []Candle{}, MinuteCandles: []Candle{}, Marks: []Mark{}})
	}
	if !find() {
		return idle()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	lookup := time.NewTicker(resolve)
	defer lookup.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-lookup.C:
			if !find() {
				return idle()
			}
		case now := <-tick.C:
			mu.Lock()
			fr, changed := model.FrameFor(&model.own, now, now.Sub(last) >= quiet)
			fr.Live, fr.Workflow = cur.Workflow != "", cur.Workflow
			mu.Unlock()
			if !changed {
				continue
			}
			last = now
			if err := send(fr); err != nil {
				return err
			}
		}
	}
}

// tail reads topic from a little before now into apply until ctx ends; a
// topic not created yet (its loader starting) is waited for.
func (f *Feed) tail(ctx context.Context, topic string, s Stream, apply func(binance.LiveRecord)) {
	since := time.Now().Add(-tradeLookback)
	if s == Book {
		since = time.Now().Add(-bookLookback)
	}
	var t *bus.Tail
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		t, err = bus.NewTail(pctx, f.Bus, topic, since, nil)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	defer func() { _ = t.Close() }()
	err := t.Run(ctx, func(_ context.Context, m bus.Message) error {
		r, err := binance.DecodeLive(m.Value)
		if err == nil {
			apply(r)
		}
		return nil
	})
	if err != nil {
		f.Log.Warn().Err(err).Str("topic", topic).Msg("live topic not read")
	}
}
