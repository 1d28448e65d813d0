package scenario

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
)

// checkCoverage: the coverage ledger queue-manager serves for each load
// step has every hour of [from, to) present, from the exchange's archives
// (whole past days) and counted in the store as published, and the
// summary says so.
func checkCoverage(t *testing.T, sum *scenario.Summary, from, to time.Time, printed string) {
	t.Helper()
	if len(sum.Coverage) != 2 {
		t.Fatalf("coverage of %d load steps, want 2 (candles and trades)", len(sum.Coverage))
	}
	hours := int(to.Sub(from) / time.Hour)
	for _, c := range sum.Coverage {
		if want := (coverage.Summary{Hours: hours, Present: hours, Complete: true}); c.Summary != want {
			t.Errorf("%s %s coverage %+v, want %+v; holes %v", c.Symbol, c.Type, c.Summary, want, c.Holes)
		}
		for _, h := range c.Hours {
			if h.Source != string(coverage.Archive) || h.Stored == nil || *h.Stored != h.Records || h.Records == 0 {
				t.Errorf("%s %s hour %s: %+v, want from the archive, stored as published", c.Symbol, c.Type,
					time.UnixMilli(h.Time).UTC().Format(time.RFC3339), h)
				break
			}
			if strings.Contains(c.Type, "candles") && h.Expected != 12 {
				t.Errorf("%s %s hour %d expects %d candles, want 12", c.Symbol, c.Type, h.Time, h.Expected)
				break
			}
		}
	}
	// The workflow's steps report it too: each load step its ledger, each
	// store step the ledger's sum as it wrote it.
	for _, st := range sum.Workflow.Steps {
		var r struct {
			Coverage json.RawMessage `json:"coverage"`
		}
		if err := json.Unmarshal(st.Result, &r); (st.Kind == "load" || st.Kind == "store") && (err != nil || len(r.Coverage) == 0) {
			t.Errorf("%s step %s: result %s has no coverage", st.Kind, st.ID, st.Result)
			continue
		}
		if st.Kind == "store" {
			var s coverage.Summary
			if err := json.Unmarshal(r.Coverage, &s); err != nil || !s.Complete || s.Hours != hours {
				t.Errorf("store step %s: coverage %s, want complete over %d hours", st.ID, r.Coverage, hours)
			}
		}
	}
	for _, typ := range []string{"api_trades", "api_candles_5m"} {
		if !strings.Contains(printed, "BTCUSDT "+typ) || !strings.Contains(printed, "complete: ") {
			t.Errorf("the summary does not print the coverage of %s as complete:\n%s", typ, printed)
		}
	}
}
