package bustest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// toxiproxyServer is Shopify's toxiproxy run inside the test process: its
// proxies and toxics are driven through its Go types, with no HTTP API and
// no binary to install.
type toxiproxyServer struct {
	srv *toxiproxy.ApiServer
}

func newToxiproxy() *toxiproxyServer {
	return &toxiproxyServer{srv: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())}
}

// link starts a proxy for node listening on listen and forwarding to
// upstream, named prefix and the node's number.
func (s *toxiproxyServer) link(node int, prefix, listen, upstream string) (*Link, error) {
	name := prefix + strconv.Itoa(node)
	p := toxiproxy.NewProxy(s.srv, name, listen, upstream)
	if err := s.srv.Collection.Add(p, true); err != nil {
		return nil, fmt.Errorf("proxy for node %d on %s: %w", node, listen, err)
	}
	return &Link{p: p, node: node}, nil
}

func (s *toxiproxyServer) close() {
	_ = s.srv.Collection.Clear() // fails only for a proxy already gone
}

// Link is the toxiproxy proxy through which clients reach one node of a
// Cluster. Toxics added to it act on every connection through it, those
// open now and those opened later, until removed.
type Link struct {
	p    *toxiproxy.Proxy
	node int
	mu   sync.Mutex
	seq  int
}

// Addr is the proxy's address, the one the node advertises to clients.
func (l *Link) Addr() string { return l.p.Listen }

// Toxic is one fault added to a Link.
type Toxic struct {
	l    *Link
	name string
}

// Latency delays every answer of the node by latency, give or take up to
// jitter.
func (l *Link) Latency(t testing.TB, latency, jitter time.Duration) *Toxic {
	t.Helper()
	return l.add(t, "latency", "downstream", map[string]int64{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()})
}

// Bandwidth limits what the node sends its clients to kbps kilobytes per
// second.
func (l *Link) Bandwidth(t testing.TB, kbps int64) *Toxic {
	t.Helper()
	return l.add(t, "bandwidth", "downstream", map[string]int64{"rate": kbps})
}

// ResetPeer resets (TCP RST) every connection after it has carried data
// for after; 0 resets at the first byte.
func (l *Link) ResetPeer(t testing.TB, after time.Duration) *Toxic {
	t.Helper()
	return l.add(t, "reset_peer", "upstream", map[string]int64{"timeout": after.Milliseconds()})
}

// Timeout swallows everything clients send the node, as a network that drops
// packets does, and closes each connection after closeAfter (0: never).
func (l *Link) Timeout(t testing.TB, closeAfter time.Duration) *Toxic {
	t.Helper()
	return l.add(t, "timeout", "upstream", map[string]int64{"timeout": closeAfter.Milliseconds()})
}

// Down closes the proxy and every connection through it: clients get
// "connection refused" from the node until Up.
func (l *Link) Down() { l.p.Stop() }

// Up opens the proxy again after Down.
func (l *Link) Up(t testing.TB) {
	t.Helper()
	if err := l.p.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		t.Fatalf("node %d: reopen proxy: %v", l.node, err)
	}
}

// Clear removes every toxic from the link.
func (l *Link) Clear() { l.p.Toxics.ResetToxics(context.Background()) }

func (l *Link) add(t testing.TB, kind, stream string, attrs map[string]int64) *Toxic {
	t.Helper()
	l.mu.Lock()
	l.seq++
	name := kind + "-" + strconv.Itoa(l.seq)
	l.mu.Unlock()
	body, err := json.Marshal(map[string]any{"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attrs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		t.Fatalf("node %d: add %s toxic: %v", l.node, kind, err)
	}
	return &Toxic{l: l, name: name}
}

// Remove takes the toxic off its link; removing it twice fails the test.
func (x *Toxic) Remove(t testing.TB) {
	t.Helper()
	if err := x.l.p.Toxics.RemoveToxic(context.Background(), x.name); err != nil {
		t.Fatalf("node %d: remove toxic %s: %v", x.l.node, x.name, err)
	}
}
