package binance

import (
	"context"
	"sync"
	"testing"
	"time"
)

var testEpoch = time.Date(2024, 8, 1, 0, 0, 30, 0, time.UTC)

// autoClock is a fake clock whose Sleep returns at once after moving the
// clock forward by the duration, so waits cost no wall time.
type autoClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newAutoClock() *autoClock { return &autoClock{now: testEpoch} }

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *autoClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// manualClock is a fake clock whose Sleep blocks until Advance moves the
// clock past the sleeper's deadline.
type manualClock struct {
	mu      sync.Mutex
	cond    *sync.Cond
	now     time.Time
	waiters map[chan struct{}]time.Time
}

func newManualClock() *manualClock {
	c := &manualClock{now: testEpoch, waiters: map[chan struct{}]time.Time{}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d <= 0 {
		c.mu.Unlock()
		return ctx.Err()
	}
	ch := make(chan struct{})
	c.waiters[ch] = c.now.Add(d)
	c.cond.Broadcast()
	c.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, ch)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock and wakes the sleepers whose deadline has passed.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for ch, until := range c.waiters {
		if !until.After(c.now) {
			close(ch)
			delete(c.waiters, ch)
		}
	}
}

// WaitSleepers blocks until n goroutines sleep and returns their deadlines.
// It fails the test when that does not happen: a hang guard, not a timing
// assertion.
func (c *manualClock) WaitSleepers(t *testing.T, n int) []time.Time {
	t.Helper()
	done := make(chan []time.Time, 1)
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for len(c.waiters) < n {
			c.cond.Wait()
		}
		var out []time.Time
		for _, until := range c.waiters {
			out = append(out, until)
		}
		done <- out
	}()
	select {
	case out := <-done:
		return out
	case <-time.After(30 * time.Second):
		t.Fatalf("%d goroutines never slept on the fake clock", n)
		return nil
	}
}

// RunAll runs n copies of fn concurrently. Whenever every copy still running
// sleeps, it moves the clock to the earliest deadline, so time passes only
// when nobody can make progress without it, as with a real clock.
func (c *manualClock) RunAll(n int, fn func()) {
	var wg sync.WaitGroup
	running := n
	for range n {
		wg.Go(func() {
			defer func() {
				c.mu.Lock()
				running--
				c.cond.Broadcast()
				c.mu.Unlock()
			}()
			fn()
		})
	}
	c.mu.Lock()
	for running > 0 {
		if len(c.waiters) < running {
			c.cond.Wait()
			continue
		}
		var earliest time.Time
		for _, until := range c.waiters {
			if earliest.IsZero() || until.Before(earliest) {
				earliest = until
			}
		}
		c.now = earliest
		for ch, until := range c.waiters {
			if !until.After(c.now) {
				close(ch)
				delete(c.waiters, ch)
			}
		}
	}
	c.mu.Unlock()
	wg.Wait()
}
