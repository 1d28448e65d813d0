package arango

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/store"
)

// closedURL returns the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func TestOpenExistingDatabase(t *testing.T) {
	f := newFake(t)
	s, err := Open(t.Context(), f.config())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	checkLines(t, f, "GET /_db/testdb/_api/database/current")
	r := f.requests()[0]
	if got := r.Header.Get("Authorization"); got != basicAuth {
		t.Errorf("Authorization = %q, want %q", got, basicAuth)
	}
	if got := r.Header.Get("x-arango-driver"); !strings.HasPrefix(got, "go-driver-v2/") {
		t.Errorf("x-arango-driver = %q, want go-driver-v2/...", got)
	}
}

func TestOpenCreatesDatabase(t *testing.T) {
	for _, tt := range []struct {
		name   string
		create http.HandlerFunc
	}{
		// databases.md, "Create a database": 201 with result true.
		{name: "created", create: reply(201, `{"error":false,"code":201,"result":true}`)},
		// Same page: 409 when a database of that name exists (1207
		// duplicate name): another process created it first.
		{name: "created concurrently", create: arangoErr(409, 1207, "duplicate database name 'testdb'")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			// databases.md: a database that does not exist is 404, error 1228.
			f.handle("GET /_db/testdb/_api/database/current", arangoErr(404, 1228, "database not found"))
			f.handle("POST /_db/_system/_api/database", tt.create)
			s, err := Open(t.Context(), f.config())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			checkLines(t, f, "GET /_db/testdb/_api/database/current", "POST /_db/_system/_api/database")
			checkJSON(t, "create database body", f.requests()[1].Body, `{"name":"testdb"}`)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	pemFile := filepath.Join(t.TempDir(), "not-a-cert.pem")
	if err := os.WriteFile(pemFile, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFake(t)
	forbidden := newFake(t)
	forbidden.handle("GET /_db/testdb/_api/database/current", arangoErr(401, 401, "not authorized to execute this request"))
	for _, tt := range []struct {
		name        string
		cfg         store.Config
		opts        []Option
		unavailable bool
	}{
		{name: "no endpoint", cfg: store.Config{ArangoURL: " , ", ArangoDB: testDB}},
		{name: "not a URL", cfg: store.Config{ArangoURL: "localhost:8529", ArangoDB: testDB}},
		{name: "mixed schemes", cfg: store.Config{ArangoURL: "http://a:8529,https://b:8529", ArangoDB: testDB}},
		{name: "bad database name", cfg: store.Config{ArangoURL: f.srv.URL, ArangoDB: "../_system"}},
		{name: "missing CA file", cfg: store.Config{ArangoURL: f.srv.URL, ArangoDB: testDB, ArangoCAFile: "/nonexistent/ca.pem"}},
		{name: "CA file without certificate", cfg: store.Config{ArangoURL: f.srv.URL, ArangoDB: testDB, ArangoCAFile: pemFile}},
		{name: "zero timeout", cfg: f.config(), opts: []Option{WithRequestTimeout(0)}},
		{name: "zero batch size", cfg: f.config(), opts: []Option{WithBatchSize(0)}},
		{name: "wrong password", cfg: forbidden.config()},
		{name: "nothing listening", cfg: store.Config{ArangoURL: closedURL(t), ArangoDB: testDB}, unavailable: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.cfg, tt.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Open: no error")
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tt.unavailable {
				t.Errorf("Open error %q: errors.Is(ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
		})
	}
}

func TestOpenTLS(t *testing.T) {
	f := newFake(t)
	tlsSrv := httptest.NewUnstartedServer(f)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	cfg := f.config()
	cfg.ArangoURL = tlsSrv.URL

	if s, err := Open(t.Context(), cfg); err == nil {
		s.Close()
		t.Fatal("Open of an https endpoint with an unknown CA: no error")
	} else if errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open with an untrusted certificate: %v; an untrusted certificate does not pass by itself", err)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.ArangoCAFile = ca
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open with ARANGO_CA_FILE: %v", err)
	}
	defer s.Close()
}

func TestFailover(t *testing.T) {
	f := newFake(t)
	cfg := f.config()
	cfg.ArangoURL = closedURL(t) + ", " + f.srv.URL
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open with the first endpoint down: %v", err)
	}
	defer s.Close()
	// collections.md, "Get the document count of a collection".
	f.handle("GET /_db/testdb/_api/collection/candles/count", reply(200, `{"error":false,"code":200,"name":"candles","type":2,"count":3}`))
	for range 2 {
		if _, err := s.Count(t.Context(), "candles"); err != nil {
			t.Fatalf("Count: %v", err)
		}
	}
	checkLines(t, f, "GET /_db/testdb/_api/database/current",
		"GET /_db/testdb/_api/collection/candles/count", "GET /_db/testdb/_api/collection/candles/count")
	if got, want := s.tr.eps.list[s.tr.eps.cur], f.srv.URL; got != want {
		t.Errorf("current endpoint after the failover = %s, want %s: the dead endpoint is skipped", got, want)
	}
}

func TestRoundRobin(t *testing.T) {
	a, b := newFake(t), newFake(t)
	cfg := a.config()
	cfg.ArangoURL = a.srv.URL + "," + b.srv.URL
	s, err := Open(t.Context(), cfg, WithRoundRobin())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for _, f := range []*fakeArango{a, b} {
		f.handle("GET /_db/testdb/_api/collection/candles/count", reply(200, `{"error":false,"code":200,"count":3}`))
	}
	for range 3 {
		if _, err := s.Count(t.Context(), "candles"); err != nil {
			t.Fatalf("Count: %v", err)
		}
	}
	// Open, then three counts, alternating.
	checkLines(t, a, "GET /_db/testdb/_api/database/current", "GET /_db/testdb/_api/collection/candles/count")
	checkLines(t, b, "GET /_db/testdb/_api/collection/candles/count", "GET /_db/testdb/_api/collection/candles/count")
}

func TestRequestTimeout(t *testing.T) {
	f := newFake(t)
	s := f.open(WithRequestTimeout(100 * time.Millisecond))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.handle("GET /_db/testdb/_api/collection/candles/count", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	_, err := s.Count(context.Background(), "candles")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Count against a hung server: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Count took %v, want about the 100ms request timeout", d)
	}
}

func TestCancelledContext(t *testing.T) {
	f := newFake(t)
	s := f.open()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Count(ctx, "candles")
	if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Count with a cancelled context: %v, want context.Canceled and not ErrUnavailable", err)
	}
}

func TestEnsureCollection(t *testing.T) {
	// collections.md, "Create a collection": 200 with the collection's
	// properties; 409 with error 1207 when the name is taken.
	created := reply(200, `{"error":false,"code":200,"id":"9","name":"candles","type":2,"status":3,"isSystem":false}`)
	taken := arangoErr(409, 1207, "duplicate name")
	// indexes/persistent.md, "Create a persistent index": 201 when created,
	// 200 when an equal index exists.
	indexNew := reply(201, `{"error":false,"code":201,"id":"candles/12","type":"persistent","fields":["symbol","time"],"unique":false,"sparse":false,"isNewlyCreated":true}`)
	indexOld := reply(200, `{"error":false,"code":200,"id":"candles/12","type":"persistent","fields":["symbol","time"],"unique":false,"sparse":false,"isNewlyCreated":false}`)
	for _, tt := range []struct {
		name            string
		c               store.Collection
		create, index   http.HandlerFunc
		wantCollection  string
		wantIndexBodies []string
	}{
		{
			name: "market data, new", c: store.MarketData("candles"), create: created, index: indexNew,
			wantCollection:  `{"name":"candles","type":2}`,
			wantIndexBodies: []string{`{"type":"persistent","fields":["symbol","time"],"unique":false}`},
		},
		{
			name: "market data, existing", c: store.MarketData("candles"), create: taken, index: indexOld,
			wantCollection:  `{"name":"candles","type":2}`,
			wantIndexBodies: []string{`{"type":"persistent","fields":["symbol","time"],"unique":false}`},
		},
		{
			name: "edges with a unique index", create: created, index: indexNew,
			c:               store.Collection{Name: "candles", Edge: true, Indexes: []store.Index{{Fields: []string{"pair"}, Unique: true}}},
			wantCollection:  `{"name":"candles","type":3}`,
			wantIndexBodies: []string{`{"type":"persistent","fields":["pair"],"unique":true}`},
		},
		{
			name: "records", c: recordsCollection("candles"), create: created, index: indexNew,
			wantCollection: `{"name":"candles","type":2}`,
			wantIndexBodies: []string{
				`{"type":"persistent","fields":["status"],"unique":false}`,
				`{"type":"persistent","fields":["symbol"],"unique":false}`,
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			s := f.open()
			f.handle("POST /_db/testdb/_api/collection", tt.create)
			f.handle("POST /_db/testdb/_api/index", tt.index)
			if err := s.EnsureCollection(t.Context(), tt.c); err != nil {
				t.Fatalf("EnsureCollection: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1+len(tt.wantIndexBodies) {
				t.Fatalf("requests %v, want a collection and %d index requests", f.lines(), len(tt.wantIndexBodies))
			}
			checkJSON(t, "create collection body", reqs[0].Body, tt.wantCollection)
			for i, want := range tt.wantIndexBodies {
				r := reqs[1+i]
				if r.String() != "POST /_db/testdb/_api/index" || r.Query.Get("collection") != "candles" {
					t.Errorf("index request %d = %s?%s, want POST /_db/testdb/_api/index?collection=candles", i, r, r.Query.Encode())
				}
				checkJSON(t, "create index body", r.Body, want)
			}
		})
	}
}

func TestBadNamesSendNothing(t *testing.T) {
	f := newFake(t)
	s := f.open()
	ctx := t.Context()
	for name, err := range map[string]error{
		"EnsureCollection": s.EnsureCollection(ctx, store.Collection{Name: "a/b"}),
		"Count":            func() error { _, err := s.Count(ctx, "../_system"); return err }(),
		"Upsert":           func() error { _, err := s.Upsert(ctx, "a b", nil); return err }(),
		"EnsureGraph":      s.EnsureGraph(ctx, store.Graph{Name: "g", VertexCollection: "v", EdgeCollection: "e?x=1"}),
		"GetRecord":        func() error { _, err := s.GetRecord(ctx, "", "k"); return err }(),
	} {
		if err == nil {
			t.Errorf("%s with a bad name: no error", name)
		}
	}
	checkLines(t, f)
}

func TestCount(t *testing.T) {
	f := newFake(t)
	s := f.open()
	// collections.md, "Get the document count of a collection": 200 with
	// the collection's properties and "count"; 404 for an unknown name.
	f.handle("GET /_db/testdb/_api/collection/candles/count", reply(200, `{"error":false,"code":200,"id":"9","name":"candles","type":2,"status":3,"count":1234}`))
	f.handle("GET /_db/testdb/_api/collection/missing/count", arangoErr(404, 1203, "collection or view not found"))
	n, err := s.Count(t.Context(), "candles")
	if err != nil || n != 1234 {
		t.Errorf("Count = %d, %v; want 1234", n, err)
	}
	if _, err := s.Count(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Count of a missing collection: %v, want ErrNotFound", err)
	}
}
