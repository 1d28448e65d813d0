package gnn

import (
	"errors"
	"slices"
	"testing"
)

func TestChronologicalSplitNoLeakage(t *testing.T) {
	rng := testRNG(8)
	const n = 500
	times := make([]int64, n)
	labelled := make([]bool, n)
	for i := range times {
		times[i] = int64(rng.IntN(120)) // many ties
		labelled[i] = rng.Float64() < 0.8
	}
	s, cuts, err := ChronologicalSplit(times, labelled, 0.6, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	maxOf := func(idx []int) int64 {
		m := int64(-1 << 63)
		for _, i := range idx {
			m = max(m, times[i])
		}
		return m
	}
	minOf := func(idx []int) int64 {
		m := int64(1<<63 - 1)
		for _, i := range idx {
			m = min(m, times[i])
		}
		return m
	}
	if len(s.Train) == 0 || len(s.Val) == 0 || len(s.Test) == 0 {
		t.Fatalf("got sizes %d/%d/%d, want all non-empty", len(s.Train), len(s.Val), len(s.Test))
	}
	if !(maxOf(s.Train) < minOf(s.Val) && maxOf(s.Val) < minOf(s.Test)) {
		t.Errorf("time ranges overlap: train ≤ %d, val %d..%d, test ≥ %d",
			maxOf(s.Train), minOf(s.Val), maxOf(s.Val), minOf(s.Test))
	}
	if !(maxOf(s.Train) < cuts.ValFrom && minOf(s.Val) >= cuts.ValFrom && maxOf(s.Val) < cuts.TestFrom && minOf(s.Test) >= cuts.TestFrom) {
		t.Errorf("cuts %+v do not separate the parts", cuts)
	}
	all := slices.Concat(s.Train, s.Val, s.Test)
	slices.Sort(all)
	var want []int
	for i, ok := range labelled {
		if ok {
			want = append(want, i)
		}
	}
	if !slices.Equal(all, want) {
		t.Errorf("parts cover %d nodes, want exactly the %d labelled ones once each", len(all), len(want))
	}
	if share := float64(len(s.Train)) / float64(len(want)); share < 0.55 || share > 0.65 {
		t.Errorf("train share %.3f, want about 0.6", share)
	}
}

func TestChronologicalSplitTiesStayTogether(t *testing.T) {
	times := []int64{1, 1, 1, 1, 2, 3}
	labelled := []bool{true, true, true, true, true, true}
	s, _, err := ChronologicalSplit(times, labelled, 0.5, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	// The 50% cut lands inside the t=1 group, so that group goes wholly to
	// val; the 75% cut (position 4.5, rounded to 5) lands on t=3.
	if len(s.Train) != 0 || !slices.Equal(s.Val, []int{0, 1, 2, 3, 4}) || !slices.Equal(s.Test, []int{5}) {
		t.Errorf("got %+v", s)
	}
}

func TestChronologicalSplitRejects(t *testing.T) {
	if _, _, err := ChronologicalSplit([]int64{1}, []bool{true, false}, 0.5, 0.2); !errors.Is(err, ErrInvalidSplit) {
		t.Errorf("length mismatch: got %v", err)
	}
	if _, _, err := ChronologicalSplit([]int64{1}, []bool{true}, 0.9, 0.2); !errors.Is(err, ErrInvalidSplit) {
		t.Errorf("fractions above 1: got %v", err)
	}
}
