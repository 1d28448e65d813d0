package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// tokens is a TokenVerifier that knows its tokens by name: "refused" is an
// invalid token, "down" an issuer that does not answer.
type tokens map[string]auth.Principal

func (ts tokens) Verify(_ context.Context, raw string) (auth.Principal, error) {
	switch raw {
	case "down":
		return auth.Principal{}, errors.New("jwks: connection refused")
	}
	p, ok := ts[raw]
	if !ok {
		return auth.Principal{}, fmt.Errorf("%w: signature", auth.ErrInvalidToken)
	}
	return p, nil
}

var people = tokens{
	"viewer":    {Subject: "s-viewer", Username: "vera", Roles: []string{auth.RoleViewer}},
	"operator":  {Subject: "s-op", Username: "otto", Roles: []string{auth.RoleOperator}},
	"operator2": {Subject: "s-op2", Username: "olga", Roles: []string{auth.RoleOperator}},
	"admin":     {Subject: "s-admin", Username: "ada", Roles: []string{auth.RoleAdmin}},
	"norole":    {Subject: "s-none", Username: "nora", Roles: []string{"offline_access"}},
}

// newProtectedServer serves the API of an engine asking for tokens v knows,
// with limits l and the clock now (nil: time.Now).
func newProtectedServer(t *testing.T, v TokenVerifier, l Limits, now func() time.Time) (*httptest.Server, *flow.Engine) {
	t.Helper()
	_, repo, eng := testEngine(t)
	r := chi.NewRouter()
	New(eng, repo, now, zerolog.Nop()).Protect(v, l).Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, eng
}

func bearerOf(token string) []string { return []string{"Authorization", "Bearer " + token} }

// problemOf decodes a problem+json body, failing the test when it is not
// one.
func problemOf(t *testing.T, ct string, body []byte) map[string]any {
	t.Helper()
	var p map[string]any
	if ct != "application/problem+json" || json.Unmarshal(body, &p) != nil {
		t.Fatalf("not problem+json (%s): %s", ct, body)
	}
	return p
}

func TestUnauthenticated(t *testing.T) {
	srv, _ := newProtectedServer(t, people, Limits{}, nil)
	for _, tc := range []struct {
		name      string
		hdr       []string
		status    int
		challenge string // the WWW-Authenticate header's start
	}{
		{"no token", nil, 401, `Bearer realm="streamforge"`},
		{"another scheme", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, `Bearer realm="streamforge"`},
		{"an empty bearer", []string{"Authorization", "Bearer "}, 401, `Bearer realm="streamforge"`},
		{"a refused token", bearerOf("forged"), 401, `Bearer realm="streamforge", error="invalid_token"`},
		{"the issuer down", bearerOf("down"), 503, ""},
	} {
		for _, route := range []string{"GET /api/v1/workflows", "POST /api/v1/workflows", "GET /api/v1/workflows/wf-1",
			"POST /api/v1/workflows/wf-1/stop", "DELETE /api/v1/workflows/wf-1", "GET /api/v1/workflows/wf-1/events"} {
			t.Run(tc.name+" "+route, func(t *testing.T) {
				method, path, _ := strings.Cut(route, " ")
				resp, body := do(t, method, srv.URL+path, "", tc.hdr...)
				if resp.StatusCode != tc.status {
					t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
				}
				p := problemOf(t, resp.Header.Get("Content-Type"), body)
				if p["status"] != float64(tc.status) {
					t.Errorf("problem status %v", p["status"])
				}
				got := resp.Header.Get("WWW-Authenticate")
				if tc.challenge != "" && !strings.HasPrefix(got, tc.challenge) {
					t.Errorf("WWW-Authenticate: got %q, want it to start with %q", got, tc.challenge)
				}
				if tc.challenge == `Bearer realm="streamforge"` && strings.Contains(got, "error=") {
					t.Errorf("WWW-Authenticate: got %q, want no error without a token", got)
				}
			})
		}
	}
	// The document and the probes stay open.
	if resp, body := do(t, "GET", srv.URL+"/openapi.yaml", ""); resp.StatusCode != 200 {
		t.Errorf("/openapi.yaml without a token: %d %s", resp.StatusCode, body)
	}
}

