package scenario

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Coverage is queue-manager's answer to GET /api/v1/coverage for one load
// step's symbol, type and time range.
type Coverage struct {
	Symbol  string           `json:"symbol"`
	Type    string           `json:"type"`
	Summary coverage.Summary `json:"summary"`
	Holes   []string         `json:"holes"`
	Hours   []coverage.Hour  `json:"hours"`
}

// Coverage reads the coverage ledger of symbol's typ over timeRange (as a
// workflow names it).
func (c *Client) Coverage(ctx context.Context, symbol, typ, timeRange string) (*Coverage, error) {
	tr, err := protocol.ParseTimeRange(timeRange)
	if err != nil {
		return nil, fmt.Errorf("coverage of %s %s: %w", symbol, typ, err)
	}
	q := url.Values{"symbol": {symbol}, "type": {typ}, "from": {tr.Start.Format(time.RFC3339)}, "to": {tr.End.Format(time.RFC3339)}}
	var cov Coverage
	if err := c.do(ctx, "GET", "/api/v1/coverage?"+q.Encode(), nil, &cov); err != nil {
		return nil, err
	}
	cov.Type = typ
	return &cov, nil
}

// workflowCoverage reads the ledger of every load step of w.
func (c *Client) workflowCoverage(ctx context.Context, w *Workflow) ([]*Coverage, error) {
	var out []*Coverage
	for _, s := range w.Steps {
		if s.Kind != protocol.StepLoad || s.TimeRange == "" {
			continue
		}
		cov, err := c.Coverage(ctx, s.Symbol, s.Type, s.TimeRange)
		if err != nil {
			return nil, err
		}
		out = append(out, cov)
	}
	return out, nil
}

// maxHoles is how many holes the summary lists per data type.
const maxHoles = 10

// printCoverage writes the coverage of each load step: complete, or which
// hours are not and why.
func printCoverage(out io.Writer, covs []*Coverage) {
	if len(covs) == 0 {
		return
	}
	fmt.Fprintln(out, "\nCoverage:")
	for _, c := range covs {
		s := c.Summary
		name := c.Symbol + " " + c.Type
		if s.Complete {
			fmt.Fprintf(out, "  %-32s complete: %d of %d hours present\n", name, s.Present, s.Hours)
			continue
		}
		fmt.Fprintf(out, "  %-32s INCOMPLETE: %d of %d hours present, %d degraded, %d missing, %d unrecorded\n",
			name, s.Present, s.Hours, s.Degraded, s.Missing, s.Unknown)
		for i, h := range c.Holes {
			if i == maxHoles {
				fmt.Fprintf(out, "    ... and %d more (GET /api/v1/coverage)\n", len(c.Holes)-maxHoles)
				break
			}
			fmt.Fprintf(out, "    %s\n", h)
		}
	}
}
