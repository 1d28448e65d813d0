package loader

import "time"

// source is where a chunk's records come from.
type source int

const (
	fromREST source = iota
	fromDayArchive
	fromMonthArchive
)

func (s source) String() string {
	switch s {
	case fromDayArchive:
		return "day_archive"
	case fromMonthArchive:
		return "month_archive"
	}
	return "rest"
}

// chunk is one unit of download: the records of symbol with times in
// [from, to), from one source.
type chunk struct {
	symbol   string
	from, to int64     // epoch ms
	src      source    // where from
	period   time.Time // the archive's day or month (UTC midnight)
}

const msPerDay = int64(24 * time.Hour / time.Millisecond)

// plan splits the task's range [start, to) into chunks in time order: whole
// calendar months from monthly archives, the days (whole, or the part of a
// day at an edge of the range) from daily archives, and what is not archived
// yet (everything when useArchives is false) from REST in pieces of at most
// span milliseconds. An archive is only planned for a period that ended
// before now: data.binance.vision publishes it after it ends. The periods
// depend on the task's range only; chunks before from (where a resumed run
// continues) are left out and the chunk holding from starts there, so a
// resumed run still takes the rest of a day from that day's archive.
func plan(symbol string, start, from, to int64, now time.Time, useArchives bool, span int64) []chunk {
	var all []chunk
	rest := func(a, b int64) {
		for a < b {
			e := min(a+span, b)
			all = append(all, chunk{symbol: symbol, from: a, to: e, src: fromREST})
			a = e
		}
	}
	nowMs := now.UnixMilli()
	for t := start; t < to; {
		day := time.UnixMilli(t).UTC().Truncate(24 * time.Hour)
		dayEnd := day.UnixMilli() + msPerDay
		month := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		monthEnd := month.AddDate(0, 1, 0).UnixMilli()
		switch {
		case useArchives && t == month.UnixMilli() && monthEnd <= to && monthEnd <= nowMs:
			all = append(all, chunk{symbol: symbol, from: t, to: monthEnd, src: fromMonthArchive, period: month})
			t = monthEnd
		case useArchives && dayEnd <= nowMs:
			// A whole day, or the part of a past day at an edge of the
			// range: the day's archive, read from t to the range's end.
			// Archives cost no request weight and beat paging through REST.
			e := min(dayEnd, to)
			all = append(all, chunk{symbol: symbol, from: t, to: e, src: fromDayArchive, period: day})
			t = e
		default:
			e := min(dayEnd, to)
			rest(t, e)
			t = e
		}
	}
	out := all[:0]
	for _, c := range all {
		if c.to <= from {
			continue
		}
		c.from = max(c.from, from)
		out = append(out, c)
	}
	return out
}

// pageRows is the most rows one REST page returns.
const pageRows = 1000

// restSpan is the time one REST chunk covers: one page of klines (months
// counted as 28 days, the shortest), or an hour of aggregate trades (the
// widest window the API allows). It is never zero.
func restSpan(d DataType) int64 {
	if d.Kind == APICandles {
		length := d.Interval.Duration().Milliseconds()
		if length == 0 {
			length = 28 * msPerDay
		}
		return pageRows * length
	}
	return int64(time.Hour / time.Millisecond)
}
