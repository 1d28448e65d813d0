package arango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

// recordJSON is a stored record as AQL returns it, with ArangoDB's _id and
// _rev, which the adapter ignores.
func recordJSON(key string, rev int64, status, body string) string {
	return fmt.Sprintf(`{"_key":%q,"_id":"workflows/%s","_rev":"_r%d","rev":%d,"status":%q,"symbol":"BTCUSDT","created":1722470400000,"updated":%d,"body":%s}`,
		key, key, rev, rev, status, fixedNow.UnixMilli(), body)
}

// handleRecordsSetup answers the creation of the records collection and its
// two indexes (collections.md, indexes/persistent.md).
func handleRecordsSetup(f *fakeArango) {
	f.handle("POST /_db/testdb/_api/collection", reply(200, `{"error":false,"code":200,"name":"workflows","type":2,"status":3}`))
	f.handle("POST /_db/testdb/_api/index", reply(201, `{"error":false,"code":201,"id":"workflows/1","type":"persistent","isNewlyCreated":true}`))
}

func TestCreateRecord(t *testing.T) {
	f := newFake(t)
	s := f.open()
	handleRecordsSetup(f)
	// documents.md, "Create a document": 202 with _id, _key and _rev; 409
	// with error 1210 when the key is taken.
	f.handle("POST /_db/testdb/_api/document/workflows", sequence(
		reply(202, `{"_id":"workflows/wf-1","_key":"wf-1","_rev":"_iB1--_a---"}`),
		arangoErr(409, 1210, "unique constraint violated - in index primary of type primary over '_key'; conflicting key: wf-1"),
	))
	in := store.Record{Key: "wf-1", Status: "pending", Symbol: "BTCUSDT", Body: json.RawMessage(`{"step":1}`)}
	got, err := s.CreateRecord(t.Context(), "workflows", in)
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	want := in
	want.Rev, want.Created, want.Updated = 1, fixedNow, fixedNow
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateRecord returned (-want +got):\n%s", diff)
	}
	checkLines(t, f, "POST /_db/testdb/_api/collection", "POST /_db/testdb/_api/index", "POST /_db/testdb/_api/index",
		"POST /_db/testdb/_api/document/workflows")
	checkJSON(t, "record document", f.requests()[3].Body,
		`{"_key":"wf-1","rev":1,"status":"pending","symbol":"BTCUSDT","created":1722470400123,"updated":1722470400123,"body":{"step":1}}`)
	if q := f.requests()[3].Query; len(q) != 0 {
		t.Errorf("create query %v, want none (overwriteMode conflict, the default)", q)
	}

	// The collection is set up once per Store.
	f.reset()
	if _, err := s.CreateRecord(t.Context(), "workflows", in); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateRecord of a taken key: %v, want ErrExists", err)
	}
	checkLines(t, f, "POST /_db/testdb/_api/document/workflows")

	f.reset()
	if _, err := s.CreateRecord(t.Context(), "workflows", store.Record{Key: "bad key"}); err == nil {
		t.Error("CreateRecord with a key ArangoDB does not allow: no error")
	}
	if _, err := s.CreateRecord(t.Context(), "workflows", store.Record{Key: "k", Body: json.RawMessage(`{`)}); err == nil {
		t.Error("CreateRecord with a body that is not JSON: no error")
	}
	checkLines(t, f)
}

func TestCreateRecordWithoutBodyStoresNull(t *testing.T) {
	f := newFake(t)
	s := f.open()
	handleRecordsSetup(f)
	f.handle("POST /_db/testdb/_api/document/workflows", reply(202, `{"_id":"workflows/wf-2","_key":"wf-2","_rev":"_x"}`))
	if _, err := s.CreateRecord(t.Context(), "workflows", store.Record{Key: "wf-2", Status: "done"}); err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	reqs := f.requests()
	checkJSON(t, "record document", reqs[len(reqs)-1].Body,
		`{"_key":"wf-2","rev":1,"status":"done","symbol":"","created":1722470400123,"updated":1722470400123,"body":null}`)
}

