package live

import "time"

// Rate counts events over a sliding window. It is not safe for concurrent
// use; the time is passed in so that tests decide it.
type Rate struct {
	window time.Duration
	first  time.Time
	events []rateEvent // oldest first, pruned to the window
}

type rateEvent struct {
	at time.Time
	n  int
}

// NewRate returns a Rate over window.
func NewRate(window time.Duration) *Rate { return &Rate{window: window} }

// Add counts n events at now.
func (r *Rate) Add(now time.Time, n int) {
	if r.first.IsZero() {
		r.first = now
	}
	r.prune(now)
	if k := len(r.events); k > 0 && r.events[k-1].at.Equal(now) {
		r.events[k-1].n += n
		return
	}
	r.events = append(r.events, rateEvent{now, n})
}

// PerSecond returns the events per second in the window ending at now. Until
// a whole window has passed since the first event it divides by the time
// since then (at least a second, so one early event is not a spike).
func (r *Rate) PerSecond(now time.Time) float64 {
	if r.first.IsZero() {
		return 0
	}
	r.prune(now)
	n := 0
	for _, e := range r.events {
		n += e.n
	}
	span := min(r.window, max(time.Second, now.Sub(r.first)))
	return float64(n) / span.Seconds()
}

// prune drops the events at or before now - window.
func (r *Rate) prune(now time.Time) {
	cut := now.Add(-r.window)
	i := 0
	for i < len(r.events) && !r.events[i].at.After(cut) {
		i++
	}
	if i > 0 {
		r.events = append(r.events[:0], r.events[i:]...)
	}
}
