package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/streamforge/streamforge/libs/store"
)

// testDropCollection: a dropped collection is gone with its documents (Count
// and CountRange answer ErrNotFound) while another collection keeps every
// document; created again, it holds nothing of the old one. Dropping a
// collection that does not exist is not an error, and a graph's collection
// is refused: the graph stays readable.
func testDropCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	const other = "btcusdt_api_candles_5m_2024_09_01"
	if err := s.DropCollection(ctx, candles); err != nil {
		t.Fatalf("DropCollection of a collection that does not exist: %v", err)
	}
	for _, c := range []string{candles, other} {
		if err := s.EnsureCollection(ctx, store.MarketData(c)); err != nil {
			t.Fatalf("EnsureCollection %s: %v", c, err)
		}
		upsertAll(t, s, c, Candles("BTCUSDT", 20), 10)
	}
	if err := s.DropCollection(ctx, candles); err != nil {
		t.Fatalf("DropCollection: %v", err)
	}
	if n, err := s.Count(ctx, candles); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Count after DropCollection = %d, %v; want ErrNotFound", n, err)
	}
	if n, err := s.CountRange(ctx, candles, "BTCUSDT", Start, Start+100*Step); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CountRange after DropCollection = %d, %v; want ErrNotFound", n, err)
	}
	if n, err := s.Count(ctx, other); err != nil || n != 20 {
		t.Errorf("Count of the collection not dropped = %d, %v; want 20", n, err)
	}
	if err := s.DropCollection(ctx, candles); err != nil {
		t.Errorf("DropCollection again: %v", err)
	}
	if err := s.EnsureCollection(ctx, store.MarketData(candles)); err != nil {
		t.Fatalf("EnsureCollection after DropCollection: %v", err)
	}
	upsertAll(t, s, candles, Candles("BTCUSDT", 3), 3)
	if n, err := s.Count(ctx, candles); err != nil || n != 3 {
		t.Errorf("Count of the collection created again = %d, %v; want only the 3 written since", n, err)
	}

	if err := s.EnsureGraph(ctx, correlation); err != nil {
		t.Fatalf("EnsureGraph: %v", err)
	}
	upsertAll(t, s, correlation.VertexCollection, []json.RawMessage{json.RawMessage(`{"_key":"v1"}`)}, 1)
	for _, c := range []string{correlation.VertexCollection, correlation.EdgeCollection} {
		if err := s.DropCollection(ctx, c); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("DropCollection of graph collection %s: %v, want a refusal", c, err)
		}
	}
	vertices := 0
	if err := s.ReadGraph(ctx, correlation.Name, func(json.RawMessage) error { vertices++; return nil }, func(json.RawMessage) error { return nil }); err != nil || vertices != 1 {
		t.Errorf("ReadGraph after refused drops: %d vertices, %v; want the graph whole", vertices, err)
	}
}
