package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
	"github.com/streamforge/streamforge/libs/retry"
)

// DefaultWSURL is Binance's spot WebSocket stream endpoint.
const DefaultWSURL = "wss://stream.binance.com:9443"

// WSURLFromEnv returns BINANCE_WS_URL, or DefaultWSURL when it is unset or
// empty.
func WSURLFromEnv() string {
	if v := os.Getenv("BINANCE_WS_URL"); v != "" {
		return v
	}
	return DefaultWSURL
}

// Binance's WebSocket limits (web-socket-streams.md, "WebSocket Limits") and
// how the client stays inside them.
const (
	// MaxStreamsPerConn is the most streams one connection may carry; the
	// client splits longer lists over several connections.
	MaxStreamsPerConn = 1024
	// MaxMessagesPerSecond is the most messages (pings, pongs, JSON requests)
	// a connection may send per second before Binance disconnects it.
	MaxMessagesPerSecond = 5
	// controlPerSecond leaves one message per second for the pong that
	// answers a server ping, which the WebSocket library sends on its own.
	controlPerSecond = MaxMessagesPerSecond - 1
	// urlStreamBytes bounds the stream names put into the connection URL;
	// the rest are subscribed with SUBSCRIBE messages of subscribeBatch
	// streams, so a URL never grows past what proxies accept.
	urlStreamBytes = 4000
	subscribeBatch = 200
	// maxWSMessage is the read limit per message: depth diffs of busy
	// symbols reach tens of kilobytes.
	maxWSMessage = 4 << 20
	// wsQueue is how many messages may wait between the connections'
	// readers and fn, so a short stall in fn does not stop reading (and so
	// the answering of pings).
	wsQueue = 1024
)

// WSOptions configures a WSClient. Zero durations take the documented
// defaults.
type WSOptions struct {
	// URL is the base, scheme and host, e.g. "ws://127.0.0.1:8080"; empty
	// means WSURLFromEnv(). The client connects to <URL>/stream.
	URL string
	// Streams are the stream names: <symbol>@aggTrade, <symbol>@trade,
	// <symbol>@kline_<interval>, <symbol>@depth or <symbol>@depth@100ms, with
	// a lower-case symbol.
	Streams []string
	// RotateAfter is the age at which a connection is replaced by a fresh
	// one, before Binance cuts it at 24 h. Default 23 h.
	RotateAfter time.Duration
	// RotateOverlap is how long the old and the new connection both deliver
	// during a rotation; duplicates are dropped. It must cover the delivery
	// delay of a connection. Default 5 s; it must be shorter than
	// RotateAfter.
	RotateOverlap time.Duration
	// BackoffFirst and BackoffMax are the first and the largest delay before
	// reconnecting. Defaults 500 ms and 30 s; delays are jittered.
	BackoffFirst, BackoffMax time.Duration
	// DialTimeout bounds the handshake and the acknowledgement of the
	// subscriptions of one connection (wall clock). Default 10 s.
	DialTimeout time.Duration
	// HTTPClient makes the handshake (proxies, TLS settings); nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Now, Sleep and Rand are the clock, the wait and the jitter source
	// (returning [0, 1)); nil means the real ones. Rotation and backoff use
	// them.
	Now   func() time.Time
	Sleep SleepFunc
	Rand  func() float64
	// OnState, when set, is told about connections, losses and rotations,
	// for logs and metrics. It is called from the client's goroutines,
	// possibly concurrently, and must not block.
	OnState func(WSState)
}

// WSStateKind says what happened to a connection.
type WSStateKind int

// The connection events reported to WSOptions.OnState.
const (
	// WSConnected: a connection is open and subscribed.
	WSConnected WSStateKind = iota + 1
	// WSReconnecting: a connection failed to open or was lost (Err says
	// why); the next attempt follows after Delay. Messages may be missed.
	WSReconnecting
	// WSRotated: a fresh connection (Conn) has replaced an old one without
	// losing messages.
	WSRotated
	// WSRotateFailed: the replacement could not be opened (Err); the old
	// connection carries on and the rotation is tried again after Delay.
	WSRotateFailed
)

