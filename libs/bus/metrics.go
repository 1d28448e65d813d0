package bus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Kafka client metrics of one process. Create them once per
// registry with NewMetrics and hand them to every producer and consumer.
type Metrics struct {
	produced      *prometheus.CounterVec
	produceErrors *prometheus.CounterVec
	produceBatch  prometheus.Histogram
	consumed      *prometheus.CounterVec
	committed     *prometheus.CounterVec
	handlerErrors *prometheus.CounterVec
	outage        *prometheus.GaugeVec
}

// NewMetrics registers the Kafka metrics with reg; a nil reg keeps them
// unregistered. Registering twice with the same registry reuses the first.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		produced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_kafka_messages_produced_total", Help: "Messages the broker acknowledged, by topic.",
		}, []string{"topic"}),
		produceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_kafka_produce_errors_total", Help: "Messages whose delivery failed, by topic.",
		}, []string{"topic"}),
		produceBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamforge_kafka_produce_duration_seconds", Help: "Time for one Send call to be acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_kafka_messages_consumed_total", Help: "Messages fetched by consumers, by topic.",
		}, []string{"topic"}),
		committed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_kafka_messages_committed_total", Help: "Messages whose offsets were committed after handling, by topic.",
		}, []string{"topic"}),
		handlerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_kafka_handler_errors_total", Help: "Failed handler calls (each is retried), by topic.",
		}, []string{"topic"}),
		outage: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamforge_kafka_consumer_outage", Help: "1 while a consumer group's member cannot fetch or commit (it keeps retrying), by group.",
		}, []string{"group"}),
	}
	if reg == nil {
		return m
	}
	m.produced = register(reg, m.produced)
	m.produceErrors = register(reg, m.produceErrors)
	m.produceBatch = register(reg, m.produceBatch)
	m.consumed = register(reg, m.consumed)
	m.committed = register(reg, m.committed)
	m.handlerErrors = register(reg, m.handlerErrors)
	m.outage = register(reg, m.outage)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: two different metrics with one name
	}
	return c
}

// countByTopic adds 1 per message to vec, looking the label up once per run
// of messages with the same topic.
func countByTopic(vec *prometheus.CounterVec, msgs []Message) {
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && msgs[j].Topic == msgs[i].Topic {
			j++
		}
		vec.WithLabelValues(msgs[i].Topic).Add(float64(j - i))
		i = j
	}
}

// ProducedCounter returns the counter of acknowledged messages for topic.
func (m *Metrics) ProducedCounter(topic string) prometheus.Counter {
	return m.produced.WithLabelValues(topic)
}

// CommittedCounter returns the counter of committed messages for topic.
func (m *Metrics) CommittedCounter(topic string) prometheus.Counter {
	return m.committed.WithLabelValues(topic)
}

// ConsumerOutage returns the gauge that is 1 while the consumer of group
// cannot fetch or commit.
func (m *Metrics) ConsumerOutage(group string) prometheus.Gauge {
	return m.outage.WithLabelValues(group)
}
