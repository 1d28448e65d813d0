package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// manualClock is a clock a test moves.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimitPerClient(t *testing.T) {
	clock := &manualClock{t: time.Now()}
	srv, _ := newProtectedServer(t, people, Limits{Rate: 0.5, Burst: 2}, clock.now)
	get := func(who string) (int, string) {
		resp, _ := do(t, "GET", srv.URL+"/api/v1/workflows", "", bearerOf(who)...)
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for i := range 2 {
		if code, _ := get("viewer"); code != 200 {
			t.Fatalf("request %d within the burst: %d", i, code)
		}
	}
	resp, body := do(t, "GET", srv.URL+"/api/v1/workflows", "", bearerOf("viewer")...)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("over the rate: %d Retry-After %q, want 429 and 2 (one request per 2s)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	problemOf(t, resp.Header.Get("Content-Type"), body)
	// Another client has its own budget.
	if code, _ := get("operator"); code != 200 {
		t.Errorf("another client: %d", code)
	}
	// A refused request costs nothing: after the wait it was told, one more.
	clock.add(2 * time.Second)
	if code, after := get("viewer"); code != 200 {
		t.Errorf("after Retry-After: %d (Retry-After %s)", code, after)
	}
	if code, _ := get("viewer"); code != 429 {
		t.Errorf("the next at once: %d, want 429", code)
	}
}

// Without a login, clients are told apart by their address.
func TestRateLimitByAddressWithoutLogin(t *testing.T) {
	clock := &manualClock{t: time.Now()}
	srv, _ := newProtectedServer(t, nil, Limits{Rate: 1, Burst: 1}, clock.now)
	if resp, _ := do(t, "GET", srv.URL+"/api/v1/workflows", ""); resp.StatusCode != 200 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL+"/api/v1/workflows", ""); resp.StatusCode != 429 {
		t.Fatalf("second at once: %d, want 429", resp.StatusCode)
	}
}

// openEvents opens a workflow's event stream and returns its event names
// and a function closing it; it fails the test unless the stream opened.
func openEvents(t *testing.T, url, who string) (<-chan string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+who)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		resp.Body.Close()
		t.Fatalf("events: %d", resp.StatusCode)
	}
	events := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- name
			}
		}
	}()
	if e := <-events; e != "workflow" {
		t.Fatalf("first event %q", e)
	}
	return events, func() { cancel(); resp.Body.Close(); <-done }
}

func TestEventStreamsPerClient(t *testing.T) {
	srv, _ := newProtectedServer(t, people, Limits{Streams: 2}, nil)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, bearerOf("operator")...)
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var wf flow.Workflow
	if err := json.Unmarshal(body, &wf); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/api/v1/workflows/" + wf.ID + "/events"
	_, close1 := openEvents(t, url, "viewer")
	_, close2 := openEvents(t, url, "viewer")
	defer close2()
	resp, body = do(t, "GET", url, "", bearerOf("viewer")...)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third stream: %d %s, want 429 with Retry-After", resp.StatusCode, body)
	}
	_, close3 := openEvents(t, url, "operator") // another client
	defer close3()
	close1()
	// Once the server saw the first one go, there is room again.
	for {
		resp, _ := http.NewRequest("GET", url, nil)
		resp.Header.Set("Authorization", "Bearer viewer")
		ctx, cancel := context.WithCancel(context.Background())
		r, err := http.DefaultClient.Do(resp.WithContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		code := r.StatusCode
		cancel()
		r.Body.Close()
		if code == 200 {
			break
		}
		if code != 429 {
			t.Fatalf("after closing one: %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An event stream outlives the server's read and write timeouts, which are
// for requests.
func TestEventStreamOutlivesTimeouts(t *testing.T) {
	_, repo, eng := testEngine(t)
	r := chi.NewRouter()
	New(eng, repo, nil, zerolog.Nop()).Mount(r)
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 50*time.Millisecond, 50*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good)
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var wf flow.Workflow
	if err := json.Unmarshal(body, &wf); err != nil {
		t.Fatal(err)
	}
	events, closeStream := openEvents(t, srv.URL+"/api/v1/workflows/"+wf.ID+"/events", "")
	defer closeStream()
	time.Sleep(200 * time.Millisecond) // past both timeouts
	if _, err := eng.Stop(context.Background(), wf.ID); err != nil {
		t.Fatal(err)
	}
	if e, ok := <-events; !ok || e != "workflow" {
		t.Fatalf("after the timeouts: event %q (stream open: %v), want the stop's workflow change", e, ok)
	}
}
