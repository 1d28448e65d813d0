package binance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// wsShard keeps one group of streams connected: it opens a connection,
// rotates it before RotateAfter and opens a new one after a loss.
type wsShard struct {
	r     *wsRun
	index int
	plan  wsShardPlan
}

// wsConn is one open connection and its reader.
type wsConn struct {
	ws        *websocket.Conn
	gen       int
	opened    time.Time
	acks      chan int64    // ids of answered SUBSCRIBE requests
	done      chan struct{} // closed when the reader has stopped
	err       error         // why the reader stopped; read after done
	delivered atomic.Bool   // a stream message arrived
	stopWatch func() bool   // stops closing the connection with Run's context
}

func (wc *wsConn) closeNow() {
	wc.stopWatch()
	_ = wc.ws.CloseNow() // the connection is abandoned; its close error changes nothing
}

// loop keeps the shard connected until Run ends: it opens a connection, holds
// it (with its rotations) and, when it is lost, waits a backoff and opens the
// next one, telling the dispatcher that the streams restart.
func (sh *wsShard) loop() {
	r, c := sh.r, sh.r.c
	failures := 0
	var lastErr error
	lost := false
	for {
		if failures > 0 {
			d := c.backoff(failures)
			c.reconnects.Add(1)
			c.report(WSState{Kind: WSReconnecting, Shard: sh.index, Err: lastErr, Delay: d})
			if c.sleep(r.ctx, d) != nil {
				return
			}
		}
		conn, err := sh.open(r.ctx, lost)
		if err != nil {
			if r.ctx.Err() != nil {
				return
			}
			failures++
			lastErr = err
			continue
		}
		c.report(WSState{Kind: WSConnected, Shard: sh.index, Conn: conn.gen})
		live, err := sh.hold(conn)
		if r.ctx.Err() != nil {
			return
		}
		lost, lastErr = true, err
		// A connection that delivered data was healthy: start the backoff
		// over. One that was cut before any data keeps escalating it.
		if live.delivered.Load() {
			failures = 1
		} else {
			failures++
		}
	}
}

// open dials a connection, subscribes the streams that are not in the URL and
// waits for the acknowledgements. When lost is set the dispatcher is told,
// before any message of the new connection, that the shard's streams restart.
func (sh *wsShard) open(ctx context.Context, lost bool) (*wsConn, error) {
	r, c := sh.r, sh.r.c
	gen := int(c.gen.Add(1))
	ctx, cancel := context.WithTimeout(ctx, c.dialTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, sh.plan.url, &websocket.DialOptions{HTTPClient: c.hc})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("binance ws connection %d: dial: http status %d: %w", gen, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("binance ws connection %d: dial: %w", gen, err)
	}
	ws.SetReadLimit(maxWSMessage)
	wc := &wsConn{
		ws: ws, gen: gen, opened: c.now(),
		acks: make(chan int64, len(sh.plan.batches)),
		done: make(chan struct{}),
	}
	// Reads use a context without a deadline (no timer per message); the
	// connection is closed instead when Run ends.
	wc.stopWatch = context.AfterFunc(r.ctx, func() { _ = ws.CloseNow() })
	if lost {
		select {
		case r.q <- wsItem{lost: true, shard: sh.index, gen: gen}:
		case <-ctx.Done():
			wc.closeNow()
			return nil, fmt.Errorf("binance ws connection %d: %w", gen, ctx.Err())
		}
	}
	r.wg.Go(func() { sh.read(wc) })
	if err := sh.subscribe(ctx, wc); err != nil {
		wc.closeNow()
		return nil, fmt.Errorf("binance ws connection %d: %w", gen, err)
	}
	return wc, nil
}

// subscribe sends the SUBSCRIBE batches within the per-connection message
// limit and waits until each is answered.
func (sh *wsShard) subscribe(ctx context.Context, wc *wsConn) error {
	c := sh.r.c
	lim := newSendLimiter(controlPerSecond, time.Second, c.now, c.sleep)
	var msg []byte
	for i, batch := range sh.plan.batches {
		if err := lim.wait(ctx); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		msg = appendSubscribe(msg[:0], batch, int64(i+1))
		if err := wc.ws.Write(ctx, websocket.MessageText, msg); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	for answered := 0; answered < len(sh.plan.batches); answered++ {
		select {
		case <-wc.acks:
		case <-wc.done:
			return fmt.Errorf("closed while subscribing: %w", wc.err)
		case <-ctx.Done():
			return fmt.Errorf("%d of %d subscriptions unanswered: %w", len(sh.plan.batches)-answered, len(sh.plan.batches), ctx.Err())
		}
	}
	return nil
}

func appendSubscribe(dst []byte, streams []string, id int64) []byte {
	dst = append(dst, `{"method":"SUBSCRIBE","params":[`...)
	for i, s := range streams {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, s...) // validated: letters, digits, '@' and '_'
		dst = append(dst, '"')
	}
	dst = append(dst, `],"id":`...)
	dst = strconv.AppendInt(dst, id, 10)
	return append(dst, '}')
}

