package arango

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

// collections.md, "Get the collection information": type 2 is a document
// collection, 3 an edge collection.
var (
	candlesInfo = reply(200, `{"error":false,"code":200,"id":"9","name":"candles","status":3,"type":2,"isSystem":false,"globallyUniqueId":"h1"}`)
	edgesInfo   = reply(200, `{"error":false,"code":200,"id":"10","name":"edges","status":3,"type":3,"isSystem":false,"globallyUniqueId":"h2"}`)
)

// docs turns JSON texts into a batch.
func docs(texts ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(texts))
	for i, s := range texts {
		out[i] = json.RawMessage(s)
	}
	return out
}

func TestUpsertMapsPerDocumentResults(t *testing.T) {
	f := newFake(t)
	s := f.open()
	f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
	// documents.md, "Create multiple documents": 202 with one entry per
	// document sent, in order; a rejected one is {"error":true,"errorNum",
	// "errorMessage"}, and X-Arango-Error-Codes counts the errors by number
	// (example "Partially illegal documents").
	f.handle("POST /_db/testdb/_api/document/candles", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Arango-Error-Codes", "1221:1,1210:1")
		reply(202, `[
			{"_id":"candles/c-1","_key":"c-1","_rev":"_iB1--_a---"},
			{"error":true,"errorNum":1221,"errorMessage":"illegal document key"},
			{"_id":"candles/c-3","_key":"c-3","_rev":"_iB1--_a--_"},
			{"error":true,"errorNum":1210,"errorMessage":"unique constraint violated - in index idx_1 of type persistent over 'symbol, time'; conflicting key: c-0"}
		]`)(w, r)
	})
	batch := docs(
		`{"_key":"c-1","symbol":"BTCUSDT","time":1}`,
		`not json`,
		`{"_key":"c-2","symbol":"BTCUSDT","time":2}`,
		`{"symbol":"BTCUSDT","time":3}`,
		`{"_key":"c-3","symbol":"BTCUSDT","time":3}`,
		`{"_key":"c-4","symbol":"BTCUSDT","time":"4"}`,
		`{"_key":"c-5","symbol":"BTCUSDT","time":5}`,
	)
	res, err := s.Upsert(t.Context(), "candles", batch)
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}

	checkLines(t, f, "GET /_db/testdb/_api/collection/candles", "POST /_db/testdb/_api/document/candles")
	post := f.requests()[1]
	if got := post.Query.Get("overwriteMode"); got != "replace" {
		t.Errorf("overwriteMode = %q, want replace", got)
	}
	if got := post.Header.Get("Authorization"); got != basicAuth {
		t.Errorf("Authorization = %q, want %q", got, basicAuth)
	}
	if got := post.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if post.Length != int64(len(post.Body)) {
		t.Errorf("Content-Length = %d for a body of %d bytes", post.Length, len(post.Body))
	}
	// Only the documents that pass store.Inspect are sent, as written.
	checkJSON(t, "request body", post.Body, `[
		{"_key":"c-1","symbol":"BTCUSDT","time":1},
		{"_key":"c-2","symbol":"BTCUSDT","time":2},
		{"_key":"c-3","symbol":"BTCUSDT","time":3},
		{"_key":"c-5","symbol":"BTCUSDT","time":5}
	]`)

	type outcome struct {
		Key    string
		Index  int // of the DocError, -1 when stored
		Reason string
	}
	var got []outcome
	for _, r := range res {
		o := outcome{Key: r.Key, Index: -1}
		var de *store.DocError
		if errors.As(r.Err, &de) {
			o.Index, o.Reason = de.Index, de.Reason
		} else if r.Err != nil {
			t.Errorf("result %q: %v is not a *store.DocError", r.Key, r.Err)
		}
		got = append(got, o)
	}
	want := []outcome{
		{Key: "c-1", Index: -1},
		{Index: 1, Reason: "not a JSON object"},
		{Key: "c-2", Index: 2, Reason: "rejected by arangodb: illegal document key (error 1221)"},
		{Index: 3, Reason: "no _key"},
		{Key: "c-3", Index: -1},
		{Key: "c-4", Index: 5, Reason: "time is not a whole number of epoch milliseconds"},
		{Key: "c-5", Index: 6, Reason: "rejected by arangodb: unique constraint violated - in index idx_1 of type persistent over 'symbol, time'; conflicting key: c-0 (error 1210)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	// The collection's kind is known now: the next batch is one request.
	f.reset()
	f.handle("POST /_db/testdb/_api/document/candles", reply(202, `[{"_id":"candles/c-9","_key":"c-9","_rev":"_x"}]`))
	if _, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-9","symbol":"BTCUSDT","time":9}`)); err != nil {
		t.Fatalf("second Upsert: %v", err)
	}
	checkLines(t, f, "POST /_db/testdb/_api/document/candles")
}