func TestGetRecord(t *testing.T) {
	f := newFake(t)
	s := f.open()
	f.handle("POST /_db/testdb/_api/cursor", func(w http.ResponseWriter, r *http.Request) {
		var cr cursorRequest
		if err := json.NewDecoder(r.Body).Decode(&cr); err != nil {
			t.Error(err)
		}
		if cr.Query != getRecordQuery {
			t.Errorf("query %q, want %q", cr.Query, getRecordQuery)
		}
		switch cr.BindVars["key"] {
		case "wf-1":
			reply(201, cursorBody(201, "", false, recordJSON("wf-1", 3, "running", `{"step":3}`)))(w, r)
		case "wf-null":
			reply(201, cursorBody(201, "", false, recordJSON("wf-null", 1, "done", `null`)))(w, r)
		default:
			reply(201, cursorBody(201, "", false))(w, r)
		}
	})
	got, err := s.GetRecord(t.Context(), "workflows", "wf-1")
	if err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	want := store.Record{Key: "wf-1", Rev: 3, Status: "running", Symbol: "BTCUSDT",
		Created: fixedNow.Truncate(time.Second), Updated: fixedNow, Body: json.RawMessage(`{"step":3}`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetRecord (-want +got):\n%s", diff)
	}
	if got, err := s.GetRecord(t.Context(), "workflows", "wf-null"); err != nil || got.Body != nil {
		t.Errorf("GetRecord of a record without body = %s, %v; want a nil Body", got.Body, err)
	}
	if _, err := s.GetRecord(t.Context(), "workflows", "wf-404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecord of a missing key: %v, want ErrNotFound", err)
	}
}

// recordServer answers the conditional write with result and the read that
// follows an empty result with current (no document when empty).
func recordServer(t *testing.T, f *fakeArango, result http.HandlerFunc, current string) {
	f.handle("POST /_db/testdb/_api/cursor", func(w http.ResponseWriter, r *http.Request) {
		var cr cursorRequest
		if err := json.NewDecoder(r.Body).Decode(&cr); err != nil {
			t.Error(err)
		}
		switch cr.Query {
		case updateRecordQuery, deleteRecordQuery:
			result(w, r)
		case getRecordQuery:
			if current == "" {
				reply(201, cursorBody(201, "", false))(w, r)
			} else {
				reply(201, cursorBody(201, "", false, current))(w, r)
			}
		default:
			t.Errorf("unexpected query %q", cr.Query)
		}
	})
}

