package api

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// schemaNode is the part of an OpenAPI schema the checks below read.
type schemaNode struct {
	Description string                 `json:"description"`
	Pattern     string                 `json:"pattern"`
	Enum        []string               `json:"enum"`
	Items       *schemaNode            `json:"items"`
	Properties  map[string]*schemaNode `json:"properties"`
}

type openAPIDoc struct {
	Info struct {
		Description string `json:"description"`
	} `json:"info"`
	Components struct {
		Schemas map[string]*schemaNode `json:"schemas"`
	} `json:"components"`
}

// workflowTypePattern is the pattern of the data types a workflow takes,
// derived from protocol.DataTypes, protocol.KlineIntervals and
// protocol.BookLevels.
func workflowTypePattern() string {
	var alts []string
	for _, d := range protocol.DataTypes {
		suffixes := d.Suffixes(true)
		if len(suffixes) == 0 {
			alts = append(alts, regexp.QuoteMeta(d.Name))
			continue
		}
		for i, s := range suffixes {
			suffixes[i] = regexp.QuoteMeta(s)
		}
		alts = append(alts, regexp.QuoteMeta(d.Name)+"("+strings.Join(suffixes, "|")+")")
	}
	return "^(" + strings.Join(alts, "|") + ")$"
}

// TestOpenAPIMatchesRegistry keeps openapi.yaml's enums and patterns of
// step kinds and data types equal to the tables in libs/protocol: editing
// either alone fails here.
func TestOpenAPIMatchesRegistry(t *testing.T) {
	var doc openAPIDoc
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	req, step := doc.Components.Schemas["Request"], doc.Components.Schemas["Step"]
	if req == nil || step == nil || req.Properties["types"] == nil || req.Properties["steps"] == nil || step.Properties["kind"] == nil {
		t.Fatal("openapi.yaml: Request.types, Request.steps or Step.kind is missing")
	}
	kinds := protocol.StepKindNames()
	if d := cmp.Diff(kinds, req.Properties["steps"].Items.Enum); d != "" {
		t.Errorf("Request.steps enum (-protocol.StepKinds +openapi.yaml):\n%s", d)
	}
	if d := cmp.Diff(kinds, step.Properties["kind"].Enum); d != "" {
		t.Errorf("Step.kind enum (-protocol.StepKinds +openapi.yaml):\n%s", d)
	}
	if want := "steps wanted (" + strings.Join(kinds, ", ") + ")"; !strings.Contains(strings.Join(strings.Fields(doc.Info.Description), " "), want) {
		t.Errorf("info.description does not say %q", want)
	}
	var needs []string
	for _, k := range protocol.StepKinds {
		if k.Needs != "" {
			needs = append(needs, k.Name+" needs "+k.Needs)
		}
	}
	wantSteps := "Default " + strings.Join(flow.DefaultSteps(), " and ") + ". " + strings.Join(needs, ", ") + "."
	if got := req.Properties["steps"].Description; got != wantSteps {
		t.Errorf("Request.steps description %q, want %q", got, wantSteps)
	}

	pattern := req.Properties["types"].Items.Pattern
	if want := workflowTypePattern(); pattern != want {
		t.Errorf("Request.types pattern\n %s\nwant (protocol.DataTypes)\n %s", pattern, want)
	}
	// The pattern accepts exactly what the API's validation takes.
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("Request.types pattern: %v", err)
	}
	candidates := []string{"ws_bananas", "api_candles_7m", "api_candles_", "api_trades_", "API_TRADES", "ws_depth", "ws_depth15", "ws_book_ticker5"}
	for _, d := range protocol.DataTypes {
		candidates = append(candidates, d.Names(false)...)
	}
	for _, c := range candidates {
		_, err := protocol.ValidateWorkflowType(c)
		if got := re.MatchString(c); got != (err == nil) {
			t.Errorf("%s: pattern matches %v, validation error %v", c, got, err)
		}
	}
	if !slices.Contains(candidates, "api_candles_1M") {
		t.Error("candidates lack api_candles_1M")
	}
}