func TestRoles(t *testing.T) {
	srv, _ := newProtectedServer(t, people, Limits{}, nil)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, bearerOf("operator")...)
	if resp.StatusCode != 202 {
		t.Fatalf("operator creates: %d %s", resp.StatusCode, body)
	}
	var wf flow.Workflow
	if err := json.Unmarshal(body, &wf); err != nil {
		t.Fatal(err)
	}
	id := wf.ID
	for _, tc := range []struct {
		who, method, path, body string
		status                  int
		detail                  string // in the 403 problem
	}{
		{"norole", "GET", "/api/v1/workflows", "", 403, "missing role streamforge-viewer"},
		{"norole", "GET", "/api/v1/workflows/" + id, "", 403, "missing role streamforge-viewer"},
		{"norole", "GET", "/api/v1/workflows/" + id + "/events", "", 403, "missing role streamforge-viewer"},
		{"viewer", "GET", "/api/v1/workflows", "", 200, ""},
		{"viewer", "GET", "/api/v1/workflows/" + id, "", 200, ""},
		{"viewer", "POST", "/api/v1/workflows", good, 403, "missing role streamforge-operator"},
		{"viewer", "POST", "/api/v1/workflows/" + id + "/stop", "", 403, "missing role streamforge-operator"},
		{"viewer", "DELETE", "/api/v1/workflows/" + id, "", 403, "missing role streamforge-operator"},
		{"operator2", "GET", "/api/v1/workflows/" + id, "", 200, ""},
		{"operator2", "POST", "/api/v1/workflows/" + id + "/stop", "", 403, "not the owner: workflow " + id + " is otto's"},
		{"operator2", "DELETE", "/api/v1/workflows/" + id, "", 403, "not the owner"},
		{"operator2", "POST", "/api/v1/workflows/wf-nope/stop", "", 404, ""},
		{"operator", "DELETE", "/api/v1/workflows/" + id, "", 409, ""}, // its own, but still running
		{"operator", "POST", "/api/v1/workflows/" + id + "/stop", "", 202, ""},
		{"admin", "POST", "/api/v1/workflows/" + id + "/stop", "", 202, ""},
	} {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL+tc.path, tc.body, bearerOf(tc.who)...)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 403 {
				p := problemOf(t, resp.Header.Get("Content-Type"), body)
				if d, _ := p["detail"].(string); !strings.HasPrefix(d, tc.detail) {
					t.Errorf("detail %q, want it to start with %q", d, tc.detail)
				}
			}
		})
	}
	// The owner and the audit trail are in the API.
	resp, body = do(t, "GET", srv.URL+"/api/v1/workflows/"+id, "", bearerOf("viewer")...)
	if resp.StatusCode != 200 {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.Owner == nil || *wf.Owner != (flow.Actor{Subject: "s-op", Username: "otto"}) {
		t.Errorf("owner: got %+v, want otto", wf.Owner)
	}
	var trail []string
	for _, e := range wf.Audit {
		trail = append(trail, e.Action+" by "+e.By.Username)
		if e.At.IsZero() {
			t.Errorf("audit entry %+v without a time", e)
		}
	}
	// The admin's stop of a stopping workflow changes nothing.
	if got, want := strings.Join(trail, ", "), "created by otto, stopped by otto"; got != want {
		t.Errorf("audit: got %q, want %q", got, want)
	}
}

// With AUTH_MODE=none everyone is the anonymous admin, and that is who the
// audit names.
func TestNoAuthIsAnonymousAdmin(t *testing.T) {
	srv, _ := newProtectedServer(t, nil, Limits{}, nil)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good)
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var wf flow.Workflow
	if err := json.Unmarshal(body, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.Owner == nil || wf.Owner.Subject != "anonymous" || len(wf.Audit) != 1 {
		t.Errorf("owner %+v audit %+v, want anonymous and one entry", wf.Owner, wf.Audit)
	}
}

// An Idempotency-Key is its caller's: another caller's same key with the
// same body creates its own workflow instead of getting the first one's.
func TestIdempotencyKeysPerCaller(t *testing.T) {
	srv, _ := newProtectedServer(t, people, Limits{}, nil)
	ids := map[string]string{}
	for _, who := range []string{"operator", "operator2", "operator"} {
		resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, append(bearerOf(who), "Idempotency-Key", "same")...)
		if resp.StatusCode != 202 && resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", who, resp.StatusCode, body)
		}
		var wf flow.Workflow
		if err := json.Unmarshal(body, &wf); err != nil {
			t.Fatal(err)
		}
		if prev, ok := ids[who]; ok && prev != wf.ID {
			t.Errorf("%s's retry: got %s, want its first %s", who, wf.ID, prev)
		}
		ids[who] = wf.ID
		if wf.Owner == nil || wf.Owner.Subject != people[who].Subject {
			t.Errorf("%s got a workflow of %+v", who, wf.Owner)
		}
	}
	if ids["operator"] == ids["operator2"] {
		t.Errorf("two callers with one key share workflow %s", ids["operator"])
	}
}

// TestEveryAPIRouteAsksForAToken walks the mounted routes: each under /api/
// answers 401 without a token, so a route added later cannot slip past
// the authentication.
func TestEveryAPIRouteAsksForAToken(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	repo := flow.NewRepo(st)
	eng := flow.NewEngine(repo, nopLauncher{}, nopPub{}, flow.Options{})
	r := chi.NewRouter()
	New(eng, repo, nil, zerolog.Nop()).Protect(people, Limits{}).Mount(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	var n int
	err = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !strings.HasPrefix(route, "/api/") {
			return nil
		}
		n++
		path := strings.ReplaceAll(strings.TrimSuffix(route, "/*"), "{id}", "wf-1")
		resp, body := do(t, method, srv.URL+path, "")
		if resp.StatusCode != 401 {
			t.Errorf("%s %s without a token: %d %s, want 401", method, route, resp.StatusCode, body)
		}
		return nil
	})
	if err != nil || n < 6 {
		t.Fatalf("walked %d /api/ routes (%v), want the 6 of the workflows at least", n, err)
	}
}
