//go:build integration

package deploy

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
)

// TestIntegrationAPIAsksForTokens: in every overlay queue-manager's API asks
// for OIDC tokens (its settings pass the binary's own checks), /metrics is
// on a port of its own that the Pod declares, the ServiceMonitor scrapes and
// only the monitoring namespace reaches, and the HTTPRoute publishes
// neither /metrics nor anything but the API, its document and the console.
func TestIntegrationAPIAsksForTokens(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, s *launchSetup) {
		env := s.env
		cfg := auth.Config{Mode: env["AUTH_MODE"], IssuerURL: env["OIDC_ISSUER_URL"], Audience: env["OIDC_AUDIENCE"],
			RolesClaim: env["OIDC_ROLES_CLAIM"], ClockSkew: 30 * time.Second}
		if cfg.RolesClaim == "" {
			cfg.RolesClaim = "realm_access.roles"
		}
		if warning, err := cfg.Resolve(env["HTTP_ADDR"]); err != nil || warning != "" || cfg.Mode != auth.ModeOIDC {
			t.Errorf("AUTH_MODE=%q: mode %s, %v %s; want oidc without problems", env["AUTH_MODE"], cfg.Mode, err, warning)
		}
		if strings.Contains(cfg.IssuerURL, "localhost") || strings.HasPrefix(cfg.IssuerURL, "http://") {
			t.Errorf("OIDC_ISSUER_URL=%q: want the cluster's Keycloak over HTTPS", cfg.IssuerURL)
		}
		_, mport, err := net.SplitHostPort(env["METRICS_ADDR"])
		if err != nil || env["METRICS_ADDR"] == env["HTTP_ADDR"] {
			t.Fatalf("METRICS_ADDR=%q (HTTP_ADDR %q): want a listener of its own", env["METRICS_ADDR"], env["HTTP_ADDR"])
		}
		declared := false
		for _, p := range s.qm.Ports {
			if p.Name == "metrics" && strconv.Itoa(int(p.ContainerPort)) == mport {
				declared = true
			}
		}
		if !declared {
			t.Errorf("METRICS_ADDR=%s but queue-manager declares no port named metrics on %s: %v", env["METRICS_ADDR"], mport, s.qm.Ports)
		}
		var pols []networkingv1.NetworkPolicy
		for _, o := range s.objs {
			if o.GetKind() == "NetworkPolicy" {
				pols = append(pols, *convert[networkingv1.NetworkPolicy](t, o))
			}
		}
		if !ingressAllows(t, pols, s.dep.Spec.Template.Labels, mport) {
			t.Errorf("no NetworkPolicy lets Prometheus reach queue-manager's metrics port %s", mport)
		}
		for _, o := range s.objs {
			switch o.GetKind() {
			case "ServiceMonitor":
				if o.GetName() != "queue-manager" {
					continue
				}
				eps, _, _ := unstructuredSlice(o.Object, "spec", "endpoints")
				for _, ep := range eps {
					if port, _ := ep.(map[string]any)["port"].(string); port != "metrics" {
						t.Errorf("ServiceMonitor queue-manager scrapes port %q, want metrics", port)
					}
				}
			case "HTTPRoute":
				rules, _, _ := unstructuredSlice(o.Object, "spec", "rules")
				for _, r := range rules {
					matches, _ := r.(map[string]any)["matches"].([]any)
					for _, m := range matches {
						path, _ := m.(map[string]any)["path"].(map[string]any)
						v, _ := path["value"].(string)
						if v != "/api/" && v != "/openapi.yaml" && v != "/ui/" {
							t.Errorf("HTTPRoute %s publishes %q: only /api/ (behind tokens), /openapi.yaml and the console's static /ui/", o.GetName(), v)
						}
					}
				}
			}
		}
	})
}

// unstructuredSlice returns the list at the path in obj.
func unstructuredSlice(obj map[string]any, path ...string) ([]any, bool, error) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = m[p]
	}
	l, ok := cur.([]any)
	return l, ok, nil
}
