package binance

import (
	"context"
	"testing"
	"time"
)

// TestLimiterKeepsTheMarginFree: with a margin the limiter stops at
// budget-margin, counting what X-MBX-USED-WEIGHT-1M says others used; a
// request heavier than budget-margin still goes first in an empty window.
func TestLimiterKeepsTheMarginFree(t *testing.T) {
	clock := newAutoClock()
	l := NewLimiter(100, clock.Now, clock.Sleep)
	l.SetMargin(20)
	ctx := context.Background()
	start := clock.Now()
	l.Observe(70, start) // other clients of the IP used 70
	release, err := l.Reserve(ctx, 10)
	if err != nil || !clock.Now().Equal(start) {
		t.Fatalf("70+10 within 100-20: granted at %s, %v", clock.Now(), err)
	}
	release()
	release, err = l.Reserve(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	release()
	next := start.Truncate(time.Minute).Add(time.Minute)
	if !clock.Now().Equal(next) {
		t.Errorf("80+4 over 100-20: granted at %s, want the next window %s", clock.Now().Format(time.TimeOnly), next.Format(time.TimeOnly))
	}
	if _, err := l.Reserve(ctx, 90); err != nil {
		t.Fatal(err)
	}
	if after := next.Add(time.Minute); !clock.Now().Equal(after) {
		t.Errorf("a request of 90 waited for %s, want it first in the window at %s", clock.Now().Format(time.TimeOnly), after.Format(time.TimeOnly))
	}
}
