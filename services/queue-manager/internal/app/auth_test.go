package app

import (
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
)

func TestConfigAuth(t *testing.T) {
	base := func(addr string) Config {
		return Config{Common: service.Common{HTTPAddr: addr}, Launcher: "local", MaxAttempts: 3, Signing: "required",
			AuthConfig: auth.Config{RolesClaim: "realm_access.roles"}}
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		mode    string
		wantErr string
	}{
		{"loopback: no login by default", base("127.0.0.1:8080"), auth.ModeNone, ""},
		{"all interfaces: tokens by default", base(":8080"), auth.ModeOIDC, "OIDC_ISSUER_URL: is required"},
		{"none on all interfaces", func() Config { c := base(":8080"); c.Mode = auth.ModeNone; return c }(), auth.ModeNone, "AUTH_MODE: none on HTTP_ADDR \":8080\""},
		{"oidc without a metrics listener", func() Config {
			c := base(":8080")
			c.Mode, c.IssuerURL, c.Audience = auth.ModeOIDC, "https://kc.example/realms/streamforge", "streamforge-api"
			return c
		}(), auth.ModeOIDC, "METRICS_ADDR: "},
		{"oidc complete", func() Config {
			c := base(":8080")
			c.Mode, c.IssuerURL, c.Audience, c.MetricsAddr = auth.ModeOIDC, "https://kc.example/realms/streamforge", "streamforge-api", ":9090"
			return c
		}(), auth.ModeOIDC, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			err := c.Validate()
			if c.Mode != tc.mode {
				t.Errorf("mode %q, want %q", c.Mode, tc.mode)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate: %v, want %q", err, tc.wantErr)
			}
		})
	}
}
