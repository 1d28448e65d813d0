package loader

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the loader's own Prometheus series (the Kafka client and the
// worker runtime add theirs).
type metrics struct {
	records        *prometheus.CounterVec
	chunks         *prometheus.CounterVec
	archiveBytes   prometheus.Counter
	archiveMissing prometheus.Counter
	sendSeconds    prometheus.Histogram
	requests       *prometheus.CounterVec
	weightUsed     prometheus.Gauge
	weightBudget   prometheus.Gauge
	rateLimited    *prometheus.CounterVec
	gaps           *prometheus.CounterVec
	wsMessages     *prometheus.CounterVec
	wsReconnects   prometheus.Counter
	wsLatency      prometheus.Histogram
	percent        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_loader_records_total", Help: "Records published to the data topic and acknowledged, by symbol.",
		}, []string{"symbol"}),
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_loader_chunks_total", Help: "History chunks published, by source (month_archive, day_archive, rest) and result.",
		}, []string{"source", "result"}),
		archiveBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_loader_archive_bytes_total", Help: "Bytes of verified archive zips downloaded.",
		}),
		archiveMissing: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_loader_archive_missing_total", Help: "Archives that did not exist (the period was loaded from a finer source).",
		}),
		sendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamforge_loader_send_seconds", Help: "Time from handing a batch to Kafka to its acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_binance_requests_total", Help: "Binance REST requests, by endpoint and HTTP status (0: no answer).",
		}, []string{"endpoint", "status"}),
		weightUsed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_binance_weight_used", Help: "X-MBX-USED-WEIGHT-1M of the last answer.",
		}),
		weightBudget: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_binance_weight_budget", Help: "Request weight per minute the loader allows itself.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_binance_rate_limited_total", Help: "Answers telling the loader to back off: 429 (rate limit) and 418 (IP ban).",
		}, []string{"status"}),
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_loader_gaps_total", Help: "Holes detected in live data (depth sequence gaps, missed trades), by symbol.",
		}, []string{"symbol"}),
		wsMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_loader_ws_messages_total", Help: "WebSocket stream messages received, by stream kind.",
		}, []string{"kind"}),
		wsReconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_loader_ws_reconnects_total", Help: "Unplanned WebSocket reconnects.",
		}),
		wsLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamforge_loader_ws_to_kafka_seconds", Help: "Time from receiving a WebSocket message to Kafka acknowledging its record.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		percent: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_loader_progress_percent", Help: "Share of the task's time range loaded.",
		}),
	}
	// The back-off answers start at 0: a series first seen at 1 is an
	// increase that increase() cannot see, and the alerts on the first 429
	// or 418 would stay silent.
	for _, status := range []int{http.StatusTooManyRequests, http.StatusTeapot} {
		m.rateLimited.WithLabelValues(strconv.Itoa(status))
	}
	if reg != nil {
		reg.MustRegister(m.records, m.chunks, m.archiveBytes, m.archiveMissing, m.sendSeconds, m.requests, m.weightUsed,
			m.weightBudget, m.rateLimited, m.gaps, m.wsMessages, m.wsReconnects, m.wsLatency, m.percent)
	}
	return m
}
