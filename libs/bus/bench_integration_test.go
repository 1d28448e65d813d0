//go:build integration

package bus_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

const benchMessages = 500_000

var benchSymbols = []string{"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"}

// benchRecords are kline-shaped JSON records of about 250 bytes, keyed by
// symbol as the loaders key them.
func benchRecords(topic string) []bus.Message {
	msgs := make([]bus.Message, benchMessages)
	open := int64(1722470400000)
	for i := range msgs {
		sym := benchSymbols[i%len(benchSymbols)]
		t := open + int64(i/len(benchSymbols))*60_000
		v := fmt.Sprintf(`{"_key":"%s_1m_%d","symbol":"%s","interval":"1m","open_time":%d,"close_time":%d,"open":64150.01,"high":64201.5,"low":64100.02,"close":64190.4,"volume":12.34567,"quote_volume":792345.12,"trades":1234,"taker_buy_base":6.1,"taker_buy_quote":391234.5}`,
			sym, t, sym, t, t+59_999)
		msgs[i] = bus.Message{Topic: topic, Key: []byte(sym), Value: []byte(v)}
	}
	return msgs
}

// BenchmarkProduce compares the project's producer with kcat (librdkafka)
// sending the same records to the same real broker with the same guarantees
// (acks=all, murmur2 key partitioning). Figures are messages per second.
func BenchmarkProduce(b *testing.B) {
	cfg := bustest.Real(b, false)
	ctx := context.Background()

	b.Run("baseline=kcat", func(b *testing.B) {
		topic := fmt.Sprintf("bench-kcat-%d", time.Now().UnixNano())
		bustest.Topics(b, cfg, 6, topic)
		kcat := bustest.NewKcat(b, cfg, benchRecords(topic))
		b.ResetTimer()
		for b.Loop() {
			kcat.Produce(b, topic)
		}
		b.ReportMetric(float64(benchMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})

	for _, workers := range []int{1, 4} {
		b.Run("bus/senders="+strconv.Itoa(workers), func(b *testing.B) {
			topic := fmt.Sprintf("bench-bus-%d-%d", workers, time.Now().UnixNano())
			bustest.Topics(b, cfg, 6, topic)
			msgs := benchRecords(topic)
			p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			const chunk = 6_000
			b.ResetTimer()
			for b.Loop() {
				sendAll(ctx, b, p, msgs, chunk, workers)
			}
			b.ReportMetric(float64(benchMessages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// sendAll sends msgs in chunks from workers goroutines; per-key order holds
// within a chunk, which is how a loader uses the producer (one sender per
// symbol keeps order across chunks).
func sendAll(ctx context.Context, b *testing.B, p *bus.Producer, msgs []bus.Message, chunk, workers int) {
	var wg sync.WaitGroup
	next := make(chan []bus.Message)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				if err := p.Send(ctx, c...); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < len(msgs); i += chunk {
		next <- msgs[i:min(i+chunk, len(msgs))]
	}
	close(next)
	wg.Wait()
}
