package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestOpenAPIOptions keeps Request.options in openapi.yaml equal to the
// step kinds' options in libs/protocol: the same variables per kind, each
// described with its domain, enums listed.
func TestOpenAPIOptions(t *testing.T) {
	var doc openAPIDoc
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	opts := doc.Components.Schemas["Request"].Properties["options"]
	if opts == nil {
		t.Fatal("openapi.yaml: Request.options is missing")
	}
	var kinds []string
	for k := range opts.Properties {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	want := slices.Sorted(slices.Values(protocol.StepKindNames()))
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("Request.options kinds (-protocol.StepKinds +openapi.yaml):\n%s", d)
	}
	for _, k := range protocol.StepKinds {
		node := opts.Properties[k.Name]
		if node == nil {
			continue
		}
		var names []string
		for n := range node.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		if d := cmp.Diff(slices.Sorted(slices.Values(k.OptionNames())), names); d != "" {
			t.Errorf("Request.options.%s (-protocol +openapi.yaml):\n%s", k.Name, d)
		}
		for _, o := range k.Options {
			if p := node.Properties[o.Name]; p != nil && (p.Description != o.Describe() || !slices.Equal(p.Enum, o.Enum)) {
				t.Errorf("Request.options.%s.%s: description %q enum %v, want %q %v", k.Name, o.Name, p.Description, p.Enum, o.Describe(), o.Enum)
			}
		}
	}
}

// TestOptionsAllowlist: a request sets only the variables its step kinds
// list (protocol.StepKind.Options), each within its type and range; every
// other variable — a proxy that would receive the store's credentials, an
// exchange URL that would poison shared collections, an artifact prefix
// that would overwrite another workflow's model, settings that hang a task —
// is a 400 problem naming the field, and nothing is created.
func TestOptionsAllowlist(t *testing.T) {
	srv, _ := newServer(t)
	req := func(options string) string {
		return `{"symbols":["BTCUSDT"],"types":["api_candles_5m"],"time_range":"2024-08-01:2024-09-01",` +
			`"steps":["load","store","graph","train"],"options":` + options + `}`
	}
	for _, c := range []struct {
		name, options, field string
	}{
		{"proxy for the store's credentials", `{"store":{"HTTP_PROXY":"http://attacker:443"}}`, "options.store.HTTP_PROXY"},
		{"lower-case proxy", `{"load":{"https_proxy":"http://attacker:443"}}`, "options.load.https_proxy"},
		{"exchange URL", `{"load":{"BINANCE_REST_URL":"http://attacker"}}`, "options.load.BINANCE_REST_URL"},
		{"archive URL", `{"load":{"BINANCE_ARCHIVE_URL":"http://attacker"}}`, "options.load.BINANCE_ARCHIVE_URL"},
		{"another workflow's model", `{"train":{"ARTIFACT_PREFIX":"models/wf-other/"}}`, "options.train.ARTIFACT_PREFIX"},
		{"artifact directory", `{"train":{"ARTIFACT_DIR":"/"}}`, "options.train.ARTIFACT_DIR"},
		{"connector never finishes", `{"store":{"CONNECTOR_FOLLOW":"true"}}`, "options.store.CONNECTOR_FOLLOW"},
		{"commands never seen", `{"load":{"CONTROL_LOOKBACK":"1ns"}}`, "options.load.CONTROL_LOOKBACK"},
		{"silent worker", `{"graph":{"HEARTBEAT_INTERVAL":"1h"}}`, "options.graph.HEARTBEAT_INTERVAL"},
		{"another group", `{"store":{"CONNECTOR_GROUP":"arango-connector-wf-other"}}`, "options.store.CONNECTOR_GROUP"},
		{"shared library", `{"graph":{"LD_PRELOAD":"/tmp/x.so"}}`, "options.graph.LD_PRELOAD"},
		{"run signing key", `{"train":{"RUN_KEY":"00"}}`, "options.train.RUN_KEY"},
		{"not a number", `{"train":{"GNN_EPOCHS":"many"}}`, "options.train.GNN_EPOCHS"},
		{"out of range", `{"train":{"GNN_EPOCHS":"100000000"}}`, "options.train.GNN_EPOCHS"},
		{"negative", `{"load":{"LOADER_CONCURRENCY":"-1"}}`, "options.load.LOADER_CONCURRENCY"},
		{"too many downloads", `{"load":{"LOADER_CONCURRENCY":"1000"}}`, "options.load.LOADER_CONCURRENCY"},
		{"not a fraction", `{"train":{"GNN_DROPOUT":"NaN"}}`, "options.train.GNN_DROPOUT"},
		{"not an enum value", `{"graph":{"GRAPH_KIND":"star"}}`, "options.graph.GRAPH_KIND"},
		{"not a bool", `{"load":{"LOADER_ARCHIVES":"yes"}}`, "options.load.LOADER_ARCHIVES"},
		{"duration out of range", `{"store":{"CONNECTOR_BATCH_WAIT":"1h"}}`, "options.store.CONNECTOR_BATCH_WAIT"},
		{"bad list", `{"graph":{"FEATURE_HORIZONS":"1,x"}}`, "options.graph.FEATURE_HORIZONS"},
		{"not a step kind", `{"sing":{"GNN_EPOCHS":"1"}}`, "options.sing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", req(c.options))
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s: %s, want 400 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var p map[string]any
			if err := json.Unmarshal(body, &p); err != nil || p["field"] != c.field {
				t.Errorf("problem %s, want field %q", body, c.field)
			}
		})
	}
	resp, body := do(t, "GET", srv.URL+"/api/v1/workflows", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"workflows":[]`) {
		t.Errorf("after only refused requests: %d %s", resp.StatusCode, body)
	}

	good := `{"load":{"LOADER_CONCURRENCY":"8","LOADER_ARCHIVES":"false"},"store":{"CONNECTOR_BATCH_WAIT":"500ms"},` +
		`"graph":{"GRAPH_KIND":"visibility","FEATURE_HORIZONS":"1,3,12"},"train":{"GNN_EPOCHS":"40","GNN_LR":"0.005","GNN_CAUSAL":"true"}}`
	if resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", req(good)); resp.StatusCode != 202 {
		t.Errorf("allowed options: %d %s, want 202", resp.StatusCode, body)
	}
}
