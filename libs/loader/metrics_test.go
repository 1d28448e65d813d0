package loader

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRateLimitedCountersStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	newMetrics(reg)
	want := `
# HELP streamforge_binance_rate_limited_total Answers telling the loader to back off: 429 (rate limit) and 418 (IP ban).
# TYPE streamforge_binance_rate_limited_total counter
streamforge_binance_rate_limited_total{status="418"} 0
streamforge_binance_rate_limited_total{status="429"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "streamforge_binance_rate_limited_total"); err != nil {
		t.Error(err)
	}
}
