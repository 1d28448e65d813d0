package binancesim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// WebSocket streams
//
// GET /stream?streams=<a>/<b>/... (combined: {"stream":"<name>","data":{...}}) and /ws/<stream> (raw) serve
// <symbol>@aggTrade, @trade, @kline_<interval>, @depth and @depth@100ms with Binance's payloads, and accept the
// SUBSCRIBE, UNSUBSCRIBE and LIST_SUBSCRIPTIONS requests. Trades are the market's aggregate trades (the same ids as
// /api/v3/aggTrades), sent as their time passes on the clock; raw trades are the aggregate trades split into their
// individual ids. Klines are sent every 2 s (1 s for "1s") while open and once more with x=true when they close. Depth
// diffs come from the same per-symbol book as /api/v3/depth. Streams of symbols the market does not have are
// accepted and carry nothing (but recorded messages in replay mode), as on Binance.
//
// The limits are Binance's: at most 1024 streams per connection (more is refused), at most 5 incoming messages per
// second (pings, pongs and requests; more closes the connection), a ping every PingInterval that must be answered
// within PongTimeout, and a cut at MaxLifetime. Times are on the simulator's clock.

// WSOptions configures the WebSocket streams. Zero fields take the documented defaults.
type WSOptions struct {
	// PingInterval is how often the server pings a connection. Default 20 s, as on Binance.
	PingInterval time.Duration
	// PongTimeout is how long a ping may go unanswered before the connection is closed. Default 1 minute.
	PongTimeout time.Duration
	// MaxLifetime is the age at which the server closes a connection (status 1001). Default 24 h.
	MaxLifetime time.Duration
	// Rate, when positive, makes every aggTrade stream of a market symbol carry synthetic trades at Rate per second
	// instead of the market's, for load tests. Trade n (ids from 1) happens at the simulator's start plus n/Rate
	// seconds, so every connection sends the same ids and a missing one shows.
	Rate float64
	// Tick is how often (wall clock) a connection sends what has become due. Default 10 ms.
	Tick time.Duration
	// Replay is a folder holding a cryptofeed recording: BINANCE.ws.1.0 (a header line, then "<unix time>: <combined
	// message>" per line) and BINANCE.http.0.0 ("<url> -> <time>: <depth snapshot>"). Each connection is sent the
	// recorded messages of the streams it subscribes to, in order, and /api/v3/depth answers the recorded snapshot
	// of the recorded symbols.
	Replay string
	// ReplaySpeed paces the replay: 1 keeps the recorded gaps, 10 is ten times faster, 0 sends everything at once.
	ReplaySpeed float64
}

// WSStats is the accounting of the WebSocket side.
type WSStats struct {
	Opened               int   // connections accepted
	Open                 int   // connections open now
	MessagesSent         int64 // stream messages sent (replies to requests excluded)
	PingsSent            int
	PongTimeouts         int // connections closed for not answering a ping
	LifetimeCuts         int // connections closed at MaxLifetime
	RateCuts             int // connections closed for sending more than 5 messages in a second
	Dropped              int // connections closed by DropWS
	GapsInjected         int // depth gaps applied (InjectDepthGap)
	MaxStreamsPerConn    int // the most streams any connection had at once
	MaxIncomingPerSecond int // the most messages any connection sent within one clock second
}

const (
	wsMaxStreams  = 1024
	wsMaxIncoming = 5
	klineEveryMs  = 2000
	// wsMaxBurst caps what one stream sends per tick, so a clock jump cannot stall a connection; the cursor keeps
	// the rest for the next ticks.
	wsMaxBurst = 5000
	// wsWriteTimeout closes a connection whose client stopped reading.
	wsWriteTimeout = 10 * time.Second
)

// wsHub is the WebSocket side of a Sim.
type wsHub struct {
	s       *Sim
	opts    WSOptions
	books   *bookSet
	epoch   int64 // start of the synthetic trades, epoch ms
	sent    atomic.Int64
	mu      sync.Mutex
	conns   map[*wsConn]struct{}
	stats   WSStats
	replay  *replayData
	replayE error
	once    sync.Once
}

