package demo

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLogsCommand: `devstack logs <workflow> <step>` prints the step's
// logs from the API (flags after the arguments too); without a step, every
// launched step's under a header; the API's problem is one line and exit 1.
func TestLogsCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/workflows/wf1":
			_, _ = w.Write([]byte(`{"id":"wf1","state":"failed","steps":[{"id":"q.load","kind":"load","state":"failed","attempts":[{"n":1}]},` +
				`{"id":"q.store","kind":"store","state":"stopped","attempts":[]}]}`))
		case "/api/v1/workflows/wf1/steps/load/logs", "/api/v1/workflows/wf1/steps/q.load/logs":
			_, _ = w.Write([]byte("attempt=" + r.URL.Query().Get("attempt") + " follow=" + r.URL.Query().Get("follow") + "\n"))
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"title":"not found","detail":"workflow wf1 has no step dance (its steps: q.load, q.store)"}`))
		}
	}))
	defer srv.Close()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Logs(context.Background(), append([]string{"--api", srv.URL}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, _ := run("wf1", "load", "--attempt", "1", "--follow"); code != 0 || out != "attempt=1 follow=true\n" {
		t.Errorf("logs of one step: %d %q", code, out)
	}
	if code, out, _ := run("wf1"); code != 0 || !strings.Contains(out, "== q.load, attempt 1 (failed)\nattempt= follow=\n") ||
		!strings.Contains(out, "== q.store: not launched (stopped)") {
		t.Errorf("logs of every step: %d %q", code, out)
	}
	if code, _, errOut := run("wf1", "dance"); code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "has no step dance") {
		t.Errorf("unknown step: %d %q", code, errOut)
	}
	if code, _, _ := run(); code != 2 {
		t.Errorf("no workflow: exit %d, want 2", code)
	}
}
