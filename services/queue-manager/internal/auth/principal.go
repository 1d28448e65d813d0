package auth

import (
	"context"
	"slices"
)

// Roles.
const (
	RoleViewer   = "streamforge-viewer"
	RoleOperator = "streamforge-operator"
	RoleAdmin    = "streamforge-admin"
)

// implied lists, per role, the roles that also grant it: an operator may
// read, an admin may do what an operator may.
var implied = map[string][]string{
	RoleViewer:   {RoleViewer, RoleOperator, RoleAdmin},
	RoleOperator: {RoleOperator, RoleAdmin},
	RoleAdmin:    {RoleAdmin},
}

// Principal is an authenticated caller.
type Principal struct {
	Subject  string
	Username string
	Roles    []string
	// Anonymous is the caller when AUTH_MODE=none: no token, every role.
	Anonymous bool
}

// Anonymous returns who calls when no login is required: an admin.
func Anonymous() Principal {
	return Principal{Subject: "anonymous", Username: "anonymous", Roles: []string{RoleAdmin}, Anonymous: true}
}

// Has reports whether p holds role, or a role that grants it.
func (p Principal) Has(role string) bool {
	for _, r := range implied[role] {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// Owns reports whether a workflow owned by the subject sub is p's. A
// workflow without a recorded owner is nobody's.
func (p Principal) Owns(sub string) bool { return sub != "" && sub == p.Subject }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the middleware put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