func newWSHub(s *Sim) *wsHub {
	o := s.opts.WS
	if o.PingInterval <= 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = time.Minute
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 24 * time.Hour
	}
	if o.Tick <= 0 {
		o.Tick = 10 * time.Millisecond
	}
	return &wsHub{s: s, opts: o, books: newBookSet(s.market), epoch: s.opts.Clock().UnixMilli(),
		conns: make(map[*wsConn]struct{})}
}

// recording loads the replay folder once; it returns nil without Options.WS.Replay.
func (h *wsHub) recording() (*replayData, error) {
	h.once.Do(func() {
		if h.opts.Replay != "" {
			h.replay, h.replayE = loadReplay(h.opts.Replay)
		}
	})
	return h.replay, h.replayE
}

func (h *wsHub) statsCopy() WSStats {
	h.mu.Lock()
	st := h.stats
	st.Open = len(h.conns)
	h.mu.Unlock()
	st.MessagesSent = h.sent.Load()
	h.books.mu.Lock()
	st.GapsInjected = h.books.gaps
	h.books.mu.Unlock()
	return st
}

// closeAll closes every connection without a close handshake and returns how many there were.
func (h *wsHub) closeAll() int {
	h.mu.Lock()
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.cancel()
		_ = c.ws.CloseNow() // dropping it is the point
	}
	return len(conns)
}

// streamKind is what a stream carries.
type streamKind uint8

const (
	kindAggTrade streamKind = iota + 1
	kindTrade
	kindKline
	kindDepth     // 1000 ms
	kindDepthFast // 100 ms
	kindPartial   // <symbol>@depth<levels>[@100ms]: partial book snapshots (ws_more.go)
	kindBookTicker
	kindTicker
	kindMiniTicker
)

// wsSub is one subscribed stream of a connection and its cursor; the cursor belongs to the connection's writer.
type wsSub struct {
	name     string
	kind     streamKind
	symbol   string   // upper case
	sym      int      // market index, -1 for a symbol the market does not have
	interval Interval // klines
	last     int64    // trades: last id sent; depth: last final update id sent
	open     int64    // klines: open time of the candle being sent
	updated  int64    // klines: when the last update was sent; depth: when the last 1000 ms diff was sent
	levels   int      // partial book: levels per side
	period   int64    // partial book and tickers: ms between messages
}

// parseStream validates a stream name: a lower-case symbol and a known kind.
func (h *wsHub) parseStream(name string) (*wsSub, error) {
	sym, kind, ok := strings.Cut(name, "@")
	if !ok || sym == "" {
		return nil, fmt.Errorf("invalid stream name %q", name)
	}
	for _, c := range []byte(sym) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return nil, fmt.Errorf("invalid stream name %q: symbols are lower case", name)
		}
	}
	sub := &wsSub{name: name, symbol: strings.ToUpper(sym), sym: -1}
	if i, ok := h.s.market.symbol(sub.symbol); ok {
		sub.sym = i
	}
	switch {
	case kind == "aggTrade":
		sub.kind = kindAggTrade
	case kind == "trade":
		sub.kind = kindTrade
	case kind == "depth" || kind == "depth@1000ms":
		sub.kind = kindDepth
	case parseMoreKind(sub, kind):
	case kind == "depth@100ms":
		sub.kind = kindDepthFast
	case strings.HasPrefix(kind, "kline_") && Interval(kind[len("kline_"):]).Valid():
		sub.kind, sub.interval = kindKline, Interval(kind[len("kline_"):])
	case h.replay != nil && h.replay.kinds[kind]:
		sub.sym = -1 // a recorded kind the simulator does not generate (bookTicker): replay only
	default:
		return nil, fmt.Errorf("invalid stream name %q: unknown stream type", name)
	}
	return sub, nil
}

