package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
)

func TestPermanent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unavailable", fmt.Errorf("write: %w: database is locked", store.ErrUnavailable), false},
		{"cancelled", fmt.Errorf("read: %w", context.Canceled), false},
		{"timed out", fmt.Errorf("read: %w", context.DeadlineExceeded), false},
		{"not found", fmt.Errorf("count btcusdt_api_candles_5m_2024_08_01: %w", store.ErrNotFound), true},
		{"refused", errors.New(`collection name "1x": must start with a letter`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.Permanent(tt.err)
			if protocol.IsPermanent(got) != tt.want {
				t.Errorf("IsPermanent(Permanent(%v)) = %v, want %v", tt.err, !tt.want, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("Permanent(%v) = %v, which no longer wraps it", tt.err, got)
			}
		})
	}
}
