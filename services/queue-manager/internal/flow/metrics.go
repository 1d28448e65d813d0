package flow

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the engine's Prometheus series.
type Metrics struct {
	submitted   prometheus.Counter
	ended       *prometheus.CounterVec
	launches    *prometheus.CounterVec
	failures    *prometheus.CounterVec
	events      *prometheus.CounterVec
	storeErrors prometheus.Counter
	unverified  *prometheus.CounterVec
}

// NewMetrics registers the engine's series with reg (nil: unregistered).
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
		unverified: newUnverified(),
	}
	if reg != nil {
		reg.MustRegister(m.submitted, m.ended, m.launches, m.failures, m.events, m.storeErrors, m.unverified)
	}
	return m
}