// wsConn is one client connection.
type wsConn struct {
	hub      *wsHub
	ws       *websocket.Conn
	combined bool
	opened   int64 // epoch ms
	ctx      context.Context
	cancel   context.CancelFunc
	closing  atomic.Bool // a close handshake has started: send nothing more

	mu     sync.Mutex
	subs   []*wsSub
	window int64 // the clock second being counted, epoch s
	in     int   // incoming messages in window
	over   bool  // the incoming limit was exceeded

	replayAt int // next recorded message
	buf      []byte
	unit     timeUnit // of every timestamp sent: ?timeUnit=MICROSECOND on the URL (web-socket-streams.md)
}

// serveWS upgrades /stream, /ws and /ws/<streams> requests.
func (s *Sim) serveWS(w http.ResponseWriter, r *http.Request) {
	h := s.ws
	var names []string
	combined := r.URL.Path == "/stream"
	switch {
	case combined:
		if v := r.URL.Query().Get("streams"); v != "" {
			names = strings.Split(v, "/")
		}
	case strings.HasPrefix(r.URL.Path, "/ws/"):
		names = strings.Split(strings.TrimPrefix(r.URL.Path, "/ws/"), "/")
	}
	if _, err := h.recording(); err != nil {
		writeError(w, http.StatusInternalServerError, -1000, err.Error())
		return
	}
	if len(names) > wsMaxStreams {
		writeError(w, http.StatusBadRequest, -1100, fmt.Sprintf("Too many streams: %d, at most %d per connection.", len(names), wsMaxStreams))
		return
	}
	unit, e := wsTimeUnit(r.URL.Query().Get("timeUnit"))
	if e != nil {
		writeError(w, http.StatusBadRequest, e.code, e.msg)
		return
	}
	now := s.now()
	c := &wsConn{hub: h, combined: combined, opened: now, unit: unit}
	seen := map[string]bool{}
	for _, n := range names {
		sub, err := h.parseStream(n)
		if err != nil {
			writeError(w, http.StatusBadRequest, -1100, err.Error())
			return
		}
		if !seen[n] {
			seen[n] = true
			c.subs = append(c.subs, h.startSub(sub, now))
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OnPingReceived: func(context.Context, []byte) bool { c.incoming(); return true },
		OnPongReceived: func(context.Context, []byte) { c.incoming() },
	})
	if err != nil {
		return // Accept has answered the request
	}
	c.ws = ws
	c.ctx, c.cancel = context.WithCancel(context.Background())
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.stats.Opened++
	h.stats.MaxStreamsPerConn = max(h.stats.MaxStreamsPerConn, len(c.subs))
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
	go c.readLoop()
	c.writeLoop()
}

// startSub sets the cursor of a new subscription at nowMs: only what happens after it is sent.
func (h *wsHub) startSub(sub *wsSub, nowMs int64) *wsSub {
	if sub.sym < 0 {
		return sub
	}
	switch sub.kind {
	case kindAggTrade, kindTrade:
		if h.opts.Rate > 0 && sub.kind == kindAggTrade {
			sub.last = h.synthID(nowMs)
		} else {
			sub.last = h.s.market.lastAggIDAt(sub.sym, nowMs)
		}
	case kindKline:
		sub.open = sub.interval.Floor(nowMs)
	case kindDepth, kindDepthFast:
		sub.last = h.books.lastUpdateID(sub.sym, nowMs)
		sub.updated = nowMs
	case kindPartial, kindTicker, kindMiniTicker:
		sub.updated = nowMs - sub.period // the first message at once
	}
	return sub
}

// incoming counts a message from the client and closes the connection past the limit.
func (c *wsConn) incoming() {
	sec := c.hub.s.now() / 1000
	c.mu.Lock()
	if sec != c.window {
		c.window, c.in = sec, 0
	}
	c.in++
	n := c.in
	over := n > wsMaxIncoming && !c.over
	if over {
		c.over = true
	}
	c.mu.Unlock()
	h := c.hub
	h.mu.Lock()
	h.stats.MaxIncomingPerSecond = max(h.stats.MaxIncomingPerSecond, n)
	if over {
		h.stats.RateCuts++
	}
	h.mu.Unlock()
	if over {
		// Close from another goroutine: this may run inside the library's read of a control frame.
		go c.close(websocket.StatusPolicyViolation, "too many messages")
	}
}

