package console

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func serve(t *testing.T, s Settings, path string) *http.Response {
	t.Helper()
	r := chi.NewRouter()
	Mount(r, s)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func TestRootRedirectsToConsole(t *testing.T) {
	res := serve(t, Settings{Auth: "none"}, "/")
	if got := res.Header.Get("Location"); res.StatusCode != http.StatusFound || got != "/ui/" {
		t.Fatalf("GET / = %d Location %q, want 302 /ui/", res.StatusCode, got)
	}
}

func TestServesEmbeddedPages(t *testing.T) {
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/ui/", "text/html", `<script type="module" src="app.js">`},
		{"/ui/app.js", "javascript", "import"},
		{"/ui/market.js", "javascript", "/api/v1/market/"},
		{"/ui/style.css", "text/css", ":root"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := serve(t, Settings{Auth: "none"}, tc.path)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.contains) {
				t.Fatalf("GET %s = %d %q, body has %q: %v", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.contains, strings.Contains(string(body), tc.contains))
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Fatalf("Content-Security-Policy %q: want scripts from the console only", csp)
			}
		})
	}
}

// TestNothingFromElsewhere: every file is the console's own; no page
// loads a script, a style or a font from another origin.
func TestNothingFromElsewhere(t *testing.T) {
	total := 0
	err := fs.WalkDir(Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), path)
		if err != nil {
			return err
		}
		total += len(b)
		// The SVG namespace names, it loads nothing (figures.js).
		text := strings.ReplaceAll(string(b), "'http://www.w3.org/2000/svg'", "")
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q: the console must not load anything from elsewhere", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The page weight stated in the README; a change that doubles it is
	// worth a look.
	if total > 64<<10 {
		t.Errorf("the console weighs %d bytes, more than 64 KiB", total)
	}
	t.Logf("console: %d bytes", total)
}

func TestConfigSaysHowToLogIn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		s          Settings
		wantIssuer string
		wantCSP    string
	}{
		{"none", Settings{Auth: "none", Issuer: "http://idp.example/realms/x", ClientID: "c"}, "", "connect-src 'self';"},
		{"oidc", Settings{Auth: "oidc", Issuer: "http://idp.example:8443/realms/x", ClientID: "c"}, "http://idp.example:8443/realms/x", "connect-src 'self' http://idp.example:8443;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, tc.s, "/ui/config.json")
			var got config
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Auth != tc.s.Auth || got.Issuer != tc.wantIssuer {
				t.Fatalf("config.json = %+v, want auth %s issuer %q", got, tc.s.Auth, tc.wantIssuer)
			}
			if !slices.Contains(got.Types, "ws_trades") || !slices.Contains(got.Steps, "train") {
				t.Fatalf("config.json types %v steps %v: want libs/protocol's tables", got.Types, got.Steps)
			}
			page := serve(t, tc.s, "/ui/")
			if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, tc.wantCSP) {
				t.Fatalf("Content-Security-Policy %q, want %q", csp, tc.wantCSP)
			}
		})
	}
}
