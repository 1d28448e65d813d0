package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/store"
)

// coverageResult is what the connector's finished event (or its
// interrupted one, after a drain) reports of the coverage ledger it wrote:
// the verdicts of the task's hours and its holes.
type coverageResult struct {
	Coverage coverage.Summary `json:"coverage"`
	Holes    []string         `json:"holes,omitempty"`
}

func (c *coverageResult) text() string {
	if c.Coverage.Complete {
		return fmt.Sprintf("complete (%d hours)", c.Coverage.Hours)
	}
	return fmt.Sprintf("%d of %d hours present, %d degraded, %d missing", c.Coverage.Present, c.Coverage.Hours,
		c.Coverage.Degraded, c.Coverage.Missing)
}

// storeCoverage writes the ledgers of the task's symbols that the loader
// reported in its terminal event's result (loaderResult) into the store's
// coverage collection, each hour checked against the store first: an
// hour whose records the store holds fewer of than the loader published
// is degraded, with both counts. It returns nil, nil when the loader
// reported no ledger (a loader without one, a result without
// "coverage").
func storeCoverage(ctx context.Context, st store.Store, cfg *Config, loaderResult json.RawMessage, log zerolog.Logger) (*coverageResult, error) {
	if len(loaderResult) == 0 {
		return nil, nil
	}
	var r coverage.Result
	if err := json.Unmarshal(loaderResult, &r); err != nil {
		log.Warn().Err(err).Msg("loader's result has no readable coverage ledger")
		return nil, nil
	}
	syms := strings.Split(cfg.Symbol, ",")
	var hours []coverage.Hour
	from, to := int64(0), int64(0)
	for _, l := range r.Coverage {
		if !slices.Contains(syms, l.Symbol) {
			continue
		}
		for _, h := range append(earlier(l, cfg.from), l.Hours()...) {
			a, b := max(h.Time, cfg.from), min(h.Time+coverage.HourMs, cfg.to)
			if a >= b {
				continue
			}
			n, err := st.CountRange(ctx, cfg.CollectionName, h.Symbol, a, b)
			if err != nil {
				return nil, fmt.Errorf("check coverage of %s: %w", coverage.Key(h.Symbol, h.Type, h.Time), err)
			}
			h.Stored, h.QueueID = &n, cfg.QueueID
			if h.Reason == coverage.ReasonEarlierRun {
				h.Records = n
				if n == 0 {
					h.State, h.Reason = coverage.Missing, coverage.ReasonNoRecords
				}
			}
			if n < h.Records {
				log.Warn().Str("symbol", h.Symbol).Int64("hour", h.Time).Int64("stored", n).Int64("published", h.Records).
					Msg("store holds fewer records than the loader published")
				h.State = coverage.Degraded
				h.Reason = strings.TrimPrefix(h.Reason+"; "+coverage.ReasonStoreMismatch(n, h.Records), "; ")
			}
			if from == 0 || a < from {
				from = a
			}
			to = max(to, b)
			hours = append(hours, h)
		}
	}
	if len(hours) == 0 {
		return nil, nil
	}
	if err := coverage.Write(ctx, st, hours); err != nil {
		return nil, err
	}
	res := &coverageResult{Coverage: coverage.Summarize(hours, from, to), Holes: coverage.Holes(hours)}
	log.Info().Int("hours", res.Coverage.Hours).Int("degraded", res.Coverage.Degraded).Int("missing", res.Coverage.Missing).
		Msg("coverage ledger written")
	return res, nil
}

// earlier returns the hours of the task's range (from its start, epoch ms)
// before the ledger's first: a loader that resumed after an earlier attempt
// records from where it resumed, and those hours' records are in the store
// already. storeCoverage fills them from the store's counts: present when
// it holds records, their sources not known.
func earlier(l coverage.Ledger, from int64) []coverage.Hour {
	if from <= math.MinInt64/2 {
		return nil // no TIME_RANGE
	}
	var out []coverage.Hour
	for t := coverage.Floor(from); t < l.From; t += coverage.HourMs {
		out = append(out, coverage.Hour{Symbol: l.Symbol, Type: l.Type, Time: t, State: coverage.Present, Reason: coverage.ReasonEarlierRun})
	}
	return out
}
