package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// TokenVerifier checks a bearer token; *auth.Verifier is one. Its errors
// wrap auth.ErrInvalidToken when the token is refused (anything else is the
// issuer failing: 503).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (auth.Principal, error)
}

// authenticate puts the caller in the request's context: with no verifier
// (AUTH_MODE=none) the anonymous admin, else the bearer token's subject,
// or answers 401.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.Anonymous()
		if a.verifier != nil {
			raw, ok := bearer(r)
			if !ok {
				unauthorized(w, "", "a bearer token is required (Authorization: Bearer <token>)")
				return
			}
			var err error
			if p, err = a.verifier.Verify(r.Context(), raw); err != nil {
				if !errors.Is(err, auth.ErrInvalidToken) {
					w.Header().Set("Retry-After", "5")
					problem(w, http.StatusServiceUnavailable, "identity provider unavailable", err.Error(), "")
					return
				}
				a.log.Info().Err(err).Str("remote", r.RemoteAddr).Msg("bearer token refused")
				unauthorized(w, "invalid_token", err.Error())
				return
			}
		}
		ctx := auth.WithPrincipal(r.Context(), p)
		ctx = flow.WithActor(ctx, flow.Actor{Subject: p.Subject, Username: p.Username})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// unauthorized answers 401 with the challenge RFC 6750 describes; code is
// its error ("" when no token was given).
func unauthorized(w http.ResponseWriter, code, detail string) {
	challenge := `Bearer realm="streamforge"`
	if code != "" {
		challenge += fmt.Sprintf(`, error=%q, error_description=%q`, code, strings.ReplaceAll(detail, `"`, "'"))
	}
	w.Header().Set("WWW-Authenticate", challenge)
	problem(w, http.StatusUnauthorized, "unauthorized", detail, "")
}

// require lets through callers holding role (or one granting it), else
// answers 403 naming it.
func require(role string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p, _ := auth.FromContext(r.Context()); !p.Has(role) {
				problem(w, http.StatusForbidden, "forbidden", "missing role "+role, "")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ownerOrAdmin lets an admin change any workflow and an operator only its
// own ({id} in the route), else answers 403 "not the owner".
func (a *API) ownerOrAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		if p.Has(auth.RoleAdmin) {
			next.ServeHTTP(w, r)
			return
		}
		wf, err := a.eng.Get(r.Context(), chi.URLParam(r, "id"))
		if err != nil {
			a.fail(w, err)
			return
		}
		var owner string
		if wf.Owner != nil {
			owner = wf.Owner.Subject
		}
		if !p.Owns(owner) {
			problem(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("not the owner: workflow %s is %s's; changing another's workflow needs role %s", wf.ID, ownerName(wf.Owner), auth.RoleAdmin), "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ownerName(o *flow.Actor) string {
	switch {
	case o == nil:
		return "nobody"
	case o.Username != "":
		return o.Username
	default:
		return o.Subject
	}
}

// bearerRequired is openapi.yaml's top-level security requirement.
const bearerRequired = "security:\n  - bearer: []\n"

// servedDocument is openapi.yaml as this API serves it: without tokens
// (AUTH_MODE=none) its operations ask for none, and the document says so.
func servedDocument(tokens bool) []byte {
	if tokens {
		return openAPI
	}
	return bytes.Replace(openAPI, []byte(bearerRequired), []byte("security:\n  - {} # AUTH_MODE=none: no token asked for\n"), 1)
}
