package flow

import (
	"sort"
	"time"
)

// stepFinished counts a finished step's outcome, the records its finished
// event reported and its time from first launch to finish.
func (e *Engine) stepFinished(s *Step, records int64) {
	m := e.o.Metrics
	m.stepsEnded.WithLabelValues(s.Kind, Finished).Inc()
	if records > 0 {
		m.stepRecords.WithLabelValues(s.Kind, s.Type).Add(float64(records))
	}
	if len(s.Attempts) > 0 {
		m.stepSeconds.WithLabelValues(s.Kind).Observe(e.o.Now().Sub(s.Attempts[0].Started).Seconds())
	}
}

// silences returns how long each running step of the active workflows has
// been silent on queue-events (since its last event, or its launch), in a
// stable order. A scrape must not wait for the engine: while another holds
// its lock (a store write that waits for an answer) the last reading is
// returned, aged to now, rather than a scrape that times out and makes
// queue-manager look absent.
func (e *Engine) silences() []stepSilence {
	now := e.o.Now()
	if !e.mu.TryLock() {
		var out []stepSilence
		if last := e.lastSilences.Load(); last != nil {
			for _, s := range *last {
				out = append(out, stepSilence{workflow: s.workflow, queueID: s.queueID, kind: s.kind, seconds: max(now.Sub(s.seen).Seconds(), 0)})
			}
		}
		return out
	}
	defer e.mu.Unlock()
	var out []stepSilence
	var seen []seenStep
	for _, w := range e.active {
		for _, s := range w.Steps {
			at, ok := e.lastSeen[s.ID]
			if s.State != Running || !ok {
				continue
			}
			out = append(out, stepSilence{workflow: w.ID, queueID: s.QueueID, kind: s.Kind, seconds: max(now.Sub(at).Seconds(), 0)})
			seen = append(seen, seenStep{workflow: w.ID, queueID: s.QueueID, kind: s.Kind, seen: at})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].queueID+out[i].kind < out[j].queueID+out[j].kind })
	sort.Slice(seen, func(i, j int) bool { return seen[i].queueID+seen[i].kind < seen[j].queueID+seen[j].kind })
	e.lastSilences.Store(&seen)
	return out
}

// seenStep is a running step and when it was last heard of: the reading
// silences keeps for the scrapes that find the engine busy.
type seenStep struct {
	workflow, queueID, kind string
	seen                    time.Time
}
