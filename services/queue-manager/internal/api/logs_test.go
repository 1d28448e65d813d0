package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// memLogs keeps runs' logs in memory.
type memLogs map[string]string

func (m memLogs) Logs(_ context.Context, run string, _ bool) (io.ReadCloser, error) {
	s, ok := m[run]
	if !ok {
		return nil, launch.ErrNoLogs
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// TestStepLogsOverHTTP: a step's logs by its id, queue id or kind, of its
// latest attempt or the one asked for; bad attempts are 400s, unknown
// steps and runs without logs 404s naming what is there.
func TestStepLogsOverHTTP(t *testing.T) {
	_, repo, eng := testEngine(t)
	logs := memLogs{}
	r := chi.NewRouter()
	a := New(eng, repo, nil, zerolog.Nop())
	a.SetLogs(logs)
	a.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good)
	var w flow.Workflow
	if err := json.Unmarshal(body, &w); err != nil || resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	load := w.Steps[0]
	logs[load.ID+".1"] = "loader output\n"
	base := srv.URL + "/api/v1/workflows/" + w.ID + "/steps/"
	for _, step := range []string{load.ID, "load"} {
		resp, body := do(t, "GET", base+step+"/logs", "")
		if resp.StatusCode != 200 || string(body) != "loader output\n" || resp.Header.Get("X-Run-Id") != load.ID+".1" {
			t.Errorf("logs of %s: %d %q", step, resp.StatusCode, body)
		}
	}
	cases := []struct {
		path   string
		status int
		want   string
	}{
		{"load/logs?attempt=1", 200, "loader output"},
		{"load/logs?attempt=2", 400, "attempt: want a number from 1 to 1"},
		{"load/logs?follow=maybe", 400, "follow"},
		{"load/logs?follow=", 400, "follow"},
		{"load/logs?attempt=", 400, "attempt"},
		{"dance/logs", 404, "has no step dance (its steps: " + load.ID},
		{"store/logs", 404, "no logs for run " + w.Steps[1].ID + ".1"},
		{"graph/logs", 404, "has not been launched yet"},
		{w.Steps[0].QueueID + "/logs", 400, "names 2 steps"},
	}
	for _, c := range cases {
		resp, body := do(t, "GET", base+c.path, "")
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %s, want %d with %q", c.path, resp.StatusCode, body, c.status, c.want)
		}
	}
}
