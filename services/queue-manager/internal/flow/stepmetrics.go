package flow

import "sort"

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
// stable order.
func (e *Engine) silences() []stepSilence {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	var out []stepSilence
	for _, w := range e.active {
		for _, s := range w.Steps {
			seen, ok := e.lastSeen[s.ID]
			if s.State != Running || !ok {
				continue
			}
			out = append(out, stepSilence{workflow: w.ID, queueID: s.QueueID, kind: s.Kind, seconds: max(now.Sub(seen).Seconds(), 0)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].queueID+out[i].kind < out[j].queueID+out[j].kind })
	return out
}
