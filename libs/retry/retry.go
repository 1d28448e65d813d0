// Package retry is the one backoff StreamForge's clients use to wait out a
// dependency: capped, jittered exponential delays.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a capped, jittered exponential backoff. The zero value of a
// field means its default.
type Backoff struct {
	// Base is the first delay (default 250 ms); each retry doubles it.
	Base time.Duration
	// Max caps the delay (default 30 s).
	Max time.Duration
	// Rand returns a number in [0, 1) for the jitter (default
	// math/rand/v2's Float64).
	Rand func() float64
}

// Delay returns the wait before retry n (0 for the first): a random
// duration between half and all of min(Base·2ⁿ, Max), so that clients
// waiting out the same outage do not retry in step.
func (b Backoff) Delay(n int) time.Duration {
	base, ceil := b.Base, b.Max
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if ceil <= 0 {
		ceil = 30 * time.Second
	}
	d := ceil
	if n < 62 {
		if s := base << max(n, 0); s > 0 && s < ceil {
			d = s
		}
	}
	r := b.Rand
	if r == nil {
		r = rand.Float64
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// Sleep waits d or until ctx ends; it reports whether the whole wait
// passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
