// Package console is queue-manager's web console: static pages (plain ES
// modules and CSS, embedded in the binary, nothing fetched from elsewhere)
// served under /ui/, which read and drive the REST API like any client —
// the workflows and their live steps, and a symbol's live market.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/libs/protocol"
)

//go:embed static
var static embed.FS

// Path is where the console is served.
const Path = "/ui/"

// Settings are what the pages learn from /ui/config.json: how to log in,
// and the tables of libs/protocol the "new workflow" form offers.
type Settings struct {
	// Auth is the API's AUTH_MODE: none (no login) or oidc (the console
	// logs in with the authorization-code flow and PKCE at Issuer, as the
	// public client ClientID, and sends the access token).
	Auth     string
	Issuer   string
	ClientID string
}

// config is /ui/config.json.
type config struct {
	Auth     string   `json:"auth"`
	Issuer   string   `json:"issuer,omitempty"`
	ClientID string   `json:"client_id,omitempty"`
	Types    []string `json:"types"`
	Steps    []string `json:"steps"`
	Default  []string `json:"default_steps"`
}

func (s Settings) config() config {
	c := config{Auth: s.Auth, Issuer: s.Issuer, ClientID: s.ClientID, Steps: protocol.StepKindNames()}
	if c.Auth != "oidc" {
		c.Issuer, c.ClientID = "", ""
	}
	for _, d := range protocol.DataTypes {
		c.Types = append(c.Types, d.Names(true)...)
	}
	for _, k := range protocol.StepKinds {
		if k.Default {
			c.Default = append(c.Default, k.Name)
		}
	}
	return c
}

// Files returns the console's files (for tests and the page weight).
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil { // the embedded directory is there: a build problem
		panic(err)
	}
	return sub
}

// Mount serves the console under /ui/ and redirects / there.
func Mount(r chi.Router, s Settings) {
	cfg, _ := json.Marshal(s.config()) // plain strings and lists: it encodes
	csp := policy(s)
	files := http.StripPrefix(Path, http.FileServerFS(Files()))
	r.Get("/", func(w http.ResponseWriter, req *http.Request) { http.Redirect(w, req, Path, http.StatusFound) })
	r.Get("/ui", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, Path, http.StatusMovedPermanently)
	})
	r.Get(Path+"config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(cfg)
	})
	r.Get(Path+"*", func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, req)
	})
}

// policy is the pages' Content-Security-Policy: their own scripts and
// styles only, and connections to queue-manager and the issuer (discovery
// and the token endpoint).
func policy(s Settings) string {
	connect := "'self'"
	if u, err := url.Parse(s.Issuer); err == nil && s.Auth == "oidc" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{"default-src 'self'", "connect-src " + connect, "img-src 'self' data:",
		"style-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"}, "; ")
}
