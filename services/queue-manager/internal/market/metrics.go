package market

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the market streams' Prometheus series.
type Metrics struct {
	hubs        prometheus.Gauge
	subscribers prometheus.Gauge
	decoded     *prometheus.CounterVec
}

// NewMetrics registers the market streams' series with reg (nil:
// unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		hubs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_market_hubs", Help: "Live symbols whose data topics are being read for market streams (one set of readers each, however many clients watch).",
		}),
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamforge_market_subscribers", Help: "Market stream clients following a live symbol.",
		}),
		decoded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_market_records_decoded_total", Help: "Records of live data topics decoded for market streams (once per record, whatever the clients), by topic.",
		}, []string{"topic"}),
	}
	if reg != nil {
		reg.MustRegister(m.hubs, m.subscribers, m.decoded)
	}
	return m
}