func (k WSStateKind) String() string {
	switch k {
	case WSConnected:
		return "connected"
	case WSReconnecting:
		return "reconnecting"
	case WSRotated:
		return "rotated"
	case WSRotateFailed:
		return "rotate failed"
	}
	return fmt.Sprintf("WSStateKind(%d)", int(k))
}

// WSState is one connection event.
type WSState struct {
	Kind  WSStateKind
	Shard int // which group of at most MaxStreamsPerConn streams, from 0
	Conn  int // the connection's generation (see WSMessage.Conn); 0 if none
	Err   error
	Delay time.Duration
}

// WSMessage is one stream event.
type WSMessage struct {
	// Stream is the stream name as given in WSOptions.Streams.
	Stream string
	// Data is the event object (the "data" member of the combined stream
	// message). It is only valid until fn returns; copy what you keep.
	Data json.RawMessage
	// Received is when the message was read, on the client's clock.
	Received time.Time
	// Conn is the generation of the connection that delivered the message;
	// every connection the client opens gets the next number.
	Conn int
	// Reconnected is true for the first message of Stream after a
	// connection was lost and opened again: messages before it may be
	// missing, so an order book must be synced again and trades may be
	// fetched by id over REST. A planned rotation loses nothing and does not
	// set it.
	Reconnected bool
}

// WSStats counts what a client has done, for tests and metrics.
type WSStats struct {
	Messages   int64 // passed to fn
	Duplicates int64 // dropped because an equal or newer message had been passed (rotation overlap)
	Dropped    int64 // messages of unknown streams and unreadable envelopes
	Reconnects int64 // connections lost or failed to open
	Rotations  int64
}

type streamKind uint8

const (
	kindAggTrade streamKind = iota + 1
	kindTrade
	kindKline
	kindDepth
	kindBookTicker
	kindPartialDepth
)

// parseStream validates a stream name and returns its kind.
func parseStream(name string) (streamKind, error) {
	sym, kind, ok := strings.Cut(name, "@")
	if !ok || sym == "" {
		return 0, fmt.Errorf("stream %q: want <symbol>@<kind>", name)
	}
	for _, c := range []byte(sym) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return 0, fmt.Errorf("stream %q: the symbol must be lower-case letters and digits", name)
		}
	}
	switch {
	case kind == "aggTrade":
		return kindAggTrade, nil
	case kind == "trade":
		return kindTrade, nil
	case kind == "depth" || kind == "depth@100ms" || kind == "depth@1000ms":
		return kindDepth, nil
	case kind == "bookTicker":
		return kindBookTicker, nil
	case isPartialDepth(kind):
		return kindPartialDepth, nil
	case strings.HasPrefix(kind, "kline_"):
		if _, err := ParseInterval(kind[len("kline_"):]); err != nil {
			return 0, fmt.Errorf("stream %q: %w", name, err)
		}
		return kindKline, nil
	}
	return 0, fmt.Errorf("stream %q: unknown kind %q (want aggTrade, trade, kline_<interval>, depth[@100ms|@1000ms], depth<5|10|20>[@100ms|@1000ms] or bookTicker)", name, kind)
}

// WSClient reads Binance combined streams over as many connections as the
// stream count needs, keeps them open across failures and Binance's 24 h
// cut, and hands every event to one function. Create it with NewWSClient.
type WSClient struct {
	base          string
	shards        []wsShardPlan
	kinds         map[string]streamKind
	rotateAfter   time.Duration
	overlap       time.Duration
	backoffFirst  time.Duration
	backoffMax    time.Duration
	dialTimeout   time.Duration
	hc            *http.Client
	now           func() time.Time
	sleep         SleepFunc
	rand          func() float64
	onState       func(WSState)
	gen           atomic.Int64
	bufs          sync.Pool
	messages      atomic.Int64
	duplicates    atomic.Int64
	dropped       atomic.Int64
	reconnects    atomic.Int64
	rotations     atomic.Int64
	maxURLStreams int // urlStreamBytes, lowered by tests
}

// wsShardPlan is what one connection carries: the dial URL with the streams
// that fit into it, and SUBSCRIBE batches for the others.
type wsShardPlan struct {
	streams []string
	url     string
	batches [][]string
}

