package api

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestOpenAPIDeclaresTheBearerScheme: the document asks for a bearer token
// everywhere but on the open routes, and every /api/ operation declares
// the answers authentication and the limits give.
func TestOpenAPIDeclaresTheBearerScheme(t *testing.T) {
	var doc struct {
		Security   []map[string][]string `json:"security"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type, Scheme string
			} `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if s := doc.Components.SecuritySchemes["bearer"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("securitySchemes.bearer = %+v, want http bearer", s)
	}
	if len(doc.Security) != 1 || doc.Security[0]["bearer"] == nil {
		t.Errorf("security = %v, want bearer", doc.Security)
	}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Security  *[]map[string][]string `json:"security"`
				Responses map[string]any         `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			open := op.Security != nil && len(*op.Security) == 0
			if strings.HasPrefix(path, "/api/") {
				if open {
					t.Errorf("%s %s: open, want a token", method, path)
				}
				for _, code := range []string{"401", "403", "429"} {
					if op.Responses[code] == nil {
						t.Errorf("%s %s: no %s response", method, path, code)
					}
				}
			} else if !open {
				t.Errorf("%s %s: asks for a token, want it open (security: [])", method, path)
			}
		}
	}
}

// Without tokens the served document asks for none; with them, for a
// bearer token.
func TestServedDocumentSaysWhetherATokenIsNeeded(t *testing.T) {
	if !strings.Contains(string(openAPI), bearerRequired) {
		t.Fatalf("openapi.yaml has no %q", bearerRequired)
	}
	for _, tc := range []struct {
		v    TokenVerifier
		want string
	}{{nil, "[{}]"}, {people, `[{"bearer":[]}]`}} {
		srv, _ := newProtectedServer(t, tc.v, Limits{}, nil)
		resp, body := do(t, "GET", srv.URL+"/openapi.yaml", "")
		var doc struct {
			Security json.RawMessage `json:"security"`
		}
		if err := yaml.Unmarshal(body, &doc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if got := string(doc.Security); got != tc.want {
			t.Errorf("tokens %v: security %s, want %s", tc.v != nil, got, tc.want)
		}
	}
}
