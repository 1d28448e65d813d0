package app

import (
	"context"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/queue-manager/internal/api"
	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
)

// tokenVerifier returns what checks the API's bearer tokens: nil with
// AUTH_MODE=none (after a warning when that is insecure), else the issuer's
// verifier, once its discovery document answered.
func tokenVerifier(ctx context.Context, rt *service.Runtime, cfg *Config) (api.TokenVerifier, error) {
	if cfg.Mode == auth.ModeNone {
		if cfg.authWarning != "" {
			rt.Log.Warn().Str("http_addr", cfg.HTTPAddr).Msg(cfg.authWarning)
		} else {
			rt.Log.Info().Str("http_addr", cfg.HTTPAddr).Msg("api without login: loopback only")
		}
		return nil, nil
	}
	v, err := auth.Discover(ctx, cfg.AuthConfig, nil, nil, func(err error) {
		rt.Log.Warn().Err(err).Msg("oidc issuer unreachable; waiting")
	})
	if err != nil {
		return nil, err
	}
	rt.Log.Info().Str("issuer", cfg.IssuerURL).Str("audience", cfg.Audience).Str("roles_claim", cfg.RolesClaim).Msg("api asks for bearer tokens")
	return v, nil
}
