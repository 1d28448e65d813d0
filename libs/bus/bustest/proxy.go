package bustest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fetchKey is the Kafka API key of Fetch requests.
const fetchKey = 1

// Proxy forwards TCP connections to a Kafka broker and can withhold the
// broker's answers to Fetch requests for a while: the clients behind it
// then see no new records, as a consumer that lags that far behind would,
// while their produce, metadata, offset and group requests go on. Clients
// reach the broker only through the proxy when the broker advertises it
// (BrokerOptions.AdvertisedPort).
type Proxy struct {
	l      net.Listener
	mu     sync.Mutex
	until  time.Time // fetch answers are withheld until then
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewProxy listens on a free loopback port; call Forward once the broker's
// address is known. The proxy is closed when the test ends.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, conns: map[net.Conn]struct{}{}}
	t.Cleanup(p.close)
	return p
}

// Addr is the address clients connect to.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Port is the port clients connect to.
func (p *Proxy) Port() int { return p.l.Addr().(*net.TCPAddr).Port }

// Forward starts forwarding the connections to the broker at addr.
func (p *Proxy) Forward(addr string) {
	p.wg.Go(func() {
		for {
			c, err := p.l.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(c, addr) })
		}
	})
}

// HoldFetches withholds the answers to Fetch requests for d from now: an
// answer the broker gives meanwhile is dropped (its client times the
// request out and fetches again), so every record written in that time
// reaches the clients behind the proxy only once d has passed.
func (p *Proxy) HoldFetches(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.until = time.Now().Add(d)
}

func (p *Proxy) holding() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Now().Before(p.until)
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) close() {
	_ = p.l.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// serve forwards one client connection. Requests go to the broker as they
// come, noting which correlation ids are fetches; answers come back frame
// by frame, and a fetch's answer is dropped while fetches are held.
func (p *Proxy) serve(client net.Conn, addr string) {
	broker, err := net.Dial("tcp", addr)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(client) || !p.track(broker) {
		_ = client.Close()
		_ = broker.Close()
		return
	}
	defer func() {
		_ = client.Close()
		_ = broker.Close()
		p.untrack(client)
		p.untrack(broker)
	}()
	var mu sync.Mutex
	fetches := map[int32]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer broker.Close() // ends the answers' loop too
		for {
			frame, err := readFrame(client)
			if err != nil || len(frame) < 12 {
				return
			}
			if int16(binary.BigEndian.Uint16(frame[4:6])) == fetchKey {
				mu.Lock()
				fetches[int32(binary.BigEndian.Uint32(frame[8:12]))] = true
				mu.Unlock()
			}
			if _, err := broker.Write(frame); err != nil {
				return
			}
		}
	}()
	for {
		frame, err := readFrame(broker)
		if err != nil || len(frame) < 8 {
			break
		}
		id := int32(binary.BigEndian.Uint32(frame[4:8]))
		mu.Lock()
		fetch := fetches[id]
		delete(fetches, id)
		mu.Unlock()
		if fetch && p.holding() {
			continue
		}
		if _, err := client.Write(frame); err != nil {
			break
		}
	}
	_ = client.Close()
	<-done
}

// readFrame reads one size-prefixed Kafka frame, the size included.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 256<<20 {
		return nil, errors.New("kafka frame of " + strconv.FormatUint(uint64(n), 10) + " bytes")
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}
