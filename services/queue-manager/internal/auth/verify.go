package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/streamforge/streamforge/libs/retry"
)

// Verifier checks bearer tokens against one issuer.
type Verifier struct {
	v     *oidc.IDTokenVerifier
	roles []string // OIDC_ROLES_CLAIM split at the dots
	skew  time.Duration
	now   func() time.Time
}

// Discover reads the issuer's discovery document, waiting out an issuer
// that does not answer yet (each failed try is passed to onWait) until ctx
// ends. now is the clock (nil: time.Now); client makes the requests (nil:
// http.DefaultClient). The keys are fetched when a token names one not yet
// known, so the issuer's key rotation needs no restart.
func Discover(ctx context.Context, cfg Config, client *http.Client, now func() time.Time, onWait func(error)) (*Verifier, error) {
	if now == nil {
		now = time.Now
	}
	if client != nil {
		ctx = oidc.ClientContext(ctx, client)
	}
	backoff := retry.Backoff{Base: time.Second, Max: 30 * time.Second}
	var p *oidc.Provider
	for n := 0; ; n++ {
		var err error
		if p, err = oidc.NewProvider(ctx, cfg.IssuerURL); err == nil {
			break
		}
		err = fmt.Errorf("OIDC discovery at %s: %w", cfg.IssuerURL, err)
		if onWait != nil {
			onWait(err)
		}
		if !retry.Sleep(ctx, backoff.Delay(n)) {
			return nil, err
		}
	}
	var disc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&disc); err != nil || disc.JWKS == "" {
		return nil, fmt.Errorf("OIDC discovery at %s: no jwks_uri", cfg.IssuerURL)
	}
	if client == nil {
		client = http.DefaultClient
	}
	keys := &keySet{url: disc.JWKS, client: client, now: now}
	v := oidc.NewVerifier(cfg.IssuerURL, keys, &oidc.Config{ClientID: cfg.Audience, SkipExpiryCheck: true, Now: now,
		SupportedSigningAlgs: signingAlgs})
	return &Verifier{v: v, roles: strings.Split(cfg.RolesClaim, "."), skew: cfg.ClockSkew, now: now}, nil
}

// signingAlgs are the signatures taken: public-key ones only (no "none",
// no shared-secret HMAC).
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// ErrInvalidToken wraps every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

// claims are the ones the API reads beyond go-oidc's checks.
type claims struct {
	Subject  string          `json:"sub"`
	Username string          `json:"preferred_username"`
	Type     string          `json:"typ"`
	Expiry   *json.Number    `json:"exp"`
	NotBef   *json.Number    `json:"nbf"`
	Raw      json.RawMessage `json:"-"`
}

// Verify checks a raw token (signature by a key of the issuer, issuer,
// audience, expiry and not-before within the clock skew, a subject, an
// access token when the issuer says which kind it is) and returns its
// caller. Every refusal wraps ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	tok, err := v.v.Verify(ctx, raw)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	var c claims
	var all map[string]any
	if err := tok.Claims(&c); err != nil {
		return Principal{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	if err := tok.Claims(&all); err != nil {
		return Principal{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	now := v.now()
	exp, err := unix(c.Expiry)
	switch {
	case err != nil || c.Expiry == nil:
		return Principal{}, fmt.Errorf("%w: exp: missing or not a time", ErrInvalidToken)
	case !now.Before(exp.Add(v.skew)):
		return Principal{}, fmt.Errorf("%w: expired at %s", ErrInvalidToken, exp.UTC().Format(time.RFC3339))
	}
	if c.NotBef != nil {
		nbf, err := unix(c.NotBef)
		if err != nil {
			return Principal{}, fmt.Errorf("%w: nbf: not a time", ErrInvalidToken)
		}
		if now.Add(v.skew).Before(nbf) {
			return Principal{}, fmt.Errorf("%w: not valid before %s", ErrInvalidToken, nbf.UTC().Format(time.RFC3339))
		}
	}
	// Keycloak marks its tokens: an ID or refresh token is not a bearer.
	if c.Type != "" && !strings.EqualFold(c.Type, "Bearer") {
		return Principal{}, fmt.Errorf("%w: a %s token, not an access token", ErrInvalidToken, c.Type)
	}
	if c.Subject == "" {
		return Principal{}, fmt.Errorf("%w: no subject (sub)", ErrInvalidToken)
	}
	return Principal{Subject: c.Subject, Username: c.Username, Roles: rolesAt(all, v.roles)}, nil
}

func unix(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, err
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

// rolesAt returns the strings in the list at the dotted path (none when
// the path is missing or not a list).
func rolesAt(m map[string]any, path []string) []string {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[p]
	}
	list, _ := cur.([]any)
	var out []string
	for _, r := range list {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
