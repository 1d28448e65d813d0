package retry

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	cases := []struct {
		name string
		b    Backoff
		n    int
		r    float64
		want time.Duration
	}{
		{name: "first, least jitter", b: Backoff{Base: time.Second, Max: time.Minute}, n: 0, r: 0, want: 500 * time.Millisecond},
		{name: "first, most jitter", b: Backoff{Base: time.Second, Max: time.Minute}, n: 0, r: 0.999999999, want: time.Second},
		{name: "doubles", b: Backoff{Base: time.Second, Max: time.Minute}, n: 3, r: 0, want: 4 * time.Second},
		{name: "capped", b: Backoff{Base: time.Second, Max: 10 * time.Second}, n: 5, r: 0, want: 5 * time.Second},
		{name: "no overflow", b: Backoff{Base: time.Second, Max: 10 * time.Second}, n: 1000, r: 0, want: 5 * time.Second},
		{name: "defaults", n: 0, r: 0, want: 125 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.b.Rand = func() float64 { return c.r }
			if got := c.b.Delay(c.n); got.Round(time.Millisecond) != c.want {
				t.Errorf("Delay(%d) = %s, want %s", c.n, got, c.want)
			}
		})
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep with an ended context = true, want false")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep of 1ms = false, want true")
	}
}
