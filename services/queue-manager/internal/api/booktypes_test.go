package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBookStateTypesAccepted: a live workflow takes the book ticker and the partial books (web-socket-streams.md,
// "Individual Symbol Book Ticker Streams" and "Partial Book Depth Streams", 5, 10 or 20 levels), one load and one
// store step each, whose collections carry the type; any other depth is a 400 naming the type.
func TestBookStateTypesAccepted(t *testing.T) {
	srv, _ := newServer(t)
	resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", `{"symbols":["BTCUSDT"],"types":["ws_book_ticker","ws_depth5","ws_depth20"]}`)
	if resp.StatusCode != 201 && resp.StatusCode != 202 {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	var wf struct {
		Steps []struct {
			Kind       string `json:"kind"`
			Type       string `json:"type"`
			Collection string `json:"collection_name"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(body, &wf); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, s := range wf.Steps {
		types[s.Type]++
		if s.Kind == "store" && !strings.Contains(s.Collection, "_"+s.Type+"_") {
			t.Errorf("store step of %s: collection %q", s.Type, s.Collection)
		}
	}
	if len(wf.Steps) != 6 || types["ws_book_ticker"] != 2 || types["ws_depth5"] != 2 || types["ws_depth20"] != 2 {
		t.Errorf("steps by type %v (%d steps), want a load and a store step each: %s", types, len(wf.Steps), body)
	}

	resp, body = do(t, "POST", srv.URL+"/api/v1/workflows", `{"symbols":["BTCUSDT"],"types":["ws_book_ticker","ws_depth15"]}`)
	var p map[string]any
	if resp.StatusCode != 400 || json.Unmarshal(body, &p) != nil || p["field"] != "types[1]" || !strings.Contains(p["detail"].(string), "5, 10 or 20") {
		t.Errorf("ws_depth15: %d %s, want 400 naming types[1] and the depths", resp.StatusCode, body)
	}
}
