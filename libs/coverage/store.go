package coverage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/streamforge/streamforge/libs/store"
)

// Write upserts hours into the store's Collection (created when missing),
// one document per hour under Key: writing the same hours again changes
// nothing, a rerun's verdict replaces the earlier one.
func Write(ctx context.Context, st store.Store, hours []Hour) error {
	if len(hours) == 0 {
		return nil
	}
	if err := st.EnsureCollection(ctx, store.MarketData(Collection)); err != nil {
		return fmt.Errorf("prepare collection %s: %w", Collection, err)
	}
	docs := make([]json.RawMessage, len(hours))
	for i, h := range hours {
		d, err := h.Document()
		if err != nil {
			return fmt.Errorf("encode coverage of %s: %w", Key(h.Symbol, h.Type, h.Time), err)
		}
		docs[i] = d
	}
	res, err := st.Upsert(ctx, Collection, docs)
	if err != nil {
		return fmt.Errorf("write %s: %w", Collection, err)
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("write %s: %w", Collection, r.Err)
		}
	}
	return nil
}

// Read returns the ledger's hours of symbol with start in [from, to) (epoch
// ms), of data type typ (empty: every type), in (time, type) order. A store
// without the collection has no hours.
func Read(ctx context.Context, st store.Store, symbol, typ string, from, to int64) ([]Hour, error) {
	var out []Hour
	err := st.Range(ctx, Collection, symbol, from, to, func(doc json.RawMessage) error {
		var h Hour
		if err := json.Unmarshal(doc, &h); err != nil {
			return fmt.Errorf("decode %s document: %w", Collection, err)
		}
		if typ == "" || h.Type == typ {
			out = append(out, h)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", Collection, symbol, err)
	}
	return out, nil
}

// Summary sums a symbol's and type's ledger over a time range.
type Summary struct {
	Hours    int  `json:"hours"`    // hours in the range
	Present  int  `json:"present"`  // hours present
	Degraded int  `json:"degraded"` // hours degraded
	Missing  int  `json:"missing"`  // hours missing
	Unknown  int  `json:"unknown"`  // hours the ledger has no entry for
	Complete bool `json:"complete"` // every hour present
}

// Summarize counts the verdicts of the hours of [from, to) (epoch ms) of
// each symbol and type hs holds (at least one), the hours without an entry
// in hs as unknown.
func Summarize(hs []Hour, from, to int64) Summary {
	type id struct {
		sym, typ string
		t        int64
	}
	seen := map[id]bool{}
	series := map[[2]string]bool{}
	var s Summary
	for _, h := range hs {
		k := id{h.Symbol, h.Type, h.Time}
		if h.Time < Floor(from) || h.Time >= to || seen[k] {
			continue
		}
		seen[k] = true
		series[[2]string{h.Symbol, h.Type}] = true
		switch h.State {
		case Present:
			s.Present++
		case Degraded:
			s.Degraded++
		default:
			s.Missing++
		}
	}
	if to > from {
		s.Hours = int((Floor(to-1)-Floor(from))/HourMs) + 1
	}
	s.Hours *= max(len(series), 1)
	s.Unknown = s.Hours - len(seen)
	s.Complete = s.Hours > 0 && s.Present == s.Hours
	return s
}

// Holes describes the hours of hs that are not present, consecutive hours
// with the same verdict on one line: "2024-03-01T10:00Z..11:00Z degraded:
// websocket gap (backfill closed)". It returns nil when there are none.
func Holes(hs []Hour) []string {
	sorted := append([]Hour(nil), hs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		return a.Symbol < b.Symbol || (a.Symbol == b.Symbol && (a.Type < b.Type || (a.Type == b.Type && a.Time < b.Time)))
	})
	var lines []string
	var cur *Hour
	var last int64
	flush := func() {
		if cur == nil {
			return
		}
		span := stamp(cur.Time)
		if last != cur.Time {
			span += ".." + stamp(last)
		}
		why := string(cur.State)
		if cur.Reason != "" {
			why += ": " + cur.Reason
		}
		if cur.Backfill != "" {
			why += " (backfill " + cur.Backfill + ")"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s", cur.Symbol, cur.Type, span, why))
		cur = nil
	}
	for i := range sorted {
		h := sorted[i]
		if h.State == Present {
			flush()
			continue
		}
		if cur != nil && h.Symbol == cur.Symbol && h.Type == cur.Type && h.Time == last+HourMs && h.State == cur.State && h.Reason == cur.Reason && h.Backfill == cur.Backfill {
			last = h.Time
			continue
		}
		flush()
		cur, last = &sorted[i], h.Time
	}
	flush()
	return lines
}

func stamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04Z07:00")
}