// wsRequest is a live subscription request.
type wsRequest struct {
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
	ID     json.RawMessage   `json:"id"`
}

// readLoop answers requests until the connection ends; reading also handles the client's pongs. It reads without a
// context (the library would drop the connection when one ends) and stops when the connection is closed.
func (c *wsConn) readLoop() {
	defer c.cancel()
	for {
		typ, msg, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		c.incoming()
		if typ != websocket.MessageText {
			continue
		}
		reply := c.request(msg)
		if err := c.ws.Write(c.ctx, websocket.MessageText, reply); err != nil {
			return
		}
	}
}

// request executes one request and returns the reply.
func (c *wsConn) request(msg []byte) []byte {
	var req wsRequest
	if err := exactjson.Unmarshal(msg, &req); err != nil {
		return fmt.Appendf(nil, `{"code":3,"msg":%q}`, "Invalid JSON: "+err.Error())
	}
	id := req.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	refuse := func(msg string) []byte { return fmt.Appendf(nil, `{"code":2,"msg":%q,"id":%s}`, msg, id) }
	names := make([]string, 0, len(req.Params))
	for _, p := range req.Params {
		var n string
		if err := exactjson.Unmarshal(p, &n); err != nil {
			return refuse("Invalid request: stream names must be strings")
		}
		names = append(names, n)
	}
	h := c.hub
	switch req.Method {
	case "SUBSCRIBE":
		subs := make([]*wsSub, 0, len(names))
		for _, n := range names {
			sub, err := h.parseStream(n)
			if err != nil {
				return refuse("Invalid request: " + err.Error())
			}
			subs = append(subs, sub)
		}
		now := h.s.now()
		c.mu.Lock()
		have := make(map[string]bool, len(c.subs))
		for _, s := range c.subs {
			have[s.name] = true
		}
		var add []*wsSub
		for _, s := range subs {
			if !have[s.name] {
				have[s.name] = true
				add = append(add, s)
			}
		}
		if len(c.subs)+len(add) > wsMaxStreams {
			c.mu.Unlock()
			return refuse(fmt.Sprintf("Invalid request: too many streams, at most %d per connection", wsMaxStreams))
		}
		c.mu.Unlock()
		for _, s := range add {
			h.startSub(s, now)
		}
		c.mu.Lock()
		c.subs = append(c.subs, add...)
		n := len(c.subs)
		c.mu.Unlock()
		h.mu.Lock()
		h.stats.MaxStreamsPerConn = max(h.stats.MaxStreamsPerConn, n)
		h.mu.Unlock()
	case "UNSUBSCRIBE":
		drop := make(map[string]bool, len(names))
		for _, n := range names {
			drop[n] = true
		}
		c.mu.Lock()
		keep := c.subs[:0:0]
		for _, s := range c.subs {
			if !drop[s.name] {
				keep = append(keep, s)
			}
		}
		c.subs = keep
		c.mu.Unlock()
	case "LIST_SUBSCRIPTIONS":
		c.mu.Lock()
		list := make([]string, len(c.subs))
		for i, s := range c.subs {
			list[i] = s.name
		}
		c.mu.Unlock()
		b, err := json.Marshal(list)
		if err != nil {
			return refuse(err.Error())
		}
		return fmt.Appendf(nil, `{"result":%s,"id":%s}`, b, id)
	default:
		return refuse(fmt.Sprintf("Invalid request: unknown variant %q, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`", req.Method))
	}
	return fmt.Appendf(nil, `{"result":null,"id":%s}`, id)
}

