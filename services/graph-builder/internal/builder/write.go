package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/graph-builder/internal/graph"
)

func degree(s graph.Stats) protocol.GraphDegree {
	return protocol.GraphDegree{Min: s.Min, Max: s.Max, Mean: s.Mean, Median: s.Median, Isolated: s.Isolated}
}

// writer puts a built graph into the store in batches.
type writer struct {
	st       store.Store
	name     string
	vertices string
	edges    string
	batch    int
	written  int64
	onBatch  func(written int64) error
}

func newWriter(st store.Store, name string, batch int, onBatch func(int64) error) *writer {
	return &writer{st: st, name: name, vertices: name + "_nodes", edges: name + "_edges", batch: batch, onBatch: onBatch}
}

// write replaces the graph: it drops what a previous build of the name left
// (a rebuild over another range must not keep the old nodes and edges),
// then stores the vertices, then the edges. A document the store rejects
// fails the build: a graph with holes would train a model on a lie.
func (w *writer) write(ctx context.Context, b *built) error {
	if err := w.st.DropGraph(ctx, w.name); err != nil {
		return fmt.Errorf("drop the previous graph %s: %w", w.name, err)
	}
	if err := w.st.EnsureGraph(ctx, store.Graph{Name: w.name, VertexCollection: w.vertices, EdgeCollection: w.edges}); err != nil {
		return fmt.Errorf("create graph %s: %w", w.name, err)
	}
	docs := make([]json.RawMessage, 0, w.batch)
	flush := func(coll string) error {
		if len(docs) == 0 {
			return nil
		}
		res, err := w.st.Upsert(ctx, coll, docs)
		if err != nil {
			return fmt.Errorf("write %s: %w", coll, err)
		}
		for _, r := range res {
			if r.Err != nil {
				return fmt.Errorf("write %s: %w", coll, r.Err)
			}
		}
		w.written += int64(len(docs))
		docs = docs[:0]
		return w.onBatch(w.written)
	}
	for i := range b.nodes {
		docs = append(docs, vertexDoc(&b.nodes[i]))
		if len(docs) == w.batch {
			if err := flush(w.vertices); err != nil {
				return err
			}
		}
	}
	if err := flush(w.vertices); err != nil {
		return err
	}
	for _, e := range b.edges {
		docs = append(docs, w.edgeDoc(&b.nodes[e.from], &b.nodes[e.to], e))
		if len(docs) == w.batch {
			if err := flush(w.edges); err != nil {
				return err
			}
		}
	}
	return flush(w.edges)
}

func vertexDoc(n *node) json.RawMessage {
	d := make([]byte, 0, 128+16*len(n.x))
	d = append(d, `{"_key":"`...)
	d = append(d, n.key()...)
	d = append(d, `","symbol":"`...)
	d = append(d, n.symbol...)
	d = append(d, `","time":`...)
	d = strconv.AppendInt(d, n.time, 10)
	d = append(d, `,"close":`...)
	d = strconv.AppendFloat(d, n.close, 'g', -1, 64)
	d = append(d, `,"features":[`...)
	for i, v := range n.x {
		if i > 0 {
			d = append(d, ',')
		}
		d = strconv.AppendFloat(d, v, 'g', -1, 64)
	}
	d = append(d, `],"label":`...)
	d = strconv.AppendInt(d, int64(n.label), 10)
	if !math.IsNaN(n.next) {
		d = append(d, `,"next_return":`...)
		d = strconv.AppendFloat(d, n.next, 'g', -1, 64)
	}
	if n.snapshot >= 0 {
		d = append(d, `,"snapshot":`...)
		d = strconv.AppendInt(d, int64(n.snapshot), 10)
	}
	return append(d, '}')
}

func (w *writer) edgeDoc(from, to *node, e edge) json.RawMessage {
	fk, tk := from.key(), to.key()
	d := make([]byte, 0, 160)
	d = append(d, `{"_key":"`...)
	d = append(d, fk...)
	d = append(d, '-')
	d = append(d, tk...)
	d = append(d, `","_from":"`...)
	d = append(d, w.vertices...)
	d = append(d, '/')
	d = append(d, fk...)
	d = append(d, `","_to":"`...)
	d = append(d, w.vertices...)
	d = append(d, '/')
	d = append(d, tk...)
	d = append(d, `","weight":`...)
	d = strconv.AppendFloat(d, e.w, 'g', -1, 64)
	d = append(d, `,"relation":"`...)
	d = append(d, e.rel...)
	d = append(d, '"')
	if e.snapshot >= 0 {
		d = append(d, `,"snapshot":`...)
		d = strconv.AppendInt(d, int64(e.snapshot), 10)
	}
	return append(d, '}')
}

// saveMeta creates or replaces the graph's record.
func saveMeta(ctx context.Context, st store.Store, m protocol.GraphRecord) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	for range 3 {
		rec, err := st.GetRecord(ctx, protocol.GraphsCollection, m.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			_, err = st.CreateRecord(ctx, protocol.GraphsCollection, store.Record{Key: m.Name, Status: "built", Symbol: m.Symbols[0], Body: body})
		case err == nil:
			rec.Body, rec.Status = body, "built"
			_, err = st.UpdateRecord(ctx, protocol.GraphsCollection, rec)
		}
		if errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrConflict) {
			continue // written meanwhile by another run: read it again
		}
		if err != nil {
			return fmt.Errorf("save graph record %s: %w", m.Name, err)
		}
		return nil
	}
	return fmt.Errorf("save graph record %s: it kept changing under this run", m.Name)
}
