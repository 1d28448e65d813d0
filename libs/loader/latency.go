package loader

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// latencies keeps a uniform sample of receipt-to-acknowledgement times of
// live records (reservoir sampling, bounded memory) for exact quantiles in
// the finished event; the Prometheus histogram has the bucketed view.
type latencies struct {
	mu   sync.Mutex
	seen int64
	keep []time.Duration
	rnd  *rand.Rand
}

const latencySample = 1 << 20

func newLatencies() *latencies {
	return &latencies{rnd: rand.New(rand.NewPCG(1, 2))}
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen++
	if len(l.keep) < latencySample {
		l.keep = append(l.keep, d)
		return
	}
	if i := l.rnd.Int64N(l.seen); i < latencySample {
		l.keep[i] = d
	}
}

// quantiles returns the q-quantiles (0 < q < 1) of the sample, or nil when
// it is empty.
func (l *latencies) quantiles(qs ...float64) []time.Duration {
	l.mu.Lock()
	s := slices.Clone(l.keep)
	l.mu.Unlock()
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		out[i] = s[min(int(q*float64(len(s))), len(s)-1)]
	}
	return out
}
