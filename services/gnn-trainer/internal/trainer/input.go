package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

// Dataset is a graph read from the store, ready to train on.
type Dataset struct {
	Meta  protocol.GraphRecord
	Graph *gnn.Graph
	Keys  []string // node i's _key
	// EdgeCount is the number of edges in the store (before orientation).
	EdgeCount int
}

type vertexDoc struct {
	Key      string    `json:"_key"`
	Time     int64     `json:"time"`
	Features []float64 `json:"features"`
	Label    *int      `json:"label"`
}

type edgeDoc struct {
	From string `json:"_from"`
	To   string `json:"_to"`
}

// ReadDataset reads the graph name and its record. With causal set, each
// edge passes messages from its earlier end to its later one only (edges of
// equal time both ways); otherwise edges are undirected.
func ReadDataset(ctx context.Context, st store.Store, name string, causal bool) (*Dataset, error) {
	rec, err := st.GetRecord(ctx, protocol.GraphsCollection, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("graph %s: no record in %s: was it built by graph-builder?", name, protocol.GraphsCollection)
	}
	if err != nil {
		return nil, fmt.Errorf("graph %s: %w", name, err)
	}
	var meta protocol.GraphRecord
	if err := json.Unmarshal(rec.Body, &meta); err != nil {
		return nil, fmt.Errorf("graph %s: record: %w", name, err)
	}
	if len(meta.Features) == 0 {
		return nil, fmt.Errorf("graph %s: its record names no features", name)
	}
	f := len(meta.Features)
	index := make(map[string]int32, meta.Nodes)
	var (
		keys  []string
		times []int64
		ys    []int
		xs    = make([]float64, 0, meta.Nodes*f)
		edges [][2]int32
	)
	err = st.ReadGraph(ctx, name, func(doc json.RawMessage) error {
		var v vertexDoc
		if err := json.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("vertex: %w", err)
		}
		if len(v.Features) != f {
			return fmt.Errorf("vertex %s has %d features, the graph's record names %d", v.Key, len(v.Features), f)
		}
		for _, x := range v.Features {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("vertex %s has a feature that is not finite", v.Key)
			}
		}
		y := -1
		if v.Label != nil {
			y = *v.Label
		}
		if y < -1 || y > 1 {
			return fmt.Errorf("vertex %s has label %d (want 0, 1 or -1)", v.Key, y)
		}
		index[v.Key] = int32(len(keys))
		keys, times, ys = append(keys, v.Key), append(times, v.Time), append(ys, y)
		xs = append(xs, v.Features...)
		return nil
	}, func(doc json.RawMessage) error {
		var e edgeDoc
		if err := json.Unmarshal(doc, &e); err != nil {
			return fmt.Errorf("edge: %w", err)
		}
		u, okU := index[e.From[strings.IndexByte(e.From, '/')+1:]]
		v, okV := index[e.To[strings.IndexByte(e.To, '/')+1:]]
		if !okU || !okV {
			return fmt.Errorf("edge %s -> %s names a vertex the graph does not have", e.From, e.To)
		}
		edges = append(edges, [2]int32{u, v})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read graph %s: %w", name, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("graph %s has no vertices", name)
	}
	// The record is written after the last document of a build: a graph
	// that holds other nodes or edges than it counts was written by another
	// build too (or this one did not end), and a model trained on it would
	// describe data its workflow never asked for.
	if len(keys) != meta.Nodes || len(edges) != meta.Edges {
		return nil, fmt.Errorf("graph %s holds %d nodes and %d edges, its record (queue %s, %s) says %d and %d: it is not the graph that was built; build it again",
			name, len(keys), len(edges), meta.QueueID, meta.TimeRange, meta.Nodes, meta.Edges)
	}
	if err := inRange(meta.TimeRange, keys, times); err != nil {
		return nil, fmt.Errorf("graph %s: %w", name, err)
	}
	g := &gnn.Graph{N: len(keys), X: mat.NewDense(len(keys), f, xs), Y: ys, Time: times}
	g.Edges, g.Directed = orient(edges, times, causal)
	return &Dataset{Meta: meta, Graph: g, Keys: keys, EdgeCount: len(edges)}, nil
}

// orient returns the edges for message passing. Causal: a message goes from
// the earlier node to the later one; nodes of the same time (one snapshot of
// a correlation graph) exchange both ways. Otherwise the edges stay
// undirected pairs.
func orient(edges [][2]int32, times []int64, causal bool) ([][2]int32, bool) {
	if !causal {
		return edges, false
	}
	out := make([][2]int32, 0, len(edges))
	for _, e := range edges {
		u, v := e[0], e[1]
		switch {
		case times[u] < times[v]:
			out = append(out, [2]int32{u, v})
		case times[u] > times[v]:
			out = append(out, [2]int32{v, u})
		default:
			out = append(out, [2]int32{u, v}, [2]int32{v, u})
		}
	}
	return out, true
}

// inRange checks that every node is inside the graph's time range, when the
// record has one: a node outside it is data the workflow did not ask for.
func inRange(timeRange string, keys []string, times []int64) error {
	if timeRange == "" {
		return nil
	}
	tr, err := protocol.ParseTimeRange(timeRange)
	if err != nil {
		return fmt.Errorf("record's time range: %w", err)
	}
	from, to := tr.Start.UnixMilli(), tr.End.UnixMilli()
	for i, t := range times {
		if t < from || t >= to {
			return fmt.Errorf("node %s at %s is outside the graph's time range %s", keys[i], time.UnixMilli(t).UTC().Format(time.RFC3339), timeRange)
		}
	}
	return nil
}
