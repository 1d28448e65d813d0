package bus

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestReaderConnectionsAreBounded: a broker that takes a request and never
// answers fails the request (with a timeout, which kafka-go's readers treat
// as a broken connection and retry) instead of holding the caller for
// ever. kafka-go sets no deadline while a partition reader positions
// itself, so without the bound the reader, and the tail it belongs to,
// would wait for good.
func TestReaderConnectionsAreBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }() // reads requests, answers none
		}
	}()
	cfg := Config{BootstrapServers: l.Addr().String(), SecurityProtocol: Plaintext, DialTimeout: 5 * time.Second, silence: 100 * time.Millisecond}
	d, err := cfg.dialer()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.DialContext(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() {
		_, _, err := conn.ReadOffsets()
		done <- err
	}()
	select {
	case err := <-done:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("ReadOffsets from a silent broker = %v, want a timeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ReadOffsets from a silent broker still waiting")
	}
}
