package loader

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/streamforge/streamforge/libs/bus"
)

// A loader publishes each symbol's records in time order, in sends of at
// most batchSize records, and starts a send only when the one before it was
// acknowledged. So after a crash the only records that can be missing from
// the data topic belong to the last send, and every record of that send
// that did arrive is among the symbol's last batchSize records in the
// topic: the earliest time among those is a safe point to continue from.
// (Within one send Kafka may keep a later record and lose an earlier one
// when a retried request fails; before it, nothing is missing.)

// resumeState is where each symbol continues and how much the topic held.
type resumeState struct {
	from    map[string]int64 // epoch ms to continue from, per symbol with records
	records int64            // messages in the topic before this run
}

// recordHead is the part of a record resuming needs.
type recordHead struct {
	Symbol string `json:"symbol"`
	Time   int64  `json:"time"`
}

// resumePoints reads back the tail of topic, growing the window until every
// symbol has batchSize records in it or the partition's start is reached.
func resumePoints(ctx context.Context, cfg bus.Config, admin *bus.Admin, topic string, symbols []string, batchSize int) (resumeState, error) {
	st := resumeState{from: map[string]int64{}}
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
			err := bus.ReadRange(ctx, cfg, topic, p, from, end, func(m bus.Message) error {
				var h recordHead
				if json.Unmarshal(m.Value, &h) != nil || !want[h.Symbol] {
					return nil // not a record of this task (a gap marker has one too)
				}
				times[h.Symbol] = append(times[h.Symbol], h.Time)
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
				}
				break
			}
			window *= 4
		}
	}
	return st, nil
}
