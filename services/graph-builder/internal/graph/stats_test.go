package graph

import "testing"

func TestDegreeStats(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		edges []Edge
		want  Stats
	}{
		{name: "empty", n: 0, want: Stats{}},
		{name: "isolated nodes", n: 3, want: Stats{Nodes: 3, Isolated: 3}},
		{
			name:  "path",
			n:     4,
			edges: path(4),
			want:  Stats{Nodes: 4, Edges: 3, Min: 1, Max: 2, Mean: 1.5, Median: 1.5},
		},
		{
			name:  "star plus isolated",
			n:     5,
			edges: edgeList([2]int{0, 1}, [2]int{0, 2}, [2]int{0, 3}),
			want:  Stats{Nodes: 5, Edges: 3, Min: 0, Max: 3, Mean: 1.2, Median: 1, Isolated: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DegreeStats(tt.n, tt.edges); got != tt.want {
				t.Errorf("DegreeStats = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDegreeStatsPanicsOnBadEdge(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for an edge outside the graph")
		}
	}()
	DegreeStats(2, []Edge{{U: 0, V: 2, W: 1}})
}
