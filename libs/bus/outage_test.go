package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// restartable starts an embedded broker that keeps its data, so that it
// can be closed and restarted, with a topic of one partition.
func restartable(t *testing.T) (*embedded.Broker, bus.Config, string) {
	t.Helper()
	b, err := embedded.Start(embedded.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.Config()
	topic := uniqueTopic(t)
	bustest.Topics(t, cfg, 1, topic)
	return b, cfg, topic
}

// TestConsumerRidesOutABrokerOutage: the broker goes away for a few
// seconds and comes back on the same address; the consumer does not
// return, and handles what is sent after the outage.
func TestConsumerRidesOutABrokerOutage(t *testing.T) {
	b, cfg, topic := restartable(t)
	publish := func(v string) {
		t.Helper()
		p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Publish(context.Background(), topic, nil, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	publish("before")
	var mu sync.Mutex
	var outages []bool // true: an outage began; false: it ended
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, OnOutage: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		outages = append(outages, err != nil)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(_ context.Context, batch []bus.Message) error {
			for _, m := range batch {
				got <- string(m.Value)
			}
			return nil
		})
	}()
	if v := <-got; v != "before" {
		t.Fatalf("first message %q", v)
	}
	b.Close()
	select {
	case err := <-done:
		t.Fatalf("Run returned during the outage: %v", err)
	case <-time.After(5 * time.Second):
	}
	if b, err = b.Restart(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	publish("after")
	// "before" may come again: its commit failed in the outage.
	for v := ""; v != "after"; {
		select {
		case v = <-got:
			if v != "after" && v != "before" {
				t.Fatalf("after the outage: %q", v)
			}
		case err := <-done:
			t.Fatalf("Run returned after the outage: %v", err)
		case <-ctx.Done():
			t.Fatal("the message sent after the outage was not handled")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v after ctx ended, want nil", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outages) < 2 || !outages[0] || outages[len(outages)-1] {
		t.Errorf("outages reported %v, want one beginning and its end", outages)
	}
}

// TestIdleConsumerReportsAnOutageAndItsEnd: with nothing to read, the
// broker going away is still reported to OnOutage, and so is its coming
// back, although no message arrives.
func TestIdleConsumerReportsAnOutageAndItsEnd(t *testing.T) {
	b, cfg, topic := restartable(t)
	outages := make(chan error, 10)
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic},
		OnOutage: func(err error) { outages <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, func(context.Context, []bus.Message) error { return nil }) }()
	time.Sleep(time.Second) // joined, idle
	b.Close()
	select {
	case err := <-outages:
		if err == nil {
			t.Fatal("the end of an outage reported before its beginning")
		}
	case <-ctx.Done():
		t.Fatal("the outage of an idle consumer was not reported")
	}
	if b, err = b.Restart(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	select {
	case err := <-outages:
		if err != nil {
			t.Fatalf("after the broker came back: %v, want the end of the outage", err)
		}
	case <-ctx.Done():
		t.Fatal("the end of the outage was not reported while idle")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// TestConsumerCommitOutlivesAnOutage: the broker goes away while a batch is
// being handled; its commit is retried until the broker is back, so the
// group has committed it before the next message is handed over, and the
// outage is reported with its end.
func TestConsumerCommitOutlivesAnOutage(t *testing.T) {
	b, cfg, topic := restartable(t)
	publish(t, cfg, topic, "before")
	outages := make(chan error, 10)
	m := bus.NewMetrics(prometheus.NewRegistry())
	gauge := m.ConsumerOutage(topic + "-g")
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, Metrics: m,
		OnOutage: func(err error) {
			if v := testutil.ToFloat64(gauge); (err != nil) != (v == 1) {
				t.Errorf("outage gauge %v when told %v", v, err)
			}
			outages <- err
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	restarted := make(chan *embedded.Broker, 1)
	handled := 0
	caughtUpAtSecond := make(chan bool, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ctx context.Context, batch []bus.Message) error {
			handled++
			switch handled {
			case 1:
				// Handled, not yet committed: the broker goes away for a few seconds.
				b.Close()
				go func() {
					time.Sleep(3 * time.Second)
					nb, err := b.Restart()
					if err != nil {
						t.Error(err)
					}
					restarted <- nb
				}()
			case 2:
				ok, err := c.CaughtUp(ctx, topic, map[int]int64{0: 1})
				if err != nil {
					t.Error(err)
				}
				caughtUpAtSecond <- ok
			}
			return nil
		})
	}()
	select {
	case b = <-restarted:
		if b == nil {
			t.FailNow()
		}
		defer b.Close()
	case err := <-done:
		t.Fatalf("Run returned during the outage: %v", err)
	}
	publish(t, cfg, topic, "after")
	select {
	case ok := <-caughtUpAtSecond:
		if !ok {
			t.Error("the batch handled during the outage was not committed before the next message was handed over")
		}
	case err := <-done:
		t.Fatalf("Run returned after the outage: %v", err)
	case <-ctx.Done():
		t.Fatal("no message handed over after the outage")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v after ctx ended, want nil", err)
	}
	var got []bool // true: an outage began; false: it ended
	for len(outages) > 0 {
		got = append(got, <-outages != nil)
	}
	if len(got) < 2 || !got[0] || got[len(got)-1] {
		t.Errorf("outages reported %v, want one beginning and its end", got)
	}
}

// TestConsumerOutageLongerThanRideOutEndsRun: with RideOut set, a broker
// that stays away longer ends Run with an error instead of a wait without
// end.
func TestConsumerOutageLongerThanRideOutEndsRun(t *testing.T) {
	b, cfg, topic := restartable(t)
	publish(t, cfg, topic, "before")
	c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-g", Topics: []string{topic}, RideOut: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(context.Context, []bus.Message) error {
			b.Close()
			return nil
		})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Run = nil after an outage longer than RideOut, want its error")
		}
	case <-ctx.Done():
		t.Fatal("Run still waiting an outage out long after RideOut")
	}
}

func publish(t *testing.T, cfg bus.Config, topic, v string) {
	t.Helper()
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Publish(context.Background(), topic, nil, []byte(v)); err != nil {
		t.Fatal(err)
	}
}
