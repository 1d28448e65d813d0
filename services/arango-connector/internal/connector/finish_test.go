package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// flakyOffsets answers with end and committed after failing the first
// endFails EndOffsets and commitFails CommittedOffsets calls (for ever when
// negative).
type flakyOffsets struct {
	end, committed        map[int]int64
	endFails, commitFails int
	err                   error
}

func (f *flakyOffsets) EndOffsets(context.Context, string) (map[int]int64, error) {
	if f.endFails != 0 {
		f.endFails--
		return nil, f.err
	}
	return f.end, nil
}

func (f *flakyOffsets) CommittedOffsets(context.Context, string, string) (map[int]int64, error) {
	if f.commitFails != 0 {
		f.commitFails--
		return nil, f.err
	}
	return f.committed, nil
}

// TestCaughtUpRidesOutUnreadableOffsets: after the leader of a data
// partition died, listing its offsets fails until the partition has a new
// leader; the wait for the last records retries rather than give up (and
// leave the run waiting with nothing to end it), and ends with an error
// when the failures outlast the ride-out.
func TestCaughtUpRidesOutUnreadableOffsets(t *testing.T) {
	leaderGone := errors.New("list offsets of data[1]: [-1] Unknown")
	cases := []struct {
		name    string
		k       *flakyOffsets
		rideOut time.Duration
		wantErr bool
	}{
		{name: "end offsets fail, then answer", k: &flakyOffsets{endFails: 2, err: leaderGone}, rideOut: time.Hour},
		{name: "committed offsets fail, then answer", k: &flakyOffsets{commitFails: 2, err: leaderGone}, rideOut: time.Hour},
		{name: "end offsets never answer", k: &flakyOffsets{endFails: -1, err: leaderGone}, rideOut: 0, wantErr: true},
		{name: "committed offsets never answer", k: &flakyOffsets{commitFails: -1, err: leaderGone}, rideOut: 0, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.k.end = map[int]int64{0: 10, 1: 5}
			c.k.committed = map[int]int64{0: 10, 1: 5}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := caughtUp(ctx, c.k, "g", "data", newMetrics(prometheus.NewRegistry()), zerolog.Nop(), c.rideOut)
			switch {
			case ctx.Err() != nil:
				t.Fatalf("caughtUp still waiting: %v", err)
			case c.wantErr && !errors.Is(err, leaderGone):
				t.Errorf("caughtUp = %v, want the offsets' error", err)
			case !c.wantErr && err != nil:
				t.Errorf("caughtUp = %v, want nil", err)
			}
		})
	}
}