func TestUpsertEdgeCollection(t *testing.T) {
	f := newFake(t)
	s := f.open()
	f.handle("GET /_db/testdb/_api/collection/edges", edgesInfo)
	f.handle("POST /_db/testdb/_api/document/edges", reply(202, `[{"_id":"edges/e-1","_key":"e-1","_rev":"_x"}]`))
	res, err := s.Upsert(t.Context(), "edges", docs(
		`{"_key":"e-0","_to":"symbols/b"}`,
		`{"_key":"e-1","_from":"symbols/a","_to":"symbols/b"}`,
	))
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	var de *store.DocError
	if !errors.As(res[0].Err, &de) || de.Index != 0 || de.Reason != "an edge needs _from and _to" {
		t.Errorf("result 0: %v, want the DocError of an edge without _from", res[0].Err)
	}
	if res[1].Err != nil {
		t.Errorf("result 1: %v, want stored", res[1].Err)
	}
	checkJSON(t, "request body", f.requests()[1].Body, `[{"_key":"e-1","_from":"symbols/a","_to":"symbols/b"}]`)
}

func TestUpsertAllRejectedLocallySendsNothing(t *testing.T) {
	f := newFake(t)
	s := f.open()
	f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
	res, err := s.Upsert(t.Context(), "candles", docs(`[]`, `{"_key":"a b"}`))
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	for i, r := range res {
		if r.Err == nil {
			t.Errorf("result %d stored, want rejected", i)
		}
	}
	checkLines(t, f, "GET /_db/testdb/_api/collection/candles")

	f.reset()
	if res, err := s.Upsert(t.Context(), "candles", nil); err != nil || len(res) != 0 {
		t.Errorf("Upsert of no documents = %v, %v; want no results", res, err)
	}
	checkLines(t, f)
}

