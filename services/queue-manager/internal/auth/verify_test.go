package auth

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	iss := newFakeIssuer(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config{Mode: ModeOIDC, IssuerURL: iss.URL, Audience: "api", RolesClaim: "realm_access.roles", ClockSkew: 30 * time.Second}
	v, err := Discover(context.Background(), cfg, nil, func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := newKey(t)
	for _, tc := range []struct {
		name  string
		token string
		want  *Principal // nil: refused
	}{
		{"valid", iss.token(now, nil), &Principal{Subject: "u-1", Username: "alice", Roles: []string{RoleOperator}}},
		{"expired within the skew", iss.token(now, map[string]any{"exp": now.Add(-20 * time.Second).Unix()}),
			&Principal{Subject: "u-1", Username: "alice", Roles: []string{RoleOperator}}},
		{"expired beyond the skew", iss.token(now, map[string]any{"exp": now.Add(-31 * time.Second).Unix()}), nil},
		{"expired at the skew", iss.token(now, map[string]any{"exp": now.Add(-30 * time.Second).Unix()}), nil},
		{"no expiry", iss.token(now, map[string]any{"exp": nil}), nil},
		{"not yet valid within the skew", iss.token(now, map[string]any{"nbf": now.Add(20 * time.Second).Unix()}),
			&Principal{Subject: "u-1", Username: "alice", Roles: []string{RoleOperator}}},
		{"not yet valid beyond the skew", iss.token(now, map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}), nil},
		{"wrong audience", iss.token(now, map[string]any{"aud": "another-api"}), nil},
		{"audience among others", iss.token(now, map[string]any{"aud": []string{"account", "api"}}),
			&Principal{Subject: "u-1", Username: "alice", Roles: []string{RoleOperator}}},
		{"no audience", iss.token(now, map[string]any{"aud": nil}), nil},
		{"wrong issuer", iss.token(now, map[string]any{"iss": "https://evil.example/realms/streamforge"}), nil},
		{"signed by another key under the issuer's key id", sign(t, other, "key-1", iss.claims(now, nil)), nil},
		{"signed by an unknown key", sign(t, other, "key-x", iss.claims(now, nil)), nil},
		{"an ID token", iss.token(now, map[string]any{"typ": "ID"}), nil},
		{"a refresh token", iss.token(now, map[string]any{"typ": "Refresh"}), nil},
		{"no subject", iss.token(now, map[string]any{"sub": nil}), nil},
		{"no roles", iss.token(now, map[string]any{"realm_access": nil}), &Principal{Subject: "u-1", Username: "alice"}},
		{"roles not a list", iss.token(now, map[string]any{"realm_access": map[string]any{"roles": "streamforge-admin"}}),
			&Principal{Subject: "u-1", Username: "alice"}},
		{"not a token", "not.a.token", nil},
		{"unsigned", unsigned(t, iss.claims(now, nil)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tc.token)
			if tc.want == nil {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("Verify: got %+v, %v; want an error wrapping ErrInvalidToken", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != tc.want.Subject || got.Username != tc.want.Username || !slices.Equal(got.Roles, tc.want.Roles) {
				t.Fatalf("Verify: got %+v, want %+v", got, *tc.want)
			}
		})
	}
}

// unsigned is a token with the "none" algorithm.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok := sign(t, newKey(t), "k", claims)
	// Replace the header by {"alg":"none"} and drop the signature.
	return "eyJhbGciOiJub25lIn0." + tok[indexDot(tok)+1:lastDot(tok)] + "."
}

func indexDot(s string) int {
	for i := range s {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

func TestVerifyRolesAtAnotherPath(t *testing.T) {
	iss := newFakeIssuer(t)
	now := time.Now()
	cfg := Config{IssuerURL: iss.URL, Audience: "api", RolesClaim: "resource_access.api.roles"}
	v, err := Discover(context.Background(), cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.token(now, map[string]any{"resource_access": map[string]any{"api": map[string]any{"roles": []string{RoleAdmin}}}})
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Has(RoleAdmin) {
		t.Fatalf("roles at resource_access.api.roles: got %v, want %s", got.Roles, RoleAdmin)
	}
}

// The issuer rotates its key: tokens signed with the new one verify without
// a restart, those of the old one no longer do once it is withdrawn.
func TestVerifyFollowsKeyRotation(t *testing.T) {
	iss := newFakeIssuer(t)
	c := &clock{t: time.Now()}
	v, err := Discover(context.Background(), Config{IssuerURL: iss.URL, Audience: "api", RolesClaim: "realm_access.roles"}, nil, c.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := iss.token(c.now(), nil)
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	iss.rotate("key-2")
	c.add(keyRefetch)
	if _, err := v.Verify(context.Background(), iss.token(c.now(), nil)); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if _, err := v.Verify(context.Background(), old); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a token of the withdrawn key: got %v, want ErrInvalidToken", err)
	}
}

// Tokens no known key verifies make the verifier fetch the keys again, but
// at most once per keyRefetch: forged tokens cannot make it hammer the
// issuer.
func TestForgedTokensDoNotHammerTheIssuer(t *testing.T) {
	iss := newFakeIssuer(t)
	c := &clock{t: time.Now()}
	v, err := Discover(context.Background(), Config{IssuerURL: iss.URL, Audience: "api", RolesClaim: "realm_access.roles"}, nil, c.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), iss.token(c.now(), nil)); err != nil {
		t.Fatal(err)
	}
	forged := sign(t, newKey(t), "key-x", iss.claims(c.now(), nil))
	for range 100 {
		if _, err := v.Verify(context.Background(), forged); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged: %v", err)
		}
	}
	if n := iss.keyFetches(); n != 1 {
		t.Errorf("100 forged tokens within %s: %d key fetches, want 1 (the first verification's)", keyRefetch, n)
	}
	c.add(keyRefetch)
	if _, err := v.Verify(context.Background(), forged); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("forged: %v", err)
	}
	if n := iss.keyFetches(); n != 2 {
		t.Errorf("after %s: %d key fetches, want 2", keyRefetch, n)
	}
}

// Discovery waits for an issuer that does not answer yet, and gives up with
// its context.
func TestDiscoverWaitsAndGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var waits int
	_, err := Discover(ctx, Config{IssuerURL: "http://127.0.0.1:1/realms/x", Audience: "api", RolesClaim: "r"}, nil, nil, func(error) {
		waits++
		cancel()
	})
	if err == nil || waits != 1 {
		t.Fatalf("Discover: got %v after %d waits; want an error after 1", err, waits)
	}
}

func TestHas(t *testing.T) {
	for _, tc := range []struct {
		roles []string
		role  string
		want  bool
	}{
		{[]string{RoleViewer}, RoleViewer, true},
		{[]string{RoleViewer}, RoleOperator, false},
		{[]string{RoleOperator}, RoleViewer, true},
		{[]string{RoleOperator}, RoleAdmin, false},
		{[]string{RoleAdmin}, RoleOperator, true},
		{[]string{"offline_access"}, RoleViewer, false},
		{nil, RoleViewer, false},
	} {
		if got := (Principal{Roles: tc.roles}).Has(tc.role); got != tc.want {
			t.Errorf("%v.Has(%s): got %v, want %v", tc.roles, tc.role, got, tc.want)
		}
	}
}
