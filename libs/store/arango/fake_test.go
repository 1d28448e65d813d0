package arango

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

// The fake answers with the shapes of ArangoDB's HTTP API as its
// documentation gives them (github.com/arangodb/docs-hugo, folder
// site/content/3.12/develop/http-api/). Each test cites the page of the
// shapes it uses. Every error body is ArangoDB's error object
// {"error":true,"code":<HTTP status>,"errorNum":<ArangoDB error>,"errorMessage":...}
// (the schema of the 400/403/409 answers in graphs/named-graphs.md, and the
// cursor example "Do not do this because hasMore now has a value of false"
// in queries/aql-queries.md); general-request-handling.md, "Error
// handling", says when a server answers 503. Requests must carry a
// Content-Length (same page, "Protocol"): the fake records it.

const (
	testDB       = "testdb"
	testUser     = "root"
	testPassword = "s3cret"
	// basicAuth is "Basic " + base64("root:s3cret").
	basicAuth = "Basic cm9vdDpzM2NyZXQ="
)

// request is what the fake received.
type request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Length is the Content-Length sent, -1 when unknown (chunked).
	Length int64
}

// String is the request line the tests compare: method and path.
func (r request) String() string { return r.Method + " " + r.Path }

// fakeArango is an httptest server that answers routes the test sets,
// records every request, and fails the test on a request it has no route
// for.
type fakeArango struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []request
	routes map[string]http.HandlerFunc
	events []string // requests and test callbacks, in order
}

// newFake starts a fake ArangoDB that knows the database testdb
// (databases.md, "Get information about the current database": 200 with a
// result object).
func newFake(t *testing.T) *fakeArango {
	t.Helper()
	f := &fakeArango{t: t, routes: make(map[string]http.HandlerFunc)}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	f.handle("GET /_db/testdb/_api/database/current", reply(200,
		`{"error":false,"code":200,"result":{"name":"testdb","id":"4711","isSystem":false,"path":"","sharding":"","replicationFactor":1,"writeConcern":1}}`))
	return f
}

// handle sets the handler of "METHOD /path".
func (f *fakeArango) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

// sequence answers a route with each handler in turn, repeating the last.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(n, len(hs)-1)]
		n++
		mu.Unlock()
		h(w, r)
	}
}

// reply answers with a status and a JSON body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// arangoErr answers with ArangoDB's error object.
func arangoErr(status, errorNum int, msg string) http.HandlerFunc {
	b, _ := json.Marshal(map[string]any{"error": true, "code": status, "errorNum": errorNum, "errorMessage": msg})
	return reply(status, string(b))
}

func (f *fakeArango) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	req := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Length: r.ContentLength}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.events = append(f.events, req.String())
	h, ok := f.routes[req.String()]
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("fake arangodb: unexpected request %s?%s %s", req, r.URL.RawQuery, body)
		arangoErr(404, 404, "unknown path")(w, r)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(w, r)
}

// requests returns what the fake received.
func (f *fakeArango) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// lines returns the request lines received, "METHOD /path".
func (f *fakeArango) lines() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.String())
	}
	return out
}

// note adds a test event to the request log.
func (f *fakeArango) note(event string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, event)
}

func (f *fakeArango) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// reset forgets the requests received so far (those of Open).
func (f *fakeArango) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs, f.events = nil, nil
}

func (f *fakeArango) config() store.Config {
	return store.Config{ArangoURL: f.srv.URL, ArangoDB: testDB, ArangoUser: testUser, ArangoPassword: testPassword}
}

// open opens a Store on the fake, with a fixed clock, and forgets Open's
// requests.
func (f *fakeArango) open(opts ...Option) *Store {
	f.t.Helper()
	opts = append([]Option{WithClock(fixedClock), WithRequestTimeout(5 * time.Second)}, opts...)
	s, err := Open(context.Background(), f.config(), opts...)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.t.Cleanup(func() {
		if err := s.Close(); err != nil {
			f.t.Errorf("Close: %v", err)
		}
	})
	f.reset()
	return s
}

// fixedNow is the test clock's time: 2024-08-01T00:00:00.123Z.
var fixedNow = time.UnixMilli(1722470400123).UTC()

func fixedClock() time.Time { return fixedNow.Add(456 * time.Microsecond) }

// jsonOf decodes JSON for comparison by meaning.
func jsonOf(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// checkJSON fails the test unless got means the same as want.
func checkJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if diff := cmp.Diff(jsonOf(t, []byte(want)), jsonOf(t, got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// checkLines fails the test unless the fake received exactly these request
// lines.
func checkLines(t *testing.T, f *fakeArango, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, f.lines()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// cursorBody is a cursor answer (queries/aql-queries.md, "Create a cursor"
// 201 and "Read the next batch from a cursor" 200): result, hasMore, and
// the cursor id while hasMore is true.
func cursorBody(code int, id string, hasMore bool, docs ...string) string {
	b := `{"error":false,"code":` + itoa(code) + `,"result":[` + strings.Join(docs, ",") + `],"hasMore":` + btoa(hasMore)
	if id != "" {
		b += `,"id":"` + id + `"`
	}
	return b + `,"cached":false,"extra":{"warnings":[],"stats":{}}}`
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func btoa(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// cursorRequest is the body of POST /_api/cursor.
type cursorRequest struct {
	Query     string         `json:"query"`
	BindVars  map[string]any `json:"bindVars"`
	BatchSize int            `json:"batchSize"`
	Options   struct {
		Stream bool `json:"stream"`
	} `json:"options"`
}

func decodeCursorRequest(t *testing.T, r request) cursorRequest {
	t.Helper()
	var cr cursorRequest
	if err := json.Unmarshal(r.Body, &cr); err != nil {
		t.Fatalf("cursor request body %s: %v", r.Body, err)
	}
	return cr
}
