package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
)

// fakeIssuer is an OIDC issuer in the test process: discovery and JWKS
// (oidctest.Server), a signing key it can rotate.
type fakeIssuer struct {
	t   *testing.T
	URL string

	mu   sync.Mutex
	srv  oidctest.Server
	key  *rsa.PrivateKey
	kid  string
	jwks int // requests for the keys
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{t: t}
	f.rotate("key-1")
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.URL.Path == "/keys" {
			f.jwks++
		}
		f.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	f.URL = hs.URL
	f.srv.SetIssuer(hs.URL)
	return f
}

// rotate makes a new key the one the issuer signs with and publishes (the
// old one is no longer published).
func (f *fakeIssuer) rotate(kid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.key, f.kid = newKey(f.t), kid
	f.srv.PublicKeys = []oidctest.PublicKey{{PublicKey: f.key.Public(), KeyID: kid, Algorithm: oidc.RS256}}
}

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// token signs claims (over the defaults: this issuer, audience api, subject
// u-1, expiring in an hour from now) with the issuer's key; a nil value
// removes a default claim.
func (f *fakeIssuer) token(now time.Time, claims map[string]any) string {
	f.mu.Lock()
	key, kid := f.key, f.kid
	f.mu.Unlock()
	return sign(f.t, key, kid, f.claims(now, claims))
}

func (f *fakeIssuer) claims(now time.Time, over map[string]any) map[string]any {
	c := map[string]any{
		"iss": f.URL, "aud": "api", "sub": "u-1", "preferred_username": "alice", "typ": "Bearer",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"realm_access": map[string]any{"roles": []string{RoleOperator}},
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return oidctest.SignIDToken(key, kid, oidc.RS256, string(b))
}

// keyFetches is how often the keys were asked for.
func (f *fakeIssuer) keyFetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jwks
}

// clock is a clock a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
