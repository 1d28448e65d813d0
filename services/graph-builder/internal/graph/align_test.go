package graph

import (
	"slices"
	"testing"
)

func TestAlign(t *testing.T) {
	tests := []struct {
		name   string
		times  [][]int64
		common []int64
		idx    [][]int
	}{
		{name: "no series"},
		{name: "one series", times: [][]int64{{1, 2, 3}}, common: []int64{1, 2, 3}, idx: [][]int{{0, 1, 2}}},
		{name: "an empty series", times: [][]int64{{1, 2}, {}}, common: []int64{}, idx: [][]int{{}, {}}},
		{
			name:   "gaps and ragged ends",
			times:  [][]int64{{0, 5, 10, 15, 20, 25}, {5, 10, 20, 25, 30}, {0, 5, 10, 15, 20, 25}},
			common: []int64{5, 10, 20, 25},
			idx:    [][]int{{1, 2, 4, 5}, {0, 1, 2, 3}, {1, 2, 4, 5}},
		},
		{name: "disjoint", times: [][]int64{{1, 3, 5}, {2, 4, 6}}, common: []int64{}, idx: [][]int{{}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			common, idx, err := Align(tt.times)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(common, tt.common) {
				t.Errorf("common = %v, want %v", common, tt.common)
			}
			if !slices.EqualFunc(idx, tt.idx, slices.Equal) {
				t.Errorf("idx = %v, want %v", idx, tt.idx)
			}
			for s := range idx {
				for c, i := range idx[s] {
					if tt.times[s][i] != common[c] {
						t.Errorf("times[%d][idx[%d][%d]] = %d, want %d", s, s, c, tt.times[s][i], common[c])
					}
				}
			}
		})
	}
}

func TestAlignRejectsUnsorted(t *testing.T) {
	for name, times := range map[string][][]int64{
		"descending": {{1, 2, 3}, {3, 2}},
		"duplicate":  {{1, 2, 2, 3}},
	} {
		if _, _, err := Align(times); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
