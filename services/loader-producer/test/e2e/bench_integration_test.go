//go:build integration

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// BenchmarkLoader measures the loader binary from process start to exit,
// loading history from the simulator's archives and REST API into a real
// broker, against kcat producing the very records the loader wrote (read
// back from its topic) to the same broker with the same guarantees
// (acks=all, murmur2 keys). Figures are records per second; the loader's
// include downloading, checksumming, unzipping and parsing; the simulator
// serves archives it built in an untimed warm-up run.
func BenchmarkLoader(b *testing.B) {
	cfg := bustest.Real(b, false)
	loads := []struct{ name, typ, from, to string }{
		// Ten monthly archives and a daily one, REST edges: 440,000 candles.
		{"candles-1m", "api_candles_1m", "2024-01-31T18:00:00Z", "2024-11-02T06:00:00Z"},
		// Six daily archives and REST edges: about 1,050,000 trades.
		{"trades", "api_trades", "2024-03-04T05:30:00Z", "2024-03-10T09:45:00Z"},
	}
	for _, l := range loads {
		var records []bus.Message // what the loader wrote, for kcat
		b.Run("loader/data="+l.name, func(b *testing.B) {
			_, url := startSim(b, binancesim.Options{})
			// A first, untimed run makes the simulator build (and cache) its
			// archives: the figure is the loader's, not the generator's.
			warm := newTask(b, cfg, "BTCUSDT", l.typ, l.from+"/"+l.to)
			if code := startLoader(b, cfg, warm, url).Wait(b, 10*time.Minute); code != 0 {
				b.Fatalf("warm-up run exited %d", code)
			}
			var n int
			for b.Loop() {
				b.StopTimer()
				tk := newTask(b, cfg, "BTCUSDT", l.typ, l.from+"/"+l.to)
				b.StartTimer()
				p := startLoader(b, cfg, tk, url)
				if code := p.Wait(b, 10*time.Minute); code != 0 {
					b.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
				}
				b.StopTimer()
				recs := readTopic(b, cfg, tk.topic)
				n = len(recs)
				records = records[:0]
				for _, r := range recs {
					records = append(records, bus.Message{Key: []byte(r.MsgKey), Value: r.Raw})
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run("baseline=kcat/data="+l.name, func(b *testing.B) {
			if len(records) == 0 {
				b.Fatal("the loader run wrote nothing to replay")
			}
			kcat := bustest.NewKcat(b, cfg, records)
			for b.Loop() {
				b.StopTimer()
				topic := fmt.Sprintf("bench-kcat-%s-%d", l.name, time.Now().UnixNano())
				bustest.Topics(b, cfg, 3, topic)
				b.StartTimer()
				kcat.Produce(b, topic)
			}
			b.ReportMetric(float64(len(records))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkLiveTrades streams synthetic aggregate trades from the
// simulator at a sustained 20,000 messages per second for 20 seconds
// through ws_trades into a real broker. It reports the rate delivered, the
// trades lost (ids missing between the first and the last; must be 0) and
// the receipt-to-acknowledgement latency quantiles the loader measured
// (p50-ms, p99-ms; from a uniform sample of every record).
func BenchmarkLiveTrades(b *testing.B) {
	cfg := bustest.Real(b, false)
	const rate, seconds = 20_000, 20
	_, url := startSim(b, binancesim.Options{WS: binancesim.WSOptions{Rate: rate}})
	for b.Loop() {
		b.StopTimer()
		now := time.Now().UTC()
		tr := now.Format(time.RFC3339Nano) + "/" + now.Add(seconds*time.Second).Format(time.RFC3339Nano)
		tk := newTask(b, cfg, "BTCUSDT", "ws_trades", tr)
		ev := testkit.WatchEvents(b, cfg, tk.queueID)
		b.StartTimer()
		p := startLoader(b, cfg, tk, url)
		if code := p.Wait(b, 2*time.Minute); code != 0 {
			b.Fatalf("loader exited %d: %s", code, testkit.LastLine(p.Stderr()))
		}
		b.StopTimer()
		fin := ev.WaitFor(b, protocol.StatusFinished, 10*time.Second)
		var minID, maxID int64 = 1 << 62, 0
		recs := distinct(b, readTopic(b, cfg, tk.topic))
		for _, r := range recs {
			minID, maxID = min(minID, r.AggID), max(maxID, r.AggID)
		}
		lost := maxID - minID + 1 - int64(len(recs))
		// "...; receipt to Kafka ack p50 12.2ms p99 24.4ms"
		i := strings.Index(fin.Message, "p50 ")
		f := strings.Fields(fin.Message[max(i, 0):])
		if i < 0 || len(f) < 4 {
			b.Fatalf("no latency in the finished event: %q", fin.Message)
		}
		p50, err1 := time.ParseDuration(f[1])
		p99, err2 := time.ParseDuration(f[3])
		if err1 != nil || err2 != nil {
			b.Fatalf("latency in the finished event: %q", fin.Message)
		}
		b.ReportMetric(float64(len(recs))/seconds, "msgs/s")
		b.ReportMetric(float64(lost), "lost")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		if lost != 0 {
			b.Errorf("%d trades lost between ids %d and %d", lost, minID, maxID)
		}
		b.StartTimer()
	}
}
