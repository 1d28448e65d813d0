package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/telemetry"
)

// TestPermanentErrorIsMarked: an error marked with protocol.Permanent, even
// wrapped, is sent with permanent=true; any other is not.
func TestPermanentErrorIsMarked(t *testing.T) {
	for _, c := range []struct {
		cause error
		want  bool
	}{
		{errors.New("binance unreachable"), false},
		{fmt.Errorf("SYMBOL: %w", protocol.Permanent(errors.New("invalid symbols: XRPUSDT (unknown)"))), true},
	} {
		rec := &recorder{}
		e := telemetry.New(rec, task, "loader-producer__a1b2c3", telemetry.Options{})
		if err := e.Error(context.Background(), c.cause, true); err != nil {
			t.Fatal(err)
		}
		if got := rec.events[0]; got.Permanent != c.want || got.Error != c.cause.Error() {
			t.Errorf("%v: event %+v, want permanent=%v and the cause as error", c.cause, got, c.want)
		}
	}
}
