package loader

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/coverage"
)

// Where two sources overlap the loader compares them: the candles of a day
// archive at an edge of the range (the first or last chunk, where a range
// that starts or ends within a month reads daily files) are fetched over
// REST too, and each hour's count and checksum (FNV-1a over the records'
// JSON, which both sources encode alike) are compared. A disagreement
// makes the hour degraded with both counts; the archive's records stay
// published (REST is not more right than the archive, only different).
// Continuity of a live stream's aggregate trade ids is checked as it
// streams (a jump is a gap, backfilled or recorded: live.go).

// hourSums are the per-hour counts and checksums of one source's records.
type hourSums map[int64]*hourSum

type hourSum struct {
	n   int64
	sum uint64
}

func (s hourSums) add(t int64, rec []byte) {
	h := coverage.Floor(t)
	x := s[h]
	if x == nil {
		x = &hourSum{sum: fnvOffset}
		s[h] = x
	}
	x.n++
	f := fnv.New64a()
	_, _ = f.Write(rec)
	// Order-independent within the hour: records of an hour are summed.
	x.sum += f.Sum64()
}

const fnvOffset = 14695981039346656037

// crossChecked reports whether chunk i of n is compared with REST.
func (h *history) crossChecked(c chunk, i, n int) bool {
	return h.checkEdges && h.job.Type.Kind == APICandles && c.src == fromDayArchive && (i == 0 || i == n-1)
}

// crossCheck fetches chunk c's candles over REST and notes every hour
// where they disagree with the archive's (arch).
func (h *history) crossCheck(ctx context.Context, w *symbolWriter, c chunk, arch hourSums) error {
	rest := hourSums{}
	var buf []byte
	err := h.rest.Klines(ctx, c.symbol, h.job.Type.Interval, c.from, c.to, func(x binance.Candle) error {
		if x.OpenTime >= c.from && x.OpenTime < c.to {
			buf = x.AppendJSON(buf[:0])
			rest.add(x.OpenTime, buf)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cross-check %s over REST: %w", span(c.from, c.to), err)
	}
	bad := 0
	for hr := coverage.Floor(c.from); hr < c.to; hr += coverage.HourMs {
		a, r := arch[hr], rest[hr]
		if a == nil {
			a = &hourSum{}
		}
		if r == nil {
			r = &hourSum{}
		}
		if a.n == r.n && (a.n == 0 || a.sum == r.sum) {
			continue
		}
		bad++
		w.cov.Note(max(hr, c.from), coverage.Degraded, coverage.ReasonSourcesDisagree(a.n, r.n, a.n == r.n), "")
	}
	h.log.Info().Str("symbol", c.symbol).Str("chunk", span(c.from, c.to)).Int("disagreeing_hours", bad).Msg("archive cross-checked with REST")
	return nil
}
