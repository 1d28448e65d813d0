package flow

import (
	"context"
	"time"
)

// Actor is who asked for a change: a token's subject and preferred
// username (with AUTH_MODE=none, the anonymous local user).
type Actor struct {
	Subject  string `json:"sub"`
	Username string `json:"username,omitempty"`
}

// Audit actions.
const (
	AuditCreated = "created"
	AuditStopped = "stopped"
	AuditDeleted = "deleted"
)

// AuditEntry records one change a person (or client) asked for.
type AuditEntry struct {
	Action string    `json:"action"`
	By     Actor     `json:"by"`
	At     time.Time `json:"at"`
}

type actorKey struct{}

// WithActor returns ctx carrying who asks for the changes made with it;
// the API puts the authenticated caller there.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the actor ctx carries; ok is false when none does (a
// change the engine makes by itself, a test).
func ActorOf(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// audit appends an entry for the actor ctx carries (none: nothing) and logs
// it.
func (e *Engine) audit(ctx context.Context, w *Workflow, action string) {
	a, ok := ActorOf(ctx)
	if !ok {
		return
	}
	at := e.o.Now().UTC()
	w.Audit = append(w.Audit, AuditEntry{Action: action, By: a, At: at})
	e.o.Log.Info().Str("workflow", w.ID).Str("action", action).Str("sub", a.Subject).
		Str("username", a.Username).Time("at", at).Msg("workflow audit")
}
