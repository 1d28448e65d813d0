// Package auth authenticates queue-manager's API callers with OIDC bearer
// tokens (github.com/coreos/go-oidc/v3: issuer discovery, JWKS with key
// rotation, audience, expiry and not-before within a bounded clock skew)
// and says what their roles allow: streamforge-viewer reads,
// streamforge-operator also creates and stops or deletes its own
// workflows, streamforge-admin does everything.
package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Modes.
const (
	ModeOIDC = "oidc"
	ModeNone = "none"
)

// Config is the API's authentication settings.
type Config struct {
	Mode          string        `envconfig:"AUTH_MODE" desc:"oidc (bearer tokens from OIDC_ISSUER_URL) or none (no login: everyone is admin); default none when HTTP_ADDR is a loopback address, else oidc"`
	IssuerURL     string        `envconfig:"OIDC_ISSUER_URL" desc:"AUTH_MODE=oidc: the issuer (discovery at <issuer>/.well-known/openid-configuration), e.g. https://keycloak.example/realms/streamforge"`
	Audience      string        `envconfig:"OIDC_AUDIENCE" desc:"AUTH_MODE=oidc: the audience a token must name (aud), e.g. streamforge-api"`
	RolesClaim    string        `envconfig:"OIDC_ROLES_CLAIM" default:"realm_access.roles" desc:"AUTH_MODE=oidc: dotted path to the token's list of roles"`
	ClockSkew     time.Duration `envconfig:"OIDC_CLOCK_SKEW" default:"30s" desc:"AUTH_MODE=oidc: how far the issuer's clock may be off when checking exp and nbf (at most 5m)"`
	AllowInsecure bool          `envconfig:"AUTH_ALLOW_INSECURE" default:"false" desc:"allow AUTH_MODE=none on a non-loopback HTTP_ADDR (anyone reaching it may start, stop and delete workflows)"`
}

// MaxClockSkew bounds OIDC_CLOCK_SKEW.
const MaxClockSkew = 5 * time.Minute

// Resolve defaults the mode from the listener (none on loopback, else oidc)
// and checks the settings, reporting every problem, each naming its
// variable. It returns a warning to log when no login is required on a
// non-loopback address (AUTH_ALLOW_INSECURE).
func (c *Config) Resolve(httpAddr string) (warning string, err error) {
	loop := Loopback(httpAddr)
	if c.Mode == "" {
		c.Mode = ModeOIDC
		if loop {
			c.Mode = ModeNone
		}
	}
	var errs []error
	switch c.Mode {
	case ModeNone:
		if !loop {
			if !c.AllowInsecure {
				errs = append(errs, fmt.Errorf("AUTH_MODE: none on HTTP_ADDR %q, which is not a loopback address: anyone reaching it could start, stop and delete workflows; use AUTH_MODE=oidc or set AUTH_ALLOW_INSECURE=true", httpAddr))
			} else {
				warning = "AUTH_MODE=none on a non-loopback address (AUTH_ALLOW_INSECURE=true): the API asks nobody who they are"
			}
		}
	case ModeOIDC:
		if c.IssuerURL == "" {
			errs = append(errs, errors.New("OIDC_ISSUER_URL: is required with AUTH_MODE=oidc"))
		} else if u, err := url.Parse(c.IssuerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OIDC_ISSUER_URL: %q is not an http(s) URL", c.IssuerURL))
		}
		if c.Audience == "" {
			errs = append(errs, errors.New("OIDC_AUDIENCE: is required with AUTH_MODE=oidc"))
		}
		if c.RolesClaim == "" || strings.Contains(c.RolesClaim, "..") || strings.HasPrefix(c.RolesClaim, ".") || strings.HasSuffix(c.RolesClaim, ".") {
			errs = append(errs, fmt.Errorf("OIDC_ROLES_CLAIM: %q is not a dotted path such as realm_access.roles", c.RolesClaim))
		}
		if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
			errs = append(errs, fmt.Errorf("OIDC_CLOCK_SKEW: %s is not between 0 and %s", c.ClockSkew, MaxClockSkew))
		}
	default:
		errs = append(errs, fmt.Errorf("AUTH_MODE: %q is not oidc or none", c.Mode))
	}
	return warning, errors.Join(errs...)
}

// Loopback reports whether a listener address (host:port) accepts
// connections from this machine only: an empty host (all interfaces) is
// not.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