// NewWSClient validates o and returns a client. It returns an error naming
// the problem when there are no streams, a stream is malformed, of an
// unsupported kind or listed twice, the URL is not ws, wss, http or https, or
// a duration is negative or the overlap is not shorter than RotateAfter.
func NewWSClient(o WSOptions) (*WSClient, error) {
	if o.URL == "" {
		o.URL = WSURLFromEnv()
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("binance ws url %q: %w", o.URL, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, fmt.Errorf("binance ws url %q: scheme must be ws, wss, http or https", o.URL)
	}
	if u.RawQuery != "" || u.Host == "" {
		return nil, fmt.Errorf("binance ws url %q: want scheme://host[:port] without a query", o.URL)
	}
	if len(o.Streams) == 0 {
		return nil, errors.New("binance ws: no streams")
	}
	c := &WSClient{
		base:          strings.TrimRight(o.URL, "/"),
		kinds:         make(map[string]streamKind, len(o.Streams)),
		rotateAfter:   orDefault(o.RotateAfter, 23*time.Hour),
		overlap:       orDefault(o.RotateOverlap, 5*time.Second),
		backoffFirst:  orDefault(o.BackoffFirst, 500*time.Millisecond),
		backoffMax:    orDefault(o.BackoffMax, 30*time.Second),
		dialTimeout:   orDefault(o.DialTimeout, 10*time.Second),
		hc:            o.HTTPClient,
		now:           o.Now,
		sleep:         o.Sleep,
		rand:          o.Rand,
		onState:       o.OnState,
		maxURLStreams: urlStreamBytes,
	}
	for _, d := range []time.Duration{o.RotateAfter, o.RotateOverlap, o.BackoffFirst, o.BackoffMax, o.DialTimeout} {
		if d < 0 {
			return nil, fmt.Errorf("binance ws: negative duration %s", d)
		}
	}
	if c.overlap >= c.rotateAfter {
		return nil, fmt.Errorf("binance ws: rotate overlap %s must be shorter than rotate after %s", c.overlap, c.rotateAfter)
	}
	if c.backoffMax < c.backoffFirst {
		c.backoffMax = c.backoffFirst
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = Sleep
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	for _, s := range o.Streams {
		kind, err := parseStream(s)
		if err != nil {
			return nil, fmt.Errorf("binance ws: %w", err)
		}
		if _, dup := c.kinds[s]; dup {
			return nil, fmt.Errorf("binance ws: stream %q listed twice", s)
		}
		c.kinds[s] = kind
	}
	c.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	c.plan(o.Streams)
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// plan splits the streams into connections of at most MaxStreamsPerConn and,
// per connection, into the URL part and SUBSCRIBE batches.
func (c *WSClient) plan(streams []string) {
	c.shards = nil
	for _, group := range splitStreams(streams, MaxStreamsPerConn) {
		p := wsShardPlan{streams: group}
		n, size := 0, 0
		for n < len(group) && (n == 0 || size+1+len(group[n]) <= c.maxURLStreams) {
			size += 1 + len(group[n])
			n++
		}
		p.url = c.base + "/stream?streams=" + strings.Join(group[:n], "/")
		p.batches = splitStreams(group[n:], subscribeBatch)
		c.shards = append(c.shards, p)
	}
}

// splitStreams cuts streams into consecutive groups of at most n.
func splitStreams(streams []string, n int) [][]string {
	var out [][]string
	for len(streams) > 0 {
		k := min(n, len(streams))
		out = append(out, streams[:k:k])
		streams = streams[k:]
	}
	return out
}

// Connections returns how many connections Run keeps open.
func (c *WSClient) Connections() int { return len(c.shards) }

// Stats returns the client's counters.
func (c *WSClient) Stats() WSStats {
	return WSStats{
		Messages:   c.messages.Load(),
		Duplicates: c.duplicates.Load(),
		Dropped:    c.dropped.Load(),
		Reconnects: c.reconnects.Load(),
		Rotations:  c.rotations.Load(),
	}
}

func (c *WSClient) report(s WSState) {
	if c.onState != nil {
		c.onState(s)
	}
}

// backoff returns the jittered delay before attempt (1-based): half the
// exponential delay plus a random part of the other half, as the REST client.
func (c *WSClient) backoff(attempt int) time.Duration {
	return retry.Backoff{Base: c.backoffFirst, Max: c.backoffMax, Rand: c.rand}.Delay(attempt - 1)
}

// Run connects, subscribes and calls fn with every message, one at a time,
// until ctx is done or fn returns an error. It keeps the connections open:
// a lost connection is opened again after a backoff (and the next message of
// each of its streams has Reconnected set), and a connection older than
// RotateAfter is replaced by a fresh one without loss. Messages that an
// overlapping connection already delivered (same or older aggregate trade id
// "a", trade id "t", depth final update id "u", or kline update) are dropped.
// Run returns ctx.Err() or fn's error, after every connection is closed. It
// must not be called concurrently with itself.
func (c *WSClient) Run(ctx context.Context, fn func(WSMessage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &wsRun{c: c, ctx: ctx, q: make(chan wsItem, wsQueue)}
	states := make(map[string]*streamState, len(c.kinds))
	byShard := make([][]*streamState, len(c.shards))
	for i, p := range c.shards {
		for _, s := range p.streams {
			st := &streamState{name: s, kind: c.kinds[s]}
			states[s] = st
			byShard[i] = append(byShard[i], st)
		}
		sh := &wsShard{r: r, index: i, plan: p}
		r.wg.Go(sh.loop)
	}
	err := r.dispatch(states, byShard, fn)
	cancel()
	r.wg.Wait()
	return err
}

// wsRun is the state of one Run: the queue from the readers to fn and the
// goroutines to wait for.
type wsRun struct {
	c   *WSClient
	ctx context.Context
	q   chan wsItem
	wg  sync.WaitGroup
}

// wsItem is a message on its way to fn; or (lost) the news that a shard's
// connection was lost and its streams restart on connection gen; or
// (switchTo) the news that a rotation of a shard completed and connection
// gen now carries its streams.
type wsItem struct {
	buf      *[]byte // holds stream and data; back to the pool after fn
	stream   []byte
	data     []byte
	received time.Time
	gen      int
	shard    int
	lost     bool
	switchTo bool
}

// after returns a channel closed when d has passed on the client's clock.
// Cancel ctx when no longer waiting, so the goroutine ends.
func (r *wsRun) after(ctx context.Context, d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	r.wg.Go(func() {
		if r.c.sleep(ctx, d) == nil {
			close(ch)
		}
	})
	return ch
}

// dispatch passes the queued messages to fn, one at a time. Each shard has
// a primary connection, whose messages are passed unless an overlapping
// connection already passed them. During a rotation the new connection's
// messages wait until the rotation completes: the two readers queue
// concurrently, and a new connection that is ahead of the old one must not
// pass an id the old one has not delivered yet, or the ids between would be
// dropped as duplicates when the old one delivers them. On the switch, the
// waiting messages are passed after everything the old connection queued
// before it, dropping those it already delivered.
func (r *wsRun) dispatch(states map[string]*streamState, byShard [][]*streamState, fn func(WSMessage) error) error {
	c := r.c
	primary := make([]int, len(byShard)) // the shard's primary connection (0: the first to deliver)
	waiting := map[int][]wsItem{}        // by connection: messages of a rotation in progress
	// dropWaiting drops what the shard's rotations left waiting.
	dropWaiting := func(shard int) {
		for gen, w := range waiting {
			if w[0].shard == shard {
				for _, it := range w {
					c.bufs.Put(it.buf)
				}
				delete(waiting, gen)
			}
		}
	}
	pass := func(it wsItem) error {
		defer c.bufs.Put(it.buf)
		st := states[string(it.stream)]
		switch {
		case st == nil:
			c.dropped.Add(1)
		case !st.accept(it.data):
			c.duplicates.Add(1)
		default:
			msg := WSMessage{Stream: st.name, Data: it.data, Received: it.received, Conn: it.gen, Reconnected: st.flag}
			st.flag = false
			c.messages.Add(1)
			return fn(msg)
		}
		return nil
	}
	for {
		var it wsItem
		select {
		case <-r.ctx.Done():
			return r.ctx.Err()
		case it = <-r.q:
		}
		switch {
		case it.lost:
			for _, st := range byShard[it.shard] {
				st.has, st.flag = false, true
			}
			dropWaiting(it.shard)
			primary[it.shard] = it.gen
		case it.switchTo:
			primary[it.shard] = it.gen
			held := waiting[it.gen]
			delete(waiting, it.gen)
			dropWaiting(it.shard) // rotations that failed
			for _, w := range held {
				if err := pass(w); err != nil {
					return err
				}
			}
		case primary[it.shard] != 0 && it.gen > primary[it.shard]:
			waiting[it.gen] = append(waiting[it.gen], it)
		default:
			if primary[it.shard] == 0 {
				primary[it.shard] = it.gen
			}
			if err := pass(it); err != nil {
				return err
			}
		}
	}
}

// isPartialDepth reports whether kind is a partial book depth stream
// (web-socket-streams.md, "Partial Book Depth Streams"): depth5, depth10 or
// depth20, optionally with @100ms or @1000ms.
func isPartialDepth(kind string) bool {
	levels, speed, _ := strings.Cut(kind, "@")
	switch speed {
	case "", "100ms", "1000ms":
	default:
		return false
	}
	return levels == "depth5" || levels == "depth10" || levels == "depth20"
}

// streamState is the dispatcher's memory of one stream: the newest message
// passed to fn, to drop what an overlapping connection delivers again.
type streamState struct {
	name   string
	kind   streamKind
	has    bool  // a message has been passed since the (re)start
	last   int64 // aggTrade a, trade t, depth and bookTicker u, partial depth lastUpdateId, kline open time t
	lastE  int64 // kline: event time of the last update passed
	closed bool  // kline: the candle opening at last was passed closed
	flag   bool  // the next message is the first after a lost connection
}

// accept reports whether data is new for the stream and remembers it. A
// message whose id cannot be read is passed on: fn's parser reports it.
func (st *streamState) accept(data []byte) bool {
	if st.kind == kindKline {
		return st.acceptKline(data)
	}
	key := "a"
	switch st.kind {
	case kindTrade:
		key = "t"
	case kindDepth, kindBookTicker:
		key = "u"
	case kindPartialDepth:
		// A partial book repeated while the book did not change says
		// nothing new either.
		key = "lastUpdateId"
	}
	v, ok := exactjson.Member(data, key)
	if !ok {
		return true
	}
	id, err := rawInt(v)
	if err != nil {
		return true
	}
	if st.has && id <= st.last {
		return false
	}
	st.has, st.last = true, id
	return true
}

// acceptKline passes the updates of a candle in event-time order and its
// closed version once; nothing of a candle older than the last one passed.
func (st *streamState) acceptKline(data []byte) bool {
	k, ok := exactjson.Member(data, "k")
	if !ok {
		return true
	}
	tv, ok1 := exactjson.Member(k, "t")
	xv, ok2 := exactjson.Member(k, "x")
	ev, ok3 := exactjson.Member(data, "E")
	if !ok1 || !ok2 || !ok3 {
		return true
	}
	t, err1 := rawInt(tv)
	x, err2 := rawBool(xv)
	e, err3 := rawInt(ev)
	if err1 != nil || err2 != nil || err3 != nil {
		return true
	}
	if st.has {
		switch {
		case t < st.last:
			return false
		case t == st.last && (st.closed || (!x && e <= st.lastE)):
			return false
		}
	}
	st.has, st.last, st.lastE, st.closed = true, t, e, x
	return true
}

// sendLimiter spaces the messages one connection sends so that no window of
// length per holds more than n of them. It is not safe for concurrent use.
type sendLimiter struct {
	n     int
	per   time.Duration
	now   func() time.Time
	sleep SleepFunc
	sent  []time.Time // ring of the last n send times
	next  int
}

func newSendLimiter(n int, per time.Duration, now func() time.Time, sleep SleepFunc) *sendLimiter {
	return &sendLimiter{n: max(n, 1), per: per, now: now, sleep: sleep}
}

// wait blocks until one more message may be sent and counts it as sent. It
// returns ctx's error if ctx is done first.
func (l *sendLimiter) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(l.sent) < l.n {
		l.sent = append(l.sent, l.now())
		return nil
	}
	if d := l.sent[l.next].Add(l.per).Sub(l.now()); d > 0 {
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
	l.sent[l.next] = l.now()
	l.next = (l.next + 1) % l.n
	return nil
}