// writeLoop sends what is due every tick, pings, and closes the connection at its lifetime or when a ping goes
// unanswered.
func (c *wsConn) writeLoop() {
	h := c.hub
	defer c.cancel()
	defer func() { _ = c.ws.CloseNow() }() // after a close handshake this is a no-op
	tick := time.NewTicker(h.opts.Tick)
	defer tick.Stop()
	var (
		lastPing = c.opened
		pingSent int64 // when the unanswered ping was sent; 0 when none
		pong     = make(chan error, 1)
	)
	for {
		select {
		case <-c.ctx.Done():
			return
		case err := <-pong:
			if err != nil {
				return
			}
			pingSent = 0
			continue
		case <-tick.C:
		}
		if c.closing.Load() {
			continue // close cancels the context when the handshake is over
		}
		now := h.s.now()
		switch {
		case now-c.opened >= h.opts.MaxLifetime.Milliseconds():
			h.count(func(st *WSStats) { st.LifetimeCuts++ })
			c.close(websocket.StatusGoingAway, "connection lifetime exceeded")
			return
		case pingSent != 0 && now-pingSent >= h.opts.PongTimeout.Milliseconds():
			h.count(func(st *WSStats) { st.PongTimeouts++ })
			c.close(websocket.StatusPolicyViolation, "pong timeout")
			return
		case pingSent == 0 && now-lastPing >= h.opts.PingInterval.Milliseconds():
			lastPing, pingSent = now, now
			h.count(func(st *WSStats) { st.PingsSent++ })
			// Ping waits for the pong; the timeout is the clock's, checked above, and closing ends the wait.
			go func() { pong <- c.ws.Ping(c.ctx) }()
		}
		// One watchdog per tick rather than a deadline per message: a client that stops reading blocks the writes,
		// and closing the connection ends them.
		watchdog := time.AfterFunc(wsWriteTimeout, func() { _ = c.ws.CloseNow() })
		err := c.sendDue(now)
		watchdog.Stop()
		if err != nil {
			return
		}
	}
}

// close closes the connection with a close frame, without waiting for the client's answer for long. The reader
// keeps reading meanwhile: the client's close frame is what completes the handshake.
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	defer c.cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.ws.Close(code, reason) // the client may be gone already
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		_ = c.ws.CloseNow() // a client that does not read never answers the close frame
	}
}

func (h *wsHub) count(f func(*WSStats)) {
	h.mu.Lock()
	f(&h.stats)
	h.mu.Unlock()
}

// send writes one event of stream, wrapped for a combined connection.
func (c *wsConn) send(stream string, data []byte) error {
	b := c.buf[:0]
	if c.combined {
		b = append(b, `{"stream":"`...)
		b = append(b, stream...)
		b = append(b, `","data":`...)
		b = append(b, data...)
		b = append(b, '}')
	} else {
		b = append(b, data...)
	}
	c.buf = b
	// No deadline per message (the library would arm a timer for each): the tick's watchdog bounds the writes.
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		return err
	}
	c.hub.sent.Add(1)
	return nil
}

// DropWS closes every WebSocket connection at once, without a close frame, as a network failure would. It returns
// how many connections were dropped.
func (s *Sim) DropWS() int {
	n := s.ws.closeAll()
	s.ws.count(func(st *WSStats) { st.Dropped += n })
	return n
}

// InjectDepthGap makes the next depth update of symbol skip n update ids: the book changes as those updates say, but
// no diff carries them, so a client's next diff starts n ids beyond its book and the REST snapshot holds the
// changes. It returns an error for a symbol the market does not have or n < 1.
func (s *Sim) InjectDepthGap(symbol string, n int) error {
	i, ok := s.market.symbol(symbol)
	if !ok {
		return fmt.Errorf("inject depth gap: unknown symbol %q", symbol)
	}
	if n < 1 {
		return fmt.Errorf("inject depth gap %s: %d update ids, want at least 1", symbol, n)
	}
	s.ws.books.injectGap(i, s.now(), n)
	return nil
}
