package arango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

// candle is a market-data document as the server returns it from the
// range query: without _id and _rev.
func candle(key string, t int64) string {
	return fmt.Sprintf(`{"_key":%q,"symbol":"BTCUSDT","time":%d,"close":1.5}`, key, t)
}

func TestRangeStreamsAcrossBatches(t *testing.T) {
	f := newFake(t)
	s := f.open(WithBatchSize(2))
	// queries/aql-queries.md, "Using a cursor": the first batch comes with
	// hasMore and the cursor id; the client reads the next batches with
	// POST /_api/cursor/{id} (driver v2 uses POST; PUT is deprecated)
	// until hasMore is false, when the id is gone and the server has
	// deleted the cursor.
	f.handle("POST /_db/testdb/_api/cursor", reply(201, cursorBody(201, "7001", true,
		candle("t1", 1), candle("t2-b", 2))))
	f.handle("POST /_db/testdb/_api/cursor/7001", sequence(
		// The server's order within time 2 is not _key order; the adapter
		// sorts ties itself, across the batch boundary.
		reply(200, cursorBody(200, "7001", true, candle("t2-a", 2), candle("t3", 3))),
		reply(200, cursorBody(200, "", false, candle("t4", 4))),
	))

	var got []string
	err := s.Range(t.Context(), "candles", "BTCUSDT", 1, 5, func(doc json.RawMessage) error {
		var d struct {
			Key string `json:"_key"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return err
		}
		got = append(got, d.Key)
		f.note("doc " + d.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Range: %v", err)
	}
	if diff := cmp.Diff([]string{"t1", "t2-a", "t2-b", "t3", "t4"}, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	// Streaming: the first document is handed on before the second batch
	// is asked for.
	wantLog := []string{
		"POST /_db/testdb/_api/cursor",
		"doc t1",
		"POST /_db/testdb/_api/cursor/7001",
		"doc t2-a", "doc t2-b",
		"POST /_db/testdb/_api/cursor/7001",
		"doc t3", "doc t4",
	}
	if diff := cmp.Diff(wantLog, f.log()); diff != "" {
		t.Errorf("requests and callbacks (-want +got):\n%s", diff)
	}

	// queries/aql-queries.md, "Create a cursor": query, bindVars (with
	// "@col" for a collection), batchSize, options.stream.
	cr := decodeCursorRequest(t, f.requests()[0])
	if cr.Query != rangeQuery {
		t.Errorf("query = %q, want %q", cr.Query, rangeQuery)
	}
	wantBind := map[string]any{"@col": "candles", "symbol": "BTCUSDT", "from": 1.0, "to": 5.0}
	if diff := cmp.Diff(wantBind, cr.BindVars); diff != "" {
		t.Errorf("bindVars (-want +got):\n%s", diff)
	}
	if cr.BatchSize != 2 || !cr.Options.Stream {
		t.Errorf("batchSize %d, stream %v; want 2 and a stream query", cr.BatchSize, cr.Options.Stream)
	}
	for _, r := range f.requests()[1:] {
		if r.Header.Get("Authorization") != basicAuth {
			t.Errorf("%s without the basic auth header", r)
		}
	}
}

func TestRangeCallbackErrorDeletesCursor(t *testing.T) {
	f := newFake(t)
	s := f.open(WithBatchSize(2))
	f.handle("POST /_db/testdb/_api/cursor", reply(201, cursorBody(201, "7002", true, candle("t1", 1), candle("t2", 2))))
	// queries/aql-queries.md, "Delete a cursor": 202 with the id.
	f.handle("DELETE /_db/testdb/_api/cursor/7002", reply(202, `{"error":false,"code":202,"id":"7002"}`))
	errStop := errors.New("enough")
	calls := 0
	err := s.Range(t.Context(), "candles", "BTCUSDT", 1, 9, func(json.RawMessage) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("Range error = %v, want the callback's", err)
	}
	if calls != 1 {
		t.Errorf("callback called %d times, want 1", calls)
	}
	checkLines(t, f, "POST /_db/testdb/_api/cursor", "DELETE /_db/testdb/_api/cursor/7002")
}

func TestRangeErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		create http.HandlerFunc
		next   http.HandlerFunc
		want   error
	}{
		// queries/aql-queries.md, "Create a cursor": 404 when a collection
		// of the query is unknown.
		{name: "missing collection", create: arangoErr(404, 1203, "AQL: collection or view not found: candles (while parsing)"), want: store.ErrNotFound},
		{name: "server down", create: arangoErr(503, 503, "service unavailable"), want: store.ErrUnavailable},
		// Same page: reading a cursor the server no longer has is 404,
		// error 1600.
		{name: "cursor expired", create: reply(201, cursorBody(201, "7003", true, candle("t1", 1))),
			next: arangoErr(404, 1600, "cursor not found"), want: store.ErrNotFound},
		{name: "outage mid-read", create: reply(201, cursorBody(201, "7003", true, candle("t1", 1))),
			next: arangoErr(503, 503, "service unavailable"), want: store.ErrUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("POST /_db/testdb/_api/cursor", tt.create)
			if tt.next != nil {
				f.handle("POST /_db/testdb/_api/cursor/7003", tt.next)
				f.handle("DELETE /_db/testdb/_api/cursor/7003", reply(202, `{"error":false,"code":202,"id":"7003"}`))
			}
			err := s.Range(t.Context(), "candles", "BTCUSDT", 0, 9, func(json.RawMessage) error { return nil })
			if !errors.Is(err, tt.want) {
				t.Errorf("Range error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTieBreakerSortsEqualTimesByKeyBytes(t *testing.T) {
	var tb tieBreaker
	var got []string
	collect := func(doc json.RawMessage) error {
		var d struct {
			Key string `json:"_key"`
		}
		err := json.Unmarshal(doc, &d)
		got = append(got, d.Key)
		return err
	}
	for _, d := range []string{candle("b", 1), candle("B", 1), candle("a", 1), candle("c", 2), candle("A", 3)} {
		if err := tb.add(json.RawMessage(d), collect); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.flush(collect); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"B", "a", "b", "c", "A"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestCountRange(t *testing.T) {
	for _, tt := range []struct {
		name     string
		h        http.HandlerFunc
		want     int64
		notFound bool
	}{
		// queries/aql-queries.md, "Create a cursor": the count is the one
		// result of the query.
		{name: "counted", h: reply(201, cursorBody(201, "", false, "8640")), want: 8640},
		{name: "empty range", h: reply(201, cursorBody(201, "", false, "0")), want: 0},
		// 404 with error 1203 when the collection does not exist.
		{name: "missing collection", h: arangoErr(404, 1203, "AQL: collection or view not found: candles"), notFound: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("POST /_db/testdb/_api/cursor", tt.h)
			got, err := s.CountRange(t.Context(), "candles", "BTCUSDT", 1000, 2000)
			if tt.notFound {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("CountRange of a missing collection: %v, want ErrNotFound", err)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("CountRange = %d, %v; want %d", got, err, tt.want)
			}
			checkLines(t, f, "POST /_db/testdb/_api/cursor")
			cr := decodeCursorRequest(t, f.requests()[0])
			if cr.Query != countRangeQuery {
				t.Errorf("query %q, want %q", cr.Query, countRangeQuery)
			}
			wantBind := map[string]any{"@col": "candles", "symbol": "BTCUSDT", "from": float64(1000), "to": float64(2000)}
			if diff := cmp.Diff(wantBind, cr.BindVars); diff != "" {
				t.Errorf("bind variables (-want +got):\n%s", diff)
			}
		})
	}
}