// hold serves conn until it is lost and returns the connection that was live
// then and why it ended. Every RotateAfter it opens a replacement, lets both
// deliver for RotateOverlap and closes the old one.
func (sh *wsShard) hold(cur *wsConn) (*wsConn, error) {
	r, c := sh.r, sh.r.c
	due := cur.opened.Add(c.rotateAfter)
	retries := 0
	for {
		wctx, stop := context.WithCancel(r.ctx)
		timer := r.after(wctx, due.Sub(c.now()))
		select {
		case <-r.ctx.Done():
			stop()
			cur.closeNow()
			return cur, r.ctx.Err()
		case <-cur.done:
			stop()
			cur.stopWatch()
			return cur, fmt.Errorf("binance ws connection %d: lost: %w", cur.gen, cur.err)
		case <-timer:
		}
		stop()
		next, err := sh.open(r.ctx, false)
		if err == nil {
			err = sh.overlap(cur, next)
		}
		if err != nil {
			if r.ctx.Err() != nil {
				cur.closeNow()
				return cur, r.ctx.Err()
			}
			retries++
			d := c.backoff(retries)
			c.report(WSState{Kind: WSRotateFailed, Shard: sh.index, Conn: cur.gen, Err: err, Delay: d})
			due = c.now().Add(d)
			continue
		}
		retries = 0
		// The dispatcher passes the new connection's messages from here on,
		// after everything the old one queued before this.
		select {
		case r.q <- wsItem{switchTo: true, shard: sh.index, gen: next.gen}:
		case <-r.ctx.Done():
			next.closeNow()
			cur.closeNow()
			return cur, r.ctx.Err()
		}
		old := cur
		r.wg.Go(func() {
			old.stopWatch()
			// The close handshake needs the old reader, which keeps reading
			// until the close frame arrives; its messages are duplicates.
			_ = old.ws.Close(websocket.StatusNormalClosure, "rotated") // the old connection is done either way
		})
		c.rotations.Add(1)
		c.report(WSState{Kind: WSRotated, Shard: sh.index, Conn: next.gen})
		cur = next
		due = cur.opened.Add(c.rotateAfter)
	}
}

// overlap lets the old and the new connection both deliver for RotateOverlap.
// It returns an error (having closed next) when next fails meanwhile, so the
// old one is kept.
func (sh *wsShard) overlap(cur, next *wsConn) error {
	r := sh.r
	wctx, stop := context.WithCancel(r.ctx)
	defer stop()
	select {
	case <-r.after(wctx, r.c.overlap):
	case <-cur.done: // the old one ended early; the new one is subscribed already
	case <-next.done:
		next.stopWatch()
		return fmt.Errorf("binance ws connection %d: lost during rotation: %w", next.gen, next.err)
	case <-r.ctx.Done():
		next.closeNow()
		return r.ctx.Err()
	}
	return nil
}

var (
	streamPrefix = []byte(`{"stream":"`)
	dataInfix    = []byte(`","data":`)
)

// read reads messages until the connection ends and queues the stream
// messages for the dispatcher. It reads without pause (but for a full queue),
// which is what answers the server's pings.
func (sh *wsShard) read(wc *wsConn) {
	defer close(wc.done)
	r, c := sh.r, sh.r.c
	for {
		typ, rd, err := wc.ws.Reader(context.Background())
		if err != nil {
			wc.err = err
			return
		}
		bp := c.bufs.Get().(*[]byte)
		b, err := readInto((*bp)[:0], rd)
		*bp = b
		if err != nil {
			wc.err = err
			return
		}
		if typ != websocket.MessageText {
			c.bufs.Put(bp)
			continue
		}
		stream, data, ok := splitEnvelope(b)
		if !ok {
			refused := sh.control(wc, b)
			c.bufs.Put(bp)
			if refused {
				return
			}
			continue
		}
		wc.delivered.Store(true)
		select {
		case r.q <- wsItem{buf: bp, stream: stream, data: data, received: c.now(), gen: wc.gen, shard: sh.index}:
		case <-r.ctx.Done():
			wc.err = r.ctx.Err()
			return
		}
	}
}

// readInto appends the whole message to b.
func readInto(b []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// splitEnvelope returns the stream name and the data of a combined stream
// message. Binance's exact layout is matched without a scan of the data; any
// other layout goes through the JSON scanner.
func splitEnvelope(b []byte) (stream, data []byte, ok bool) {
	if bytes.HasPrefix(b, streamPrefix) && len(b) > 0 && b[len(b)-1] == '}' {
		rest := b[len(streamPrefix):]
		if i := bytes.IndexByte(rest, '"'); i > 0 && bytes.HasPrefix(rest[i:], dataInfix) {
			return rest[:i], rest[i+len(dataInfix) : len(rest)-1], true
		}
	}
	sv, ok1 := exactjson.Member(b, "stream")
	dv, ok2 := exactjson.Member(b, "data")
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	s, err := rawString(sv)
	if err != nil {
		return nil, nil, false
	}
	return s, dv, true
}

// control handles a reply to a request: {"result":null,"id":n} acknowledges a
// subscription, {"code":..,"msg":..} or {"error":{..}} refuses it. It reports
// whether the connection was closed because of an error.
func (sh *wsShard) control(wc *wsConn, b []byte) bool {
	idv, hasID := exactjson.Member(b, "id")
	_, hasCode := exactjson.Member(b, "code")
	errv, hasErr := exactjson.Member(b, "error")
	if hasCode || (hasErr && !bytes.Equal(errv, []byte("null"))) {
		wc.err = fmt.Errorf("request refused: %s", bytes.TrimSpace(b))
		_ = wc.ws.CloseNow() // the connection is useless without its subscriptions
		return true
	}
	if !hasID {
		sh.r.c.dropped.Add(1)
		return false
	}
	id, err := rawInt(idv)
	if err != nil {
		sh.r.c.dropped.Add(1)
		return false
	}
	select {
	case wc.acks <- id:
	default: // an answer to nothing we asked
	}
	return false
}