// TestUpsertOutage is the store outage of issue #4: whatever way the
// server fails, Upsert returns an error wrapping store.ErrUnavailable and no
// results, so the connector keeps the batch and retries it.
func TestUpsertOutage(t *testing.T) {
	perDoc := func(num int, msg string) http.HandlerFunc {
		return reply(202, fmt.Sprintf(`[{"_id":"candles/c-1","_key":"c-1","_rev":"_x"},{"error":true,"errorNum":%d,"errorMessage":%q}]`, num, msg))
	}
	for _, tt := range []struct {
		name string
		h    http.HandlerFunc
	}{
		// general-request-handling.md, "Error handling": 503 while the
		// server starts or stops, its queue is full, or a coordinator
		// cannot reach a DB-Server; documents.md lists 503 for this call.
		{name: "503 service unavailable", h: arangoErr(503, 503, "service unavailable")},
		{name: "503 cluster backend unavailable", h: arangoErr(503, 1478, "A cluster backend which was required for the operation could not be reached")},
		{name: "503 without a body", h: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }},
		{name: "502 from a proxy, in HTML", h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		}},
		{name: "500 internal error", h: arangoErr(500, 4, "internal error")},
		// documents.md: 403 with error 1004 when the write concern cannot
		// be met.
		{name: "403 write concern not met", h: arangoErr(403, 1004, "write concern not fulfilled")},
		{name: "per-document read-only", h: perDoc(1004, "read only")},
		{name: "per-document cluster timeout", h: perDoc(1457, "timeout in cluster operation")},
		{name: "connection dropped", h: func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{name: "answer cut short", h: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "200")
			w.WriteHeader(202)
			_, _ = io.WriteString(w, `[{"_id":"candles/c-1",`)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open(WithConflictRetries(0, 0))
			f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
			f.handle("POST /_db/testdb/_api/document/candles", tt.h)
			res, err := s.Upsert(t.Context(), "candles", docs(
				`{"_key":"c-1","symbol":"BTCUSDT","time":1}`, `{"_key":"c-2","symbol":"BTCUSDT","time":2}`))
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Upsert error = %v, want ErrUnavailable", err)
			}
			if res != nil {
				t.Errorf("Upsert results = %v, want none with the error", res)
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		f := newFake(t)
		s := f.open()
		f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
		f.handle("POST /_db/testdb/_api/document/candles", reply(202, `[{"_key":"c-1"}]`))
		if _, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-1"}`)); err != nil {
			t.Fatalf("Upsert: unexpected error before the outage: %v", err)
		}
		f.srv.Close()
		_, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-1"}`))
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Upsert with the server gone: %v, want ErrUnavailable", err)
		}
	})
}

func TestUpsertPermanentFailures(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.HandlerFunc
	}{
		// documents.md: 400 when the body is not an array of documents.
		{name: "400 bad request", h: arangoErr(400, 600, "invalid JSON")},
		{name: "401 unauthorized", h: arangoErr(401, 401, "not authorized to execute this request")},
		{name: "403 forbidden", h: arangoErr(403, 11, "forbidden")},
		{name: "a result per document missing", h: reply(202, `[]`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
			f.handle("POST /_db/testdb/_api/document/candles", tt.h)
			_, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-1"}`))
			if err == nil || errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Upsert error = %v, want an error that is not ErrUnavailable", err)
			}
		})
	}
}

func TestUpsertResendsWriteWriteConflicts(t *testing.T) {
	batch := docs(`{"_key":"c-1","v":1}`, `{"_key":"c-2","v":1}`, `{"_key":"c-1","v":2}`)
	conflict := reply(202, `[{"_id":"candles/c-1","_key":"c-1","_rev":"_a"},{"error":true,"errorNum":1200,"errorMessage":"write-write conflict"},{"_id":"candles/c-1","_key":"c-1","_rev":"_b"}]`)
	lockTimeout := reply(202, `[{"error":true,"errorNum":18,"errorMessage":"timeout waiting to lock key"},{"_key":"c-2"},{"_key":"c-1"}]`)
	ok := reply(202, `[{"_key":"c-1"},{"_key":"c-2"},{"_key":"c-1"}]`)

	t.Run("resolved", func(t *testing.T) {
		f := newFake(t)
		s := f.open(WithConflictRetries(3, time.Millisecond))
		f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
		// A conflict may also fail the whole request (409, error 1200).
		f.handle("POST /_db/testdb/_api/document/candles", sequence(conflict, arangoErr(409, 1200, "write-write conflict"), lockTimeout, ok))
		res, err := s.Upsert(t.Context(), "candles", batch)
		if err != nil {
			t.Fatalf("Upsert: %v", err)
		}
		for i, r := range res {
			if r.Err != nil {
				t.Errorf("result %d: %v, want stored", i, r.Err)
			}
		}
		reqs := f.requests()
		if len(reqs) != 5 {
			t.Fatalf("requests %v, want a lookup and four inserts", f.lines())
		}
		// The whole batch is resent, so c-1 still ends with its last version.
		for _, r := range reqs[1:] {
			checkJSON(t, "resent body", r.Body, `[{"_key":"c-1","v":1},{"_key":"c-2","v":1},{"_key":"c-1","v":2}]`)
		}
	})
	t.Run("persisting", func(t *testing.T) {
		f := newFake(t)
		s := f.open(WithConflictRetries(2, time.Millisecond))
		f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
		f.handle("POST /_db/testdb/_api/document/candles", conflict)
		_, err := s.Upsert(t.Context(), "candles", batch)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Upsert with conflicts that persist: %v, want ErrUnavailable", err)
		}
		if n := len(f.requests()); n != 1+3 {
			t.Errorf("%d requests, want a lookup and 3 tries", n)
		}
	})
}

