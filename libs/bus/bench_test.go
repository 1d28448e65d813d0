package bus_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// The embedded-broker benchmarks measure the client side of the bus (the
// conversion between the bus's messages and the Kafka clients' records
// included) without a real Kafka; BenchmarkProduce measures the real thing.

const embeddedBenchMessages = 20_000

// embeddedRecords are kline-shaped records keyed by symbol, each with
// headers headers.
func embeddedRecords(topic string, headers int) []bus.Message {
	syms := []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"}
	msgs := make([]bus.Message, embeddedBenchMessages)
	for i := range msgs {
		sym := syms[i%len(syms)]
		v := fmt.Sprintf(`{"_key":"%s_1m_%d","symbol":"%s","interval":"1m","open_time":%d,"close":64190.4}`, sym, i, sym, i)
		msgs[i] = bus.Message{Topic: topic, Key: []byte(sym), Value: []byte(v)}
		for h := range headers {
			msgs[i].Headers = append(msgs[i].Headers, bus.Header{Key: "h" + strconv.Itoa(h), Value: []byte(sym)})
		}
	}
	return msgs
}

func BenchmarkEmbeddedProduce(b *testing.B) {
	cfg := bustest.Embedded(b, embedded.Options{})
	ctx := context.Background()
	for _, headers := range []int{0, 2} {
		b.Run("headers="+strconv.Itoa(headers), func(b *testing.B) {
			topic := fmt.Sprintf("bench-produce-%d-%d", headers, time.Now().UnixNano())
			bustest.Topics(b, cfg, 6, topic)
			msgs := embeddedRecords(topic, headers)
			p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.ReportAllocs()
			for b.Loop() {
				for i := 0; i < len(msgs); i += 2000 {
					if err := p.Send(ctx, msgs[i:i+2000]...); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// benchTopic fills a fresh three-partition topic with embeddedBenchMessages
// messages.
func benchTopic(b *testing.B, cfg bus.Config, headers int) string {
	b.Helper()
	topic := fmt.Sprintf("bench-read-%d-%d", headers, time.Now().UnixNano())
	bustest.Topics(b, cfg, 3, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Send(context.Background(), embeddedRecords(topic, headers)...); err != nil {
		b.Fatal(err)
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	return topic
}

func BenchmarkEmbeddedTail(b *testing.B) {
	cfg := bustest.Embedded(b, embedded.Options{})
	for _, headers := range []int{0, 2} {
		b.Run("headers="+strconv.Itoa(headers), func(b *testing.B) {
			topic := benchTopic(b, cfg, headers)
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				tail, err := bus.NewTail(ctx, cfg, topic, time.Time{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				seen := 0
				err = tail.Run(ctx, func(context.Context, bus.Message) error {
					if seen++; seen == embeddedBenchMessages {
						cancel()
					}
					return nil
				})
				if err != nil || seen != embeddedBenchMessages {
					b.Fatalf("Run: %v, %d of %d messages", err, seen, embeddedBenchMessages)
				}
				_ = tail.Close()
				cancel()
			}
			b.ReportMetric(float64(embeddedBenchMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func BenchmarkEmbeddedConsume(b *testing.B) {
	cfg := bustest.Embedded(b, embedded.Options{})
	topic := benchTopic(b, cfg, 0)
	b.ReportAllocs()
	group := 0
	for b.Loop() {
		group++
		c, err := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: topic + "-" + strconv.Itoa(group), Topics: []string{topic}, BatchSize: 500})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		seen := 0
		err = c.Run(ctx, func(_ context.Context, batch []bus.Message) error {
			if seen += len(batch); seen >= embeddedBenchMessages {
				cancel()
			}
			return nil
		})
		cancel()
		if err != nil || seen != embeddedBenchMessages {
			b.Fatalf("Run: %v, %d of %d messages", err, seen, embeddedBenchMessages)
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(embeddedBenchMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
