// Package scenario drives queue-manager's REST API the way a user does:
// submit a workflow, follow it over Server-Sent Events with a progress bar
// per step, and sum up what it made.
package scenario

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Request is a workflow request (queue-manager's openapi.yaml, Request).
type Request struct {
	Symbols   []string                     `json:"symbols"`
	Types     []string                     `json:"types"`
	TimeRange string                       `json:"time_range,omitempty"`
	Steps     []string                     `json:"steps,omitempty"`
	Options   map[string]map[string]string `json:"options,omitempty"`
}

// Workflow is the part of queue-manager's workflow this package reads.
type Workflow struct {
	ID    string  `json:"id"`
	State string  `json:"state"`
	Error string  `json:"error"`
	Steps []*Step `json:"steps"`
}

// Step is one step of a Workflow.
type Step struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	QueueID    string          `json:"queue_id"`
	Symbol     string          `json:"symbol"`
	Type       string          `json:"type"`
	TimeRange  string          `json:"time_range"`
	Topic      string          `json:"kafka_topic"`
	Collection string          `json:"collection_name"`
	State      string          `json:"state"`
	Records    int64           `json:"records"`
	Percent    float64         `json:"percent"`
	Rate       float64         `json:"rate"`
	ETA        float64         `json:"eta_seconds"`
	Error      string          `json:"error"`
	Result     json.RawMessage `json:"result"`
	Attempts   []struct {
		N       int    `json:"n"`
		Outcome string `json:"outcome"`
		Message string `json:"message"`
	} `json:"attempts"`
}

// Client talks to queue-manager.
type Client struct {
	API  string // base URL
	HTTP *http.Client
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// problem is an RFC 9457 problem+json body.
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.API+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var p problem
		if json.Unmarshal(b, &p) == nil && p.Title != "" {
			return fmt.Errorf("%s %s: %d %s: %s", method, path, res.StatusCode, p.Title, p.Detail)
		}
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Submit posts a workflow request and returns the new workflow.
func (c *Client) Submit(ctx context.Context, r Request) (*Workflow, error) {
	var w Workflow
	if err := c.do(ctx, http.MethodPost, "/api/v1/workflows", r, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// Get returns the workflow's current state.
func (c *Client) Get(ctx context.Context, id string) (*Workflow, error) {
	var w Workflow
	if err := c.do(ctx, http.MethodGet, "/api/v1/workflows/"+id, nil, &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// Stop asks queue-manager to stop the workflow.
func (c *Client) Stop(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/workflows/"+id+"/stop", nil, nil)
}

// Follow reads the workflow's Server-Sent Events and calls fn with its state
// after each, until the stream ends (the workflow ended) or ctx does. It
// returns the last state.
func (c *Client) Follow(ctx context.Context, id string, fn func(*Workflow)) (*Workflow, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.API+"/api/v1/workflows/"+id+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET events: %s", res.Status)
	}
	var last *Workflow
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			if event == "end" {
				if last == nil {
					return c.Get(ctx, id)
				}
				// The end event carries the state only: read the rest.
				final, err := c.Get(ctx, id)
				if err != nil {
					return last, nil
				}
				fn(final)
				return final, nil
			}
			next, err := applyChange(last, event, data)
			if err != nil {
				return last, err
			}
			last = next
			fn(last)
		}
	}
	if err := sc.Err(); err != nil {
		return last, err
	}
	if ctx.Err() != nil {
		return last, ctx.Err()
	}
	// The stream closed without an end event: read the state.
	return c.Get(ctx, id)
}

// ended reports whether a workflow state is terminal.
func ended(state string) bool {
	switch state {
	case "finished", "failed", "stopped":
		return true
	}
	return false
}

// waitEnd polls until the workflow ends; Follow's fallback when a stream
// breaks.
func (c *Client) waitEnd(ctx context.Context, id string, fn func(*Workflow)) (*Workflow, error) {
	for {
		w, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		fn(w)
		if ended(w.State) {
			return w, nil
		}
		select {
		case <-ctx.Done():
			return w, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
