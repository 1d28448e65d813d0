package market

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/rs/zerolog"

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

// Feed follows a symbol's live topics and sends frames. The clients of
// one live stream share one set of topic readers (a hub, hub.go): each
// record is decoded once however many watch. Close it when done.
type Feed struct {
	// Bus reaches the data topics.
	Bus bus.Config
	// Find says which topics stream a symbol; it is asked again every
	// Resolve, so a stream started or stopped meanwhile is followed.
	Find Finder
	// Every is the time between frames (default 250 ms: four a second,
	// whatever the topics' rate); Resolve between Find calls (default 2 s).
	Every, Resolve time.Duration
	// Linger is how long the readers of a symbol outlive its last client
	// (DefaultLinger when not positive): a page reloaded does not read the
	// topics again.
	Linger time.Duration
	// Depth is the book levels a side (DefaultDepth when not positive).
	Depth int
	// Metrics counts hubs, clients and records decoded (nil: unregistered).
	Metrics *Metrics
	Log     zerolog.Logger

	mu     sync.Mutex
	hubs   map[string]*hub // by hubKey
	closed bool
	wg     sync.WaitGroup // the hubs' readers
}

// Lookbacks: how far back a hub starts reading. The book needs its last
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
// changed, at most every Every, and at least every 2 s; the first carries
// the book and every candle the symbol's hub holds. When nothing streams
// the symbol, at the start or once its stream ended, one frame with Live
// false is sent and Stream returns nil: a client asks again later. A
// Stream that is slow to send holds up no other.
func (f *Feed) Stream(ctx context.Context, symbol string, send func(Frame) error) error {
	every, resolve := f.Every, f.Resolve
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	if resolve <= 0 {
		resolve = 2 * time.Second
	}
	var (
		h   *hub
		cur Cursor // where this client stands in h's model
	)
	defer func() {
		if h != nil {
			f.leave(h)
		}
	}()
	// find joins the hub of what streams symbol now; false when nothing
	// does.
	find := func() bool {
		l, err := f.Find(ctx, symbol)
		if err != nil {
			f.Log.Warn().Err(err).Str("symbol", symbol).Msg("live streams of the symbol not found out")
			return true // asked again at the next lookup
		}
		if l.Workflow == "" {
			return false
		}
		if h == nil || !l.same(h.live) {
			if h != nil {
				f.leave(h)
			}
			h, cur = f.join(symbol, l), Cursor{}
		}
		return true
	}
	empty := func(now time.Time) Frame {
		return Frame{Symbol: symbol, At: now.UnixMilli(), Bids: []Level{}, Asks: []Level{}, Trades: []Trade{}, Candles: []Candle{}, MinuteCandles: []Candle{}, Marks: []Mark{}}
	}
	idle := func() error { return send(empty(time.Now())) }
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
			var fr Frame
			if h != nil {
				var changed bool
				if fr, changed = h.frame(&cur, now, now.Sub(last) >= quiet); !changed {
					continue
				}
				fr.Live, fr.Workflow = true, h.live.Workflow
			} else if now.Sub(last) >= quiet { // the finder failed so far: nothing to show but the time
				fr = empty(now)
			} else {
				continue
			}
			last = now
			if err := send(fr); err != nil {
				return err
			}
		}
	}
}
