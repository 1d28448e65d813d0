package binance

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultWeightPerMinute is Binance's REQUEST_WEIGHT limit per IP and minute
// when exchangeInfo has not been read yet.
const DefaultWeightPerMinute = 6000

// SleepFunc waits for d or until ctx is done, whichever is first, and returns
// ctx.Err() in the second case. Tests inject a fake clock through it.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Sleep is the real SleepFunc.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Limiter keeps request weight within Binance's per-minute budget. Binance
// counts weight in fixed calendar-minute windows per IP; the limiter reserves
// a request's weight before it is sent and blocks until the next window when
// the budget is spent, so the server-side count never exceeds the budget.
//
// A request still in flight when a window rolls over may be counted by the
// server in the new window, so its weight is carried into the new window too.
// The server's X-MBX-USED-WEIGHT-1M header (Observe) raises the count when
// other clients share the IP. Block stops every request until a time (HTTP
// 418 and 429). A Limiter is safe for concurrent use.
type Limiter struct {
	now   func() time.Time
	sleep SleepFunc

	mu          sync.Mutex
	budget      int
	margin      int       // weight kept free for other clients of the IP
	window      time.Time // start of the current minute window
	used        int       // weight counted in window
	inflight    int       // weight reserved in window and not yet answered
	bannedUntil time.Time
}

// NewLimiter returns a limiter with budget weight per minute (values < 1 mean
// DefaultWeightPerMinute). now and sleep may be nil for the real clock.
func NewLimiter(budget int, now func() time.Time, sleep SleepFunc) *Limiter {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = Sleep
	}
	if budget < 1 {
		budget = DefaultWeightPerMinute
	}
	return &Limiter{now: now, sleep: sleep, budget: budget}
}

// SetBudget changes the per-minute budget, e.g. to the REQUEST_WEIGHT limit
// from exchangeInfo. Values < 1 are ignored.
func (l *Limiter) SetBudget(budget int) {
	if budget < 1 {
		return
	}
	l.mu.Lock()
	l.budget = budget
	l.mu.Unlock()
}

// SetMargin keeps margin weight of every window free: a request is sent
// only while the count stays at or below budget-margin (a request heavier
// than that may still go first in an empty window). Clients that share an
// IP with others (several loaders behind one egress address) learn the
// others' use only from X-MBX-USED-WEIGHT-1M, one answer late: the margin
// covers what the others send meanwhile, about their number times their
// requests in flight times a request's weight. Values < 0 mean 0.
func (l *Limiter) SetMargin(margin int) {
	l.mu.Lock()
	l.margin = max(margin, 0)
	l.mu.Unlock()
}

// Budget returns the per-minute budget.
func (l *Limiter) Budget() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.budget
}

// rollLocked moves to the window holding now. Weight still in flight from
// the window just ended may be counted by the server in the new one, so it
// starts the new count; older requests have been counted somewhere already
// (or timed out) and are forgotten.
func (l *Limiter) rollLocked(now time.Time) {
	w := now.Truncate(time.Minute)
	if !w.After(l.window) {
		return
	}
	l.used = 0
	if w.Equal(l.window.Add(time.Minute)) {
		l.used = l.inflight
	}
	l.window = w
	l.inflight = 0
}

// Reserve blocks until weight fits into the current window and no ban is in
// force, then counts it as sent. The returned release must be called once the
// response (or error) has arrived. Reserve returns an error when weight can
// never fit the budget or ctx is done while waiting.
func (l *Limiter) Reserve(ctx context.Context, weight int) (release func(), err error) {
	for {
		l.mu.Lock()
		if weight > l.budget {
			b := l.budget
			l.mu.Unlock()
			return nil, fmt.Errorf("request weight %d exceeds the budget of %d per minute", weight, b)
		}
		now := l.now()
		l.rollLocked(now)
		var wait time.Duration
		switch {
		case now.Before(l.bannedUntil):
			wait = l.bannedUntil.Sub(now)
		case l.used+weight > max(l.budget-l.margin, weight):
			wait = l.window.Add(time.Minute).Sub(now)
		default:
			l.used += weight
			l.inflight += weight
			window := l.window
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					if l.window.Equal(window) {
						l.inflight -= weight
					}
					l.mu.Unlock()
				})
			}, nil
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("wait for request weight: %w", err)
		}
	}
}

// Observe reconciles the count with the server's X-MBX-USED-WEIGHT-1M value
// read at time at: the count only ever rises, because answers to requests the
// server has not seen yet are still to come.
func (l *Limiter) Observe(usedWeight int, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked(at)
	if at.Truncate(time.Minute).Equal(l.window) && usedWeight > l.used {
		l.used = usedWeight
	}
}

// Block stops all reservations until t (a 418 ban or a 429 Retry-After).
func (l *Limiter) Block(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.bannedUntil) {
		l.bannedUntil = t
	}
}

// BlockedUntil returns the end of the current ban, or the zero time.
func (l *Limiter) BlockedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bannedUntil
}
