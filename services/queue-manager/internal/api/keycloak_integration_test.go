//go:build integration

package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// keycloak is the real Keycloak platform/keycloak/keycloak.sh runs, with
// the clients and users of its realm file.
type keycloak struct {
	issuer  string
	secrets map[string]string // client id -> secret
	admin   [2]string         // the master realm's bootstrap admin
}

func realKeycloak(t *testing.T) *keycloak {
	t.Helper()
	issuer, file := os.Getenv("KEYCLOAK_IT_ISSUER"), os.Getenv("KEYCLOAK_IT_REALM_FILE")
	if issuer == "" || file == "" {
		t.Fatal("KEYCLOAK_IT_ISSUER is not set: run integration tests with `make test-integration`, which starts Keycloak " +
			"(or eval \"$(platform/keycloak/keycloak.sh env)\" after platform/keycloak/keycloak.sh start)")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var realm struct {
		Clients []struct {
			ClientID string `json:"clientId"`
			Secret   string `json:"secret"`
		} `json:"clients"`
	}
	if err := json.Unmarshal(b, &realm); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	kc := &keycloak{issuer: issuer, secrets: map[string]string{},
		admin: [2]string{os.Getenv("KEYCLOAK_IT_ADMIN_USER"), os.Getenv("KEYCLOAK_IT_ADMIN_PASSWORD")}}
	for _, c := range realm.Clients {
		kc.secrets[c.ClientID] = c.Secret
	}
	return kc
}

// token asks an issuer's token endpoint for an access token.
func (kc *keycloak) token(t *testing.T, issuer string, form url.Values) string {
	t.Helper()
	resp, err := http.PostForm(issuer+"/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.AccessToken == "" {
		t.Fatalf("token (%s): %d %s %v", form.Get("grant_type"), resp.StatusCode, out.Error, err)
	}
	return out.AccessToken
}

// password is a test user's token (password grant on the API's client);
// each user's password is <user>-password in the realm file.
func (kc *keycloak) password(t *testing.T, user string) string {
	return kc.token(t, kc.issuer, url.Values{"grant_type": {"password"}, "client_id": {"streamforge-api"},
		"client_secret": {kc.secrets["streamforge-api"]}, "username": {user}, "password": {user + "-password"}})
}

// service is a client's service-account token (client credentials grant).
func (kc *keycloak) service(t *testing.T, client string) string {
	return kc.token(t, kc.issuer, url.Values{"grant_type": {"client_credentials"}, "client_id": {client},
		"client_secret": {kc.secrets[client]}})
}

// verifier verifies tokens of the streamforge realm for the API's audience
// on the clock now (nil: time.Now).
func (kc *keycloak) verifier(t *testing.T, now func() time.Time) *auth.Verifier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := auth.Discover(ctx, auth.Config{Mode: auth.ModeOIDC, IssuerURL: kc.issuer, Audience: "streamforge-api",
		RolesClaim: "realm_access.roles", ClockSkew: 30 * time.Second}, nil, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRealKeycloakRolesAndOwners(t *testing.T) {
	kc := realKeycloak(t)
	srv, _ := newProtectedServer(t, kc.verifier(t, nil), Limits{}, nil)
	tok := map[string]string{}
	for _, u := range []string{"viewer", "operator", "operator2", "admin", "norole"} {
		tok[u] = kc.password(t, u)
	}
	tok["ci"] = kc.service(t, "streamforge-ci")

	create := func(who string) flow.Workflow {
		t.Helper()
		resp, body := do(t, "POST", srv.URL+"/api/v1/workflows", good, bearerOf(tok[who])...)
		if resp.StatusCode != 202 {
			t.Fatalf("%s creates: %d %s", who, resp.StatusCode, body)
		}
		var wf flow.Workflow
		if err := json.Unmarshal(body, &wf); err != nil {
			t.Fatal(err)
		}
		return wf
	}
	mine := create("operator")
	if want := claimsOf(t, tok["operator"])["sub"]; mine.Owner == nil || mine.Owner.Subject != want || mine.Owner.Username != "operator" {
		t.Errorf("owner %+v, want sub %v and username operator", mine.Owner, want)
	}
	ci := create("ci")
	if ci.Owner == nil || ci.Owner.Username != "service-account-streamforge-ci" {
		t.Errorf("the CI client's workflow: owner %+v", ci.Owner)
	}
	for _, tc := range []struct {
		who, method, path, body string
		status                  int
		detail                  string
	}{
		{"", "GET", "/api/v1/workflows", "", 401, ""},
		{"norole", "GET", "/api/v1/workflows", "", 403, "missing role streamforge-viewer"},
		{"viewer", "GET", "/api/v1/workflows", "", 200, ""},
		{"viewer", "GET", "/api/v1/workflows/" + mine.ID, "", 200, ""},
		{"viewer", "POST", "/api/v1/workflows", good, 403, "missing role streamforge-operator"},
		{"viewer", "POST", "/api/v1/workflows/" + mine.ID + "/stop", "", 403, "missing role streamforge-operator"},
		{"operator2", "POST", "/api/v1/workflows/" + mine.ID + "/stop", "", 403, "not the owner"},
		{"operator2", "DELETE", "/api/v1/workflows/" + mine.ID, "", 403, "not the owner"},
		{"ci", "POST", "/api/v1/workflows/" + mine.ID + "/stop", "", 403, "not the owner"},
		{"operator", "POST", "/api/v1/workflows/" + mine.ID + "/stop", "", 202, ""},
		{"admin", "POST", "/api/v1/workflows/" + ci.ID + "/stop", "", 202, ""},
	} {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			var hdr []string
			if tc.who != "" {
				hdr = bearerOf(tok[tc.who])
			}
			resp, body := do(t, tc.method, srv.URL+tc.path, tc.body, hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") != `Bearer realm="streamforge"` {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if tc.detail != "" {
				if d, _ := problemOf(t, resp.Header.Get("Content-Type"), body)["detail"].(string); !strings.HasPrefix(d, tc.detail) {
					t.Errorf("detail %q, want %q", d, tc.detail)
				}
			}
		})
	}
	resp, body := do(t, "GET", srv.URL+"/api/v1/workflows/"+ci.ID, "", bearerOf(tok["viewer"])...)
	var got flow.Workflow
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	var trail []string
	for _, e := range got.Audit {
		trail = append(trail, e.Action+" by "+e.By.Username)
	}
	if g, w := strings.Join(trail, ", "), "created by service-account-streamforge-ci, stopped by admin"; g != w {
		t.Errorf("audit: got %q, want %q", g, w)
	}
}

