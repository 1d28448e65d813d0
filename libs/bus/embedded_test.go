package bus_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

func TestEmbeddedBroker(t *testing.T) {
	runSuite(t, func(t *testing.T) bus.Config { return bustest.Embedded(t, embedded.Options{}) })
}

func TestEmbeddedWrongPasswordFailsFast(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{SASLUser: "streamforge", SASLPassword: "right"})
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(context.Background()); err != nil {
		t.Fatalf("Check with the right password: %v", err)
	}
	checkWrongPassword(t, cfg)
}

func TestCheckUnreachableBroker(t *testing.T) {
	cfg := bus.Config{BootstrapServers: "127.0.0.1:1", SecurityProtocol: bus.Plaintext, DialTimeout: 2 * time.Second}
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = a.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Check = %v, want an error naming the address", err)
	}
	var ne net.Error
	if errors.Is(err, bus.ErrAccess) || !errors.As(err, &ne) {
		t.Errorf("Check = %v, want a network error (a broker that may come), not ErrAccess", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Check took %s with a 2s dial timeout", took)
	}
}

func TestSendToMissingTopicFails(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{})
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = p.Send(ctx, bus.Message{Topic: "no-such-topic", Value: []byte("x")}, bus.Message{Topic: "no-such-topic", Value: []byte("y")})
	if err == nil {
		t.Fatal("Send to a missing topic succeeded")
	}
	if !strings.Contains(err.Error(), "no-such-topic") {
		t.Errorf("error %q does not name the topic", err)
	}
}
