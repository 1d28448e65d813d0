package auth

import (
	"strings"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	oidcOK := Config{Mode: ModeOIDC, IssuerURL: "https://kc.example/realms/streamforge", Audience: "streamforge-api", RolesClaim: "realm_access.roles", ClockSkew: 30 * time.Second}
	for _, tc := range []struct {
		name     string
		cfg      Config
		addr     string
		wantMode string
		wantErr  string // "" none
		warns    bool
	}{
		{"no mode on loopback: none", Config{}, "127.0.0.1:8080", ModeNone, "", false},
		{"no mode on localhost: none", Config{}, "localhost:8080", ModeNone, "", false},
		{"no mode on ::1: none", Config{}, "[::1]:8080", ModeNone, "", false},
		{"no mode on all interfaces: oidc, which needs an issuer", Config{RolesClaim: "realm_access.roles"}, ":8080", ModeOIDC, "OIDC_ISSUER_URL: is required", false},
		{"none on all interfaces refused", Config{Mode: ModeNone}, ":8080", ModeNone, "AUTH_MODE: none on HTTP_ADDR", false},
		{"none on a pod address refused", Config{Mode: ModeNone}, "10.0.0.7:8080", ModeNone, "AUTH_MODE: none on HTTP_ADDR", false},
		{"none on all interfaces allowed, with a warning", Config{Mode: ModeNone, AllowInsecure: true}, "0.0.0.0:8080", ModeNone, "", true},
		{"oidc complete", oidcOK, ":8080", ModeOIDC, "", false},
		{"oidc without audience", func() Config { c := oidcOK; c.Audience = ""; return c }(), ":8080", ModeOIDC, "OIDC_AUDIENCE: is required", false},
		{"oidc with a bad issuer", func() Config { c := oidcOK; c.IssuerURL = "kc.example"; return c }(), ":8080", ModeOIDC, "OIDC_ISSUER_URL: \"kc.example\" is not an http(s) URL", false},
		{"oidc with a bad roles path", func() Config { c := oidcOK; c.RolesClaim = "realm_access."; return c }(), ":8080", ModeOIDC, "OIDC_ROLES_CLAIM", false},
		{"oidc with a skew too large", func() Config { c := oidcOK; c.ClockSkew = time.Hour; return c }(), ":8080", ModeOIDC, "OIDC_CLOCK_SKEW", false},
		{"unknown mode", Config{Mode: "basic"}, "127.0.0.1:1", "basic", "AUTH_MODE: \"basic\" is not oidc or none", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			warning, err := cfg.Resolve(tc.addr)
			if cfg.Mode != tc.wantMode {
				t.Errorf("mode: got %q, want %q", cfg.Mode, tc.wantMode)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			}
			if (warning != "") != tc.warns {
				t.Errorf("warning: got %q, want one: %v", warning, tc.warns)
			}
		})
	}
}
