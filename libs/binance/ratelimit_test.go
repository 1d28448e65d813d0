package binance

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiterCarriesInFlightWeightIntoNextWindow(t *testing.T) {
	clock := newAutoClock()
	l := NewLimiter(40, clock.Now, clock.Sleep)
	ctx := context.Background()
	release, err := l.Reserve(ctx, 30) // sent at 00:00:30, no answer yet
	if err != nil {
		t.Fatal(err)
	}
	clock.now = testEpoch.Truncate(time.Minute).Add(time.Minute) // 00:01:00: the server may count it now
	if _, err := l.Reserve(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.Now(), testEpoch.Truncate(time.Minute).Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("second reservation granted at %s, want %s (30 in flight + 20 > 40)", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
	}
	release()
	release() // idempotent
	if _, err := l.Reserve(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.Now(), testEpoch.Truncate(time.Minute).Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("third reservation granted at %s, want %s", got.Format(time.TimeOnly), want.Format(time.TimeOnly))
	}
}

func TestLimiterRejectsWeightAboveBudget(t *testing.T) {
	clock := newAutoClock()
	l := NewLimiter(10, clock.Now, clock.Sleep)
	if _, err := l.Reserve(context.Background(), 11); err == nil {
		t.Error("weight 11 reserved in a budget of 10")
	}
}

func TestLimiterBlockAndContext(t *testing.T) {
	clock := newAutoClock()
	l := NewLimiter(100, clock.Now, clock.Sleep)
	l.Block(testEpoch.Add(90 * time.Second))
	if _, err := l.Reserve(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.Now(), testEpoch.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("reservation granted at %s, want the block end %s", got, want)
	}
	l.Block(clock.Now().Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Reserve(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}
