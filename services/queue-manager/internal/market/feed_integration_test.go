//go:build integration

package market

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// TestRealFeed: the feed on real Apache Kafka 4.x (make test-integration).
func TestRealFeed(t *testing.T) {
	cfg := bustest.Real(t, false)
	suffix := time.Now().UnixNano()
	trades, book := fmt.Sprintf("market-it-%d-trades-data", suffix), fmt.Sprintf("market-it-%d-book-data", suffix)
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.EnsureTopics(ctx, bus.TopicSpec{Name: trades, Partitions: 1}, bus.TopicSpec{Name: book, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	testFeed(t, cfg, trades, book)
}
