package graph

import "fmt"

// Align intersects the open times of several symbols' candle series, each
// sorted strictly ascending, and returns the times present in all of them
// together with, for every series s, idx[s][c], the position of common[c] in
// times[s]. Exchange maintenance gaps in any one symbol therefore drop that
// time for all symbols.
//
// A return computed across a dropped time spans the gap: GapReturns finds
// them.
//
// It returns an error naming the series and position when a series is not
// strictly ascending. No series give nil results and no error.
func Align(times [][]int64) (common []int64, idx [][]int, err error) {
	if len(times) == 0 {
		return nil, nil, nil
	}
	for s, ts := range times {
		for i := 1; i < len(ts); i++ {
			if ts[i] <= ts[i-1] {
				return nil, nil, fmt.Errorf("series %d: time %d at %d does not follow %d", s, ts[i], i, ts[i-1])
			}
		}
	}
	shortest := len(times[0])
	for _, ts := range times {
		shortest = min(shortest, len(ts))
	}
	idx = make([][]int, len(times))
	for s := range idx {
		idx[s] = make([]int, 0, shortest)
	}
	common = make([]int64, 0, shortest)
	pos := make([]int, len(times))
	for {
		// Every series advances to the latest head; if they all land on
		// it, it is common.
		var target int64
		for s, ts := range times {
			if pos[s] >= len(ts) {
				return common, idx, nil
			}
			if s == 0 || ts[pos[s]] > target {
				target = ts[pos[s]]
			}
		}
		match := true
		for s, ts := range times {
			for pos[s] < len(ts) && ts[pos[s]] < target {
				pos[s]++
			}
			if pos[s] == len(ts) {
				return common, idx, nil
			}
			match = match && ts[pos[s]] == target
		}
		if match {
			common = append(common, target)
			for s := range times {
				idx[s] = append(idx[s], pos[s])
				pos[s]++
			}
		}
	}
}

// GapReturns reports, for each one-step return of the series with open
// times common, whether it spans missing bars: the next time is more than
// step milliseconds after the time before it. The result has one element
// fewer than common.
func GapReturns(common []int64, step int64) []bool {
	if len(common) < 2 {
		return nil
	}
	out := make([]bool, len(common)-1)
	for t := range out {
		out[t] = common[t+1]-common[t] > step
	}
	return out
}
