package loader

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/streamforge/streamforge/libs/bus"
)

// A loader publishes each symbol's records in time order through a producer
// that writes one partition's records in the order handed over and never one
// after a record that was lost (bus.Producer: idempotent; a failed record
// fails every record buffered after it). So after a crash the data topic
// holds a prefix of what was sent, whatever was in flight: the symbol's last
// record is a safe point to continue from. Resuming takes the earliest time
// among the symbol's last batchSize records instead, which is as safe and
// also covers a topic written by a producer without that guarantee (within
// one send kafka-go could keep a later record and lose an earlier one); the
// records sent again carry the same keys.

// resumeState is where each symbol continues and how much the topic held.
type resumeState struct {
	from    map[string]int64      // epoch ms to continue from, per symbol with records
	last    map[string]recordHead // per symbol, the largest ids and open time read back
	records int64                 // messages in the topic before this run
}

// recordHead is the part of a record resuming needs: every record has a
// symbol and a time; a live loader continues after the largest aggregate
// trade id, candle open time or book update id (a diff's final one, a
// snapshot's last one, a book ticker's).
type recordHead struct {
	Symbol        string `json:"symbol"`
	Time          int64  `json:"time"`
	AggID         int64  `json:"agg_id"`
	OpenTime      int64  `json:"open_time"`
	FinalUpdateID int64  `json:"final_update_id"`
	LastUpdateID  int64  `json:"last_update_id"`
	UpdateID      int64  `json:"update_id"` // a book ticker's
}

// merge keeps the larger of each id and open time.
func (h *recordHead) merge(o recordHead) {
	h.AggID, h.OpenTime = max(h.AggID, o.AggID), max(h.OpenTime, o.OpenTime)
	h.FinalUpdateID = max(h.FinalUpdateID, o.FinalUpdateID, o.LastUpdateID, o.UpdateID)
}

// resumePoints reads back the tail of topic, growing the window until every
// symbol has batchSize records in it or the partition's start is reached.
func resumePoints(ctx context.Context, cfg bus.Config, admin *bus.Admin, topic string, symbols []string, batchSize int) (resumeState, error) {
	st := resumeState{from: map[string]int64{}, last: map[string]recordHead{}}
	ends, err := admin.EndOffsets(ctx, topic)
	if err != nil {
		return st, err
	}
	starts, err := admin.StartOffsets(ctx, topic)
	if err != nil {
		return st, err
	}
	for p, end := range ends {
		st.records += end - starts[p]
	}
	if st.records == 0 {
		return st, nil
	}
	want := map[string]bool{}
	for _, s := range symbols {
		want[s] = true
	}
	for p, end := range ends {
		var mine []string // the symbols this partition holds
		for _, s := range symbols {
			if bus.PartitionOf([]byte(s), len(ends)) == p {
				mine = append(mine, s)
			}
		}
		first := starts[p]
		if len(mine) == 0 || end == first {
			continue
		}
		window := int64(batchSize)
		for {
			from := max(end-window, first)
			times := map[string][]int64{} // per symbol, in offset order
			heads := map[string]recordHead{}
			err := bus.ReadRange(ctx, cfg, topic, p, from, end, func(m bus.Message) error {
				var h recordHead
				if json.Unmarshal(m.Value, &h) != nil || !want[h.Symbol] {
					return nil // not a record of this task (a gap marker has one too)
				}
				times[h.Symbol] = append(times[h.Symbol], h.Time)
				l := heads[h.Symbol]
				l.merge(h)
				heads[h.Symbol] = l
				return nil
			})
			if err != nil {
				return st, fmt.Errorf("read back %s[%d]: %w", topic, p, err)
			}
			enough := true
			for _, s := range mine {
				enough = enough && len(times[s]) >= batchSize
			}
			if enough || from == first {
				for sym, ts := range times {
					last := ts[max(len(ts)-batchSize, 0):]
					m := last[0]
					for _, t := range last {
						m = min(m, t)
					}
					if prev, ok := st.from[sym]; !ok || m < prev {
						st.from[sym] = m
					}
					st.last[sym] = heads[sym]
				}
				break
			}
			window *= 4
		}
	}
	return st, nil
}