func TestUpdateRecord(t *testing.T) {
	in := store.Record{Key: "wf-1", Rev: 2, Status: "running", Symbol: "BTCUSDT", Body: json.RawMessage(`{"step":3}`)}
	empty := reply(201, cursorBody(201, "", false))
	for _, tt := range []struct {
		name    string
		result  http.HandlerFunc
		current string
		want    error
		queries int
	}{
		{name: "current rev", result: reply(201, cursorBody(201, "", false, recordJSON("wf-1", 3, "running", `{"step":3}`))), queries: 1},
		{name: "stale rev", result: empty, current: recordJSON("wf-1", 5, "done", `{}`), want: store.ErrConflict, queries: 2},
		{name: "missing", result: empty, want: store.ErrNotFound, queries: 2},
		// A concurrent writer of the same document: the query fails with a
		// write-write conflict, 409 error 1200.
		{name: "write-write conflict", result: arangoErr(409, 1200, "AQL: write-write conflict"), want: store.ErrConflict, queries: 1},
		{name: "collection missing", result: arangoErr(404, 1203, "AQL: collection or view not found: workflows"), want: store.ErrNotFound, queries: 1},
		{name: "server down", result: arangoErr(503, 503, "service unavailable"), want: store.ErrUnavailable, queries: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			recordServer(t, f, tt.result, tt.current)
			got, err := s.UpdateRecord(t.Context(), "workflows", in)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("UpdateRecord error = %v, want %v", err, tt.want)
			}
			if len(f.requests()) != tt.queries {
				t.Errorf("requests %v, want %d queries", f.lines(), tt.queries)
			}
			cr := decodeCursorRequest(t, f.requests()[0])
			wantBind := map[string]any{"@col": "workflows", "key": "wf-1", "rev": 2.0, "status": "running",
				"symbol": "BTCUSDT", "now": float64(fixedNow.UnixMilli()), "body": map[string]any{"step": 3.0}}
			if diff := cmp.Diff(wantBind, cr.BindVars); diff != "" {
				t.Errorf("bindVars (-want +got):\n%s", diff)
			}
			if tt.want != nil {
				return
			}
			want := in
			want.Rev, want.Created, want.Updated = 3, fixedNow.Truncate(time.Second), fixedNow
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("UpdateRecord returned (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteRecord(t *testing.T) {
	empty := reply(201, cursorBody(201, "", false))
	for _, tt := range []struct {
		name    string
		result  http.HandlerFunc
		current string
		want    error
	}{
		{name: "current rev", result: reply(201, cursorBody(201, "", false, `"wf-1"`))},
		{name: "stale rev", result: empty, current: recordJSON("wf-1", 5, "done", `{}`), want: store.ErrConflict},
		{name: "missing", result: empty, want: store.ErrNotFound},
		{name: "write-write conflict", result: arangoErr(409, 1200, "AQL: write-write conflict"), want: store.ErrConflict},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			recordServer(t, f, tt.result, tt.current)
			err := s.DeleteRecord(t.Context(), "workflows", "wf-1", 4)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("DeleteRecord error = %v, want %v", err, tt.want)
			}
			cr := decodeCursorRequest(t, f.requests()[0])
			if cr.Query != deleteRecordQuery {
				t.Errorf("query %q, want %q", cr.Query, deleteRecordQuery)
			}
			if diff := cmp.Diff(map[string]any{"@col": "workflows", "key": "wf-1", "rev": 4.0}, cr.BindVars); diff != "" {
				t.Errorf("bindVars (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListRecords(t *testing.T) {
	for _, tt := range []struct {
		name      string
		q         store.RecordQuery
		wantQuery string
		wantBind  map[string]any
	}{
		{
			name:      "everything, default limit",
			wantQuery: "FOR r IN @@col FILTER r._key > @after SORT r._key LIMIT @limit RETURN r",
			wantBind:  map[string]any{"@col": "workflows", "after": "", "limit": 100.0},
		},
		{
			name:      "statuses, symbol, page",
			q:         store.RecordQuery{Status: []string{"pending", "running"}, Symbol: "BTCUSDT", After: "wf-05", Limit: 2},
			wantQuery: "FOR r IN @@col FILTER r._key > @after FILTER r.status IN @status FILTER r.symbol == @symbol SORT r._key LIMIT @limit RETURN r",
			wantBind: map[string]any{"@col": "workflows", "after": "wf-05", "limit": 2.0,
				"status": []any{"pending", "running"}, "symbol": "BTCUSDT"},
		},
		{
			name:      "negative limit",
			q:         store.RecordQuery{Limit: -1},
			wantQuery: "FOR r IN @@col FILTER r._key > @after SORT r._key LIMIT @limit RETURN r",
			wantBind:  map[string]any{"@col": "workflows", "after": "", "limit": 100.0},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("POST /_db/testdb/_api/cursor", reply(201, cursorBody(201, "", false,
				recordJSON("wf-06", 1, "pending", `{"n":6}`), recordJSON("wf-07", 2, "running", `{"n":7}`))))
			got, err := s.ListRecords(t.Context(), "workflows", tt.q)
			if err != nil {
				t.Fatalf("ListRecords: %v", err)
			}
			var keys []string
			for _, r := range got {
				keys = append(keys, fmt.Sprintf("%s@%d", r.Key, r.Rev))
			}
			if diff := cmp.Diff([]string{"wf-06@1", "wf-07@2"}, keys); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			cr := decodeCursorRequest(t, f.requests()[0])
			if got := strings.Join(strings.Fields(cr.Query), " "); got != tt.wantQuery {
				t.Errorf("query\n got %q\nwant %q", got, tt.wantQuery)
			}
			if diff := cmp.Diff(tt.wantBind, cr.BindVars); diff != "" {
				t.Errorf("bindVars (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListRecordsMissingCollection(t *testing.T) {
	f := newFake(t)
	s := f.open()
	f.handle("POST /_db/testdb/_api/cursor", arangoErr(404, 1203, "AQL: collection or view not found: nosuchrecords (while parsing)"))
	got, err := s.ListRecords(t.Context(), "nosuchrecords", store.RecordQuery{})
	if err != nil || len(got) != 0 {
		t.Errorf("ListRecords of a collection never written = %v, %v; want nothing and no error", got, err)
	}
}
