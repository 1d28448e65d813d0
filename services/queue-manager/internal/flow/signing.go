package flow

import (
	"encoding/hex"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Signing is how queue-manager signs its commands and checks the events it
// acts on (protocol/sign.go). Each task's key is derived from Secret, so
// no key is stored or shown: a worker gets its task's key in MESSAGE_KEY
// at launch, never in the API or a workflow record.
type Signing struct {
	Mode   protocol.SigningMode
	Secret []byte
}

func (g Signing) on() bool { return g.Mode != "" && g.Mode != protocol.SigningOff }

// key returns the key of the task queueID, or nil when signing is off.
func (g Signing) key(queueID string) []byte {
	if !g.on() {
		return nil
	}
	return protocol.TaskKey(g.Secret, queueID)
}

// env returns the variables a worker of task queueID needs to sign and
// check: MESSAGE_SIGNING in env, MESSAGE_KEY in secret (the launch spec's
// Secrets); none when signing is off.
func (g Signing) env(queueID string) (env, secret map[string]string) {
	if !g.on() {
		return nil, nil
	}
	return map[string]string{"MESSAGE_SIGNING": string(g.Mode)}, map[string]string{"MESSAGE_KEY": hex.EncodeToString(g.key(queueID))}
}

// newUnverified is the counter of events without a valid signature.
func newUnverified() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamforge_engine_events_unverified_total",
		Help: "queue-events messages without a valid signature, by check (unsigned, bad_signature) and outcome (refused; accepted: unsigned while MESSAGE_SIGNING is permissive).",
	}, []string{"check", "outcome"})
}

// trusted checks ev's signature as the engine's signing mode says; an event
// it refuses changes nothing and is counted and logged.
func (e *Engine) trusted(ev protocol.Event) bool {
	g := e.o.Signing
	if !g.on() {
		return true
	}
	c := ev.CheckSig(g.key(ev.QueueID))
	if c == protocol.SigValid {
		return true
	}
	ok, outcome := g.Mode.Accepts(c), "refused"
	if ok {
		outcome = "accepted"
	}
	e.o.Metrics.unverified.WithLabelValues(string(c), outcome).Inc()
	e.o.Log.Warn().Str("queue_id", ev.QueueID).Str("producer", ev.Producer).Str("status", string(ev.Status)).
		Str("check", string(c)).Str("outcome", outcome).Msg("event not signed with its task's key")
	return ok
}
