package bus

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// MaxSilence is the longest a connection to a broker waits for the broker
// to answer when the client set no deadline of its own. kafka-go sets none
// while a partition reader positions itself (a ListOffsets on the leader):
// a broker that took the request and never answered would hold that reader,
// and with it a worker's queue-events or queue-control tail, for ever. Every
// legitimate wait is shorter (fetches wait at most a few seconds, group
// requests are bounded by their own timeouts).
const MaxSilence = 30 * time.Second

// boundedConn is a connection whose reads and writes never wait longer than
// bound while the caller has no deadline set: the call then fails with a
// timeout, which the client treats like any broken connection (it
// reconnects and retries), instead of hanging.
type boundedConn struct {
	net.Conn
	bound time.Duration

	mu     sync.Mutex
	rd, wd time.Time // the caller's deadlines; zero: none
}

func (c *boundedConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	free := c.rd.IsZero()
	c.mu.Unlock()
	if free {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.bound)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(b)
}

func (c *boundedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	free := c.wd.IsZero()
	c.mu.Unlock()
	if free {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.bound)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(b)
}

func (c *boundedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rd, c.wd = t, t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *boundedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rd = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *boundedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wd = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// boundedDial dials like kafka-go's default dialer and bounds the
// connection's waits (see MaxSilence).
func boundedDial(bound time.Duration) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &boundedConn{Conn: c, bound: bound}, nil
	}
}

// connLost reports whether err says the connection to a broker failed (it
// could not be opened, was reset or closed, or did not answer in time), so
// that another broker may well answer: a bootstrap address whose broker is
// down can accept a connection and close it at once (a proxy, a load
// balancer, a Service in front of it).
func connLost(err error) bool {
	return Unreachable(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// passing reports whether err is worth retrying: a lost connection, or a
// Kafka error that says so (a leader or coordinator moving).
func passing(err error) bool {
	var ke kafka.Error
	return connLost(err) || (errors.As(err, &ke) && ke.Temporary())
}

// fetchWait is how long an idle fetch waits at the broker for a message
// (readers set it as their MaxWait; a message that arrives meanwhile is
// answered at once). kafka-go gives the broker this wait less a margin for
// the round trip (a quarter of it below 1 s, 1 s from then on) and fails the
// fetch with an i/o timeout when the answer comes later; a reader then
// reconnects and positions itself again. With a wait of 200 ms the margin is
// 50 ms, and a link with more latency than that (a loaded node, a slow
// network, the chaos suite's 100 ms) turned every idle fetch into a
// reconnection, and a reader into one that spends its time reconnecting.
const fetchWait = 1500 * time.Millisecond
