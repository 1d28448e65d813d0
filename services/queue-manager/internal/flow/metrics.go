package flow

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Metrics are the engine's Prometheus series. Beside the engine's own
// figures they carry what it learns from queue-events about every step —
// outcomes, records, durations, silence — so these outlive the short-lived
// worker that produced them (a Job can end between two scrapes; this
// process is scraped for as long as it runs).
type Metrics struct {
	submitted   prometheus.Counter
	ended       *prometheus.CounterVec
	launches    *prometheus.CounterVec
	failures    *prometheus.CounterVec
	events      *prometheus.CounterVec
	storeErrors prometheus.Counter
	stepsEnded  *prometheus.CounterVec
	stepRecords *prometheus.CounterVec
	stepSeconds *prometheus.HistogramVec
	silence     *silenceCollector
	unverified  *prometheus.CounterVec
}

// NewMetrics registers the engine's series with reg (nil: unregistered).
// Every label value known in advance (workflow states, step kinds) starts
// at 0: a counter series that first appears at 1 is an increase that
// increase() and rate() cannot see, so an alert on the first failure would
// never fire.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		submitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_workflows_submitted_total", Help: "Workflows accepted.",
		}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_workflows_ended_total", Help: "Workflows ended, by final state (finished, failed, stopped).",
		}, []string{"state"}),
		launches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_step_launches_total", Help: "Step attempts launched, by step kind.",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_step_attempt_failures_total", Help: "Step attempts that failed (error event, run failed or vanished, silence), by kind.",
		}, []string{"kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_engine_events_total", Help: "queue-events messages processed, by status (unknown: not a step of an active workflow; " +
				"stale_run: of another run of the step; ambiguous_run: without a run_id after the step was relaunched).",
		}, []string{"status"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamforge_engine_store_errors_total", Help: "Workflow writes the store refused (retried with the next change).",
		}),
		stepsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_steps_ended_total", Help: "Steps that finished or failed for good (attempts used up), by kind and state.",
		}, []string{"kind", "state"}),
		stepRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_step_records_total", Help: "Records the finished steps reported in their finished event (loaded, stored, graph nodes), by kind and data type.",
		}, []string{"kind", "type"}),
		stepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "streamforge_step_duration_seconds", Help: "Time from a step's first launch to its finished event, by kind.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 16),
		}, []string{"kind"}),
		silence: &silenceCollector{desc: prometheus.NewDesc("streamforge_step_silence_seconds",
			"Seconds since the last queue-events message of each running step's current run (its launch when none yet).",
			[]string{"workflow", "queue_id", "kind"}, nil)},
		unverified: newUnverified(),
	}
	for _, s := range []string{Finished, Failed, Stopped} {
		m.ended.WithLabelValues(s)
	}
	for _, k := range protocol.StepKindNames() {
		m.launches.WithLabelValues(k)
		m.failures.WithLabelValues(k)
		m.stepsEnded.WithLabelValues(k, Finished)
		m.stepsEnded.WithLabelValues(k, Failed)
	}
	if reg != nil {
		reg.MustRegister(m.submitted, m.ended, m.launches, m.failures, m.events, m.storeErrors,
			m.stepsEnded, m.stepRecords, m.stepSeconds, m.silence, m.unverified)
	}
	return m
}

// stepSilence is one running step's silence.
type stepSilence struct {
	workflow, queueID, kind string
	seconds                 float64
}

// silenceCollector reports streamforge_step_silence_seconds from the
// engine at scrape time.
type silenceCollector struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	src  func() []stepSilence
}

func (c *silenceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *silenceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	if src == nil {
		return
	}
	for _, s := range src() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, s.seconds, s.workflow, s.queueID, s.kind)
	}
}

// watch makes the collector read the silences from src (the engine).
func (c *silenceCollector) watch(src func() []stepSilence) {
	c.mu.Lock()
	c.src = src
	c.mu.Unlock()
}