func TestRealKeycloakRefusedTokens(t *testing.T) {
	kc := realKeycloak(t)
	good := kc.password(t, "admin")
	claims := claimsOf(t, good)
	life := time.Duration(claims["exp"].(float64)-claims["iat"].(float64)) * time.Second

	// A token signed like Keycloak's (its key id, its claims) by a key of
	// ours.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(good, ".")[0])
	_ = json.Unmarshal(h, &hdr)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", hdr.Kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	forged, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	wronglySigned, _ := forged.CompactSerialize()

	master := strings.TrimSuffix(kc.issuer, "streamforge") + "master"
	for _, tc := range []struct {
		name  string
		token string
		now   func() time.Time
	}{
		{"expired", good, func() time.Time { return time.Now().Add(life + time.Minute) }},
		{"wrongly signed", wronglySigned, nil},
		{"for another audience", kc.service(t, "streamforge-other"), nil},
		{"of another issuer", kc.token(t, master, url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
			"username": {kc.admin[0]}, "password": {kc.admin[1]}}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newProtectedServer(t, kc.verifier(t, tc.now), Limits{}, nil)
			resp, body := do(t, "GET", srv.URL+"/api/v1/workflows", "", bearerOf(tc.token)...)
			if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("got %d %q %s, want 401 with error=\"invalid_token\"", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
			}
			problemOf(t, resp.Header.Get("Content-Type"), body)
		})
	}
	// The same token, in time, is taken.
	srv, _ := newProtectedServer(t, kc.verifier(t, nil), Limits{}, nil)
	if resp, body := do(t, "GET", srv.URL+"/api/v1/workflows", "", bearerOf(good)...); resp.StatusCode != 200 {
		t.Fatalf("the admin's token: %d %s", resp.StatusCode, body)
	}
}

// The console's client is public and wants PKCE: an authorization request
// without a code challenge is refused, one with it gets the login page.
func TestRealKeycloakConsoleNeedsPKCE(t *testing.T) {
	kc := realKeycloak(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"streamforge-console"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1/callback"}, "state": {"s"}}
	resp, err := client.Get(kc.issuer + "/protocol/openid-connect/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.Contains(loc, "error=invalid_request") {
		t.Errorf("without PKCE: %d Location %q, want a redirect with error=invalid_request", resp.StatusCode, loc)
	}
	q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	q.Set("code_challenge_method", "S256")
	resp, err = client.Get(kc.issuer + "/protocol/openid-connect/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with PKCE: %d, want the login page", resp.StatusCode)
	}
	// Public: it has no secret to get tokens with on its own.
	r, err := http.PostForm(kc.issuer+"/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"streamforge-console"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode == 200 {
		t.Error("the public console client got a token by client credentials")
	}
}