func TestUpsertCreatesMissingCollection(t *testing.T) {
	// collections.md: an unknown collection is 404, error 1203.
	missing := arangoErr(404, 1203, "collection or view not found")
	collection := reply(200, `{"error":false,"code":200,"id":"9","name":"candles","type":2,"status":3}`)
	index := reply(201, `{"error":false,"code":201,"id":"candles/1","type":"persistent","fields":["symbol","time"],"isNewlyCreated":true}`)
	stored := reply(202, `[{"_id":"candles/c-1","_key":"c-1","_rev":"_x"}]`)

	t.Run("unknown at lookup", func(t *testing.T) {
		f := newFake(t)
		s := f.open()
		f.handle("GET /_db/testdb/_api/collection/candles", missing)
		f.handle("POST /_db/testdb/_api/collection", collection)
		f.handle("POST /_db/testdb/_api/index", index)
		f.handle("POST /_db/testdb/_api/document/candles", stored)
		res, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-1","symbol":"BTCUSDT","time":1}`))
		if err != nil || res[0].Err != nil {
			t.Fatalf("Upsert = %v, %v; want stored", res, err)
		}
		checkLines(t, f, "GET /_db/testdb/_api/collection/candles", "POST /_db/testdb/_api/collection",
			"POST /_db/testdb/_api/index", "POST /_db/testdb/_api/document/candles")
		checkJSON(t, "create collection body", f.requests()[1].Body, `{"name":"candles","type":2}`)
		checkJSON(t, "create index body", f.requests()[2].Body, `{"type":"persistent","fields":["symbol","time"],"unique":false}`)
	})
	t.Run("dropped after lookup", func(t *testing.T) {
		f := newFake(t)
		s := f.open()
		f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
		f.handle("POST /_db/testdb/_api/collection", collection)
		f.handle("POST /_db/testdb/_api/index", index)
		f.handle("POST /_db/testdb/_api/document/candles", sequence(missing, stored))
		res, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-1","symbol":"BTCUSDT","time":1}`))
		if err != nil || res[0].Err != nil {
			t.Fatalf("Upsert = %v, %v; want stored", res, err)
		}
		checkLines(t, f, "GET /_db/testdb/_api/collection/candles", "POST /_db/testdb/_api/document/candles",
			"POST /_db/testdb/_api/collection", "POST /_db/testdb/_api/index", "POST /_db/testdb/_api/document/candles")
	})
	t.Run("still missing", func(t *testing.T) {
		f := newFake(t)
		s := f.open()
		f.handle("GET /_db/testdb/_api/collection/candles", candlesInfo)
		f.handle("POST /_db/testdb/_api/collection", collection)
		f.handle("POST /_db/testdb/_api/index", index)
		f.handle("POST /_db/testdb/_api/document/candles", missing)
		if _, err := s.Upsert(t.Context(), "candles", docs(`{"_key":"c-1"}`)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Upsert when the collection stays missing: %v, want ErrNotFound after one retry", err)
		}
		if n := strings.Count(strings.Join(f.lines(), "\n"), "POST /_db/testdb/_api/document/candles"); n != 2 {
			t.Errorf("%d inserts, want 2 (one retry)", n)
		}
	})
}
