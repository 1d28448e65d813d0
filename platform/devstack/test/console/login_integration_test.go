//go:build integration

package console

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
	"github.com/streamforge/streamforge/platform/devstack/internal/stacktest"
)

// TestConsoleLoginIntegration: with AUTH_MODE=oidc the console sends the
// browser to Keycloak (authorization code + PKCE, the realm's public
// client streamforge-console), comes back with a token and uses it for the
// API's reads and event streams. It needs the Keycloak make
// test-integration starts (platform/keycloak/keycloak.sh env).
func TestConsoleLoginIntegration(t *testing.T) {
	issuer := os.Getenv("KEYCLOAK_IT_ISSUER")
	if issuer == "" {
		t.Skip("KEYCLOAK_IT_ISSUER is not set: make test-integration starts Keycloak (or eval \"$(platform/keycloak/keycloak.sh env)\")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := stack.Up(ctx, stack.Options{BinDir: binDir, DataDir: t.TempDir(), APIAddr: stacktest.FreeAddr(t),
		ExchangeAddr: "127.0.0.1:0", KafkaPort: 0,
		Env: []string{"AUTH_MODE=oidc", "OIDC_ISSUER_URL=" + issuer, "OIDC_AUDIENCE=streamforge-api", "METRICS_ADDR=127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := browser(t, ctx)

	// The console asks for a login: Keycloak's form.
	if err := chromedp.Do(b, chromedp.Navigate(s.Console()), chromedp.WaitVisible(`#username`)); err != nil {
		t.Fatalf("the console did not lead to Keycloak's login form: %v", err)
	}
	if u := eval[string](t, b, `location.href`); !strings.HasPrefix(u, issuer) || !strings.Contains(u, "code_challenge_method=S256") {
		t.Fatalf("login page %s: want the issuer's authorization endpoint with a PKCE challenge", u)
	}
	if err := chromedp.Do(b, chromedp.SendKeys(`#username`, "operator"), chromedp.SendKeys(`#password`, "operator-password"),
		chromedp.Click(`#kc-login`)); err != nil {
		t.Fatal(err)
	}
	// Back in the console, logged in: the list read with the token.
	poll(t, b, `document.getElementById('who') && document.getElementById('who').textContent.includes('operator')`, 30*time.Second, "logged in as operator")
	poll(t, b, `document.querySelector('#workflows tbody td[colspan]')`, 15*time.Second, "the (empty) workflow list read with the token")
	if u := eval[string](t, b, `location.search`); u != "" {
		t.Fatalf("the code stays in the address bar (%s): want it removed", u)
	}
	// An event stream with the token too.
	if err := chromedp.Do(b, chromedp.Navigate(s.MarketPage("ETHUSDT"))); err != nil {
		t.Fatal(err)
	}
	poll(t, b, `document.getElementById('m-status').textContent === 'no live stream'`, 15*time.Second, "the market stream read with the token")
}
